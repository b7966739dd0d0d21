//! A guard for a demo process started by a test: it runs the child in a process group
//! of its own and, when dropped, kills the whole group and reaps the child. Because
//! `Drop` also runs while a panicking test unwinds, a failed assertion leaves nothing
//! behind.
//!
//! (`std::process::Child` has no `Drop`: a dropped child is neither killed nor reaped.)

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use crate::DEFAULT_TIMEOUT;
use crate::lines::LineReader;

/// A child process in its own process group, killed (with its group) and reaped on drop.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Spawn `cmd` as the leader of a new process group (its pgid is its pid).
    pub fn spawn(cmd: &mut Command) -> io::Result<ChildGuard> {
        let child = cmd.process_group(0).spawn()?;
        Ok(ChildGuard {
            child,
            status: None,
        })
    }

    /// The child's pid, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// A line reader over the child's stdout (which must have been `Stdio::piped()`).
    pub fn stdout_lines(&mut self) -> LineReader {
        LineReader::new(self.take_stdout().expect("stdout was not piped"))
    }

    /// A line reader over the child's stderr (which must have been `Stdio::piped()`).
    pub fn stderr_lines(&mut self) -> LineReader {
        LineReader::new(self.take_stderr().expect("stderr was not piped"))
    }

    /// Send `signal` to the child only (not its group). An error once it has been reaped.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::other("the child was already reaped"));
        }
        kill(self.nix_pid(), signal).map_err(io::Error::from)
    }

    /// Wait for the child to exit, at most [`DEFAULT_TIMEOUT`].
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        self.wait_timeout(DEFAULT_TIMEOUT)
    }

    /// Wait for the child to exit and reap it. After `timeout` the group is killed, the
    /// child reaped, and the result is an `ErrorKind::TimedOut` error.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        // A helper thread blocks in waitid(WNOWAIT): it learns that the child has exited
        // but leaves it a zombie, so the reaping (and the pid) stays ours.
        let pid = self.nix_pid();
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = tx.send(waitid(
                Id::Pid(pid),
                WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
            ));
        });
        let outcome = rx.recv_timeout(timeout);
        if outcome.is_err() {
            self.kill_group();
        }
        let status = self.child.wait()?;
        self.status = Some(status);
        let _ = waiter.join();
        match outcome {
            Ok(_) => Ok(status),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("child {pid} still running after {timeout:?}: killed its group"),
            )),
        }
    }

    /// The exit status, if the child has been reaped.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    fn nix_pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    fn kill_group(&self) {
        // ESRCH (nobody left in the group) is the usual, happy answer here.
        let _ = killpg(self.nix_pid(), Signal::SIGKILL);
        if self.status.is_none() {
            // The child may have moved to another group (setpgid, setsid): kill it by pid
            // too. Safe while it is unreaped: its pid cannot be reused before we reap it.
            let _ = kill(self.nix_pid(), Signal::SIGKILL);
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Kill the group even if the child itself was reaped already: grandchildren may
        // live on in it. Linux hands out pids cyclically, so the group id is not reused by
        // a stranger in the moment between reaping and this drop.
        self.kill_group();
        if self.status.is_none()
            && let Ok(status) = self.child.wait()
        {
            self.status = Some(status);
        }
    }
}

/// A `Command` for running a lab's demo binary from a test: stdin from `/dev/null`,
/// stdout and stderr piped, and no `RUST_BACKTRACE` inherited from the developer's shell,
/// so a demo's panic message is the same on every machine.
pub fn demo(exe: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc;
    use std::os::unix::process::ExitStatusExt;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script).stdout(Stdio::piped());
        cmd
    }

    #[test]
    fn child_leads_its_own_process_group() {
        let mut child = ChildGuard::spawn(&mut sh("echo ready; exec cat")).unwrap();
        child
            .stdout_lines()
            .wait_for("ready", DEFAULT_TIMEOUT)
            .unwrap();
        assert_eq!(proc::stat(child.pid()).unwrap().pgrp, child.pid());
    }

    #[test]
    fn wait_reports_the_exit_status() {
        let mut child = ChildGuard::spawn(&mut sh("exit 7")).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(7));
        assert_eq!(child.status(), Some(status));
    }

    #[test]
    fn drop_kills_and_reaps_the_whole_group_even_on_panic() {
        // The shell starts a grandchild in the background; both share the stdout pipe.
        let mut output = None;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut child = ChildGuard::spawn(&mut sh("sleep 300 & echo \"$$\"; wait")).unwrap();
            let mut lines = child.stdout_lines();
            let pid = lines.next_line(DEFAULT_TIMEOUT).unwrap().unwrap();
            output = Some((pid, lines));
            panic!("a failing assertion while the child and grandchild run");
        }));
        assert!(result.is_err());
        let (pid, mut lines) = output.unwrap();
        // The child was reaped by the guard: its /proc entry is gone.
        assert!(
            proc::stat(pid.parse().unwrap()).is_err(),
            "child {pid} still exists"
        );
        // End of file on the pipe means every process holding its write end, the
        // grandchild `sleep` included, has exited. (SIGKILL is asynchronous: looking at
        // the grandchild's /proc state right after killpg could still show it running.)
        assert_eq!(lines.rest(DEFAULT_TIMEOUT).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn wait_timeout_kills_a_hung_child() {
        let mut child = ChildGuard::spawn(&mut sh("exec sleep 300")).unwrap();
        let err = child.wait_timeout(Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            child.status().unwrap().signal(),
            Some(Signal::SIGKILL as i32)
        );
    }
}
