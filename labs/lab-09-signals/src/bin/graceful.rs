//! Chapter 9 demo: a program that cleans up on SIGTERM (and SIGINT) and exits with 0.
//! SIGKILL cannot be caught: after `kill -KILL` nothing of this program runs again, so the
//! state file stays behind.
//!
//! `./target/debug/graceful --state-file /tmp/graceful.state &` then `kill -TERM PID`;
//! `--via self-pipe` reacts through a signal handler instead of a signalfd. `--spawn sleep
//! 600` also starts a program, which inherits the blocked mask of the signalfd way unless
//! `--unblock-in-child` empties it before the exec.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use lab_09::{cli, handler};
use nix::sys::signal::Signal;

#[derive(Clone, Copy, ValueEnum)]
enum Via {
    /// Block SIGTERM and SIGINT and read them from a signalfd (no handler at all).
    Signalfd,
    /// A handler that writes one byte into a pipe; the main loop reads the pipe.
    SelfPipe,
}

/// Wait for SIGTERM or SIGINT, clean up, exit 0.
#[derive(Parser)]
struct Args {
    /// How the signal reaches the program.
    #[arg(long, value_enum, default_value_t = Via::Signalfd)]
    via: Via,
    /// A file to create at start and remove when cleaning up.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Unblock all signals in the child of `--spawn` before its exec.
    #[arg(long, requires = "spawn")]
    unblock_in_child: bool,
    /// Start this program (and its arguments, the rest of the line) once set up.
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "PROGRAM")]
    spawn: Vec<String>,
}

/// `--spawn`: start a program that is not waited for (it may outlive us), and say so.
fn start(program: &str, rest: &[String], unblock: bool) {
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest).stdin(std::process::Stdio::null());
    if unblock {
        handler::unblock_in_child(&mut cmd);
    }
    #[allow(clippy::zombie_processes, reason = "a demo of what the child inherits")]
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| cli::fail("graceful", format!("cannot start {program}: {e}")));
    println!("spawned {program} pid={}", child.id());
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("graceful");
    let fail = |e: std::io::Error| -> ! { cli::fail("graceful", e) };
    let signals = [Signal::SIGTERM, Signal::SIGINT];
    // Set up the signal path first: a SIGTERM that arrives before it would kill us.
    let mut pipe = None;
    let mut fd = None;
    match args.via {
        Via::Signalfd => fd = Some(handler::open_signalfd(&signals).unwrap_or_else(|e| fail(e))),
        Via::SelfPipe => {
            pipe = Some(handler::install_self_pipe(&signals).unwrap_or_else(|e| fail(e)))
        }
    }
    if let Some(path) = &args.state_file {
        std::fs::write(path, format!("{}\n", std::process::id())).unwrap_or_else(|e| {
            cli::fail("graceful", format!("cannot write {}: {e}", path.display()))
        });
    }
    if let Some((program, rest)) = args.spawn.split_first() {
        start(program, rest, args.unblock_in_child);
    }
    let via = if fd.is_some() {
        "signalfd"
    } else {
        "self-pipe"
    };
    println!("ready pid={} via={via}", std::process::id());
    std::io::stdout().flush().unwrap_or_else(|e| fail(e));

    let got = match (&fd, &mut pipe) {
        (Some(fd), _) => handler::wait_signalfd(fd).map(|(s, from)| format!("{s} from pid={from}")),
        (None, Some(pipe)) => handler::wait_self_pipe(pipe).map(|s| s.to_string()),
        (None, None) => unreachable!("one of the two is set above"),
    };
    // From here on we are in ordinary code: allocating, printing, removing files are fine.
    println!("got {}", got.unwrap_or_else(|e| fail(e)));
    match &args.state_file {
        Some(path) => {
            std::fs::remove_file(path).unwrap_or_else(|e| {
                cli::fail("graceful", format!("cannot remove {}: {e}", path.display()))
            });
            println!("cleanup: removed {}", path.display());
        }
        None => println!("cleanup: nothing to remove"),
    }
    println!("exiting with code 0");
}
// ANCHOR_END: main
