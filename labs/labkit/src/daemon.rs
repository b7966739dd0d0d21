//! A guard for processes that left our process group: daemons.
//!
//! [`ChildGuard`](crate::ChildGuard) kills a demo's process group. A daemon escapes that on
//! purpose: it forks, calls `setsid` (a new session and group) and its first process exits,
//! so the daemon is an orphan in a group of its own. Without help it is re-parented to init
//! (or the nearest *subreaper*), and a failing test would leave it running.
//!
//! [`DaemonGuard`] does two things:
//! - it makes the test process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so an
//!   orphaned descendant is re-parented to *us*, and we can reap it;
//! - it tracks daemons by pid (from a readiness line or a pid file) with their start time,
//!   and on drop kills each one that is still the same process, with its group if it
//!   leads one, and reaps what was re-parented to us.
//!
//! The subreaper flag belongs to the whole test process and stays set: orphans of other
//! tests come to us too, and those that are not reaped by a guard are cleaned up by the
//! kernel when the test process exits (they then go to init). Never reaped with
//! `waitpid(-1)`: only pids this guard tracked, or zombies in a tracked group.

use std::io;
use std::path::Path;
use std::sync::Mutex;

use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use crate::{DEFAULT_TIMEOUT, group, proc, wait::eventually};

#[derive(Debug, Clone, Copy)]
struct Tracked {
    pid: u32,
    /// Start time in clock ticks since boot: with the pid, it names one process even if
    /// the pid is reused later.
    starttime: u64,
}

/// Kills and reaps the daemons it tracks when dropped (also when a test panics).
#[derive(Debug)]
pub struct DaemonGuard {
    tracked: Mutex<Vec<Tracked>>,
}

impl DaemonGuard {
    /// Make this process a child subreaper and start with nothing tracked.
    pub fn new() -> io::Result<DaemonGuard> {
        prctl::set_child_subreaper(true)?;
        Ok(DaemonGuard {
            tracked: Mutex::new(Vec::new()),
        })
    }

    /// Track the process `pid` (it must exist now).
    pub fn track(&self, pid: u32) -> io::Result<()> {
        let starttime = proc::stat(pid)?.starttime;
        self.tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Tracked { pid, starttime });
        Ok(())
    }

    /// Read a pid from a pid file (one decimal number and a newline), track it, return it.
    pub fn track_pid_file(&self, path: &Path) -> io::Result<u32> {
        let text = std::fs::read_to_string(path)?;
        let pid = text.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a pid: {text:?}", path.display()),
            )
        })?;
        self.track(pid)?;
        Ok(pid)
    }

    /// The tracked pids that are still alive (not zombies), in the order tracked.
    pub fn alive(&self) -> Vec<u32> {
        self.tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|t| is_same_process(t) && proc::is_alive(t.pid))
            .map(|t| t.pid)
            .collect()
    }
}

fn is_same_process(t: &Tracked) -> bool {
    proc::stat(t.pid).is_ok_and(|s| s.starttime == t.starttime)
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let me = std::process::id();
        let tracked = std::mem::take(&mut *self.tracked.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tracked {
            let Ok(stat) = proc::stat(t.pid) else {
                continue;
            };
            if stat.starttime != t.starttime {
                continue; // gone, and its pid already belongs to somebody else
            }
            let _ = kill(Pid::from_raw(t.pid as i32), Signal::SIGKILL);
            if stat.pgrp == t.pid {
                // It leads a group (a daemon after setsid): its children go too.
                let _ = group::signal_group(t.pid, Signal::SIGKILL);
            }
            // Reap what the subreaper flag made ours: the daemon and any zombies of its
            // group. The kill is asynchronous, so wait for each to become a zombie.
            let ours = |pid: u32| proc::stat(pid).is_ok_and(|s| s.ppid == me);
            let mut reap = vec![t.pid];
            if stat.pgrp == t.pid {
                reap.extend(
                    proc::children(me)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|&c| proc::stat(c).is_ok_and(|s| s.pgrp == t.pid)),
                );
            }
            for pid in reap {
                if ours(pid) {
                    let _ = eventually(DEFAULT_TIMEOUT, || match proc::state(pid) {
                        Ok('Z') | Err(_) => Ok(()),
                        Ok(state) => Err(format!("{pid} is still in state {state}")),
                    });
                    let _ = waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG));
                }
            }
        }
    }
}
