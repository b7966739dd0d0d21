//! Chapter 1 tests, Node.js side: `process.title` rewrites the argv area in place (never
//! more bytes than the original arguments took, minus one) and calls prctl; we read
//! /proc/PID/comm and cmdline from outside, before and after.

use std::io::Write;
use std::process::Stdio;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, proc};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

/// `node set-title.js` run in the node folder, so the argv area is "node\0set-title.js\0"
/// (18 bytes, room for a 17-byte title). Returns the transcript and the title read back.
fn run_node_title(title: &str) -> (String, String) {
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR)
        .env("TITLE", title)
        .arg("set-title.js")
        .stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let pid = child.pid();
    let mut stdin = child.take_stdin().unwrap();
    let mut lines = child.stdout_lines();
    let outside = || {
        format!(
            "--- seen from outside\n/proc/{pid}/comm:    {}\n/proc/{pid}/cmdline: {}",
            String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/comm")).unwrap())
                .trim_end(),
            proc::cmdline(pid).unwrap().join(" | ")
        )
    };
    lines.wait_for("ready pid=", DEFAULT_TIMEOUT).unwrap();
    let before = outside();
    let shown_so_far = lines.history().len();
    stdin.write_all(b"\n").unwrap();
    lines.wait_for("ready (press", DEFAULT_TIMEOUT).unwrap();
    let after = outside();
    stdin.write_all(b"\n").unwrap();
    assert!(child.wait().unwrap().success());
    let history = lines.history();
    let read_back = history
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("process.title: "))
        .unwrap()
        .to_string();
    let transcript = format!(
        "$ TITLE={title} node set-title.js\n{}\n{before}\n--- Enter\n{}\n{after}",
        history[..shown_so_far].join("\n"),
        history[shown_so_far..].join("\n"),
    );
    let redacted = Redactor::new().id(pid, "CHILD").apply(&transcript);
    (redacted, read_back)
}

#[test]
fn node_title_is_capped_by_the_argv_area_and_comm_by_15_bytes() {
    if !labkit::require_tool("node") {
        return;
    }
    let (transcript, read_back) = run_node_title("node-worker-long-title");
    // 18 bytes of argv area hold 17 bytes of title; the kernel's comm holds 15.
    assert_eq!(read_back, "node-worker-long-");
    let _guard = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_title", transcript);
}

#[test]
fn node_title_cut_can_split_a_character() {
    if !labkit::require_tool("node") {
        return;
    }
    // 16 ASCII bytes, then 'é' (2 bytes): the 17-byte cap keeps half of it, and
    // process.title reads the half back as U+FFFD.
    let (_, read_back) = run_node_title("node-worker-longé");
    assert_eq!(read_back, "node-worker-long\u{fffd}");
}

#[test]
fn node_t_js_has_room_for_a_9_byte_title_in_both_names() {
    if !labkit::require_tool("node") {
        return;
    }
    // The quiz's case: `node t.js` leaves "node\0t.js\0", 10 bytes, for the title.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.js"),
        "process.title = 'payment-worker-eu';\n\
         console.log(process.title);\n\
         process.stdout.write(require('fs').readFileSync('/proc/self/comm'));\n",
    )
    .unwrap();
    let mut cmd = demo("node");
    cmd.current_dir(dir.path()).arg("t.js");
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(finished.stdout_lines(), ["payment-w", "payment-w"]);
}
