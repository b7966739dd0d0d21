//! Chapter 4 tests: the pipe deadlock (proven, bounded) and its fix, and the pipeline
//! exercise.

use std::process::Command;

use lab_04::pipes::pipeline;
use labkit::{Redactor, demo, run};

const DEADLOCK: &str = env!("CARGO_BIN_EXE_pipe-deadlock");

#[test]
fn naive_feeding_deadlocks_once_both_pipes_are_full_and_the_watchdog_ends_it() {
    let done = run(demo(DEADLOCK).args(["--bytes", "1048576"])).unwrap();
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}",
        done.transcript("pipe-deadlock")
    );
    let first = done.stdout_lines()[0].to_string();
    let written: usize = first
        .strip_prefix("naive: deadlocked after writing ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    // At least what both pipes hold, far less than the input.
    assert!((131072..1048576).contains(&written), "{written}");
    let _g = Redactor::new()
        .pattern(r"after writing \d+ of", "after writing [WRITTEN] of")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "pipe_deadlock",
        done.transcript("./target/debug/pipe-deadlock --bytes 1048576")
    );
}

#[test]
fn naive_feeding_is_fine_while_everything_fits() {
    let done = run(demo(DEADLOCK).args(["--bytes", "60000"])).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("pipe-deadlock")
    );
    assert_eq!(
        done.stdout,
        "naive: wrote 60000 bytes, then read 60000 back; cat exited with code 0\n"
    );
}

#[test]
fn a_writer_thread_fixes_it() {
    let done = run(demo(DEADLOCK).args(["--bytes", "1048576", "--threaded"])).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("pipe-deadlock")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "pipe_threaded",
        done.transcript("./target/debug/pipe-deadlock --bytes 1048576 --threaded")
    );
}

#[test]
fn bad_input_gets_one_line() {
    let done = run(demo(DEADLOCK).args(["--bytes", "lots"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "pipe-deadlock: invalid value 'lots' for '--bytes <BYTES>': invalid digit found in string\n"
    );
    let done = run(demo(DEADLOCK).args(["--bytes", "99999999999999"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "pipe-deadlock: invalid value '99999999999999' for '--bytes <BYTES>': 99999999999999 is not in 0..=1073741824\n"
    );
}

#[test]
fn exercise_pipeline_connects_two_programs_without_a_shell() {
    let out = pipeline(
        Command::new("printf").arg("a\nb\nc\n"),
        Command::new("wc").arg("-l"),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    assert!(out.first.success() && out.second.success());

    // More than a pipe holds: the second must be reading while the first writes, and
    // must see end of file when the first ends.
    let out = pipeline(
        Command::new("head").args(["-c", "1000000", "/dev/zero"]),
        Command::new("wc").arg("-c"),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1000000");

    // Each status is its own: `false | cat`.
    let out = pipeline(&mut Command::new("false"), &mut Command::new("cat")).unwrap();
    assert_eq!(out.first.code(), Some(1));
    assert_eq!(out.second.code(), Some(0));
    assert!(out.stdout.is_empty());

    // The second program stops reading early: `yes | head -n 1`. Once `head` exits, nobody
    // may hold the read end any more, so `yes` dies of SIGPIPE. (`timeout` bounds the run
    // if the parent kept a read end: `yes` would block until `timeout` ends it with 124.)
    let secs = labkit::DEFAULT_TIMEOUT.as_secs().to_string();
    let out = pipeline(
        Command::new("timeout").args([secs.as_str(), "yes"]),
        Command::new("head").args(["-n", "1"]),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "y\n");
    assert_eq!(out.second.code(), Some(0));
    // `timeout` passes on its child's death by SIGPIPE (signal 13) by dying the same way.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.first.signal(), Some(13), "{:?}", out.first);
}
