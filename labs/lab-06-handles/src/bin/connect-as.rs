//! Chapter 6 test helper: connect to a Unix socket, optionally after dropping to another
//! user, then print what the server answered. The uid must change *before* `connect`:
//! `SO_PEERCRED` records the credentials of that moment.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nix::unistd::{Uid, User, setgid, setgroups, setuid};

/// Connect to PATH (as USER if given: needs root) and print what comes back.
#[derive(Parser)]
struct Args {
    /// Drop to this user first (setgroups, setgid, setuid).
    #[arg(long)]
    user: Option<String>,
    /// Instead of connecting: use this inherited fd, one end of a socketpair made by the
    /// parent before we dropped privileges.
    #[arg(long, conflicts_with = "path")]
    fd: Option<i32>,
    /// The Unix socket to connect to.
    #[arg(required_unless_present = "fd")]
    path: Option<PathBuf>,
}

// ANCHOR: drop_then_connect
fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(name) = &args.user {
        let user = User::from_name(name)?.ok_or(format!("no user {name:?}"))?;
        setgroups(&[])?; // supplementary groups first, while we may still change them
        setgid(user.gid)?;
        setuid(user.uid)?; // last: after this we could not change the others
    }
    let mut stream = match (args.fd, &args.path) {
        (Some(fd), _) => inherited(fd)?,
        (None, Some(path)) => UnixStream::connect(path)?,
        (None, None) => unreachable!("clap requires one"),
    };
    println!("connected as uid {}", Uid::current());
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?; // until the server closes
    println!("server said {answer:?}");
    Ok(())
}
// ANCHOR_END: drop_then_connect

/// An fd our parent left open for us, checked to be a socket.
fn inherited(fd: i32) -> Result<UnixStream, Box<dyn std::error::Error>> {
    // SAFETY: only the fd is taken over; it is checked below and owned by nobody else
    // in this process (the parent placed it for us).
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    nix::sys::socket::getsockopt(&owned, nix::sys::socket::sockopt::SockType)
        .map_err(|e| format!("fd {fd} is not a socket: {e}"))?;
    Ok(UnixStream::from(owned))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("connect-as: {e}");
            ExitCode::FAILURE
        }
    }
}
