//! Chapter 9 demo: an orphan is re-parented to the nearest subreaper (or to init).
//!
//! The process forks a child and waits until that child has a pidfd for it; then it exits.
//! The child, now an orphan, waits on the pidfd until its parent is gone (the kernel
//! re-parents children before it makes the pidfd readable) and reports its new parent.
//! With `--subreaper`, a first process marks itself a child subreaper
//! (`prctl(PR_SET_CHILD_SUBREAPER)`) and runs all that as its child: the orphan comes to
//! it, and it reaps both.
//!
//! `./target/debug/orphan --subreaper`; plain `./target/debug/orphan` from a shell shows
//! your init or your desktop session's subreaper as the new parent.

use std::io::{Read, Write};
use std::os::fd::AsFd;

use clap::Parser;
use lab_09::pidfd::{pidfd_open, wait_exit};
use lab_09::{cli, underscore_exit};
use nix::sys::prctl;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};

/// Leave an orphan behind and see who adopts it.
#[derive(Parser)]
struct Args {
    /// Become a child subreaper first and run the rest as a child, then reap everything.
    #[arg(long)]
    subreaper: bool,
}

fn flush() {
    std::io::stdout()
        .flush()
        .unwrap_or_else(|e| cli::fail("orphan", e));
}

fn fork_or_fail() -> ForkResult {
    flush(); // nothing buffered may be copied into the child
    // SAFETY: these processes are single-threaded.
    unsafe { fork() }.unwrap_or_else(|e| cli::fail("orphan", format!("fork: {e}")))
}

// ANCHOR: parent_and_orphan
/// Fork an orphan-to-be, wait until it watches us, exit. Never returns.
fn parent_and_orphan() -> ! {
    let (mut ready_r, mut ready_w) = std::io::pipe().unwrap_or_else(|e| cli::fail("orphan", e));
    let parent = getpid();
    match fork_or_fail() {
        ForkResult::Child => {
            drop(ready_r);
            // The parent waits for this byte, so it is still alive here.
            let pidfd =
                pidfd_open(parent.as_raw() as u32).unwrap_or_else(|e| cli::fail("orphan", e));
            ready_w
                .write_all(b"1")
                .unwrap_or_else(|e| cli::fail("orphan", e));
            drop(ready_w);
            let gone = wait_exit(pidfd.as_fd(), labkit::DEFAULT_TIMEOUT);
            if !matches!(gone, Ok(true)) {
                cli::fail("orphan", "parent did not exit");
            }
            println!(
                "orphan pid={}: parent {parent} is gone, ppid now={}",
                getpid(),
                getppid()
            );
            flush();
            underscore_exit(0)
        }
        ForkResult::Parent { child } => {
            drop(ready_w);
            let mut byte = [0u8; 1];
            ready_r
                .read_exact(&mut byte)
                .unwrap_or_else(|e| cli::fail("orphan", e));
            println!(
                "parent pid={parent} ppid={} exits, child {child} stays",
                getppid()
            );
            flush();
            underscore_exit(0)
        }
    }
}
// ANCHOR_END: parent_and_orphan

// ANCHOR: subreaper
fn main() {
    let args: Args = cli::parse("orphan");
    if !args.subreaper {
        parent_and_orphan();
    }
    prctl::set_child_subreaper(true).unwrap_or_else(|e| cli::fail("orphan", e));
    println!("subreaper pid={}", getpid());
    match fork_or_fail() {
        ForkResult::Child => parent_and_orphan(),
        ForkResult::Parent { child } => {
            // Our child, then its orphan once re-parented to us: reap both (-1: any child).
            // Printed at the end, so that the lines come in one order every time.
            let mut reaped = Vec::new();
            while reaped.len() < 2 {
                match waitpid(None::<Pid>, None) {
                    Ok(WaitStatus::Exited(pid, code)) => {
                        let who = if pid == child {
                            "the parent"
                        } else {
                            "the orphan"
                        };
                        reaped.push(format!("subreaper: reaped {who}, pid={pid}, code {code}"));
                    }
                    Ok(other) => reaped.push(format!("subreaper: {other:?}")),
                    Err(e) => cli::fail("orphan", format!("waitpid: {e}")),
                }
            }
            println!("{}", reaped.join("\n"));
        }
    }
}
// ANCHOR_END: subreaper
