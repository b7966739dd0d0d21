//! Chapter 7: the three ways a connection can reach a worker, and the sockets each needs.
//!
//! - `rr`: only the master listens; it accepts and sends each connection to a worker.
//! - `shared`: the master's listening socket is inherited by every worker (at fd 4), and
//!   every worker accepts on it: one socket, one accept queue, many acceptors.
//! - `reuseport`: every worker opens its own listening socket on the same port with
//!   `SO_REUSEPORT`: one accept queue per worker, and the kernel picks the queue.

use std::io;
use std::net::{SocketAddrV4, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, bind, listen, setsockopt, socket,
    sockopt,
};

/// The fd number at which a `shared` worker finds the inherited listener (3 is the channel).
pub const LISTENER_FD: i32 = 4;
/// The environment variable naming the scheduler, for a worker.
pub const SCHED_VAR: &str = "LAB07_SCHED";
/// The environment variable with the address a `reuseport` worker binds.
pub const ADDR_VAR: &str = "LAB07_ADDR";

/// A scheduler: who accepts connections, and how they reach a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sched {
    /// The master accepts and hands each connection to a free worker (Node's default).
    Rr,
    /// Every worker accepts on the one listener it inherited.
    Shared,
    /// Every worker accepts on its own SO_REUSEPORT listener.
    Reuseport,
}

impl Sched {
    pub fn name(self) -> &'static str {
        match self {
            Sched::Rr => "rr",
            Sched::Shared => "shared",
            Sched::Reuseport => "reuseport",
        }
    }

    pub fn from_name(name: &str) -> Option<Sched> {
        [Sched::Rr, Sched::Shared, Sched::Reuseport]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

// ANCHOR: reuseport
/// A TCP socket with `SO_REUSEPORT` set, bound to `addr`; listening when `listen_too`.
/// The option must be set before `bind`, on every socket that shares the port, by
/// processes with the same effective uid. A bound socket that does not listen only holds
/// the port: the kernel gives connections to the listening members of the group.
pub fn reuseport_socket(addr: SocketAddrV4, listen_too: bool) -> io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    bind(fd.as_raw_fd(), &SockaddrIn::from(addr))?;
    if listen_too {
        listen(&fd, Backlog::new(1024)?)?;
    }
    Ok(fd)
}
// ANCHOR_END: reuseport

/// A `reuseport` worker's own listener on `addr`.
pub fn reuseport_listener(addr: SocketAddrV4) -> io::Result<TcpListener> {
    Ok(TcpListener::from(reuseport_socket(addr, true)?))
}
