//! Chapter 12, data sharing: who sees a write. A thread writes into the main thread's
//! buffer (it borrows it, in a scope); a forked child writes into its copy of the same
//! buffer; a forked child writes into memory both map from a memfd. After each, the main
//! thread or the parent reads the first byte.

use std::io::Write;

use lab_04::cli;
use lab_04::forking::underscore_exit;
use lab_12::share::SharedMemory;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

/// Show which writes a thread, a forked child and a memfd-sharing child make visible.
#[derive(clap::Parser)]
struct Args {}

/// Fork a child that runs `write` and exits; wait for it.
fn in_child(write: impl FnOnce()) -> nix::unistd::Pid {
    std::io::stdout().flush().expect("flush");
    // SAFETY: single-threaded here (the scoped thread was joined); the child writes
    // memory and leaves with _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            write();
            underscore_exit(0)
        }
        ForkResult::Parent { child } => {
            assert_eq!(waitpid(child, None), Ok(WaitStatus::Exited(child, 0)));
            child
        }
    }
}

fn main() {
    let _: Args = cli::parse("isolation");
    // ANCHOR: isolation
    let mut buffer = vec![0u8; 4096];
    std::thread::scope(|s| {
        s.spawn(|| buffer[0] = 42); // the thread borrows the main thread's Vec
    });
    println!(
        "thread wrote 42 into the main thread's Vec: main reads {}",
        buffer[0]
    );

    let child = in_child(|| buffer[0] = 7); // the child writes its own copy
    println!(
        "child {child} wrote 7 into its copy of the Vec: parent reads {}",
        buffer[0]
    );

    let mut shared = SharedMemory::new("isolation", 4096).expect("memfd");
    let child = in_child(|| shared.as_mut_slice()[0] = 7); // the same pages in both
    println!(
        "child {child} wrote 7 into the memfd mapping: parent reads {}",
        shared.as_slice()[0]
    );
    // ANCHOR_END: isolation
}
