//! Chapter 1 tests: which cleanup runs on each way out of a process: destructors, libc's
//! atexit handlers, stdout's buffer.

use labkit::{Redactor, demo};

const EXIT_PATHS: &str = env!("CARGO_BIN_EXE_exit-paths");

/// The default panic message names the thread's id and the source line and column: both
/// vary (the line whenever the demo is edited above it).
fn redactor() -> Redactor {
    Redactor::new()
        .pattern(r"thread 'main' \(\d+\)", "thread 'main' ([TID])")
        .pattern(r"(\.rs):\d+:\d+", "$1:[LINE]:[COL]")
}

#[test]
fn cleanup_runs_on_return_and_panic_atexit_on_every_exit_but_underscore_exit() {
    let runs: Vec<String> = ["return", "exit", "underscore-exit", "panic", "signal"]
        .iter()
        .map(|how| {
            let finished = labkit::run(demo(EXIT_PATHS).args(["--how", how])).unwrap();
            finished.transcript(&format!(
                "cargo run -q -p lab-01 --bin exit-paths -- --how {how}"
            ))
        })
        .collect();
    let _settings = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("exit_paths", runs.join("\n\n"));
}

#[test]
fn bad_input_gets_clap_s_usage_error_and_exit_code_2() {
    let finished = labkit::run(demo(EXIT_PATHS).args(["--how", "bogus"])).unwrap();
    assert_eq!(finished.status.code(), Some(2));
    assert!(finished.stdout.is_empty());
    assert!(!finished.stderr.contains("panicked"), "{finished:?}");
    let _settings = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "exit_paths_bad_input",
        finished.transcript("cargo run -q -p lab-01 --bin exit-paths -- --how bogus")
    );
}
