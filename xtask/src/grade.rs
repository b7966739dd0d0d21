//! `cargo xtask grade [--lab NN] [--json]`: runs each lab's tests under a time-out and
//! scores them. A lab that does not compile, or whose tests do not finish in time (a
//! deadlocked exercise), scores zero instead of hanging the grader.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use book_tests::layout::select_labs;
use serde_json::json;

use crate::runner::{cargo_in, succeeded, warn_missing_tools};

/// How a lab's test run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every test passed.
    Ok,
    /// This many tests failed.
    Failing(usize),
    /// The lab or its tests do not compile: scores zero.
    DoesNotCompile,
    /// The tests did not finish within the time-out (a deadlocked exercise): scores zero.
    TimedOut(Duration),
    /// cargo failed although no test did (a test binary crashed, for instance).
    Error,
}

impl Status {
    /// Whether the lab scores zero whatever its counts say.
    pub fn scores_zero(self) -> bool {
        matches!(self, Status::DoesNotCompile | Status::TimedOut(_))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Ok => write!(f, "ok"),
            Status::Failing(n) => write!(f, "{n} failing"),
            Status::DoesNotCompile => write!(f, "does not compile"),
            Status::TimedOut(after) => write!(f, "timed out after {}s", after.as_secs()),
            Status::Error => write!(f, "error while testing"),
        }
    }
}

/// The result of one lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabScore {
    pub package: String,
    pub passed: usize,
    pub failed: usize,
    pub status: Status,
}

impl LabScore {
    pub fn total(&self) -> usize {
        self.passed + self.failed
    }

    /// Percentage of passing tests; zero for a lab that did not compile or timed out.
    pub fn score(&self) -> f64 {
        if self.status.scores_zero() || self.total() == 0 {
            0.0
        } else {
            100.0 * self.passed as f64 / self.total() as f64
        }
    }
}

/// How many of libtest's result lines passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
}

/// Count libtest's result lines: `test NAME ... ok`, `test NAME ... FAILED`.
pub fn count_results(stdout: &str) -> Counts {
    let mut counts = Counts::default();
    for line in stdout.lines().filter(|l| l.starts_with("test ")) {
        if line.ends_with(" ... ok") {
            counts.passed += 1;
        } else if line.ends_with(" ... FAILED") {
            counts.failed += 1;
        }
    }
    counts
}

/// Build and test one lab. The runner sets `LABKIT_STRICT_TOOLS=1`: a test that needs a
/// missing `node` or `javac` fails instead of skipping, so it never counts as a pass.
pub fn grade_lab(root: &Path, package: &str, timeout: Duration) -> Result<LabScore, String> {
    let run = |args: &[&str], limit| {
        cargo_in(root, None, args, limit).map_err(|e| format!("cannot run cargo: {e}"))
    };
    let build = run(
        &["test", "-q", "-p", package, "--no-run"],
        Duration::from_secs(900),
    )?;
    if !succeeded(&build) {
        return Ok(LabScore {
            package: package.into(),
            passed: 0,
            failed: 0,
            status: Status::DoesNotCompile,
        });
    }
    let tests = run(&["test", "-p", package, "--no-fail-fast"], timeout)?;
    let Counts { passed, mut failed } = count_results(&tests.stdout);
    let status = if tests.timed_out {
        Status::TimedOut(timeout)
    } else if failed > 0 {
        Status::Failing(failed)
    } else if !tests.status.success() {
        failed = 1; // the crash counts as one failing test
        Status::Error
    } else {
        Status::Ok
    };
    Ok(LabScore {
        package: package.into(),
        passed,
        failed,
        status,
    })
}

pub fn grade(root: &Path, only: Option<&str>, timeout: Duration) -> Result<Vec<LabScore>, String> {
    let wanted = select_labs(root, only)?;
    warn_missing_tools("grade");
    wanted
        .iter()
        .map(|lab| grade_lab(root, &lab.package(), timeout))
        .collect()
}

