//! Chapter 6 test helper: connect to a Unix socket, optionally after dropping to another
//! user, then print what the server answered. The uid must change *before* `connect`:
//! `SO_PEERCRED` records the credentials of that moment.

use std::io::Read;
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
    /// The Unix socket to connect to.
    path: PathBuf,
}

// ANCHOR: drop_then_connect
fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(name) = &args.user {
        let user = User::from_name(name)?.ok_or(format!("no user {name:?}"))?;
        setgroups(&[])?; // supplementary groups first, while we may still change them
        setgid(user.gid)?;
        setuid(user.uid)?; // last: after this we could not change the others
    }
    let mut stream = UnixStream::connect(&args.path)?;
    println!("connected as uid {}", Uid::current());
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?; // until the server closes
    println!("server said {answer:?}");
    Ok(())
}
// ANCHOR_END: drop_then_connect

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("connect-as: {e}");
            ExitCode::FAILURE
        }
    }
}
