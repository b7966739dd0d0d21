//! Lab for chapter 6, handle passing: file descriptors sent over a Unix socket with
//! SCM_RIGHTS, interoperating with Node's NODE_HANDLE protocol.
//!
//! - [`scm`]: `sendmsg`/`recvmsg` with `SCM_RIGHTS`, the kernel's part.
//! - [`envelope`]: Node's `{"cmd":"NODE_HANDLE",…}` envelope, its ack and nack, parsed
//!   without a socket ([`envelope::interpret`]).
//! - [`HandleChannel`]: lab-05's JSON lines plus fds, in both roles: it acks what it
//!   receives, and holds back every message behind a handle until that handle is acked.
//! - [`HandleError`]: every way a handle can fail to arrive, typed.
//! - [`exercises`]: the chapter's exercises.

pub mod channel;
pub mod envelope;
pub mod error;
pub mod exercises;
pub mod scm;

pub use channel::{HandleChannel, Incoming, MAX_RETRANSMISSIONS, Sent};
pub use envelope::{HandleKind, Parsed, ReceivedHandle, interpret};
pub use error::HandleError;

use std::os::fd::{AsRawFd, BorrowedFd};

/// What `/proc/self/fd/N` links to for `fd`: `socket:[INODE]` for a socket.
pub fn fd_target(fd: BorrowedFd<'_>) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("? ({e})"))
}

/// Whether `O_NONBLOCK` is set on `fd`'s open file description.
pub fn is_nonblocking(fd: BorrowedFd<'_>) -> std::io::Result<bool> {
    let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)?;
    Ok(flags & libc::O_NONBLOCK != 0)
}
