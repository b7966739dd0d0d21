//! Chapter 5 tests, Node.js side: libuv's stdio 'pipe' is a socketpair; a Node parent
//! talks to the Rust echo-child; a Rust parent talks to a Node child; real Node on a
//! malformed line.

use std::process::Stdio;

use labkit::{Redactor, demo};

/// The repository root, where the book's commands are typed.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn node_stdio_pipes_are_socketpairs() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo("node");
    cmd.current_dir(ROOT)
        .arg("labs/lab-05-ipc/node/stdio-kind.js");
    let node = labkit::run(&mut cmd).unwrap();
    assert!(node.status.success(), "{node:?}");
    assert_eq!(
        node.stdout.matches("socket:[").count(),
        3,
        "fd 0, 1 and 3 are sockets: {node:?}"
    );
    // A shell's `|` is a real pipe(2), for comparison.
    let mut shell = demo("sh");
    shell.args(["-c", "true | readlink /proc/self/fd/0"]);
    let shell = labkit::run(&mut shell).unwrap();
    assert!(shell.stdout.starts_with("pipe:["), "{shell:?}");
    // Numbered: three different sockets, one per fd.
    let redactor = Redactor::new().numbered(r"socket:\[\d+\]", "SOCKET");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_stdio_kind",
        redactor.apply(&format!(
            "{}\n{}",
            node.transcript("node labs/lab-05-ipc/node/stdio-kind.js"),
            shell.transcript("true | readlink /proc/self/fd/0")
        ))
    );
}

#[test]
fn a_node_parent_talks_to_the_rust_echo_child() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo("node");
    cmd.current_dir(ROOT)
        .arg("labs/lab-05-ipc/node/parent.js")
        .arg(env!("CARGO_BIN_EXE_echo-child"));
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert!(
        finished
            .stdout
            .contains("child exited: { code: 0, signal: null }")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_parent_rust_child",
        finished.transcript("node labs/lab-05-ipc/node/parent.js target/debug/echo-child")
    );
}

#[test]
fn a_rust_parent_talks_to_a_node_child() {
    if !labkit::require_tool("node") {
        return;
    }
    let finished = labkit::run(&mut demo(env!("CARGO_BIN_EXE_to-node"))).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert!(
        finished
            .stdout
            .contains(r#"{"by":"node","n":3,"square":9}"#)
    );
    assert!(finished.stdout.ends_with("node exited with code 0\n"));
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "rust_parent_node_child",
        finished.transcript("./target/debug/to-node")
    );
}

/// Node's own stack frames and version line change between Node versions: keep the
/// first two frames (JSON.parse, called by Node's channel reader), without their line
/// numbers, and the error itself.
fn collapse_node_stack(stderr: &str) -> String {
    let line_numbers = regex::Regex::new(r":\d+:\d+\)").unwrap();
    let mut out = Vec::new();
    let mut frames = 0;
    for line in stderr.lines() {
        if line.trim_start().starts_with("at ") {
            frames += 1;
            if frames == 3 {
                out.push("    at … (more frames)".to_string());
            }
            if frames > 2 {
                continue;
            }
            out.push(line_numbers.replace(line, ":[LINE])").into_owned());
            continue;
        }
        if line.starts_with("Node.js v") {
            out.push("Node.js [VERSION]".to_string());
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

#[test]
fn real_node_dies_on_a_malformed_line_and_loses_the_next() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo(env!("CARGO_BIN_EXE_to-node"));
    cmd.arg("--malformed");
    let mut finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert!(finished.stderr.contains("SyntaxError"), "{finished:?}");
    assert!(
        finished.stdout.contains("no answer to {\"n\":2}"),
        "{finished:?}"
    );
    assert!(
        finished.stdout.ends_with("node exited with code 1\n"),
        "{finished:?}"
    );
    finished.stderr = collapse_node_stack(&finished.stderr);
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_child_malformed",
        finished.transcript("./target/debug/to-node --malformed")
    );
}

#[test]
fn the_same_bytes_to_the_rust_echo_child_lose_nothing() {
    // The Rust side of the comparison above: echo-child skips the bad line with a
    // message and answers the next one.
    let (mut child, mut ours) = {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_echo-child"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        lab_05::spawn_with_channel(cmd).unwrap()
    };
    use std::io::{Read, Write};
    let written = ours
        .get_ref()
        .write_all(b"{\"n\":1}\nnot json\n{\"n\":2}\n");
    // Receive both answers before any assertion, so that the child is always reaped.
    let first = ours.recv::<serde_json::Value>();
    let second = ours.recv::<serde_json::Value>();
    drop(ours); // end of file: echo-child exits
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    written.unwrap();
    assert_eq!(first.unwrap(), Some(serde_json::json!({"echo": {"n": 1}})));
    assert_eq!(second.unwrap(), Some(serde_json::json!({"echo": {"n": 2}})));
    assert!(status.success());
    assert!(
        stderr.contains("skipped: malformed message \"not json\""),
        "{stderr}"
    );
}

/// A Node program started with NODE_CHANNEL_FD=3 while its fd 3 is closed: what a Node
/// grandchild of a Rust child with a channel sees, unless the Rust child removed the
/// variable (`without_channel`). `3<&-` closes fd 3 whatever the test process has open.
#[test]
fn a_stale_node_channel_fd_kills_a_node_grandchild_unless_removed() {
    if !labkit::require_tool("node") {
        return;
    }
    let script = r#"exec node -e 'console.log("fd var:", process.env.NODE_CHANNEL_FD)' 3<&-"#;
    let inherited = || {
        let mut cmd = demo("sh");
        cmd.args(["-c", script])
            .env(lab_05::channel::CHANNEL_FD_VAR, "3")
            .env(lab_05::channel::SERIALIZATION_VAR, "json");
        cmd
    };
    let stale = labkit::run(&mut inherited()).unwrap();
    // Node's start-up finds no usable channel at fd 3 and aborts (SIGABRT).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(stale.status.signal(), Some(6), "{stale:?}");
    let mut cmd = inherited();
    lab_05::without_channel(&mut cmd);
    let clean = labkit::run(&mut cmd).unwrap();
    assert!(clean.status.success(), "{clean:?}");
    assert_eq!(clean.stdout, "fd var: undefined\n", "{clean:?}");
}
