//! Chapter 2 tests: run each demo as its own process (the test harness has threads of
//! its own, which would show up in any thread list taken inside it).

use labkit::{ChildGuard, Redactor, demo};

/// Run a demo to the end; return its stdout. Fails on a non-zero exit.
fn run(exe: &str, args: &[&str]) -> String {
    let mut child = ChildGuard::spawn(demo(exe).args(args)).unwrap();
    let stdout = child.take_stdout().unwrap();
    let output = std::io::read_to_string(stdout).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{exe} {args:?}: {status}\n{output}");
    output
}

#[test]
fn named_threads_appear_in_proc_while_parked_and_are_gone_after_join() {
    let listing = run(env!("CARGO_BIN_EXE_parked"), &["--workers", "3"]);
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("parked", listing);
}

#[test]
fn threads_share_the_heap_and_each_has_its_own_stack() {
    let listing = run(env!("CARGO_BIN_EXE_where-it-lives"), &["--workers", "3"]);
    assert!(listing.contains("every thread: yes"), "{listing}");
    // Addresses change with every run (address space layout randomisation); the regions
    // they fall in and the relations between them do not.
    let redactor = Redactor::new().pattern(r"0x[0-9a-f]+", "[ADDR]");
    let _guard = redactor.settings().bind_to_scope();
    insta::assert_snapshot!("where_it_lives", listing);
}

#[test]
fn the_replayed_race_loses_exactly_one_update() {
    let replay = run(env!("CARGO_BIN_EXE_lost-update"), &[]);
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("lost_update", replay);
}

#[test]
fn the_race_experiment_reports_exact_totals_for_the_correct_counters() {
    // A smoke test of the experiment: tiny sizes, one run. Its timings are not checked
    // here (they are measured with --release, see the chapter).
    let table = run(
        env!("CARGO_BIN_EXE_race"),
        &["--threads", "2", "--increments", "500", "--runs", "1"],
    );
    for method in ["Mutex", "AtomicU64::fetch_add"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(method))
            .unwrap_or_default();
        assert_eq!(row.split_whitespace().nth(1), Some("1000"), "{table}");
    }
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let mut child =
        ChildGuard::spawn(demo(env!("CARGO_BIN_EXE_race")).args(["--runs", "0"])).unwrap();
    let mut stderr = child.stderr_lines();
    let status = child.wait().unwrap();
    let lines = stderr.rest(labkit::DEFAULT_TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(2));
    assert_eq!(lines, ["race: --runs and --threads must be at least 1"]);
}
