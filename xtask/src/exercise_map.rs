//! The exercise map: for every exercise, the tests that fail when its solution alone is
//! cut. `cargo xtask check` learns it and keeps the committed copy ([`MAP_PATH`]) up to
//! date; `cargo xtask grade` reads it (in the student edition the solutions are gone, so
//! the map is the only place that knows which tests grade which exercise).
//!
//! Points: `// EXERCISE: (3 points) …` gives an exercise 3 points; without the marker it
//! has 1. The marker is read off the task, so the student edition's `todo!()` message does
//! not repeat it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use book_tests::regions::Exercise;
use serde::{Deserialize, Serialize};

/// Where the map is committed, relative to the project root.
pub const MAP_PATH: &str = "xtask/exercise-map.json";

/// One exercise and the tests behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `NN.k`, as in the student edition's `todo!("exercise NN.k: …")`.
    pub id: String,
    /// The lab's package, `lab-NN`.
    pub lab: String,
    pub file: String,
    /// The line of `// BEGIN SOLUTION` in the reference tree.
    pub line: usize,
    /// The task, from the `// EXERCISE:` comment, without the points marker.
    pub task: String,
    pub points: u32,
    /// `TARGET::TEST` (the target's source path, as cargo names it in `Running …`, then
    /// libtest's name of the test), sorted: every test that fails with this solution cut.
    pub tests: Vec<String>,
}

/// The whole map, in the order of the exercises (lab, then file, then line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseMap {
    pub exercises: Vec<Entry>,
}

/// The points marker at the start of a task, `(3 points)` or `(1 point)`, and the task
/// without it; 1 point and the whole task when there is none.
pub fn split_points(task: &str) -> (u32, &str) {
    let marker = task.strip_prefix('(').and_then(|rest| {
        let (inside, after) = rest.split_once(')')?;
        let (number, unit) = inside.split_once(' ')?;
        let points: u32 = number.parse().ok()?;
        let unit_fits = if points == 1 {
            unit == "point"
        } else {
            unit == "points"
        };
        (unit_fits && points > 0).then(|| (points, after.trim_start()))
    });
    marker.unwrap_or((1, task))
}

/// The entry of `exercise`, with the tests that failed without its solution.
pub fn entry(exercise: &Exercise, failing: BTreeSet<String>) -> Entry {
    let (points, task) = split_points(&exercise.region.task);
    Entry {
        id: exercise.id.clone(),
        lab: exercise.lab.package(),
        file: exercise.region.file.display().to_string(),
        line: exercise.region.begin,
        task: task.to_string(),
        points,
        tests: failing.into_iter().collect(),
    }
}

impl ExerciseMap {
    /// The committed map of the project at `root`: `Ok(None)` when there is none.
    pub fn read(root: &Path) -> Result<Option<ExerciseMap>, String> {
        let path = root.join(MAP_PATH);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{MAP_PATH}: not an exercise map: {e}"))
    }

    /// Pretty JSON with a final newline: the same map gives the same bytes.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a map serializes");
        text.push('\n');
        text
    }

    pub fn write(&self, root: &Path) -> Result<(), String> {
        let path = root.join(MAP_PATH);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, self.to_text()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The exercises of one lab (package).
    pub fn of_lab<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.exercises.iter().filter(move |e| e.lab == package)
    }

    /// How `self` (the committed map) differs from `fresh` (what the check found), one
    /// line per difference; empty when they agree.
    pub fn differences(&self, fresh: &ExerciseMap) -> Vec<String> {
        let old: BTreeMap<&str, &Entry> =
            self.exercises.iter().map(|e| (e.id.as_str(), e)).collect();
        let new: BTreeMap<&str, &Entry> =
            fresh.exercises.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut out = Vec::new();
        for (id, e) in &new {
            match old.get(id) {
                None => out.push(format!(
                    "exercise {id} ({}:{}) is not in the map",
                    e.file, e.line
                )),
                Some(o) => {
                    let mut changed = Vec::new();
                    let mut field = |name: &str, was: String, now: String| {
                        if was != now {
                            changed.push(format!("{name} {was} -> {now}"));
                        }
                    };
                    field("lab", o.lab.clone(), e.lab.clone());
                    field("file", o.file.clone(), e.file.clone());
                    field("line", o.line.to_string(), e.line.to_string());
                    field("task", format!("{:?}", o.task), format!("{:?}", e.task));
                    field("points", o.points.to_string(), e.points.to_string());
                    let (was, now): (BTreeSet<&String>, BTreeSet<&String>) =
                        (o.tests.iter().collect(), e.tests.iter().collect());
                    for t in now.difference(&was) {
                        changed.push(format!("now also fails {t}"));
                    }
                    for t in was.difference(&now) {
                        changed.push(format!("no longer fails {t}"));
                    }
                    if changed.is_empty() && o != e {
                        changed.push("test order".into());
                    }
                    if !changed.is_empty() {
                        out.push(format!("exercise {id}: {}", changed.join("; ")));
                    }
                }
            }
        }
        for id in old.keys().filter(|id| !new.contains_key(*id)) {
            out.push(format!(
                "exercise {id} is in the map but not in the sources"
            ));
        }
        if out.is_empty() && self != fresh {
            out.push("the exercises are listed in another order".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_markers() {
        assert_eq!(split_points("(3 points) sum it"), (3, "sum it"));
        assert_eq!(split_points("(1 point) sum it"), (1, "sum it"));
        assert_eq!(split_points("sum it (3 points)"), (1, "sum it (3 points)"));
        assert_eq!(split_points("(3 point) sum it"), (1, "(3 point) sum it"));
        assert_eq!(split_points("(0 points) x"), (1, "(0 points) x"));
        assert_eq!(split_points("(see above) x"), (1, "(see above) x"));
    }

    fn entry(id: &str, tests: &[&str]) -> Entry {
        Entry {
            id: id.into(),
            lab: "lab-01".into(),
            file: "labs/lab-01-x/src/lib.rs".into(),
            line: 4,
            task: "do it".into(),
            points: 1,
            tests: tests.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn differences_name_the_exercise_and_the_change() {
        let old = ExerciseMap {
            exercises: vec![entry("01.1", &["src/lib.rs::a"]), entry("01.2", &[])],
        };
        let mut changed = entry("01.1", &["src/lib.rs::b"]);
        changed.points = 2;
        let new = ExerciseMap {
            exercises: vec![changed, entry("01.3", &[])],
        };
        assert_eq!(
            old.differences(&new),
            [
                "exercise 01.1: points 1 -> 2; now also fails src/lib.rs::b; no longer fails src/lib.rs::a",
                "exercise 01.3 (labs/lab-01-x/src/lib.rs:4) is not in the map",
                "exercise 01.2 is in the map but not in the sources",
            ]
        );
        assert!(new.differences(&new).is_empty());
    }
}