/// The score table, with a total row.
pub fn table(scores: &[LabScore]) -> String {
    let mut out = format!(
        "{:<8} {:>6} {:>7} {:>7} {:>7}  {}\n",
        "lab", "tests", "passed", "failed", "score", "status"
    );
    for s in scores {
        out += &format!(
            "{:<8} {:>6} {:>7} {:>7} {:>6.0}%  {}\n",
            s.package,
            s.total(),
            s.passed,
            s.failed,
            s.score(),
            s.status
        );
    }
    let (passed, total) = totals(scores);
    out += &format!(
        "{:<8} {:>6} {:>7} {:>7} {:>6.0}%\n",
        "total",
        total,
        passed,
        total - passed,
        overall(scores)
    );
    out
}

fn totals(scores: &[LabScore]) -> (usize, usize) {
    (
        scores.iter().map(|s| s.passed).sum(),
        scores.iter().map(LabScore::total).sum(),
    )
}

/// The mean of the labs' scores: every lab weighs the same, however many tests it has.
pub fn overall(scores: &[LabScore]) -> f64 {
    scores.iter().map(LabScore::score).sum::<f64>() / scores.len().max(1) as f64
}

pub fn to_json(scores: &[LabScore]) -> String {
    let (passed, total) = totals(scores);
    let labs: Vec<_> = scores
        .iter()
        .map(|s| json!({"lab": s.package, "tests": s.total(), "passed": s.passed, "failed": s.failed, "score": s.score(), "status": s.status.to_string()}))
        .collect();
    json!({"labs": labs, "total": {"tests": total, "passed": passed, "score": overall(scores)}})
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_counted() {
        let out = "running 3 tests\n\
                   test a ... ok\n\
                   test b ... FAILED\n\
                   test c ... ignored\n\
                   test labs/x/src/lib.rs - m (line 20) - compile fail ... ok\n\
                   test result: FAILED. 2 passed; 1 failed\n";
        assert_eq!(
            count_results(out),
            Counts {
                passed: 2,
                failed: 1
            }
        );
    }

    #[test]
    fn statuses_read_as_the_table_shows_them() {
        let shown = [
            Status::Ok,
            Status::Failing(2),
            Status::DoesNotCompile,
            Status::TimedOut(Duration::from_secs(120)),
            Status::Error,
        ]
        .map(|s| (s.to_string(), s.scores_zero()));
        assert_eq!(
            shown,
            [
                ("ok".to_string(), false),
                ("2 failing".to_string(), false),
                ("does not compile".to_string(), true),
                ("timed out after 120s".to_string(), true),
                ("error while testing".to_string(), false),
            ]
        );
        let broken = LabScore {
            package: "lab-03".into(),
            passed: 4,
            failed: 0,
            status: Status::DoesNotCompile,
        };
        assert_eq!(broken.score(), 0.0);
    }

    #[test]
    fn scores_and_the_table() {
        let scores = [
            LabScore {
                package: "lab-01".into(),
                passed: 9,
                failed: 1,
                status: Status::Failing(1),
            },
            LabScore {
                package: "lab-02".into(),
                passed: 3,
                failed: 0,
                status: Status::TimedOut(Duration::from_secs(5)),
            },
        ];
        assert_eq!(scores[0].score(), 90.0);
        assert_eq!(scores[1].score(), 0.0, "a timed-out lab scores zero");
        assert_eq!(overall(&scores), 45.0);
        let table = table(&scores);
        assert!(
            table.contains("lab-01       10       9       1     90%  1 failing"),
            "{table}"
        );
        assert!(
            table.contains("total        13      12       1     45%"),
            "{table}"
        );
        let json: serde_json::Value = serde_json::from_str(&to_json(&scores)).unwrap();
        assert_eq!(json["labs"][0]["status"], "1 failing");
        assert_eq!(json["labs"][1]["status"], "timed out after 5s");
        assert_eq!(json["total"]["score"], 45.0);
    }
}
