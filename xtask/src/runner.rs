//! Running cargo from a task: in its own process group, output collected, and a
//! time-out that kills the whole group (cargo and the test binaries it started), so a
//! deadlocked exercise fails instead of hanging the grader.

use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use labkit::ChildGuard;

/// What a cargo run produced.
#[derive(Debug)]
pub struct Run {
    /// `None` when the run hit the time-out.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Run {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// The last lines of stderr and stdout, for an error message.
    pub fn tail(&self, lines: usize) -> String {
        let all: Vec<&String> = self.stderr.iter().chain(self.stdout.iter()).collect();
        let start = all.len().saturating_sub(lines);
        all[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The cargo that runs us (`CARGO` is set by `cargo run`), or `cargo` from PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Run `cargo ARGS` in `dir` with an optional target dir, for at most `timeout`.
pub fn cargo_in(
    dir: &Path,
    target_dir: Option<&Path>,
    args: &[&str],
    timeout: Duration,
) -> io::Result<Run> {
    let mut cmd = cargo();
    cmd.args(args).current_dir(dir);
    if let Some(target) = target_dir {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd)?;
    let mut out = child.stdout_lines();
    let mut err = child.stderr_lines();
    let status = match child.wait_timeout(timeout) {
        Ok(status) => Some(status),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => None,
        Err(e) => return Err(e),
    };
    // The group is dead or done: the pipes reach end of file promptly.
    let grace = Duration::from_secs(10);
    Ok(Run {
        status,
        stdout: out.rest(grace).unwrap_or_else(|_| out.history().to_vec()),
        stderr: err.rest(grace).unwrap_or_else(|_| err.history().to_vec()),
    })
}
