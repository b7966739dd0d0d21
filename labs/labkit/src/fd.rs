//! Give a child process a file descriptor at a fixed number, such as fd 3 for an IPC
//! channel (Node passes its channel this way and names the number in `NODE_CHANNEL_FD`).
//!
//! Every fd that Rust's std opens is close-on-exec, so a child inherits only 0, 1 and 2.
//! To hand over anything else, the child must copy the fd to the wanted number between
//! `fork` and `exec`, where `dup2` gives the copy without the close-on-exec flag. That
//! window is reachable only through `CommandExt::pre_exec`, which is `unsafe`. This is the
//! tests' copy; chapter 5 teaches the same technique with lab-05's own `fd_at`, which the
//! chapter shows and lab-05's library uses in real code.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};

/// Arrange for the child that `cmd` spawns to have `fd` open at number `at`, without
/// close-on-exec. `cmd` keeps `fd` open until `cmd` is dropped, so one `Command` can
/// spawn several children. `at` must not be 0, 1 or 2 (use `Stdio` for those).
///
/// For tests. The same thing, explained, is `lab_05::fd_at` (chapter 5).
pub fn place_fd(cmd: &mut Command, fd: OwnedFd, at: RawFd) -> &mut Command {
    assert!(at > 2, "fd {at} is a standard stream: use Stdio for it");
    let source = fd.as_raw_fd();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe functions may be called. It makes two system calls (dup2 or
    // fcntl) and does not allocate or take a lock. `fd` is moved into the closure, so
    // the number `source` stays open for as long as `cmd` can spawn.
    unsafe {
        cmd.pre_exec(move || {
            let _keep_open = &fd;
            if source == at {
                // Already at the right number: dup2 would do nothing, not even clear
                // the close-on-exec flag, so clear it by hand.
                fcntl(&fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
            } else {
                // libc directly: nix 0.31's `dup2` wants an `OwnedFd` target (we have only
                // a number), and its `dup2_raw` does not check for -1.
                Errno::result(libc::dup2(source, at))?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::run;
    use std::io::Write;
    use std::process::Stdio;

    fn cat_fd(n: RawFd) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            // `cat /dev/fd/N`, not `<&N`: dash reads only one digit after `<&`.
            .arg(format!("cat /dev/fd/{n}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[test]
    fn the_child_reads_the_pipe_at_fd_3() {
        let (read_end, mut write_end) = std::io::pipe().unwrap();
        write_end.write_all(b"through fd 3\n").unwrap();
        drop(write_end);
        let mut cmd = cat_fd(3);
        place_fd(&mut cmd, read_end.into(), 3);
        let done = run(&mut cmd).unwrap();
        assert_eq!(
            (done.stdout.as_str(), done.stderr.as_str()),
            ("through fd 3\n", "")
        );
        assert!(done.status.success());
    }

    #[test]
    fn without_it_the_child_has_no_fd_3() {
        let (_read_end, _write_end) = std::io::pipe().unwrap();
        let done = run(&mut cat_fd(3)).unwrap();
        assert!(!done.status.success(), "{done:?}");
    }

    #[test]
    fn an_fd_that_already_has_the_number_loses_close_on_exec() {
        // Copy the pipe's read end to a high number (the lowest free one from 40 up),
        // then ask for it to be placed at that very number.
        let (read_end, mut write_end) = std::io::pipe().unwrap();
        let at = nix::fcntl::fcntl(&read_end, FcntlArg::F_DUPFD_CLOEXEC(40)).unwrap();
        drop(read_end);
        // SAFETY: `at` was just opened by F_DUPFD_CLOEXEC and nothing else owns it.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(at) };
        write_end.write_all(b"same number\n").unwrap();
        drop(write_end);
        let mut cmd = cat_fd(at);
        place_fd(&mut cmd, fd, at);
        let done = run(&mut cmd).unwrap();
        assert_eq!(done.stdout, "same number\n");
    }
}
