//! Chapter 2: the `ending` demo. Returning from `main`, or `exit` on any thread, ends
//! every thread of the process; a dropped `JoinHandle` stops nothing.

use labkit::{Redactor, demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_ending");

#[test]
fn returning_from_main_or_exit_in_a_worker_ends_every_thread() {
    // `run` fails on a hang: the endless worker must not keep the process alive.
    let detached = run(&mut demo(EXE)).unwrap();
    assert_eq!(detached.status.code(), Some(0), "{}", detached.stderr);
    assert!(
        detached
            .stdout_lines()
            .contains(&"main: the threads now: ending, endless"),
        "the detached worker was still running when main returned:\n{}",
        detached.stdout
    );
    let exited = run(demo(EXE).args(["--exit-in-worker", "3"])).unwrap();
    assert_eq!(exited.status.code(), Some(3), "{}", exited.stderr);
    assert!(
        !exited.stdout.contains("join returned"),
        "{}",
        exited.stdout
    );

    let text = [
        detached.transcript("./target/debug/ending"),
        exited.transcript("./target/debug/ending --exit-in-worker 3"),
    ]
    .join("\n\n");
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("ending", text);
}

#[test]
fn an_exit_code_out_of_range_is_a_usage_error() {
    let done = run(demo(EXE).args(["--exit-in-worker", "256"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(
        done.stderr
            .starts_with("error: invalid value '256' for '--exit-in-worker <CODE>'"),
        "{}",
        done.stderr
    );
}
