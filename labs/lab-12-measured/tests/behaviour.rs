//! Chapter 12: the behaviours the chapter's table claims, pinned (never durations). Every
//! demo that forks runs as its own program; the harness itself never forks.

use labkit::{Redactor, demo, run};

fn transcript(bin: &str, args: &[&str], shown: &str) -> (labkit::run::Finished, String) {
    let mut cmd = demo(bin);
    cmd.args(args);
    let finished = run(&mut cmd).expect("run the demo");
    let text = finished.transcript(shown);
    (finished, text)
}

/// Assert a snapshot named `name`, with the book's plain header (no expression, no
/// module prefix), so that the chapter can include its body from line 4.
fn snap(name: &str, text: String) {
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(name, text);
}

/// Replace every pid (the only numbers of three or more digits these demos print) with
/// a numbered name: the same child keeps its name, two children get two.
fn redact_children(text: &str) -> String {
    let _g = Redactor::plain_settings().bind_to_scope();
    Redactor::new().numbered(r"\b\d{3,}\b", "CHILD").apply(text)
}

/// The panic message's thread id and source position vary: redact them.
fn redact_panic(text: &str) -> String {
    let _g = Redactor::plain_settings().bind_to_scope();
    Redactor::new()
        .pattern(r"\(\d+\) panicked", "([TID]) panicked")
        .pattern(r"\.rs:\d+:\d+", ".rs:LINE:COL")
        .apply(text)
}

#[test]
fn a_thread_write_is_seen_a_childs_copy_is_not_memfd_is() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_isolation"),
        &[],
        "./target/debug/isolation",
    );
    assert!(finished.status.success(), "{text}");
    let lines: Vec<&str> = finished.stdout.lines().collect();
    assert!(lines[0].ends_with("main reads 42"), "{text}");
    assert!(
        lines[1].ends_with("parent reads 42"),
        "the child's write stays in its copy: {text}"
    );
    assert!(
        lines[2].ends_with("parent reads 7"),
        "the memfd write is shared: {text}"
    );
    snap("isolation", redact_children(&text));
}

/// The four counters of a `cow` line, in MiB.
fn cow_line(out: &str, who: &str) -> [f64; 4] {
    let line = out
        .lines()
        .find(|l| l.starts_with(who))
        .unwrap_or_else(|| panic!("no line {who:?} in {out}"));
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers
        .try_into()
        .unwrap_or_else(|_| panic!("four numbers in {line:?}"))
}

#[test]
fn copy_on_write_shares_until_a_write_unshares() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_cow-smaps"),
        &[],
        "./target/debug/cow-smaps",
    );
    assert!(finished.status.success(), "{text}");
    let out = finished.stdout.clone();
    let [rss, pss, shared, private] = cow_line(&out, "child, buffer untouched");
    assert_eq!((rss, shared, private), (16.0, 16.0, 0.0), "{out}");
    assert_eq!(
        pss, 8.0,
        "an untouched page counts half in each of two processes: {out}"
    );
    let [_, pss_after, shared_after, private_after] = cow_line(&out, "child, after writing it");
    assert!(
        private_after - private >= 16.0,
        "Private_Dirty rises by the buffer: {out}"
    );
    assert_eq!((pss_after, shared_after), (16.0, 0.0), "{out}");
    let [_, pss_parent, _, private_parent] = cow_line(&out, "parent, after the child");
    assert_eq!((pss_parent, private_parent), (16.0, 16.0), "{out}");
    snap("cow", text.clone());
}

