//! `cargo xtask grade [--lab NN] [--json]`: runs each lab's tests under a time-out and
//! grades each exercise by the tests the exercise map ([`crate::exercise_map`]) lists for
//! it: solved when every one of them passes. A lab's score is the share of its exercises'
//! points that are solved; a lab without exercises (or a project without a map) is scored
//! by the share of its tests that pass instead. A lab that does not compile, or whose tests
//! do not finish in time (a deadlocked exercise), scores zero instead of hanging the grader.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use book_tests::layout::select_labs;
use serde_json::json;

use crate::exercise_map::{Entry, ExerciseMap, MAP_PATH};
use crate::runner::{Outcome, cargo_in, cargo_merged, parse_tests, succeeded, warn_missing_tools};
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

/// How one exercise fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExerciseStatus {
    /// Every test behind it passed.
    Solved,
    /// These tests behind it did not pass (`… (did not run)` for one missing from the run).
    NotSolved(Vec<String>),
    /// The lab does not compile.
    DoesNotCompile,
    /// The lab's tests did not finish within the time-out.
    TimedOut,
}

impl fmt::Display for ExerciseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExerciseStatus::Solved => write!(f, "solved"),
            ExerciseStatus::NotSolved(_) => write!(f, "not solved"),
            ExerciseStatus::DoesNotCompile => write!(f, "does not compile"),
            ExerciseStatus::TimedOut => write!(f, "timed out"),
        }
    }
}

/// One exercise's grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseScore {
    pub entry: Entry,
    pub status: ExerciseStatus,
}

