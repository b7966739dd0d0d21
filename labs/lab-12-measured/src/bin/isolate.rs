//! Chapter 12, exercise 12.1: runs three jobs with `run_isolated` (one returns, one
//! panics, one dies of SIGSEGV) and prints how each ended, then that it is still here.

use lab_04::cli;
use lab_12::exercises::run_isolated;
use nix::sys::signal::{SigHandler, Signal, raise, signal};

/// Run jobs in child processes with `run_isolated` and print how each ended.
#[derive(clap::Parser)]
struct Args {}

fn fine() {}

fn panics() {
    panic!("job: cannot go on");
}

fn segfaults() {
    // SAFETY: SIG_DFL installs no handler (std's own would return from a raised signal).
    unsafe { signal(Signal::SIGSEGV, SigHandler::SigDfl) }.expect("signal");
    raise(Signal::SIGSEGV).expect("raise");
}

fn main() {
    let _: Args = cli::parse("isolate");
    // The children inherit stdout: flush before each fork (nothing is buffered here,
    // since every line ends in a newline and stdout is line-buffered).
    for (name, job) in [
        ("fine", fine as fn()),
        ("panics", panics),
        ("segfaults", segfaults),
    ] {
        println!("{name}: {:?}", run_isolated(job));
    }
    println!("isolate: still here");
}