/// The numbers of the line of `out` that starts with `start`.
fn numbers_of(out: &str, start: &str) -> Vec<u64> {
    let line = out
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line {start:?} in {out}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn forked_workers_share_until_they_write_and_memfd_shares_what_a_pipe_copies() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_worker-memory"),
        &["--mib", "16", "--workers", "2"],
        "./target/debug/worker-memory",
    );
    assert!(finished.status.success(), "{text}");
    let out = finished.stdout.clone();
    let buffer_kib = 16 * 1024;
    // [2, 16, RSS, PSS]: each child maps the parent's whole buffer, but shares every page.
    let [_, _, rss, pss] = numbers_of(&out, "2 forked workers")[..] else {
        panic!("four numbers: {out}")
    };
    assert!(rss >= buffer_kib, "RSS counts the shared buffer: {out}");
    assert!(
        pss * 8 < rss,
        "an untouched child's PSS is far below its RSS: {out}"
    );
    assert!(
        pss < 2048,
        "an untouched child adds a few pages, not the buffer: {out}"
    );
    // [16, RSS, private]: the pipe gives the worker a copy of its own...
    let [_, rss, private] = numbers_of(&out, "16 MiB copied through a pipe")[..] else {
        panic!("three numbers: {out}")
    };
    assert!(rss >= buffer_kib, "{out}");
    assert!(private >= buffer_kib, "the pipe worker owns a copy: {out}");
    // ...the memfd maps the parent's pages: resident in the worker, but shared.
    let [_, rss, private] = numbers_of(&out, "16 MiB mapped from a memfd")[..] else {
        panic!("three numbers: {out}")
    };
    assert!(rss >= buffer_kib, "the worker maps every page: {out}");
    assert!(
        private < 1024,
        "no private copy, only a few pages of the worker's own: {out}"
    );
}

#[test]
fn a_threads_panic_is_an_err_at_join() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_crash-worker"),
        &["thread-panic"],
        "./target/debug/crash-worker thread-panic",
    );
    assert_eq!(finished.status.code(), Some(0), "{text}");
    snap("crash_thread_panic", redact_panic(&text));
}

#[test]
fn a_panic_that_aborts_kills_every_thread() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_crash-worker"),
        &["thread-panic-abort"],
        "./target/debug/crash-worker thread-panic-abort",
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(finished.status.signal(), Some(libc_sig::SIGABRT), "{text}");
    assert!(
        !text.contains("join gave"),
        "main never got past join: {text}"
    );
    assert!(!text.contains("still here"), "{text}");
    snap("crash_thread_panic_abort", redact_panic(&text));
}

#[test]
fn a_threads_segfault_kills_the_process() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_crash-worker"),
        &["thread-segfault"],
        "./target/debug/crash-worker thread-segfault",
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(finished.status.signal(), Some(libc_sig::SIGSEGV), "{text}");
    assert!(!text.contains("still here"), "{text}");
    snap("crash_thread_segfault", text.clone());
}

#[test]
fn a_childs_crash_leaves_the_parent_serving() {
    for (mode, signal, name) in [
        ("child-segfault", "SIGSEGV", "crash_child_segfault"),
        ("child-abort", "SIGABRT", "crash_child_abort"),
    ] {
        let (finished, text) = transcript(
            env!("CARGO_BIN_EXE_crash-worker"),
            &[mode],
            &format!("./target/debug/crash-worker {mode}"),
        );
        assert_eq!(finished.status.code(), Some(0), "{text}");
        assert!(text.contains(&format!("was killed by {signal}")), "{text}");
        assert!(text.contains("still here"), "{text}");
        snap(name, redact_children(&text));
    }
}

#[test]
fn bad_input_gets_one_line() {
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_crash-worker"),
        &["bogus"],
        "crash-worker bogus",
    );
    assert_eq!(finished.status.code(), Some(2), "{text}");
    assert_eq!(finished.stderr.clone().lines().count(), 1, "{text}");
    let (finished, text) = transcript(
        env!("CARGO_BIN_EXE_cow-smaps"),
        &["--mib", "0"],
        "cow-smaps --mib 0",
    );
    assert_eq!(finished.status.code(), Some(2), "{text}");
}

/// Signal numbers, without a libc dependency in the tests.
mod libc_sig {
    pub const SIGABRT: i32 = 6;
    pub const SIGSEGV: i32 = 11;
}
