//! Chapter 6 tests of Node's resend against real Node: a Node child sends an accepted
//! socket to us and we answer NODE_HANDLE_NACK. Node resends the envelope wrapped again
//! (`type` "net.Native", `msg` the first envelope), gives up after three resends with a
//! SentHandleNotReceivedWarning, and only then lets the queued message out. Our
//! `HandleChannel` unwraps such a resend and acks it once.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use lab_06::envelope::envelope;
use lab_06::scm::recv_fds;
use lab_06::{HandleChannel, HandleKind, Incoming};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, LineReader, Redactor, demo};
use serde_json::json;

const SEND_SOCKET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node/send-socket.js");
const NACK: &[u8] = b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

/// `node send-socket.js` with its IPC channel at fd 3; our end of the channel.
fn start_node(args: &[&str]) -> (ChildGuard, LineReader, UnixStream) {
    let (ours, theirs) = lab_05::socket_pair().unwrap();
    let mut cmd = demo("node");
    cmd.arg("--no-warnings") // the 'warning' listener prints it to stdout instead
        .arg(SEND_SOCKET)
        .args(args)
        .env("NODE_CHANNEL_FD", "3");
    labkit::fd::place_fd(&mut cmd, theirs, 3);
    let mut node = ChildGuard::spawn(&mut cmd).unwrap();
    let lines = node.stdout_lines();
    let raw = UnixStream::from(ours);
    raw.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    (node, lines, raw)
}

/// One line from the raw end and the fds that came with it (closed at once). Node writes
/// each message with a write of its own and a read with fds stops at its end, so one
/// read is one line here.
fn read_line(raw: &UnixStream) -> (String, usize) {
    let mut buf = vec![0u8; 64 * 1024];
    let got = recv_fds(raw.as_fd(), &mut buf, 4).unwrap();
    let text = String::from_utf8_lossy(&buf[..got.bytes]).into_owned();
    assert!(
        text.ends_with('\n') && text.matches('\n').count() == 1,
        "{text:?}"
    );
    let fds: Vec<OwnedFd> = got.fds;
    (text.trim_end().to_string(), fds.len())
}

