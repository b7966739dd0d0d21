//! Chapter 8: what the daemon does once it runs.
//!
//! It writes `pid=… ppid=…` on an interval (so the log shows who its parent is), reopens
//! its log on SIGHUP (log rotation) and logs SIGTERM before it exits 0.
//!
//! Signals arrive through a `signalfd(2)`: the daemon has one thread, blocks the signals it
//! wants, and reads them from a file descriptor as ordinary data in its `poll` loop. No
//! handler runs, so nothing is restricted to async-signal-safe functions: reopening a file
//! and formatting a line are plain code.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::{dup2_stderr, dup2_stdout, getpid, getppid};

/// Write one line to stdout (the log, in a daemon) and flush it.
pub fn log(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

// ANCHOR: signals
/// Route SIGHUP, SIGINT and SIGTERM to a signalfd. Call this before reporting ready, so a
/// signal sent right after "started" is not lost. With `ignore_term` (for the test of
/// `stop`'s SIGKILL), SIGTERM is set to "ignore" and *not* blocked: Linux keeps a blocked
/// signal pending even when it is ignored, and the signalfd would deliver it.
pub fn route_signals(ignore_term: bool) -> io::Result<SignalFd> {
    // Start from an empty mask, whatever the parent left us (daemon(7), step 2).
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGHUP);
    mask.add(Signal::SIGINT);
    if ignore_term {
        // SAFETY: installs no handler function, only the kernel's "ignore" disposition.
        unsafe { signal(Signal::SIGTERM, SigHandler::SigIgn) }?;
    } else {
        mask.add(Signal::SIGTERM);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)?;
    Ok(SignalFd::with_flags(
        &mask,
        SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
    )?)
}
// ANCHOR_END: signals

/// Open the log for appending, as stdout and stderr: every `log` line and every panic
/// message goes there.
pub fn open_log(path: &std::path::Path) -> io::Result<()> {
    let file: File = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)?;
    dup2_stdout(file.as_fd())?;
    dup2_stderr(file.as_fd())?;
    Ok(())
}

/// How the body runs.
#[derive(Debug, Clone)]
pub struct Body {
    /// Time between two `pid=… ppid=…` lines.
    pub interval: Duration,
    /// The log to reopen on SIGHUP; `None` in the foreground, where stdout is not ours.
    pub log_path: Option<PathBuf>,
}

// ANCHOR: body
impl Body {
    /// Log at the end of each interval and answer signals until SIGTERM or SIGINT; returns
    /// the exit code.
    pub fn run(&self, signals: &SignalFd) -> i32 {
        loop {
            let deadline = Instant::now() + self.interval;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
                let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, timeout) {
                    Ok(0) => break, // the interval is over
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => {
                        log(&format!("poll failed: {e}"));
                        return 1;
                    }
                }
                while let Ok(Some(info)) = signals.read_signal() {
                    match Signal::try_from(info.ssi_signo as i32) {
                        Ok(Signal::SIGHUP) => self.reopen(),
                        Ok(sig) => {
                            log(&format!("{sig}: exiting"));
                            return 0;
                        }
                        Err(_) => {}
                    }
                }
            }
            log(&format!("pid={} ppid={}", getpid(), getppid()));
        }
    }

    fn reopen(&self) {
        let Some(path) = &self.log_path else {
            log("SIGHUP: no log file to reopen (running in the foreground)");
            return;
        };
        log("SIGHUP: reopening log");
        match open_log(path) {
            Ok(()) => log("log reopened"),
            Err(e) => log(&format!(
                "cannot reopen {}: {e}; still writing to the old log",
                path.display()
            )),
        }
    }
}
// ANCHOR_END: body
