//! `cargo xtask check`: proves every exercise is graded.
//!
//! In a scratch copy of the project (the working tree is never touched), with its own
//! target directory under `target/xtask`:
//! 1. every lab that has exercises passes its tests with all solutions in place;
//! 2. the student edition (every region cut) compiles;
//! 3. for each region alone: the lab still compiles with only that region cut, and at
//!    least one of its tests fails. A region that no test notices is named with its file
//!    and line, and the check fails.
//!
//! The tests that fail for each region make the exercise map ([`crate::exercise_map`]).
//! The check fails when the committed map differs from what it found, naming each
//! difference, unless it is asked to write the map (`--write-map`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::edition::{Project, copy_files, cut_files, load, write_all_cuts, write_cut};
use crate::exercise_map::{self, ExerciseMap, MAP_PATH};
use crate::runner::{
    Outcome, cargo_in, cargo_merged, parse_tests, succeeded, tail, warn_missing_tools,
};

/// Run the check; with `write_map`, write the exercise map it found instead of comparing
/// it with the committed one.
pub fn check(root: &Path, timeout: Duration, write_map: bool) -> Result<String, String> {
    let started = Instant::now();
    warn_missing_tools("check");
    let Project { files, exercises } = load(root)?;
    let work = root.join("target/xtask/check");
    let scratch = work.join("project");
    let target = work.join("target");
    // Two checks at once would rewrite each other's scratch copy: hold a lock while working.
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let _lock = lock(&work.join("lock"))?;
    let _ = fs::remove_dir_all(&scratch);
    copy_files(root, &scratch, &files).map_err(|e| format!("copying the project: {e}"))?;
    let restore = |file: &Path| {
        fs::copy(root.join(file), scratch.join(file))
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", file.display()))
    };
    let mut packages: Vec<String> = exercises.iter().map(|e| e.lab.package()).collect();
    packages.dedup();
    let cargo = |args: &[&str], limit: Duration| {
        cargo_in(&scratch, Some(&target), args, limit).map_err(|e| format!("cannot run cargo: {e}"))
    };
    let build_limit = Duration::from_secs(900);

    // 1. All solutions in place: every test of those labs passes.
    for package in &packages {
        eprintln!("check: {package} passes with its solutions");
        let build = cargo(&["build", "-q", "-p", package, "--tests"], build_limit)?;
        if !succeeded(&build) {
            return Err(format!(
                "{package} does not compile with its solutions:\n{}",
                tail(&build, 30)
            ));
        }
        let run = cargo(&["test", "-q", "-p", package], timeout)?;
        if !succeeded(&run) {
            return Err(format!(
                "{package} fails even with every solution in place:\n{}",
                // Enough lines for a snapshot diff above the backtrace and the summary.
                tail(&run, 150)
            ));
        }
    }

    // 2. The student edition compiles.
    eprintln!("check: the student edition compiles");
    write_all_cuts(root, &scratch, &exercises)
        .map_err(|e| format!("cutting the solutions: {e}"))?;
    let run = cargo(&["build", "-q", "--workspace", "--tests"], build_limit)?;
    if !succeeded(&run) {
        return Err(format!(
            "the student edition does not compile:\n{}",
            tail(&run, 30)
        ));
    }
    for file in cut_files(&exercises) {
        restore(&file)?;
    }

    // 3. Each region on its own is noticed by a test of its lab; the failing tests make
    //    the exercise map.
    let mut unnoticed = Vec::new();
    let mut map = ExerciseMap::default();
    for ex in &exercises {
        let place = format!("{}:{}", ex.region.file.display(), ex.region.begin);
        eprintln!("check: exercise {} ({place})", ex.id);
        write_cut(root, &scratch, &ex.region.file, &[ex]).map_err(|e| format!("{place}: {e}"))?;
        let package = ex.lab.package();
        let build = cargo(&["build", "-q", "-p", &package, "--tests"], build_limit)?;
        if !succeeded(&build) {
            return Err(format!(
                "exercise {} ({place}): the lab does not compile with it cut:\n{}",
                ex.id,
                tail(&build, 30)
            ));
        }
        let run = cargo_merged(
            &scratch,
            Some(&target),
            &["test", "-p", &package, "--no-fail-fast"],
            timeout,
        )
        .map_err(|e| format!("cannot run cargo: {e}"))?;
        let failing: BTreeSet<String> = parse_tests(&run.stdout)
            .into_iter()
            .filter(|(_, outcome)| *outcome == Outcome::Failed)
            .map(|(name, _)| name)
            .collect();
        if succeeded(&run) {
            unnoticed.push(format!(
                "{place}: exercise {} is not graded: every test of {package} passes without its solution",
                ex.id
            ));
        } else if failing.is_empty() {
            let how = if run.timed_out {
                format!("timed out after {}s", timeout.as_secs())
            } else {
                "failed".to_string()
            };
            unnoticed.push(format!(
                "{place}: exercise {}: the tests of {package} {how} without its solution, but no test failed by name (the grader needs one that fails, not one that hangs or crashes):\n{}",
                ex.id,
                tail(&run, 15)
            ));
        } else if run.timed_out {
            eprintln!(
                "check: exercise {}: the tests of {package} also timed out without its solution; the map lists the ones that failed",
                ex.id
            );
        }
        map.exercises.push(exercise_map::entry(ex, failing));
        restore(&ex.region.file)?;
    }
    if !unnoticed.is_empty() {
        return Err(unnoticed.join("\n"));
    }

    // 4. The committed map says the same.
    let map_note = if write_map {
        map.write(root)?;
        format!("wrote {MAP_PATH}")
    } else {
        match ExerciseMap::read(root)? {
            None if map.exercises.is_empty() => "no exercises, no map".to_string(),
            None => {
                return Err(format!(
                    "there is no exercise map ({MAP_PATH}): run `cargo xtask check --write-map` and commit it"
                ));
            }
            Some(committed) => {
                let differences = committed.differences(&map);
                if !differences.is_empty() {
                    return Err(format!(
                        "{MAP_PATH} is out of date (run `cargo xtask check --write-map` and commit it):\n  {}",
                        differences.join("\n  ")
                    ));
                }
                format!("{MAP_PATH} is up to date")
            }
        }
    };
    Ok(format!(
        "check: {} exercise region(s) in {} lab(s), each one failed a test when cut; the student edition compiles; {map_note} ({:.0?})",
        exercises.len(),
        packages.len(),
        started.elapsed()
    ))
}

/// An exclusive `flock` on `path`, waiting (and saying so) while another check holds it.
fn lock(path: &Path) -> Result<nix::fcntl::Flock<fs::File>, String> {
    use nix::fcntl::{Flock, FlockArg};
    let file = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((file, _)) => {
            eprintln!("check: another `cargo xtask check` is running; waiting for it");
            Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, e)| format!("{}: {e}", path.display()))
        }
    }
}
