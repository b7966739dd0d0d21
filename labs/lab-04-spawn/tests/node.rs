//! Chapter 4 tests, Node.js side: the four `child_process` calls, each run with `node`
//! and snapshotted.

mod common;
use common::{Sweep, sleepers};
use labkit::{Finished, Redactor, demo, run};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

/// The marker of the Node program's background `sleep` (exec.rs uses another one).
const MARKER: &str = "31.4159";

fn node(args: &[&str]) -> Finished {
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR).args(args);
    run(&mut cmd).unwrap()
}

#[test]
fn node_spawn_streams_data_events_and_reports_a_missing_program_as_an_error_event() {
    if !labkit::require_tool("node") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "abc").unwrap();
    std::fs::write(dir.path().join("b.txt"), "12345").unwrap();
    let done = node(&["spawn.js", &dir.path().to_string_lossy()]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node spawn.js")
    );
    assert!(
        done.stdout.contains("error event: ENOENT"),
        "{}",
        done.stdout
    );
    let _g = Redactor::new()
        .pattern(
            r"parent pid=\d+ started ls pid=\d+",
            "parent pid=[NODE] started ls pid=[LS]",
        )
        .pattern(r"data event, \d+ bytes", "data event, [N] bytes")
        .pattern(r"total \d+", "total [BLOCKS]")
        // ls -l's owner, group and date columns.
        .pattern(
            r"(?m)^(-\S+ +\d+) +\S+ +\S+ +(\d+) .{12} ",
            "$1 [USER] [GROUP] $2 [DATE] ",
        )
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "node_spawn",
        done.transcript("node spawn.js /tmp/two-files")
    );
}

#[test]
fn node_exec_over_max_buffer_terms_the_shell_only_and_its_sleep_lives_on() {
    if !labkit::require_tool("node") {
        return;
    }
    let _sweep = Sweep(MARKER);
    let done = node(&["exec.js"]);
    assert!(done.status.success(), "{}", done.transcript("node exec.js"));
    assert!(
        done.stdout
            .contains("sleep 31.4159 is still running, orphaned=true"),
        "{}",
        done.stdout
    );
    // The shell that ignored SIGTERM made the callback wait for its `sleep 2`.
    assert!(
        done.stdout.contains("callback after >= 2 s: true"),
        "{}",
        done.stdout
    );
    let _g = Redactor::new()
        .pattern(r"v\d+\.\d+\.\d+", "v[VERSION]")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("node_exec", done.transcript("node exec.js"));
}

#[test]
fn node_exec_file_keeps_the_name_literal_and_exec_runs_the_touch() {
    if !labkit::require_tool("node") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let done = node(&["exec-file.js", &dir.path().to_string_lossy()]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node exec-file.js")
    );
    assert!(dir.path().join("MARKER").exists());
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_exec_file",
        done.transcript("mkdir /tmp/inject-node && node exec-file.js /tmp/inject-node")
    );
}

#[test]
fn node_fork_starts_a_fresh_node_process_with_a_channel() {
    if !labkit::require_tool("node") {
        return;
    }
    let done = node(&["fork-parent.js"]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node fork-parent.js")
    );
    let first = done.stdout_lines()[0].to_string();
    let pids: Vec<u32> = first
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [parent, child] = pids[..] else {
        panic!("{first}")
    };
    let node_path = done
        .stdout
        .split("\"argv0\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let _g = Redactor::new()
        .id(parent, "PARENT")
        .id(child, "CHILD")
        .text(&node_path, "NODE")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("node_fork", done.transcript("node fork-parent.js"));
}

#[test]
fn node_detached_and_a_negative_pid_kill_the_whole_group() {
    if !labkit::require_tool("node") {
        return;
    }
    let _sweep = Sweep("29.9792");
    let done = node(&["exec-group.js"]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node exec-group.js")
    );
    let lines = done.stdout_lines();
    assert_eq!(
        lines.get(1).copied(),
        Some("over 65536 bytes; sleep 29.9792 running: true"),
        "{}",
        done.stdout
    );
    assert_eq!(
        lines.last().copied(),
        Some("sleep 29.9792 running: false"),
        "{}",
        done.stdout
    );
    assert_eq!(sleepers("29.9792"), Vec::<u32>::new());
    let shell: u32 = lines[0]
        .split(|c: char| !c.is_ascii_digit())
        .find_map(|n| n.parse().ok())
        .unwrap();
    let _g = Redactor::new().id(shell, "SH").settings().bind_to_scope();
    insta::assert_snapshot!("node_exec_group", done.transcript("node exec-group.js"));
}

#[test]
fn node_programs_refuse_bad_input_in_one_line() {
    if !labkit::require_tool("node") {
        return;
    }
    for (args, expected) in [
        (&["spawn.js"][..], "spawn.js: usage: node spawn.js DIR\n"),
        (
            &["exec-file.js"][..],
            "exec-file.js: usage: node exec-file.js DIR (an existing, empty directory)\n",
        ),
        (
            &["exec-file.js", "/no/such/dir"][..],
            "exec-file.js: usage: node exec-file.js DIR (an existing, empty directory)\n",
        ),
    ] {
        let done = node(args);
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(done.stderr, expected, "{args:?}");
    }
    // A working directory that does not exist: libuv's chdir fails in the child, and Node
    // reports it as `spawn ls ENOENT`, as if `ls` were missing.
    let done = node(&["spawn.js", "/no/such/dir"]);
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(
        done.stdout_lines()[1],
        "ls: error event: ENOENT (spawn ls ENOENT)"
    );
}
