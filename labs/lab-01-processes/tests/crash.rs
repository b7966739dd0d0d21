//! Chapter 1 tests: an uncaught panic ends the process with code 101 after the hook ran;
//! a caught one does not.

use labkit::{Redactor, demo};

const CRASH: &str = env!("CARGO_BIN_EXE_crash");

/// The hook prints `file:line`; the line moves whenever the demo is edited above it.
fn redactor() -> Redactor {
    Redactor::new().pattern(r"(\.rs):\d+", "$1:[LINE]")
}

#[test]
fn an_uncaught_panic_runs_the_hook_then_exits_101() {
    let finished = labkit::run(&mut demo(CRASH)).unwrap();
    assert_eq!(finished.status.code(), Some(101));
    let _settings = redactor().settings().bind_to_scope();
    insta::assert_snapshot!(
        "crash_uncaught",
        finished.transcript("cargo run -q -p lab-01 --bin crash")
    );
}

#[test]
fn a_caught_panic_still_runs_the_hook_but_the_process_goes_on() {
    let finished = labkit::run(demo(CRASH).arg("--catch")).unwrap();
    assert!(finished.status.success());
    let _settings = redactor().settings().bind_to_scope();
    insta::assert_snapshot!(
        "crash_caught",
        finished.transcript("cargo run -q -p lab-01 --bin crash -- --catch")
    );
}
