//! Chapter 8: `status`, `stop` and `logs`, the operator's side of the classic daemon.
//!
//! `status` answers with the exit codes of the LSB init script actions: 0 running, 1 "dead
//! but the pid file exists", 3 not running, 4 unknown. `stop` on a stopped daemon is a success, as
//! `start` on a running one is: both leave the service in the state that was asked for.

use std::fs::File;
use std::io;
use std::time::Duration;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::StateDir;
use crate::pidfile::{self, Content, Probe};

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
        Probe::Unknown(content) => answer(format!("unknown: {}", unknown(content)), 4),
        Probe::Stale(pid) => answer(format!("not running (stale pid file, pid {pid})"), 1),
        Probe::Garbage => answer("not running (a pid file with no valid pid)", 1),
        Probe::NotRunning => answer("not running", 3),
    })
}
// ANCHOR_END: status

/// Why a locked pid file names nobody we may signal.
fn unknown(content: Content) -> String {
    match content {
        Content::Pid(pid) => {
            format!("the pid file is locked, but pid {pid} does not hold it open")
        }
        _ => "the pid file is locked, but holds no valid pid".to_string(),
    }
}

// ANCHOR: stop
/// SIGTERM, then wait (at most `timeout`) until the daemon has exited; if it has not,
/// SIGKILL and wait again. Signals and waiting go through a pidfd, which names the
/// process itself: it cannot reach another process that got the same pid, and it polls
/// readable when the process has exited, even though the daemon is not our child.
pub fn stop(state: &StateDir, timeout: Duration) -> io::Result<Vec<Answer>> {
    let path = state.pid_file();
    let pid = match pidfile::probe(&path)? {
        Probe::Running(pid) => pid,
        Probe::Starting => return Ok(vec![answer("a daemon is starting: try again", 1)]),
        Probe::Unknown(content) => {
            let line = format!("{}: not signalling anyone", unknown(content));
            return Ok(vec![answer(line, 1)]);
        }
        Probe::Stale(pid) => {
            remove_if_unlocked(&path)?;
            let line = format!("not running (removed a stale pid file, pid {pid})");
            return Ok(vec![answer(line, 0)]);
        }
        Probe::Garbage => {
            remove_if_unlocked(&path)?;
            return Ok(vec![answer(
                "not running (removed a pid file with no valid pid)",
                0,
            )]);
        }
        Probe::NotRunning => return Ok(vec![answer("not running", 0)]),
    };
    let gone = || {
        Ok(vec![answer(
            format!("not running (pid {pid} exited meanwhile)"),
            0,
        )])
    };
    let (file, pidfd) = match (File::open(&path), pidfd_open(pid)) {
        (Ok(file), Ok(pidfd)) => (file, pidfd),
        (Err(e), _) | (_, Err(e)) if e.kind() == io::ErrorKind::NotFound => return gone(),
        (Err(e), _) | (_, Err(e)) if e.raw_os_error() == Some(libc::ESRCH) => return gone(),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    // The pidfd names whoever had the pid when it was opened. If that process still holds
    // the pid file now, it is the daemon; if the pid was reused in between, the pidfd's
    // process is dead and signalling it fails with ESRCH.
    if !pidfile::holds_open(pid, &file)? {
        return gone();
    }
    let mut lines = Vec::new();
    pidfd_send_signal(&pidfd, Signal::SIGTERM)?;
    if !wait_exit(&pidfd, timeout)? {
        lines.push(answer(
            format!(
                "pid={pid} still running {} ms after SIGTERM: sending SIGKILL",
                timeout.as_millis()
            ),
            0,
        ));
        pidfd_send_signal(&pidfd, Signal::SIGKILL)?;
        if !wait_exit(&pidfd, crate::STOP_AFTER_KILL)? {
            return Ok(vec![answer(
                format!("pid={pid} survived SIGKILL (stuck in the kernel?)"),
                1,
            )]);
        }
        // A killed daemon could not remove its pid file. Its fds were closed before its
        // pidfd became readable, so the lock is free now.
        remove_if_unlocked(&path)?;
    }
    lines.push(answer(format!("stopped pid={pid}"), 0));
    Ok(lines)
}
// ANCHOR_END: stop

// ANCHOR: pidfd
/// A pidfd for `pid` (Linux 5.3; nix 0.31 has no wrapper). Chapter 9 has more on pidfds.
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(pid, flags) takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Signal the process the pidfd names; ESRCH if it has exited, whoever has its pid now.
fn pidfd_send_signal(pidfd: &OwnedFd, signal: Signal) -> io::Result<()> {
    // SAFETY: a valid fd, a signal number, no siginfo (NULL), no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Wait at most `timeout` for the pidfd to poll readable: the process has exited (its fds,
/// and so its lock, are closed by then). True if it did.
fn wait_exit(pidfd: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}
// ANCHOR_END: pidfd

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
