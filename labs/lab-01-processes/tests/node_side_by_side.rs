//! Chapter 1 tests, Node.js side: the same experiments run with `node`, so the chapter's
//! comparisons are checked, not just claimed. Where `node` is not on PATH these tests say
//! so on stderr and pass without checking anything; CI has Node.js.

use std::io::Write;
use std::process::{Command, Stdio};

use lab_01::exit::describe;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, proc};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

fn have_node() -> bool {
    let found = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("node is not on PATH: the Node.js side of chapter 1 is not checked");
    }
    found
}

#[test]
fn node_exit_listeners_run_on_exit_and_throw_but_not_on_a_signal() {
    if !have_node() {
        return;
    }
    let mut runs = Vec::new();
    for how in ["return", "exit", "throw", "signal"] {
        let mut cmd = demo("node");
        cmd.arg(format!("{NODE_DIR}/exit-paths.js"))
            .args(["--how", how]);
        let mut child = ChildGuard::spawn(&mut cmd).unwrap();
        let mut stdout = child.stdout_lines();
        let status = child.wait().unwrap();
        let lines = stdout.rest(DEFAULT_TIMEOUT).unwrap();
        runs.push(format!(
            "$ node exit-paths.js --how {how}\n{}\n=> {}",
            lines.join("\n"),
            describe(status)
        ));
    }
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_exit_paths", runs.join("\n\n"));
}

#[test]
fn node_process_title_changes_both_comm_and_cmdline() {
    if !have_node() {
        return;
    }
    let mut cmd = demo("node");
    cmd.arg(format!("{NODE_DIR}/set-title.js"))
        .arg("node-worker-long-title")
        .stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    child
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    let pid = child.pid();
    let seen = format!(
        "/proc/[PID]/comm:    {}\n/proc/[PID]/cmdline: {}",
        proc::comm(pid).unwrap(),
        proc::cmdline(pid).unwrap().join(" | ")
    );
    child.take_stdin().unwrap().write_all(b"done\n").unwrap();
    assert!(child.wait().unwrap().success());
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_title", seen);
}
