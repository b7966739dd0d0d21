//! Chapter 9: pidfds, file descriptors that name one process for as long as they are open.
//!
//! A pid is only a number, and the kernel hands it out again once the process it named has
//! been reaped. `kill(pid, …)` with a pid you remembered can therefore reach a stranger. A
//! pidfd (Linux 5.3) refers to the process itself: once that process has been reaped,
//! `pidfd_send_signal` fails with ESRCH, whoever owns the number now (a zombie still counts
//! as the process, and can still be sent a signal, which does nothing). It also becomes
//! readable when the process exits, so `poll` can wait for any process, not only a child.
//!
//! nix 0.31 has no wrappers for these calls, so they go through `libc::syscall`.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

// ANCHOR: pidfd
/// Open a pidfd for the process `pid` (close-on-exec, as every pidfd is).
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(pid, flags) takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Send `signal` (or, with `None`, only check that the process still exists) to the
/// process the pidfd refers to. Succeeds while it is a zombie; ESRCH once it has been
/// reaped (pidfd_send_signal(2)), even if its pid was reused since.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: Option<Signal>) -> io::Result<()> {
    let number = signal.map_or(0, |s| s as libc::c_int);
    // SAFETY: a valid fd, a signal number, no siginfo (NULL), no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            number,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
// ANCHOR_END: pidfd

/// Wait up to `timeout` for the process to exit (the pidfd becomes readable). True if it
/// did. Works for any process we may open a pidfd for, not only our children.
pub fn wait_exit(pidfd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let mut fds = [PollFd::new(pidfd, PollFlags::POLLIN)];
    let ready = poll(
        &mut fds,
        PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
    )?;
    Ok(ready > 0)
}

/// How [`stop_with_grace`] ended a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It exited within the grace period after SIGTERM.
    ByTerm,
    /// It was still running when the grace period ended, and SIGKILL ended it.
    ByKill,
}

/// Stop the process `pid` the way a supervisor does: SIGTERM, up to `grace` to exit, then
/// SIGKILL. Through a pidfd opened first, so a pid that is reused meanwhile is never hit.
/// It does not reap: if `pid` is our child, the caller still waits for it.
pub fn stop_with_grace(pid: u32, grace: Duration) -> io::Result<Stopped> {
    // EXERCISE: stop `pid` as described above, without ever naming it by its number after
    // the first moment (the test forbids kill(2) in the thread that calls you).
    // BEGIN SOLUTION
    let pidfd = pidfd_open(pid)?;
    pidfd_send_signal(pidfd.as_fd(), Some(Signal::SIGTERM))?;
    if wait_exit(pidfd.as_fd(), grace)? {
        return Ok(Stopped::ByTerm);
    }
    pidfd_send_signal(pidfd.as_fd(), Some(Signal::SIGKILL))?;
    if !wait_exit(pidfd.as_fd(), labkit::DEFAULT_TIMEOUT)? {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{pid} still running after SIGKILL"),
        ));
    }
    Ok(Stopped::ByKill)
    // END SOLUTION
}
