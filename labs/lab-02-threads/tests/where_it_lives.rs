//! Chapter 2: the `where-it-lives` demo, stacks and the shared heap.

mod common;
use common::with_little_memory;
use labkit::{Redactor, demo, run};

#[test]
fn threads_share_the_heap_and_each_has_its_own_stack() {
    let done = run(demo(env!("CARGO_BIN_EXE_where-it-lives")).args(["--workers", "3"])).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("where-it-lives")
    );
    for fact in [
        "one address for the shared Vec in every thread: yes",
        "a different local address in every thread:     yes",
        "closest two workers' locals are at least 2 MiB + 4 KiB apart: yes",
    ] {
        assert!(
            done.stdout_lines().contains(&fact),
            "{fact}\n{}",
            done.stdout
        );
    }
    // Addresses change with every run (address space layout randomisation). Numbering
    // them keeps what does not change: the same [ADDR-n] means the same address.
    let redactor = Redactor::new().numbered(r"0x[0-9a-f]+", "ADDR");
    let _guard = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "where_it_lives",
        redactor.apply(&done.transcript("./target/debug/where-it-lives --workers 3"))
    );
}

#[test]
fn bad_input_gets_a_usage_error() {
    let done = run(demo(env!("CARGO_BIN_EXE_where-it-lives")).args(["--workers", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(
        done.stderr.starts_with("error: invalid value '0'"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_thread_that_cannot_start_is_one_line_and_no_hang() {
    let done = with_little_memory(env!("CARGO_BIN_EXE_where-it-lives"), "--workers 50");
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}",
        done.transcript("where-it-lives")
    );
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr_lines().len(), 1, "{}", done.stderr);
    assert!(
        done.stderr
            .starts_with("where-it-lives: cannot start a thread: "),
        "{}",
        done.stderr
    );
}

#[test]
fn the_largest_run_reads_the_maps_once_and_finishes() {
    // Each worker's facts come from one reading of /proc/self/maps, not one per thread.
    let done = run(demo(env!("CARGO_BIN_EXE_where-it-lives")).args(["--workers", "100"])).unwrap();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(
        done.stdout_lines()
            .contains(&"closest two workers' locals are at least 2 MiB + 4 KiB apart: yes"),
        "{}",
        done.stdout
    );
    let too_many =
        run(demo(env!("CARGO_BIN_EXE_where-it-lives")).args(["--workers", "101"])).unwrap();
    assert_eq!(too_many.status.code(), Some(2));
    assert!(
        too_many.stderr.starts_with("error: invalid value '101'"),
        "{}",
        too_many.stderr
    );
}
