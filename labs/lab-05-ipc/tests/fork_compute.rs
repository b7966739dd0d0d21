//! Chapter 5 tests: the fork_compute demo (a child with a channel at fd 3 computes and
//! replies), the child dying halfway through its reply, and exercise 05.2 (with the
//! `pool-worker` helper, whose workers answer only when all of them have their range).

use std::path::Path;

use labkit::{Redactor, demo};
use regex::Regex;

const FORK_COMPUTE: &str = env!("CARGO_BIN_EXE_fork-compute");

/// The pids the demo printed, named: the parent (the process the test started) and
/// its child.
fn redactor(stdout: &str) -> Redactor {
    let re = Regex::new(r"parent: pid=(\d+) started child pid=(\d+)").unwrap();
    let caps = re.captures(stdout).expect("the parent names both pids");
    Redactor::new().id(&caps[1], "PARENT").id(&caps[2], "CHILD")
}

#[test]
fn the_child_computes_and_replies_over_the_channel() {
    let finished = labkit::run(demo(FORK_COMPUTE).arg("--upto").arg("1000000")).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert!(finished.stdout.contains(r#"{"sum":500000500000}"#));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "fork_compute",
        redactor(&finished.stdout).apply(&finished.transcript("./target/debug/fork-compute"))
    );
}

#[test]
fn a_child_that_dies_mid_message_is_a_truncated_error() {
    let finished = labkit::run(demo(FORK_COMPUTE).arg("--crash")).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert!(
        finished
            .stdout
            .contains("recv failed: the peer closed the channel inside a message (10 bytes"),
        "{finished:?}"
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "fork_compute_crash",
        redactor(&finished.stdout)
            .apply(&finished.transcript("./target/debug/fork-compute --crash"))
    );
}

/// A pool of `pool-worker`s: a directory with a symlink `worker` to the binary and its
/// settings (`parties`, and `fail-on-stop` when `fail`). Each worker answers only once
/// all `workers` have their range, so a solution that waits for one answer before
/// sending the next range gets an error after the worker's 10 s wait, not a hang.
fn pool(workers: u64, fail: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pool-worker"), dir.path().join("worker"))
        .unwrap();
    std::fs::write(dir.path().join("parties"), workers.to_string()).unwrap();
    if fail {
        std::fs::write(dir.path().join("fail-on-stop"), "").unwrap();
    }
    dir
}

#[test]
fn exercise_05_2_sum_in_children() {
    // Every range must be out before any answer comes back: the workers wait for each other.
    for (upto, workers) in [(1_000_000, 4), (10, 3), (7, 1), (2, 5)] {
        let dir = pool(workers, false);
        let got = lab_05::workers::sum_in_children(&dir.path().join("worker"), upto, workers);
        let got = got.unwrap_or_else(|e| panic!("upto {upto}, {workers} workers: {e}"));
        assert_eq!(got, upto * (upto + 1) / 2, "upto {upto}, {workers} workers");
    }
    // The chapter's own fork-compute child works as a worker too.
    let program = Path::new(FORK_COMPUTE);
    assert_eq!(
        lab_05::workers::sum_in_children(program, 1000, 2).unwrap(),
        500_500
    );
    assert!(lab_05::workers::sum_in_children(program, 10, 0).is_err());
    // A program that exits at once without replying (not fork-compute): an error.
    assert!(lab_05::workers::sum_in_children(Path::new("/bin/true"), 10, 2).is_err());
    // Nor does /bin/false, which also exits with code 1: still an error, not a hang.
    assert!(lab_05::workers::sum_in_children(Path::new("/bin/false"), 10, 2).is_err());
    // Workers that answer correctly but then exit with code 3: an error too, and every
    // worker is still reaped (the pool would hang in wait otherwise).
    let dir = pool(3, true);
    let err = lab_05::workers::sum_in_children(&dir.path().join("worker"), 10, 3).unwrap_err();
    assert!(err.to_string().contains("exit status: 3"), "{err}");
}

#[test]
fn sums_that_do_not_fit_or_take_too_long_are_refused() {
    use lab_05::compute::{MAX_RANGE, sum_range, sum_upto};
    assert_eq!(sum_upto(10), Some(55));
    assert_eq!(sum_range(5, 4), Some(0), "an empty range");
    assert_eq!(sum_range(u64::MAX - 1, u64::MAX), None, "overflows u64");
    assert_eq!(sum_upto(MAX_RANGE + 1), None, "too long to add up");
    // The demo refuses such an --upto at once, with clap's usage error (code 2).
    let finished = labkit::run(demo(FORK_COMPUTE).args(["--upto", "6100000000"])).unwrap();
    assert_eq!(finished.status.code(), Some(2), "{finished:?}");
    assert!(finished.stderr.contains("--upto"), "{finished:?}");
}
