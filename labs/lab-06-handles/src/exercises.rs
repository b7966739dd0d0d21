//! Chapter 6 exercises. The envelope's `type` is only a claim made by the sender; the
//! kernel knows what an fd really is. And two fd numbers, in one process or in two, may
//! name the same socket: `fstat` tells.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::socket::{SockType, getsockopt, sockopt};
use nix::sys::stat::fstat;

use crate::envelope::HandleKind;

/// Check that `fd` is what `kind` claims: a TCP/stream socket that is listening for
/// `Server`, one that is not for `Socket`. Anything else (a pipe, a file, a datagram
/// socket) is an `InvalidData` error naming what was found.
pub fn check_kind(fd: BorrowedFd<'_>, kind: HandleKind) -> io::Result<()> {
    // EXERCISE: 6.1 ask the kernel with getsockopt: SO_TYPE (sockopt::SockType) must be a
    // stream, SO_ACCEPTCONN (sockopt::AcceptConn) must match the claimed kind.
    // BEGIN SOLUTION
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let ty = getsockopt(&fd, sockopt::SockType).map_err(|e| match e {
        nix::errno::Errno::ENOTSOCK => bad("not a socket".to_string()),
        e => io::Error::from(e),
    })?;
    if ty != SockType::Stream {
        return Err(bad(format!("a {ty:?} socket, not a stream")));
    }
    let listening = getsockopt(&fd, sockopt::AcceptConn).map_err(io::Error::from)?;
    match (kind, listening) {
        (HandleKind::Server, true) | (HandleKind::Socket, false) => Ok(()),
        (HandleKind::Server, false) => Err(bad("claimed net.Server, but not listening".into())),
        (HandleKind::Socket, true) => Err(bad("claimed net.Socket, but listening".into())),
    }
    // END SOLUTION
}

/// Whether two fds name the same file (socket, pipe, regular file): same device and
/// inode, whatever their numbers. A dup, or an fd received with SCM_RIGHTS, is the same;
/// the two ends of a socketpair are not.
pub fn same_file(a: impl AsFd, b: impl AsFd) -> io::Result<bool> {
    // EXERCISE: 6.2 compare fstat's st_dev and st_ino of both fds.
    // BEGIN SOLUTION
    let (a, b) = (fstat(a.as_fd())?, fstat(b.as_fd())?);
    Ok(a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    // END SOLUTION
}
