//! Chapter 2: the Node.js programs of the chapter, run with the installed `node`.

use std::process::Command;

use labkit::{Redactor, require_tool, run};

fn node(script: &str, args: &[&str]) -> labkit::run::Finished {
    let mut cmd = Command::new("node");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    run(&mut cmd).unwrap()
}

#[test]
fn a_read_modify_write_across_an_await_loses_an_update() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/balance.mjs", &[]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node balance.mjs")
    );
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_balance", done.transcript("node node/balance.mjs"));
}

#[test]
fn a_node_process_waits_for_its_workers_and_exit_in_a_worker_ends_only_it() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/ending.mjs", &[]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        done.transcript("node ending.mjs")
    );
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_ending", done.transcript("node node/ending.mjs"));
}

#[test]
fn worker_threads_on_a_shared_array_buffer_race_like_threads_do() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/race.mjs", &["4", "20000"]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node race.mjs")
    );
    let lines = done.stdout_lines();
    let total = |line: &str| -> u64 { line.split_whitespace().nth(1).unwrap().parse().unwrap() };
    assert_eq!(lines.len(), 2, "{}", done.stdout);
    assert!(lines[0].starts_with("atomics "), "{}", done.stdout);
    assert_eq!(total(lines[0]), 80_000, "Atomics.add is exact");
    assert!(lines[1].starts_with("plain "), "{}", done.stdout);
    assert!(
        (2..=80_000).contains(&total(lines[1])),
        "view[0]++ can only lose"
    );
}

#[test]
fn race_mjs_refuses_bad_arguments_with_one_line() {
    if !require_tool("node") {
        return;
    }
    for args in [
        &["x", "y"][..],
        &["0", "5"],
        &["-1", "5"],
        &["4"],
        &["2", "2000000000"],
    ] {
        let done = node("node/race.mjs", args);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stdout);
        assert_eq!(done.stdout, "", "{args:?}");
        assert_eq!(
            done.stderr,
            "usage: node race.mjs THREADS INCREMENTS (1 to 256 threads, a total below 2^31)\n",
            "{args:?}"
        );
    }
}
