//! Running cargo and test binaries from a task, through `labkit::run_for`: in a process
//! group of their own, output collected, and a time-out that kills the whole group (cargo
//! and the test binaries it started), so a deadlocked exercise fails instead of hanging
//! the grader.
//!
//! Every run is strict about the book's comparisons: `LABKIT_STRICT_TOOLS=1` makes a test
//! that needs `node` or `javac` fail where the tool is missing instead of skipping (a
//! skipped comparison must never count as a pass), and insta's `INSTA_FORCE_PASS` and
//! `INSTA_UPDATE` are removed, so a setting in the caller's shell cannot accept a wrong
//! snapshot.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use labkit::Finished;

/// The tools some tests need; where one is missing, those tests fail under this runner.
pub const TOOLS: [&str; 2] = ["node", "javac"];

/// Which of [`TOOLS`] do not run here (`TOOL --version` fails).
pub fn missing_tools() -> Vec<&'static str> {
    TOOLS
        .into_iter()
        .filter(|tool| !labkit::tools::tool_runs(tool))
        .collect()
}

/// Say up front which tools are missing, for a task whose test runs need them.
pub fn warn_missing_tools(task: &str) {
    let missing = missing_tools();
    if !missing.is_empty() {
        eprintln!(
            "{task}: {} not found on PATH: tests that need them will fail",
            missing.join(" and ")
        );
    }
}

/// The cargo that runs us (`CARGO` is set by `cargo run`), or `cargo` from PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prepare `cmd` the way every run of this runner is made: stdin `/dev/null`, output
/// piped, strict about missing tools, insta's overrides removed.
pub fn strict(cmd: &mut Command) -> &mut Command {
    cmd.env("LABKIT_STRICT_TOOLS", "1")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("INSTA_UPDATE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
}

/// Run `cargo ARGS` in `dir` with an optional target dir, for at most `timeout`.
pub fn cargo_in(
    dir: &Path,
    target_dir: Option<&Path>,
    args: &[&str],
    timeout: Duration,
) -> io::Result<Finished> {
    let mut cmd = cargo();
    cmd.args(args).current_dir(dir);
    if let Some(target) = target_dir {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    labkit::run_for(strict(&mut cmd), timeout)
}

/// Whether the run finished in time and exited with 0.
pub fn succeeded(run: &Finished) -> bool {
    !run.timed_out && run.status.success()
}

/// The last lines of stderr and stdout, indented, for an error message.
pub fn tail(run: &Finished, lines: usize) -> String {
    let all: Vec<&str> = run.stderr.lines().chain(run.stdout.lines()).collect();
    let start = all.len().saturating_sub(lines);
    all[start..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run `cargo ARGS` like [`cargo_in`], with cargo's stderr and the test binaries' stdout in
/// one pipe (`stdout` of the result), so each libtest line follows the `Running …` line of
/// its test binary. `stderr` of the result stays empty.
pub fn cargo_merged(
    dir: &Path,
    target_dir: Option<&Path>,
    args: &[&str],
    timeout: Duration,
) -> io::Result<Finished> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"exec "$0" "$@" 2>&1"#)
        .arg(cargo().get_program())
        .args(args)
        .current_dir(dir);
    if let Some(target) = target_dir {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    labkit::run_for(strict(&mut cmd), timeout)
}

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Ignored,
}

/// Every test result in the merged output of `cargo test` (see [`cargo_merged`]), keyed
/// `TARGET::TEST`: TARGET is the source path cargo names in `Running tests/x.rs (…)` or
/// `Running unittests src/lib.rs (…)` (`doc-tests` for the doc tests), TEST libtest's name.
///
/// A test is passed or failed by its `test NAME ... ok|FAILED` line; the list of names
/// libtest prints under its last `failures:` heading also counts as failed, in case the
/// result line was broken up by output a child process wrote to the terminal.
pub fn parse_tests(merged: &str) -> std::collections::BTreeMap<String, Outcome> {
    let mut results = std::collections::BTreeMap::new();
    let mut target = String::from("?");
    let mut in_failures = false;
    // The section since the heading holds only indented names (not captured output).
    let mut names_only = true;
    let mut listed: Vec<String> = Vec::new();
    for line in merged.lines() {
        let trimmed = line.trim();
        // cargo's `     Running tests/x.rs (target/debug/deps/x-0123abcd)`.
        if let Some(rest) = trimmed.strip_prefix("Running ")
            && let Some((path, _)) = rest.strip_suffix(')').and_then(|r| r.split_once(" ("))
            && path.ends_with(".rs")
        {
            target = path.strip_prefix("unittests ").unwrap_or(path).to_string();
            in_failures = false;
            continue;
        }
        if trimmed.starts_with("Doc-tests ") {
            target = "doc-tests".into();
            in_failures = false;
            continue;
        }
        if line == "failures:" {
            // The last such heading of a binary lists the failing tests' names.
            in_failures = true;
            names_only = true;
            listed.clear();
            continue;
        }
        if in_failures {
            if let Some(name) = line.strip_prefix("    ")
                && !name.is_empty()
                && !name.starts_with(' ')
            {
                listed.push(name.to_string());
            } else if line.starts_with("test result:") {
                if names_only {
                    for name in listed.drain(..) {
                        results.insert(format!("{target}::{name}"), Outcome::Failed);
                    }
                }
                in_failures = false;
            } else if !line.is_empty() {
                names_only = false;
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let outcome = if result == "ok" {
            Outcome::Passed
        } else if result == "FAILED" {
            Outcome::Failed
        } else if result.starts_with("ignored") {
            Outcome::Ignored
        } else {
            continue;
        };
        let key = format!("{target}::{name}");
        if results.get(&key) != Some(&Outcome::Failed) {
            results.insert(key, outcome);
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_results_are_keyed_by_target_and_name() {
        let out = "   Compiling lab-01 v0.1.0\n\
                   \x20    Running unittests src/lib.rs (target/debug/deps/lab_01-0123)\n\
                   running 2 tests\n\
                   test tests::a ... ok\n\
                   test tests::b ... ignored, needs a tty\n\
                   test result: ok. 1 passed; 0 failed; 1 ignored\n\
                   \x20    Running tests/card.rs (target/debug/deps/card-4567)\n\
                   running 3 tests\n\
                   test a ... child output on the terminal\n\
                   FAILED\n\
                   test b ... FAILED\n\
                   test c - should panic ... ok\n\
                   failures:\n\
                   \n\
                   ---- a stdout ----\n\
                   \x20   Running nothing (indented output of the test)\n\
                   failures:\n\
                   \x20   a\n\
                   \x20   b\n\
                   \n\
                   test result: FAILED. 1 passed; 2 failed\n\
                   \x20  Doc-tests lab_01\n\
                   running 1 test\n\
                   test labs/x/src/lib.rs - f (line 3) ... ok\n";
        let results: Vec<(String, Outcome)> = parse_tests(out).into_iter().collect();
        let expected = [
            ("doc-tests::labs/x/src/lib.rs - f (line 3)", Outcome::Passed),
            ("src/lib.rs::tests::a", Outcome::Passed),
            ("src/lib.rs::tests::b", Outcome::Ignored),
            ("tests/card.rs::a", Outcome::Failed),
            ("tests/card.rs::b", Outcome::Failed),
            ("tests/card.rs::c - should panic", Outcome::Passed),
        ]
        .map(|(name, outcome)| (name.to_string(), outcome));
        assert_eq!(results, expected);
    }
}
