//! Run a program to the end under a deadline and keep everything it said.
//!
//! Most tests want exactly this: start a demo, let it finish, look at its exit status,
//! its stdout and its stderr. Reading the two pipes one after the other can deadlock (the
//! child blocks writing to a full stderr pipe while we wait for stdout's end of file), and
//! a plain `wait` hangs forever on a demo that never ends. So each pipe is drained by a
//! thread of its own, and the whole run has a deadline after which the child's process
//! group is killed.

use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::DEFAULT_TIMEOUT;
use crate::child::ChildGuard;

/// How long the pipes may stay open after the child was killed at its deadline: the kernel
/// needs a moment to tear the group down.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// A program that ran to its end (or was killed at its deadline).
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: ExitStatus,
    /// Everything written to stdout (empty if stdout was not piped), bytes that are not
    /// UTF-8 replaced.
    pub stdout: String,
    /// Everything written to stderr (empty if stderr was not piped).
    pub stderr: String,
    /// Whether the deadline passed and the process group was killed.
    pub timed_out: bool,
}

impl Finished {
    /// The run as the book prints it:
    ///
    /// ```text
    /// $ shown command
    /// stdout lines
    /// --- stderr
    /// stderr lines
    /// => exited with code 0
    /// ```
    ///
    /// Empty streams are left out (no `--- stderr` line when nothing went to stderr).
    pub fn transcript(&self, shown_command: &str) -> String {
        let mut parts = vec![format!("$ {shown_command}")];
        if !self.stdout.is_empty() {
            parts.push(self.stdout.trim_end_matches('\n').to_string());
        }
        if !self.stderr.is_empty() {
            parts.push("--- stderr".to_string());
            parts.push(self.stderr.trim_end_matches('\n').to_string());
        }
        parts.push(format!("=> {}", outcome(self.status)));
        parts.join("\n")
    }

    /// stdout's lines.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// stderr's lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// Run `cmd` to its end, at most [`DEFAULT_TIMEOUT`]; a run that hits the deadline is an
/// `ErrorKind::TimedOut` error that quotes what the program had printed.
///
/// The child leads its own process group (see [`ChildGuard`]); set up stdin, stdout and
/// stderr on `cmd` as you want them ([`crate::demo`] pipes stdout and stderr and gives
/// stdin `/dev/null`).
pub fn run(cmd: &mut Command) -> io::Result<Finished> {
    let finished = run_for(cmd, DEFAULT_TIMEOUT)?;
    if finished.timed_out {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{:?} still running after {DEFAULT_TIMEOUT:?}: killed its group\n{}",
                cmd.get_program(),
                finished.transcript("(the command above)")
            ),
        ));
    }
    Ok(finished)
}

/// Run `cmd` to its end or until `timeout` passes; at the deadline its whole process
/// group is killed and the result says `timed_out`. For callers (such as a grader) for
/// which a hang is an answer rather than an error.
pub fn run_for(cmd: &mut Command, timeout: Duration) -> io::Result<Finished> {
    let deadline = Instant::now() + timeout;
    let mut child = ChildGuard::spawn(cmd)?;
    let stdout = child.take_stdout().map(drain);
    let stderr = child.take_stderr().map(drain);
    let (status, timed_out) = match child.wait_timeout(timeout) {
        Ok(status) => (status, false),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            (child.status().expect("reaped after the time-out"), true)
        }
        Err(e) => return Err(e),
    };
    // The group is killed when the guard drops; a grandchild that is still alive and
    // still holds a pipe would keep it open, so kill the group before collecting.
    drop(child);
    let pipe_deadline = if timed_out {
        Instant::now() + AFTER_KILL
    } else {
        deadline.max(Instant::now() + AFTER_KILL)
    };
    Ok(Finished {
        status,
        stdout: collect(stdout, pipe_deadline, "stdout")?,
        stderr: collect(stderr, pipe_deadline, "stderr")?,
        timed_out,
    })
}

/// How a process ended, as its parent reads the status: `exited with code 3`, or
/// `killed by SIGTERM (signal 15, $? = 143)` with the number a shell would put in `$?`.
pub fn outcome(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(number) => {
            let name = Signal::try_from(number)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {number}"));
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!(
                "killed by {name} (signal {number}{core}, $? = {})",
                128 + number
            )
        }
        None => format!("ended in an unexpected way ({status})"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> Receiver<io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = tx.send(pipe.read_to_end(&mut bytes).map(|_| bytes));
    });
    rx
}

fn collect(
    pipe: Option<Receiver<io::Result<Vec<u8>>>>,
    deadline: Instant,
    name: &str,
) -> io::Result<String> {
    let Some(rx) = pipe else {
        return Ok(String::new());
    };
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes?).into_owned()),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{name} still open after the program ended: a process that left its \
                 group (a daemon?) holds the pipe"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[test]
    fn keeps_both_streams_and_the_status() {
        let done = run(&mut sh("echo out; echo err >&2; exit 3")).unwrap();
        assert_eq!(done.stdout, "out\n");
        assert_eq!(done.stderr, "err\n");
        assert_eq!(done.status.code(), Some(3));
        assert!(!done.timed_out);
        assert_eq!(
            done.transcript("demo"),
            "$ demo\nout\n--- stderr\nerr\n=> exited with code 3"
        );
    }

    #[test]
    fn a_full_stderr_pipe_does_not_deadlock() {
        // 200 KiB to stderr before anything to stdout: more than a pipe holds (64 KiB).
        let done = run(&mut sh("head -c 204800 /dev/zero >&2; echo done")).unwrap();
        assert_eq!(done.stdout, "done\n");
        assert_eq!(done.stderr.len(), 204800);
    }

    #[test]
    fn empty_streams_are_left_out_of_the_transcript() {
        let done = run(&mut sh("kill -TERM $$")).unwrap();
        assert_eq!(
            done.transcript("x"),
            "$ x\n=> killed by SIGTERM (signal 15, $? = 143)"
        );
    }

    #[test]
    fn a_hung_program_is_killed_at_the_deadline() {
        let done = run_for(
            &mut sh("echo started; exec sleep 300"),
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(done.timed_out);
        assert_eq!(done.stdout, "started\n");
        assert_eq!(done.status.signal(), Some(Signal::SIGKILL as i32));
    }

    #[test]
    fn outcome_names_codes_signals_and_core_dumps() {
        assert_eq!(outcome(ExitStatus::from_raw(0)), "exited with code 0");
        assert_eq!(
            outcome(ExitStatus::from_raw(101 << 8)),
            "exited with code 101"
        );
        assert_eq!(
            outcome(ExitStatus::from_raw(9)),
            "killed by SIGKILL (signal 9, $? = 137)"
        );
        assert_eq!(
            outcome(ExitStatus::from_raw(6 | 0x80)),
            "killed by SIGABRT (signal 6, core dumped, $? = 134)"
        );
    }
}
