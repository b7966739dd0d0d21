//! Chapter 8: `status`, `stop` and `logs`, the operator's side of the classic daemon.
//!
//! `status` answers with the exit codes of the LSB init script actions: 0 running, 1 "dead
//! but the pid file exists", 3 not running. `stop` on a stopped daemon is a success, as
//! `start` on a running one is: both leave the service in the state that was asked for.

use std::fs::File;
use std::io;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::StateDir;
use crate::pidfile::{self, Probe};

/// A line for the operator and the exit code that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub line: String,
    pub code: u8,
}

fn answer(line: impl Into<String>, code: u8) -> Answer {
    Answer {
        line: line.into(),
        code,
    }
}

// ANCHOR: status
pub fn status(state: &StateDir) -> io::Result<Answer> {
    Ok(match pidfile::probe(&state.pid_file())? {
        Probe::Running(pid) => answer(format!("running pid={pid}"), 0),
        Probe::Starting => answer("starting (pid file locked, no pid written yet)", 0),
        Probe::Stale(pid) => answer(format!("not running (stale pid file, pid {pid})"), 1),
        Probe::NotRunning => answer("not running", 3),
    })
}
// ANCHOR_END: status

// ANCHOR: stop
/// SIGTERM, then wait (at most `timeout`) until the daemon's lock is free; if it is not,
/// SIGKILL and wait again. The lock, not the pid, tells us the daemon is gone: it is
/// released when the daemon's last fd closes, even if a zombie is left for its parent to
/// reap, and no other process can hold it by accident.
pub fn stop(state: &StateDir, timeout: Duration) -> io::Result<Vec<Answer>> {
    let path = state.pid_file();
    let pid = match pidfile::probe(&path)? {
        Probe::Running(pid) => pid,
        Probe::Starting => return Ok(vec![answer("a daemon is starting: try again", 1)]),
        Probe::Stale(pid) => {
            remove_if_unlocked(&path)?;
            let line = format!("not running (removed a stale pid file, pid {pid})");
            return Ok(vec![answer(line, 0)]);
        }
        Probe::NotRunning => return Ok(vec![answer("not running", 0)]),
    };
    let file = File::open(&path)?; // opened before the daemon removes the name
    let mut lines = Vec::new();
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM)?;
    if !pidfile::wait_unlocked(file.try_clone()?, timeout)? {
        lines.push(answer(
            format!(
                "pid={pid} still running {} ms after SIGTERM: sending SIGKILL",
                timeout.as_millis()
            ),
            0,
        ));
        kill(Pid::from_raw(pid as i32), Signal::SIGKILL)?;
        if !pidfile::wait_unlocked(file, crate::STOP_AFTER_KILL)? {
            return Ok(vec![answer(
                format!("pid={pid} survived SIGKILL (stuck in the kernel?)"),
                1,
            )]);
        }
        // A killed daemon could not remove its pid file.
        remove_if_unlocked(&path)?;
    }
    lines.push(answer(format!("stopped pid={pid}"), 0));
    Ok(lines)
}
// ANCHOR_END: stop

/// Remove the pid file if nobody holds its lock; take the lock while removing, so a
/// `start` cannot lock the file between our check and the removal.
fn remove_if_unlocked(path: &std::path::Path) -> io::Result<()> {
    match pidfile::acquire(path)? {
        pidfile::Acquired::Locked(pid_file) => match pid_file.remove() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        },
        pidfile::Acquired::Taken(_) => Ok(()), // a new daemon has it: not ours to remove
    }
}

/// The whole log, or a note that there is none.
pub fn logs(state: &StateDir) -> io::Result<String> {
    match std::fs::read_to_string(state.log_file()) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}
