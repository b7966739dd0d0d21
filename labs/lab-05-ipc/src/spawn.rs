//! Chapter 5: start a child with a channel, the way Node's `fork()` does.
//!
//! The parent makes a socketpair, keeps one end, and gives the child the other end as
//! fd 3, with `NODE_CHANNEL_FD=3` and `NODE_CHANNEL_SERIALIZATION_MODE=json` in its
//! environment. The child (Rust with [`crate::Channel::from_env`], or real Node) finds the
//! channel there.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};

use crate::channel::{CHANNEL_FD_VAR, Channel, SERIALIZATION_VAR, socket_pair};

// ANCHOR: fd_at
/// Make the child that `cmd` starts find `fd` open at number `at` (3 for a channel).
///
/// Every fd Rust opens is close-on-exec, so `exec` would close it. The copy must be made
/// in the child, after `fork` and before `exec`: `dup2` there gives a copy *without* the
/// flag at the wanted number. `cmd` holds `fd` until `cmd` is dropped.
pub fn fd_at(cmd: &mut Command, fd: OwnedFd, at: RawFd) -> &mut Command {
    assert!(at > 2, "fd {at} is a standard stream: use Stdio for it");
    let source = fd.as_raw_fd();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one system call (dup2 or fcntl) and
    // neither allocates nor locks.
    unsafe {
        cmd.pre_exec(move || {
            if source == at {
                // dup2(3, 3) does nothing, not even clear close-on-exec: clear it here.
                fcntl(&fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
            } else {
                Errno::result(libc::dup2(source, at))?;
            }
            Ok(())
        })
    }
}
// ANCHOR_END: fd_at

// ANCHOR: spawn_with_channel
/// Start `cmd` with a channel at fd 3, as Node's `fork()` does; return the child and our
/// end of the channel. `cmd` is consumed: it holds the child's end of the socketpair,
/// which must close in this process, or we would never see the child's end of file.
pub fn spawn_with_channel(mut cmd: Command) -> io::Result<(Child, Channel)> {
    let (ours, theirs) = socket_pair()?;
    fd_at(&mut cmd, theirs, 3)
        .env(CHANNEL_FD_VAR, "3")
        .env(SERIALIZATION_VAR, "json");
    let child = cmd.spawn()?;
    drop(cmd); // closes our copy of the child's end
    Ok((child, Channel::from_fd(ours)))
}
// ANCHOR_END: spawn_with_channel

// ANCHOR: without_channel
/// Keep this process's channel variables out of the environment of a program `cmd`
/// starts. Node deletes `NODE_CHANNEL_FD` from `process.env` when it opens its channel;
/// Rust cannot do that safely (`std::env::remove_var` is `unsafe` in edition 2024: another
/// thread may be reading the environment), so a child that uses [`crate::Channel::from_env`]
/// and starts programs of its own removes the variables from each `Command` instead.
/// Otherwise a Node grandchild finds `NODE_CHANNEL_FD=3` naming an fd that is closed (or
/// something else) and aborts.
pub fn without_channel(cmd: &mut Command) -> &mut Command {
    cmd.env_remove(CHANNEL_FD_VAR).env_remove(SERIALIZATION_VAR)
}
// ANCHOR_END: without_channel
