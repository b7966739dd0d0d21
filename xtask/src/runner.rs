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
