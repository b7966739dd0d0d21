//! Chapter 4: what a child started by `Command` inherits of its parent's signal state.
//! std resets SIGPIPE (which Rust ignores before `main`) to its default in the child, but
//! leaves the signal mask as it is: a signal the spawning thread blocked is blocked in
//! the child too.

use std::process::Command;

use labkit::proc::Status;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

#[test]
fn the_child_inherits_the_blocked_mask_but_not_the_ignored_sigpipe() {
    let mut sigint = SigSet::empty();
    sigint.add(Signal::SIGINT);
    let mut old = SigSet::empty();
    // Only this test's thread: the mask is per thread, and the child copies the mask of
    // the thread that spawns it.
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&sigint), Some(&mut old)).unwrap();
    let out = Command::new("cat").arg("/proc/self/status").output();
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None).unwrap();
    let status = Status::parse(&String::from_utf8(out.unwrap().stdout).unwrap());

    let blocked = status.signal_mask("SigBlk").unwrap();
    assert_ne!(
        blocked & (1 << (Signal::SIGINT as u32 - 1)),
        0,
        "SIGINT not blocked: {blocked:#x}"
    );
    let ignored = status.signal_mask("SigIgn").unwrap();
    assert_eq!(
        ignored & (1 << (Signal::SIGPIPE as u32 - 1)),
        0,
        "SIGPIPE ignored: {ignored:#x}"
    );
    // And the test process itself does ignore SIGPIPE (std did it before main).
    let own = labkit::proc::status(std::process::id()).unwrap();
    assert_ne!(own.signal_mask("SigIgn").unwrap() & (1 << 12), 0);
}
