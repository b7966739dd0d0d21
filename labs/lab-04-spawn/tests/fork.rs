//! Chapter 4 tests: the demos that fork. Each runs as a process of its own: the test
//! harness is multithreaded and must never fork itself.

use labkit::{Redactor, demo, run};

const FORK_TWICE: &str = env!("CARGO_BIN_EXE_fork-twice");

/// Pids printed as `pid=N`, `ppid=N`, `fork returned N`: named by role, so that the
/// snapshot still shows who is whose parent.
fn roles(text: &str) -> Redactor {
    let find = |prefix: &str| {
        text.split(prefix)
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<u32>().ok())
    };
    let mut r = Redactor::new();
    if let Some(parent) = find("parent: pid=") {
        r = r.id(parent, "PARENT");
    }
    if let Some(child) = find("parent: fork returned ") {
        r = r.id(child, "CHILD");
    }
    r
}

#[test]
fn fork_returns_twice_and_the_child_changes_only_its_copy() {
    let done = run(&mut demo(FORK_TWICE)).unwrap();
    assert!(done.status.success(), "{}", done.transcript("fork-twice"));
    let text = done.transcript("./target/debug/fork-twice");
    // The child's ppid is the parent's pid, and its pid is what fork returned.
    let _g = roles(&text).settings().bind_to_scope();
    assert!(
        roles(&text)
            .apply(&text)
            .contains("pid=[CHILD] ppid=[PARENT]"),
        "{text}"
    );
    insta::assert_snapshot!("fork_twice", text);
}

#[test]
fn a_child_that_calls_exit_flushes_the_parents_buffer_a_second_time() {
    let runs: Vec<String> = ["exit", "underscore-exit"]
        .iter()
        .map(|how| {
            let done = run(demo(FORK_TWICE).args(["--buffered", "--child-exit", how])).unwrap();
            assert!(done.status.success(), "{}", done.transcript("fork-twice"));
            let copies = done
                .stdout
                .matches("[in stdout's buffer at fork time]")
                .count();
            assert_eq!(
                copies,
                if *how == "exit" { 2 } else { 1 },
                "{}",
                done.stdout
            );
            done.transcript(&format!(
                "./target/debug/fork-twice --buffered --child-exit {how}"
            ))
        })
        .collect();
    let text = runs.join("\n\n");
    let _g = Redactor::new()
        .pattern(r"fork returned \d+", "fork returned [CHILD]")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("fork_buffered", text);
}

#[test]
fn copy_on_write_shows_in_smaps_rollup() {
    let done = run(demo(env!("CARGO_BIN_EXE_cow")).args(["--mib", "8"])).unwrap();
    // Exit 0 only if every relation held (see the demo); the lines say which.
    assert!(done.status.success(), "{}", done.transcript("cow"));
    let _g = Redactor::new()
        .pattern(r"Dirty \d+ kB", "Dirty [N] kB")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("cow", done.transcript("./target/debug/cow --mib 8"));
}

#[test]
fn exec_keeps_the_pid_and_closes_close_on_exec_fds() {
    // stderr to /dev/null, as in the command shown: fd 1 is then the only pipe.
    let done =
        run(demo(env!("CARGO_BIN_EXE_exec-keeps")).stderr(std::process::Stdio::null())).unwrap();
    assert!(done.status.success(), "{}", done.transcript("exec-keeps"));
    let lines = done.stdout_lines();
    let pid_of = |prefix: &str| {
        let line = lines.iter().find(|l| l.starts_with(prefix)).expect(prefix);
        line.split("pid=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(pid_of("before exec:"), pid_of("after exec:"));
    let text = done.transcript("./target/debug/exec-keeps < /dev/null 2> /dev/null | cat");
    let child: u32 = pid_of("before exec:").parse().unwrap();
    let parent: u32 = pid_of("parent:").trim_end_matches(';').parse().unwrap();
    let _g = Redactor::new()
        .id(child, "CHILD")
        .id(parent, "PARENT")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("exec_keeps", text);
}

#[test]
fn fork_in_a_multithreaded_process_leaves_a_lock_that_nobody_can_unlock() {
    let done = run(demo(env!("CARGO_BIN_EXE_fork-locked")).args(["--timeout-ms", "300"])).unwrap();
    assert!(done.status.success(), "{}", done.transcript("fork-locked"));
    assert!(!done.stdout.contains("got the lock"), "{}", done.stdout);
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "fork_locked",
        done.transcript("./target/debug/fork-locked --timeout-ms 300")
    );
}

#[test]
fn bad_input_to_the_fork_demos_gets_one_line() {
    for (exe, args, expected) in [
        (
            FORK_TWICE,
            &["--child-exit", "abort"][..],
            "fork-twice: invalid value 'abort' for '--child-exit <CHILD_EXIT>'",
        ),
        (
            env!("CARGO_BIN_EXE_cow"),
            &["--mib", "0"][..],
            "cow: invalid value '0' for '--mib <MIB>': 0 is not in 1..=1024",
        ),
        (
            env!("CARGO_BIN_EXE_fork-locked"),
            &["--timeout-ms", "x"][..],
            "fork-locked: invalid value 'x' for '--timeout-ms <TIMEOUT_MS>': invalid digit found in string",
        ),
        (
            env!("CARGO_BIN_EXE_exec-keeps"),
            &["extra"][..],
            "exec-keeps: unexpected argument 'extra' found",
        ),
    ] {
        let done = run(demo(exe).args(args)).unwrap();
        assert_eq!(done.status.code(), Some(2), "{exe}");
        assert_eq!(done.stderr.trim_end(), expected);
    }
}