impl ExerciseScore {
    pub fn points_solved(&self) -> u32 {
        if self.status == ExerciseStatus::Solved {
            self.entry.points
        } else {
            0
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
    /// Its exercises, from the map; empty for a lab without exercises.
    pub exercises: Vec<ExerciseScore>,
}

impl LabScore {
    pub fn total(&self) -> usize {
        self.passed + self.failed
    }

    pub fn points_solved(&self) -> u32 {
        self.exercises
            .iter()
            .map(ExerciseScore::points_solved)
            .sum()
    }

    pub fn points_possible(&self) -> u32 {
        self.exercises.iter().map(|e| e.entry.points).sum()
    }

    /// Percentage of the exercises' points solved; for a lab without exercises, of its
    /// tests that pass. Zero for a lab that did not compile or timed out.
    pub fn score(&self) -> f64 {
        if self.status.scores_zero() {
            0.0
        } else if self.points_possible() > 0 {
            100.0 * f64::from(self.points_solved()) / f64::from(self.points_possible())
        } else if self.total() == 0 {
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
    for outcome in parse_tests(stdout).values() {
        match outcome {
            Outcome::Passed => counts.passed += 1,
            Outcome::Failed => counts.failed += 1,
            Outcome::Ignored => {}
        }
    }
    counts
}

/// Grade each exercise of a lab whose tests ran, from their results.
pub fn grade_exercises(
    entries: &[Entry],
    results: &BTreeMap<String, Outcome>,
) -> Vec<ExerciseScore> {
    entries
        .iter()
        .map(|entry| {
            let failing: Vec<String> = entry
                .tests
                .iter()
                .filter_map(|test| match results.get(test) {
                    Some(Outcome::Passed) => None,
                    Some(Outcome::Failed) => Some(test.clone()),
                    Some(Outcome::Ignored) => Some(format!("{test} (ignored)")),
                    None => Some(format!("{test} (did not run)")),
                })
                .collect();
            let status = if failing.is_empty() {
                ExerciseStatus::Solved
            } else {
                ExerciseStatus::NotSolved(failing)
            };
            ExerciseScore {
                entry: entry.clone(),
                status,
            }
        })
        .collect()
}

/// Build and test one lab and grade `entries`, its exercises. The runner sets
/// `LABKIT_STRICT_TOOLS=1`: a test that needs a missing `node` or `javac` fails instead of
/// skipping, so it never counts as a pass.
pub fn grade_lab(
    root: &Path,
    package: &str,
    entries: &[Entry],
    timeout: Duration,
) -> Result<LabScore, String> {
    let all = |status: ExerciseStatus| -> Vec<ExerciseScore> {
        entries
            .iter()
            .map(|entry| ExerciseScore {
                entry: entry.clone(),
                status: status.clone(),
            })
            .collect()
    };
    let build = cargo_in(
        root,
        None,
        &["test", "-q", "-p", package, "--no-run"],
        Duration::from_secs(900),
    )
    .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !succeeded(&build) {
        return Ok(LabScore {
            package: package.into(),
            passed: 0,
            failed: 0,
            status: Status::DoesNotCompile,
            exercises: all(ExerciseStatus::DoesNotCompile),
        });
    }
    let tests = cargo_merged(
        root,
        None,
        &["test", "-p", package, "--no-fail-fast"],
        timeout,
    )
    .map_err(|e| format!("cannot run cargo: {e}"))?;
    let results = parse_tests(&tests.stdout);
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
    let exercises = if tests.timed_out {
        all(ExerciseStatus::TimedOut)
    } else {
        grade_exercises(entries, &results)
    };
    Ok(LabScore {
        package: package.into(),
        passed,
        failed,
        status,
        exercises,
    })
}

pub fn grade(root: &Path, only: Option<&str>, timeout: Duration) -> Result<Vec<LabScore>, String> {
    let wanted = select_labs(root, only)?;
    warn_missing_tools("grade");
    let map = ExerciseMap::read(root)?.unwrap_or_else(|| {
        eprintln!(
            "grade: no exercise map ({MAP_PATH}): every lab is scored by the share of its tests that pass"
        );
        ExerciseMap::default()
    });
    wanted
        .iter()
        .map(|lab| {
            let package = lab.package();
            let entries: Vec<Entry> = map.of_lab(&package).cloned().collect();
            grade_lab(root, &package, &entries, timeout)
        })
        .collect()
}

/// The failing tests of an exercise as one line: the first three, then how many more.
fn failing_list(failing: &[String]) -> String {
    let shown = failing
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match failing.len() {
        0..=3 => shown,
        n => format!("{shown} and {} more", n - 3),
    }
}

/// The score table: one row per lab, one per exercise under it, and a total row.
pub fn table(scores: &[LabScore]) -> String {
    let mut out = format!(
        "{:<8} {:>7} {:>6} {:>8}  {}\n",
        "lab", "points", "score", "tests", "status"
    );
    for s in scores {
        let points = if s.exercises.is_empty() {
            "-".to_string()
        } else {
            format!("{}/{}", s.points_solved(), s.points_possible())
        };
        let mut status = s.status.to_string();
        if s.exercises.is_empty() {
            status += " (no exercises: scored by its tests)";
        }
        out += &format!(
            "{:<8} {:>7} {:>5.0}% {:>8}  {}\n",
            s.package,
            points,
            s.score(),
            format!("{}/{}", s.passed, s.total()),
            status
        );
        for e in &s.exercises {
            let detail = match &e.status {
                ExerciseStatus::NotSolved(failing) => {
                    format!("not solved: {}", failing_list(failing))
                }
                other => other.to_string(),
            };
            out += &format!(
                "  {:<6} {:>7} {:>6} {:>8}  {}\n",
                e.entry.id,
                format!("{}/{}", e.points_solved(), e.entry.points),
                "",
                "",
                detail
            );
        }
    }
    let t = Total::of(scores);
    out += &format!(
        "{:<8} {:>7} {:>5.0}% {:>8}\n",
        "total",
        if t.points_possible > 0 {
            format!("{}/{}", t.points_solved, t.points_possible)
        } else {
            "-".into()
        },
        t.score,
        format!("{}/{}", t.passed, t.tests)
    );
    out
}

/// The totals over the graded labs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Total {
    pub points_solved: u32,
    pub points_possible: u32,
    pub passed: usize,
    pub tests: usize,
    /// The share of the points solved, over the labs with exercises; where no lab has
    /// any, the mean of the labs' scores (their tests' shares).
    pub score: f64,
}

impl Total {
    pub fn of(scores: &[LabScore]) -> Total {
        let points_solved = scores.iter().map(LabScore::points_solved).sum();
        let points_possible: u32 = scores.iter().map(LabScore::points_possible).sum();
        let score = if points_possible > 0 {
            100.0 * f64::from(points_solved) / f64::from(points_possible)
        } else {
            scores.iter().map(LabScore::score).sum::<f64>() / scores.len().max(1) as f64
        };
        Total {
            points_solved,
            points_possible,
            passed: scores.iter().map(|s| s.passed).sum(),
            tests: scores.iter().map(LabScore::total).sum(),
            score,
        }
    }
}

pub fn to_json(scores: &[LabScore]) -> String {
    let labs: Vec<_> = scores
        .iter()
        .map(|s| {
            let exercises: Vec<_> = s
                .exercises
                .iter()
                .map(|e| {
                    let failing = match &e.status {
                        ExerciseStatus::NotSolved(failing) => failing.clone(),
                        _ => Vec::new(),
                    };
                    json!({
                        "id": e.entry.id,
                        "file": e.entry.file,
                        "line": e.entry.line,
                        "task": e.entry.task,
                        "points": e.entry.points,
                        "points_solved": e.points_solved(),
                        "status": e.status.to_string(),
                        "tests": e.entry.tests,
                        "failing": failing,
                    })
                })
                .collect();
            json!({
                "lab": s.package,
                "graded_by": if s.exercises.is_empty() { "tests" } else { "exercises" },
                "points_solved": s.points_solved(),
                "points_possible": s.points_possible(),
                "score": s.score(),
                "status": s.status.to_string(),
                "tests": s.total(),
                "passed": s.passed,
                "failed": s.failed,
                "exercises": exercises,
            })
        })
        .collect();
    let t = Total::of(scores);
    json!({
        "labs": labs,
        "total": {
            "points_solved": t.points_solved,
            "points_possible": t.points_possible,
            "score": t.score,
            "tests": t.tests,
            "passed": t.passed,
        }
    })
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
            exercises: vec![],
        };
        assert_eq!(broken.score(), 0.0);
    }

    fn entry(id: &str, points: u32, tests: &[&str]) -> Entry {
        Entry {
            id: id.into(),
            lab: "lab-01".into(),
            file: "labs/lab-01-x/src/lib.rs".into(),
            line: 4,
            task: "do it".into(),
            points,
            tests: tests.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn an_exercise_is_solved_when_every_test_behind_it_passes() {
        let out = "     Running unittests src/lib.rs (target/debug/deps/lab_01-0123)\n\
                   running 2 tests\n\
                   test tests::a ... ok\n\
                   test tests::b ... FAILED\n\
                   test result: FAILED. 1 passed; 1 failed\n\
                   \x20    Running tests/c.rs (target/debug/deps/c-4567)\n\
                   running 1 test\n\
                   test b ... ok\n";
        let results = parse_tests(out);
        let graded = grade_exercises(
            &[
                entry("01.1", 1, &["src/lib.rs::tests::a", "tests/c.rs::b"]),
                entry("01.2", 3, &["src/lib.rs::tests::b", "tests/c.rs::gone"]),
            ],
            &results,
        );
        assert_eq!(graded[0].status, ExerciseStatus::Solved);
        assert_eq!(
            graded[1].status,
            ExerciseStatus::NotSolved(vec![
                "src/lib.rs::tests::b".into(),
                "tests/c.rs::gone (did not run)".into()
            ])
        );
        assert_eq!(
            (graded[0].points_solved(), graded[1].points_solved()),
            (1, 0)
        );
    }

    #[test]
    fn scores_and_the_table() {
        let solved = |id, points| ExerciseScore {
            entry: entry(id, points, &["src/lib.rs::a"]),
            status: ExerciseStatus::Solved,
        };
        let scores = [
            LabScore {
                package: "lab-01".into(),
                passed: 9,
                failed: 1,
                status: Status::Failing(1),
                exercises: vec![
                    solved("01.1", 3),
                    ExerciseScore {
                        entry: entry("01.2", 1, &["src/lib.rs::b"]),
                        status: ExerciseStatus::NotSolved(vec!["src/lib.rs::b".into()]),
                    },
                ],
            },
            LabScore {
                package: "lab-02".into(),
                passed: 3,
                failed: 0,
                status: Status::TimedOut(Duration::from_secs(5)),
                exercises: vec![ExerciseScore {
                    entry: entry("02.1", 4, &["src/lib.rs::a"]),
                    status: ExerciseStatus::TimedOut,
                }],
            },
            LabScore {
                package: "lab-03".into(),
                passed: 1,
                failed: 1,
                status: Status::Failing(1),
                exercises: vec![],
            },
        ];
        assert_eq!(scores[0].score(), 75.0);
        assert_eq!(scores[1].score(), 0.0, "a timed-out lab scores zero");
        assert_eq!(scores[2].score(), 50.0, "no exercises: the tests' share");
        let total = Total::of(&scores);
        assert_eq!((total.points_solved, total.points_possible), (3, 8));
        assert_eq!(
            total.score, 37.5,
            "the points' share, over the labs with exercises"
        );
        let table = table(&scores);
        assert_eq!(
            table,
            "lab       points  score    tests  status\n\
             lab-01       3/4    75%     9/10  1 failing\n\
             \x20 01.1       3/3                  solved\n\
             \x20 01.2       0/1                  not solved: src/lib.rs::b\n\
             lab-02       0/4     0%      3/3  timed out after 5s\n\
             \x20 02.1       0/4                  timed out\n\
             lab-03         -    50%      1/2  1 failing (no exercises: scored by its tests)\n\
             total        3/8    38%    13/15\n"
        );
        let json: serde_json::Value = serde_json::from_str(&to_json(&scores)).unwrap();
        assert_eq!(json["labs"][0]["status"], "1 failing");
        assert_eq!(
            json["labs"][0]["exercises"][1]["failing"][0],
            "src/lib.rs::b"
        );
        assert_eq!(json["labs"][1]["status"], "timed out after 5s");
        assert_eq!(json["labs"][1]["exercises"][0]["status"], "timed out");
        assert_eq!(json["labs"][2]["graded_by"], "tests");
        assert_eq!(json["total"]["score"], 37.5);
        assert_eq!(json["total"]["points_possible"], 8);
    }
}