/// Whether anything is waiting to be read on `raw`, without blocking.
fn nothing_waiting(raw: &UnixStream) -> bool {
    raw.set_nonblocking(true).unwrap();
    let r = (&*raw).read(&mut [0u8; 1]);
    raw.set_nonblocking(false).unwrap();
    matches!(r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[test]
fn node_resends_a_nacked_socket_wrapped_as_net_native_three_times() {
    if !labkit::require_tool("node") {
        return;
    }
    let (mut node, mut lines, raw) = start_node(&[]);
    lines
        .wait_for("node sent the socket, then a message", DEFAULT_TIMEOUT)
        .unwrap();
    // Both send() calls returned, yet only the envelope was written: the message waits.
    let (line, fds) = read_line(&raw);
    assert!(nothing_waiting(&raw), "the message waits for the answer");
    // Our envelope for the same handle is Node's (the same JSON; key order aside).
    let ours = envelope(HandleKind::Socket, &json!("sock"), Some("4:127.0.0.1:0"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&line).unwrap(),
        ours
    );
    let mut wire = vec![format!("node -> us ({fds} fd): {line}")];
    for answer in 1..=4 {
        if answer > 1 {
            let (line, fds) = read_line(&raw);
            assert_eq!(fds, 1, "every send carries the fd: {line}");
            wire.push(format!("node -> us ({fds} fd): {line}"));
        }
        (&raw).write_all(NACK).unwrap();
        wire.push(format!("us -> node: NODE_HANDLE_NACK ({answer})"));
    }
    // After the fourth nack Node gives up, closes the socket and lets the queue go.
    let (after, fds) = read_line(&raw);
    assert_eq!((after.as_str(), fds), (r#"{"after":"sock"}"#, 0));
    wire.push(format!("node -> us ({fds} fd): {after}"));
    let warning = lines.wait_for("node warning", DEFAULT_TIMEOUT).unwrap();
    assert!(
        warning.contains("SentHandleNotReceivedWarning"),
        "{warning}"
    );
    // Node closed its copy on giving up, and ours are closed: the client sees the end.
    lines
        .wait_for("node client got end of file", DEFAULT_TIMEOUT)
        .unwrap();
    drop(raw); // Node's 'disconnect': it stops and exits
    lines.rest(DEFAULT_TIMEOUT).unwrap();
    let status = node.wait().unwrap();
    assert!(status.success(), "{status:?}");

    // The first send is the envelope; each resend wraps it again.
    let first: serde_json::Value =
        serde_json::from_str(&wire[0][wire[0].find('{').unwrap()..]).unwrap();
    assert_eq!(first["type"], "net.Socket");
    for resend in [2, 4, 6] {
        let line = &wire[resend];
        let value: serde_json::Value =
            serde_json::from_str(&line[line.find('{').unwrap()..]).unwrap();
        assert_eq!(
            value,
            json!({"cmd": "NODE_HANDLE", "type": "net.Native", "msg": first})
        );
    }

    let text = format!(
        "{}\n--- node's stdout\n{}\n=> {}\n",
        wire.join("\n"),
        lines.history().join("\n"),
        labkit::run::outcome(status)
    );
    // Nothing here varies: the key holds the port given to listen (0), not the one chosen.
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_resends_after_nacks", text);
}

#[test]
fn our_channel_takes_nodes_wrapped_resend_and_acks_it() {
    if !labkit::require_tool("node") {
        return;
    }
    let (mut node, mut lines, raw) = start_node(&[]);
    let (first, fds) = read_line(&raw); // the envelope; its fd closed at once
    assert_eq!(fds, 1);
    assert!(first.contains(r#""type":"net.Socket""#), "{first}");
    (&raw).write_all(NACK).unwrap(); // as if the fd had not arrived

    let mut channel = HandleChannel::new(raw);
    let handle = match channel.recv().unwrap() {
        Some(Incoming::Handle(h)) => h, // acked already
        other => panic!("expected the resent socket, got {other:?}"),
    };
    assert_eq!(handle.kind, HandleKind::Socket);
    assert_eq!(handle.msg, json!("sock"));
    let key = handle
        .key
        .clone()
        .expect("an accepted socket carries its server's key");
    assert_eq!(
        key, "4:127.0.0.1:0",
        "address type, address, port as given to listen"
    );
    // Our single ack released Node's queue.
    match channel.recv().unwrap() {
        Some(Incoming::Message(m)) => assert_eq!(m, json!({"after": "sock"})),
        other => panic!("expected the queued message, got {other:?}"),
    }
    // It is the very connection Node accepted: its client reads what we write.
    let mut stream = handle.into_stream().unwrap();
    stream.write_all(b"hello from rust").unwrap();
    lines
        .wait_for(r#"node client got "hello from rust""#, DEFAULT_TIMEOUT)
        .unwrap();
    drop(stream);
    drop(channel);
    lines.rest(DEFAULT_TIMEOUT).unwrap();
    assert!(node.wait().unwrap().success());
    let history = lines.history().join("\n");
    assert!(!history.contains("warning"), "acked: no warning: {history}");
}

#[test]
fn node_does_not_resend_a_nacked_server_and_lets_the_queue_go() {
    if !labkit::require_tool("node") {
        return;
    }
    let (mut node, mut lines, raw) = start_node(&["server"]);
    let (first, fds) = read_line(&raw);
    assert_eq!(
        (first.as_str(), fds),
        (
            r#"{"cmd":"NODE_HANDLE","type":"net.Server","msg":"srv"}"#,
            1
        )
    );
    (&raw).write_all(NACK).unwrap();
    // No resend: only net.Socket's postSend remembers what to send again.
    let (next, fds) = read_line(&raw);
    assert_eq!((next.as_str(), fds), (r#"{"after":"srv"}"#, 0));
    drop(raw);
    lines.rest(DEFAULT_TIMEOUT).unwrap();
    assert!(node.wait().unwrap().success());
    let history = lines.history().join("\n");
    assert!(!history.contains("warning"), "no warning either: {history}");
}

#[test]
fn a_node_receiver_acks_a_wrapped_resend_twice() {
    if !labkit::require_tool("node") {
        return;
    }
    use std::io::BufRead;
    let (ours, theirs) = lab_05::socket_pair().unwrap();
    let mut cmd = demo("node");
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/node/serve.js"))
        .env("NODE_CHANNEL_FD", "3");
    labkit::fd::place_fd(&mut cmd, theirs, 3);
    let mut node = ChildGuard::spawn(&mut cmd).unwrap();
    let raw = UnixStream::from(ours);
    raw.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    // What Node itself writes when it resends: the envelope wrapped as net.Native.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let inner = json!({"cmd": "NODE_HANDLE", "type": "net.Server", "msg": "server"});
    let wrapped = json!({"cmd": "NODE_HANDLE", "type": "net.Native", "msg": inner});
    let line = format!("{wrapped}\n");
    lab_06::scm::send_fds(raw.as_fd(), line.as_bytes(), &[listener.as_fd()]).unwrap();
    let mut answers = Vec::new();
    let mut reader = std::io::BufReader::new(&raw);
    while !answers
        .last()
        .is_some_and(|l: &String| l.contains("\"got\""))
    {
        let mut l = String::new();
        assert!(
            reader.read_line(&mut l).unwrap() > 0,
            "node closed: {answers:?}"
        );
        answers.push(l.trim_end().to_string());
    }
    assert_eq!(
        answers[..2],
        [
            r#"{"cmd":"NODE_HANDLE_ACK"}"#,
            r#"{"cmd":"NODE_HANDLE_ACK"}"#
        ],
        "one ack per envelope layer: {answers:?}"
    );
    assert_eq!(answers.len(), 3, "{answers:?}");
    drop(reader);
    drop(raw);
    assert!(node.wait().unwrap().success());
}
