//! Signalling a whole process group, safely.
//!
//! `killpg(pgid, sig)` (or `kill(-pgid, sig)`) reaches every process in the group: a demo
//! and every child it started. Two mistakes would be disastrous in a test: signalling the
//! test's own group (which includes `cargo test` and the shell) and passing 0 or 1 (0 is
//! "my own group", and `kill(-1)` is "everything I may signal"). This helper refuses both.

use std::io;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp};

/// Send `signal` to every process in group `pgid`. Refuses groups 0 and 1 and the
/// caller's own group. A group with nobody left in it is `ErrorKind::NotFound` (ESRCH).
pub fn signal_group(pgid: u32, signal: Signal) -> io::Result<()> {
    let refuse = |why: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, why.to_string()));
    if pgid <= 1 || pgid > i32::MAX as u32 {
        return refuse("process group 0 or 1 means 'my own group' or 'everyone': refused");
    }
    if getpgrp().as_raw() as u32 == pgid {
        return refuse("that is the caller's own process group: refused");
    }
    killpg(Pid::from_raw(pgid as i32), signal).map_err(|e| match e {
        nix::errno::Errno::ESRCH => io::Error::new(
            io::ErrorKind::NotFound,
            format!("no process left in group {pgid}"),
        ),
        e => io::Error::from(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_dangerous_groups() {
        for pgid in [0, 1, getpgrp().as_raw() as u32] {
            let err = signal_group(pgid, Signal::SIGTERM).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "pgid {pgid}");
        }
    }

    #[test]
    fn an_empty_group_is_not_found() {
        // pid_max is at most 2^22, so no group has this id.
        let err = signal_group(1 << 23, Signal::SIGTERM).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
