//! Chapter 9 demo: block, ignore and catch signals, show the masks as `/proc/self/status`
//! reports them, then (with `--exec`) replace the program by itself with `execv`, to show
//! what survives an exec: the blocked mask and the ignored signals stay, caught signals
//! go back to their default action (the handler's code is gone with the old program).
//!
//! `./target/debug/masks --block USR1 --ignore HUP --catch USR2 --exec < /dev/null`
//!
//! It waits for a line (or end of file) on stdin after `ready`, so that a test can look at
//! `/proc/PID/status` from outside first. `--report` only prints the masks it starts with;
//! `--spawn-report` prints them, then starts `masks --report` with std's `Command`.
//!
//! SIGKILL and SIGSTOP cannot be blocked, ignored or caught: the demo refuses them (the
//! kernel would drop them from a blocked mask without a word, and refuse the others with
//! EINVAL).

use std::ffi::CString;
use std::io::{BufRead, Write};

use clap::Parser;
use lab_09::cli;
use lab_09::masks::{self, Masks};
use nix::sys::signal::Signal;

/// Install signal dispositions, print the masks, optionally exec again.
#[derive(Parser)]
struct Args {
    /// Block this signal (repeatable): it stays pending until unblocked.
    #[arg(long, value_parser = blockable)]
    block: Vec<Signal>,
    /// Ignore this signal (repeatable).
    #[arg(long, value_parser = catchable)]
    ignore: Vec<Signal>,
    /// Catch this signal with a handler that does nothing (repeatable).
    #[arg(long, value_parser = catchable)]
    catch: Vec<Signal>,
    /// After stdin's line, execv this program again with `--report`.
    #[arg(long)]
    exec: bool,
    /// Print the masks this process started with and exit.
    #[arg(long, conflicts_with_all = ["block", "ignore", "catch", "exec"])]
    report: bool,
    /// Print the masks this process started with, then run `masks --report` as a child
    /// started with std's `Command` (so through glibc's posix_spawn).
    #[arg(long, conflicts_with_all = ["block", "ignore", "catch", "exec", "report"])]
    spawn_report: bool,
}

/// SIGKILL and SIGSTOP are never blocked: sigprocmask(2) drops them from the set silently.
fn blockable(text: &str) -> Result<Signal, String> {
    let signal = cli::signal(text)?;
    match signal {
        Signal::SIGKILL | Signal::SIGSTOP => Err(format!(
            "{signal} cannot be blocked (the kernel leaves SIGKILL and SIGSTOP out of every mask)"
        )),
        _ => Ok(signal),
    }
}

/// SIGKILL and SIGSTOP cannot be ignored or caught: sigaction(2) fails with EINVAL.
fn catchable(text: &str) -> Result<Signal, String> {
    let signal = cli::signal(text)?;
    match signal {
        Signal::SIGKILL | Signal::SIGSTOP => Err(format!(
            "{signal} cannot be ignored or caught (sigaction refuses SIGKILL and SIGSTOP with EINVAL)"
        )),
        _ => Ok(signal),
    }
}

fn show(title: &str) {
    let pid = std::process::id();
    let masks = Masks::of(pid).unwrap_or_else(|e| cli::fail("masks", e));
    println!("{title} (pid={pid}):");
    for line in masks.lines() {
        println!("  {line}");
    }
    // Signals pending for the process, shown only when there are any.
    let status = labkit::proc::status(pid).unwrap_or_else(|e| cli::fail("masks", e));
    let pending = status
        .signal_mask("ShdPnd")
        .map(labkit::proc::signal_names)
        .unwrap_or_else(|e| cli::fail("masks", e));
    if !pending.is_empty() {
        println!("  ShdPnd: {}", pending.join(" "));
    }
}

fn names(signals: &[Signal]) -> String {
    let v: Vec<&str> = signals.iter().map(|s| s.as_str()).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(" ")
    }
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("masks");
    if args.report {
        show("masks at start");
        return;
    }
    if args.spawn_report {
        show("parent");
        std::io::stdout()
            .flush()
            .unwrap_or_else(|e| cli::fail("masks", e));
        let status = std::process::Command::new("/proc/self/exe")
            .arg("--report")
            .status()
            .unwrap_or_else(|e| cli::fail("masks", e));
        if !status.success() {
            cli::fail("masks", format!("masks --report: {status}"));
        }
        return;
    }
    masks::install(&args.block, &args.ignore, &args.catch)
        .unwrap_or_else(|e| cli::fail("masks", e));
    println!(
        "installed: block={} ignore={} catch={}",
        names(&args.block),
        names(&args.ignore),
        names(&args.catch)
    );
    show("before exec");
    println!("ready pid={}", std::process::id());
    std::io::stdout()
        .flush()
        .unwrap_or_else(|e| cli::fail("masks", e));
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line); // a line or end of file
    if args.exec {
        // execv(2) directly: std's Command would reset SIGPIPE on the way.
        let me = CString::new("/proc/self/exe").expect("no NUL");
        let argv = [
            CString::new("masks").expect("no NUL"),
            CString::new("--report").expect("no NUL"),
        ];
        let err = nix::unistd::execv(&me, &argv).unwrap_err();
        cli::fail("masks", format!("execv: {err}"));
    }
}
// ANCHOR_END: main
