//! Chapter 9 demo: a small tree of processes in one process group, and one that leaves it.
//!
//! The leader forks two children; the second forks a grandchild. All three inherit the
//! leader's group. With `--escape`, one more child moves into a group of its own
//! (`setpgid(0, 0)`), as a daemon or a shell's background job would. Then everybody
//! waits for a signal. `kill -- -PGID` (killpg) reaches the group, not the escapee.
//!
//! `./target/debug/group --escape &` then `ps -o pid,ppid,pgid,sid,stat,comm -g PGID`
//! and `kill -TERM -- -PGID` (and `kill PID` for the escapee).

use std::io::{Read, Write};

use clap::Parser;
use lab_09::cli;
use nix::unistd::{ForkResult, Pid, fork, getpgrp, getpid, getppid, getsid, pause, setpgid};

/// Start a process group and wait to be signalled.
#[derive(Parser)]
struct Args {
    /// Also start a child that moves to a process group of its own.
    #[arg(long)]
    escape: bool,
}

fn flush() {
    std::io::stdout()
        .flush()
        .unwrap_or_else(|e| cli::fail("group", e));
}

fn describe(role: &str) {
    let sid = getsid(None)
        .map(|s| s.to_string())
        .unwrap_or_else(|e| e.to_string());
    println!(
        "{role:<10} pid={} ppid={} pgid={} sid={sid}",
        getpid(),
        getppid(),
        getpgrp()
    );
    flush();
}

/// Fork a process that runs `body`, prints, then waits for signals for ever. Returns
/// once the new process has printed its line (it writes a byte into a pipe after).
fn start(body: impl FnOnce()) {
    let (mut ready_r, mut ready_w) = std::io::pipe().unwrap_or_else(|e| cli::fail("group", e));
    flush();
    // SAFETY: single-threaded.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(ready_r);
            body();
            let _ = ready_w.write_all(b"1");
            drop(ready_w);
            loop {
                pause(); // until a signal's default action ends us
            }
        }
        Ok(ForkResult::Parent { .. }) => {
            drop(ready_w);
            let mut byte = [0u8; 1];
            if ready_r.read_exact(&mut byte).is_err() {
                cli::fail("group", "a member died before it was ready");
            }
        }
        Err(e) => cli::fail("group", format!("fork: {e}")),
    }
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("group");
    describe("leader");
    start(|| describe("child 1"));
    start(|| {
        describe("child 2");
        start(|| describe("grandchild"));
    });
    if args.escape {
        start(|| {
            setpgid(Pid::from_raw(0), Pid::from_raw(0)).unwrap_or_else(|e| cli::fail("group", e));
            describe("escapee");
        });
    }
    println!("ready pgid={}", getpgrp());
    flush();
    loop {
        pause();
    }
}
// ANCHOR_END: main
