//! Chapter 1 tests: an uncaught panic ends the process with code 101 after the hook ran;
//! a caught one does not; and which cleanup runs on each way out.

use lab_01::exit::describe;
use labkit::{ChildGuard, Redactor, demo};

/// Run a demo to the end and return "status, stdout, stderr" as one transcript.
fn transcript(exe: &str, args: &[&str]) -> String {
    let mut child = ChildGuard::spawn(demo(exe).args(args)).unwrap();
    let stdout = child.stdout_lines();
    let stderr = child.stderr_lines();
    let status = child.wait().unwrap();
    let collect =
        |mut lines: labkit::LineReader| lines.rest(labkit::DEFAULT_TIMEOUT).unwrap().join("\n");
    let command: Vec<&str> = std::iter::once(exe.rsplit('/').next().unwrap())
        .chain(args.iter().copied())
        .collect();
    format!(
        "$ {}\n{}\n--- stderr\n{}\n=> {}",
        command.join(" "),
        collect(stdout),
        collect(stderr),
        describe(status)
    )
}

#[test]
fn an_uncaught_panic_runs_the_hook_then_exits_101() {
    // Nothing here varies between runs; the shared settings keep snapshot files uniform.
    let _settings = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "crash_uncaught",
        transcript(env!("CARGO_BIN_EXE_crash"), &[])
    );
}

#[test]
fn a_caught_panic_still_runs_the_hook_but_the_process_goes_on() {
    // Nothing here varies between runs; the shared settings keep snapshot files uniform.
    let _settings = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "crash_caught",
        transcript(env!("CARGO_BIN_EXE_crash"), &["--catch"])
    );
}

#[test]
fn cleanup_runs_on_return_and_panic_but_not_on_exit_or_a_signal() {
    // Nothing here varies between runs; the shared settings keep snapshot files uniform.
    let _settings = Redactor::new().settings().bind_to_scope();
    let runs: Vec<String> = ["return", "exit", "panic", "signal"]
        .iter()
        .map(|how| {
            let full = transcript(env!("CARGO_BIN_EXE_exit-paths"), &["--how", how]);
            // Keep stdout and the status; the default panic message on stderr is
            // checked by the crash tests above.
            let (out, rest) = full.split_once("\n--- stderr\n").unwrap();
            let status = rest.rsplit_once("\n=> ").unwrap().1;
            format!("{out}\n=> {status}")
        })
        .collect();
    insta::assert_snapshot!("exit_paths", runs.join("\n\n"));
}

#[test]
fn bad_input_gets_one_clear_error_line_and_exit_code_2() {
    // Nothing here varies between runs; the shared settings keep snapshot files uniform.
    let _settings = Redactor::new().settings().bind_to_scope();
    let run = transcript(env!("CARGO_BIN_EXE_exit-paths"), &["--how", "bogus"]);
    assert!(!run.contains("panicked"), "{run}");
    insta::assert_snapshot!("exit_paths_bad_input", run);
}
