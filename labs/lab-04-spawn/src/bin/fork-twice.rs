//! Chapter 4 demo: `fork` returns twice. The child changes its copy of a variable and
//! leaves with `_exit(7)`; the parent waits for it with `waitpid` and finds its own copy
//! unchanged. With `--buffered`, the parent leaves text in stdout's buffer at fork time,
//! and `--child-exit exit` shows why a forked child must not call `exit`: the child's
//! copy of the buffer is flushed too, and the text appears twice.
//!
//! `./target/debug/fork-twice`; `./target/debug/fork-twice --buffered --child-exit exit`
//!
//! This process has one thread, so the child may do anything before it exits.

use std::io::Write;

use clap::{Parser, ValueEnum};
use lab_04::cli;
use lab_04::forking::underscore_exit;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid, getppid};

#[derive(Clone, Copy, ValueEnum)]
enum ChildExit {
    /// `_exit(7)`: ends at once, nothing flushed, no handler run.
    UnderscoreExit,
    /// `std::process::exit(7)`: flushes stdout's buffer, runs the atexit handlers.
    Exit,
}

/// Fork once and show both returns.
#[derive(Parser)]
struct Args {
    /// How the child ends.
    #[arg(long, value_enum, default_value_t = ChildExit::UnderscoreExit)]
    child_exit: ChildExit,
    /// Leave unflushed text in stdout's buffer when forking (the child prints nothing).
    #[arg(long)]
    buffered: bool,
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("fork-twice");
    let mut counter = 1;
    if args.buffered {
        print!("[in stdout's buffer at fork time] "); // no newline: not written yet
    } else {
        println!(
            "parent: pid={}, counter={counter}, calling fork()",
            getpid()
        );
        std::io::stdout().flush().expect("flush"); // nothing buffered may be copied
    }
    // SAFETY: this process is single-threaded, so the child's copy of memory holds no
    // lock that another thread owned.
    match unsafe { fork() } {
        Err(e) => cli::fail("fork-twice", format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            counter += 41;
            if !args.buffered {
                println!(
                    "child:  fork returned 0; pid={} ppid={}, counter={counter}",
                    getpid(),
                    getppid()
                );
                std::io::stdout().flush().expect("flush");
            }
            match args.child_exit {
                ChildExit::UnderscoreExit => underscore_exit(7),
                ChildExit::Exit => std::process::exit(7),
            }
        }
        Ok(ForkResult::Parent { child }) => {
            let status = waitpid(child, None).unwrap_or_else(|e| cli::fail("fork-twice", e));
            let how = match status {
                WaitStatus::Exited(_, code) => format!("exited with code {code}"),
                WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
                other => format!("{other:?}"),
            };
            println!("parent: fork returned {child}; waitpid: the child {how}");
            println!("parent: counter={counter}: the child changed its own copy");
        }
    }
}
// ANCHOR_END: main
