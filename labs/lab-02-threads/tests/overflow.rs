//! Chapter 2: the `overflow` demo, recursion past the end of a stack.

use std::process::Command;

use labkit::{Redactor, demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_overflow");

/// Whether the kernel wrote a core file depends on the machine (`ulimit -c`,
/// `core_pattern`), not on the program: leave that remark out.
fn redactor() -> Redactor {
    Redactor::new()
        .pattern(r"thread '([^']*)' \(\d+\)", "thread '$1' ([TID])")
        .pattern(r", core dumped", "")
}

#[test]
fn a_thread_that_overflows_its_stack_aborts_the_process() {
    let deep = run(demo(EXE).args(["--depth", "3000"])).unwrap();
    assert_eq!(deep.status.code(), None, "killed by a signal");
    let bigger = run(demo(EXE).args(["--depth", "3000", "--stack-kib", "8192"])).unwrap();
    assert!(bigger.status.success(), "{}", bigger.transcript("overflow"));
    // The main thread's stack may grow to RLIMIT_STACK; set it as the book's command does.
    let mut on_main = demo("sh");
    on_main.args([
        "-c",
        "ulimit -s 8192 && exec \"$0\" --on-main --depth 3000",
        EXE,
    ]);
    let on_main = run(&mut on_main).unwrap();
    assert!(
        on_main.status.success(),
        "{}",
        on_main.transcript("overflow --on-main")
    );

    let text = [
        deep.transcript("./target/debug/overflow --depth 3000"),
        bigger.transcript("./target/debug/overflow --depth 3000 --stack-kib 8192"),
        on_main.transcript("(ulimit -s 8192; exec ./target/debug/overflow --on-main --depth 3000)"),
    ]
    .join("\n\n");
    let _guard = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("overflow", text);
}

#[test]
fn rust_min_stack_sets_the_default_for_new_threads() {
    let mut cmd = demo(EXE);
    cmd.args(["--depth", "3000"])
        .env("RUST_MIN_STACK", (8 << 20).to_string());
    let done = run(&mut cmd).unwrap();
    assert!(done.status.success(), "{}", done.transcript("overflow"));
}

#[test]
fn the_main_thread_overflows_too_when_its_limit_is_reached() {
    let mut cmd: Command = demo("sh");
    cmd.args([
        "-c",
        "ulimit -s 2048 && exec \"$0\" --on-main --depth 3000",
        EXE,
    ]);
    let done = run(&mut cmd).unwrap();
    assert_eq!(done.status.code(), None, "{}", done.transcript("overflow"));
    assert!(
        redactor()
            .apply(&done.stderr)
            .starts_with("\nthread 'main' ([TID]) has overflowed its stack\n"),
        "{}",
        done.stderr
    );
}

#[test]
fn an_absurd_stack_size_is_a_usage_error_not_an_overflow() {
    let done = run(demo(EXE).args(["--stack-kib", "99999999999999999"])).unwrap();
    assert_eq!(
        done.status.code(),
        Some(2),
        "{}",
        done.transcript("overflow")
    );
    assert!(
        done.stderr
            .starts_with("error: invalid value '99999999999999999' for '--stack-kib <STACK_KIB>'"),
        "{}",
        done.stderr
    );
}
