//! Chapter 6 exercises. The envelope's `type` is only a claim made by the sender; the
//! kernel knows what an fd really is. And two fd numbers may share one open file
//! description, or only name the same file.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::socket::{SockType, getsockopt, sockopt};

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

/// Whether two fds share one *open file description*: true for a `dup` and for a copy
/// received with SCM_RIGHTS, false for two `open`s of the same path (one file, two
/// descriptions) and for the two ends of a socketpair. Both fds must be left exactly as
/// they were.
pub fn same_description(a: impl AsFd, b: impl AsFd) -> io::Result<bool> {
    // EXERCISE: 6.2 the inode cannot tell (two opens of one file share it). Find a change
    // made through `a` that only a descriptor sharing its open file description sees.
    // BEGIN SOLUTION
    let flags = |fd: BorrowedFd<'_>| -> io::Result<OFlag> {
        Ok(OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?))
    };
    let (a, b) = (a.as_fd(), b.as_fd());
    let (before_a, before_b) = (flags(a)?, flags(b)?);
    if before_a.contains(OFlag::O_NONBLOCK) != before_b.contains(OFlag::O_NONBLOCK) {
        return Ok(false); // a shared description has one set of status flags
    }
    fcntl(a, FcntlArg::F_SETFL(before_a ^ OFlag::O_NONBLOCK))?; // flip it through `a`
    let seen = flags(b)?.contains(OFlag::O_NONBLOCK) != before_b.contains(OFlag::O_NONBLOCK);
    fcntl(a, FcntlArg::F_SETFL(before_a))?; // put it back
    Ok(seen)
    // END SOLUTION
}
