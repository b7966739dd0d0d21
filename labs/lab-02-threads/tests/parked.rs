//! Chapter 2: the `parked` demo. It runs as its own process: the test harness has
//! threads of its own, which would show up in any thread list taken inside it.

mod common;
use common::with_little_memory;
use std::io::Write;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};

#[test]
fn named_threads_appear_in_proc_while_parked_and_are_gone_after_join() {
    let done = run(demo(env!("CARGO_BIN_EXE_parked")).args(["--workers", "3"])).unwrap();
    assert!(done.status.success(), "{}", done.transcript("parked"));
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "parked",
        done.transcript("./target/debug/parked --workers 3")
    );
}

#[test]
fn with_hold_the_parked_threads_can_be_seen_from_outside() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_parked"));
    cmd.args(["--workers", "2", "--hold"])
        .stdin(std::process::Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = child.stdout_lines();
    let ready = lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    let pid = child.pid();
    assert!(ready.starts_with(&format!("ready pid={pid}:")), "{ready}");
    // What `ps -T -p PID` lists: one line per thread, main first.
    let mut names: Vec<String> = labkit::proc::threads(pid)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    // Main first (its tid is the pid); the workers' order depends on their tids.
    names[1..].sort();
    assert_eq!(
        names,
        ["parked", "a-thread-with-a", "worker-0", "worker-1"],
        "threads seen from outside"
    );
    assert_eq!(labkit::proc::status(pid).unwrap().threads().unwrap(), 4);
    // Enter lets them go; the demo then prints its three lists and exits.
    child.take_stdin().unwrap().write_all(b"\n").unwrap();
    let rest = lines.rest(DEFAULT_TIMEOUT).unwrap();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    assert_eq!(
        rest.last().map(String::as_str),
        Some("  parked"),
        "{rest:?}"
    );
}

#[test]
fn bad_input_gets_a_usage_error() {
    let done = run(demo(env!("CARGO_BIN_EXE_parked")).args(["--workers", "many"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(
        done.stderr
            .starts_with("error: invalid value 'many' for '--workers <WORKERS>'"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_thread_that_cannot_start_is_one_line_and_no_hang() {
    // The workers already started are let go and joined; `run` fails on a hang.
    let done = with_little_memory(env!("CARGO_BIN_EXE_parked"), "--workers 50");
    assert_eq!(done.status.code(), Some(1), "{}", done.transcript("parked"));
    assert_eq!(done.stdout, "", "nothing listed");
    assert_eq!(done.stderr_lines().len(), 1, "{}", done.stderr);
    assert!(
        done.stderr
            .starts_with("parked: cannot start the threads or read /proc: "),
        "{}",
        done.stderr
    );
}

#[test]
fn more_than_1000_workers_is_a_usage_error() {
    let done = run(demo(env!("CARGO_BIN_EXE_parked")).args(["--workers", "1001"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(
        done.stderr.starts_with(
            "error: invalid value '1001' for '--workers <WORKERS>': 1001 is not in 0..=1000"
        ),
        "{}",
        done.stderr
    );
}
