//! `cargo xtask grade [--lab NN] [--json]`: runs each lab's tests under a time-out and
//! scores them. A lab that does not compile, or whose tests do not finish in time (a
//! deadlocked exercise), scores zero instead of hanging the grader.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::runner::cargo_in;
use crate::workspace::labs;

/// The result of one lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabScore {
    pub package: String,
    pub passed: usize,
    pub failed: usize,
    /// `ok`, `N failing`, `does not compile`, or `timed out after …`.
    pub status: String,
}

impl LabScore {
    pub fn total(&self) -> usize {
        self.passed + self.failed
    }

    /// Percentage of passing tests; zero for a lab that did not compile or timed out.
    pub fn score(&self) -> f64 {
        if self.status.starts_with("does not")
            || self.status.starts_with("timed out")
            || self.total() == 0
        {
            0.0
        } else {
            100.0 * self.passed as f64 / self.total() as f64
        }
    }
}

/// Count libtest's result lines: `test NAME ... ok`, `test NAME ... FAILED`.
pub fn count_results(stdout: &[String]) -> (usize, usize) {
    let tests = stdout.iter().filter(|l| l.starts_with("test "));
    let (mut passed, mut failed) = (0, 0);
    for line in tests {
        if line.ends_with(" ... ok") {
            passed += 1;
        } else if line.ends_with(" ... FAILED") {
            failed += 1;
        }
    }
    (passed, failed)
}

pub fn grade_lab(root: &Path, package: &str, timeout: Duration) -> Result<LabScore, String> {
    let run = |args: &[&str], limit| {
        cargo_in(root, None, args, limit).map_err(|e| format!("cannot run cargo: {e}"))
    };
    let build = run(
        &["test", "-q", "-p", package, "--no-run"],
        Duration::from_secs(900),
    )?;
    if !build.succeeded() {
        return Ok(LabScore {
            package: package.into(),
            passed: 0,
            failed: 0,
            status: "does not compile".into(),
        });
    }
    let tests = run(&["test", "-p", package, "--no-fail-fast"], timeout)?;
    let (passed, failed) = count_results(&tests.stdout);
    let status = if tests.timed_out() {
        format!("timed out after {}s", timeout.as_secs())
    } else if failed > 0 {
        format!("{failed} failing")
    } else if !tests.succeeded() {
        // cargo failed but no test did: a test binary crashed, for instance.
        "error while testing".into()
    } else {
        "ok".into()
    };
    let failed = if status == "error while testing" {
        failed.max(1)
    } else {
        failed
    };
    Ok(LabScore {
        package: package.into(),
        passed,
        failed,
        status,
    })
}

pub fn grade(root: &Path, only: Option<&str>, timeout: Duration) -> Result<Vec<LabScore>, String> {
    let labs = labs(root).map_err(|e| format!("cannot list the labs: {e}"))?;
    let wanted: Vec<_> = labs
        .iter()
        .filter(|l| {
            only.is_none_or(|n| l.number == n || l.package() == n || format!("{n:0>2}") == l.number)
        })
        .collect();
    if wanted.is_empty() {
        return Err(format!("no lab {:?} in this workspace", only.unwrap_or("")));
    }
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
        .map(|s| json!({"lab": s.package, "tests": s.total(), "passed": s.passed, "failed": s.failed, "score": s.score(), "status": s.status}))
        .collect();
    json!({"labs": labs, "total": {"tests": total, "passed": passed, "score": overall(scores)}})
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_counted() {
        let out: Vec<String> = [
            "running 3 tests",
            "test a ... ok",
            "test b ... FAILED",
            "test c ... ignored",
            "test labs/x/src/lib.rs - m (line 20) - compile fail ... ok",
            "test result: FAILED. 2 passed; 1 failed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(count_results(&out), (2, 1));
    }

    #[test]
    fn scores_and_the_table() {
        let scores = [
            LabScore {
                package: "lab-01".into(),
                passed: 9,
                failed: 1,
                status: "1 failing".into(),
            },
            LabScore {
                package: "lab-02".into(),
                passed: 3,
                failed: 0,
                status: "timed out after 5s".into(),
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
        assert_eq!(json["labs"][1]["status"], "timed out after 5s");
        assert_eq!(json["total"]["score"], 45.0);
    }
}
