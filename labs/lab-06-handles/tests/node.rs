//! Chapter 6 tests against real Node: (a) a Node parent sends a net.Server to the Rust
//! child serve-handle, which serves HTTP on it; (b) the Rust parent send-listener sends
//! a listener to a Node child, which serves on it.

use std::io::{Read, Write};
use std::process::Stdio;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo};

/// The repository root, where the book's commands are typed.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The number after `prefix` in `line`.
fn number_after(line: &str, prefix: &str) -> u32 {
    let rest = &line[line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {line}"))
        + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

/// The inodes of listening TCP sockets on `port`, from /proc/net/tcp (state 0A = LISTEN).
fn listening_inodes(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f[1].ends_with(&local) && f[3] == "0A")
        .map(|f| f[9].to_string())
        .collect()
}

#[test]
fn a_node_parent_sends_a_server_and_the_rust_child_serves_it() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo("node");
    cmd.current_dir(ROOT)
        .arg("labs/lab-06-handles/node/send-server.js")
        .arg(env!("CARGO_BIN_EXE_serve-handle"))
        .stdin(Stdio::piped());
    let mut node = ChildGuard::spawn(&mut cmd).unwrap();
    let stdin = node.take_stdin();
    let mut lines = node.stdout_lines();
    let child_line = lines.wait_for("rust child pid=", DEFAULT_TIMEOUT).unwrap();
    let child = number_after(&child_line, "pid=");
    let ready = lines
        .wait_for("node parent closed its copy", DEFAULT_TIMEOUT)
        .unwrap();
    let port = number_after(&ready, "127.0.0.1:") as u16;
    let addr = format!("127.0.0.1:{port}").parse().unwrap();

    // A client that sends half a request and waits does not hold up the others.
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    // The child serves: three requests, three answers from its pid.
    let mut observed = vec!["a client sent half a request and waits; meanwhile:".to_string()];
    for _ in 0..3 {
        let response = labkit::http::get(addr, "/").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, format!("hello from {child}"));
        observed.push(format!("GET / -> {} {:?}", response.status, response.body));
    }
    // Headers longer than the cap (8 KiB, no end in sight) get 431, not an endless read.
    let mut big = std::net::TcpStream::connect(addr).unwrap();
    big.write_all(&[b'a'; 8192]).unwrap(); // exactly the cap: the child reads it all
    let mut answer = String::new();
    big.read_to_string(&mut answer).unwrap();
    let status_line = answer.lines().next().unwrap_or("").to_string();
    assert_eq!(status_line, "HTTP/1.1 431 Request Header Fields Too Large");
    observed.push(format!("8192 bytes without a newline -> {status_line}"));
    drop(slow);
    // One listening socket on that port, held by the child only (Node closed its copy).
    let inodes = listening_inodes(port);
    assert_eq!(inodes.len(), 1, "{inodes:?}");
    let socket = format!("socket:[{}]", inodes[0]);
    let holders = |pid: u32| -> Vec<u32> {
        let fds = labkit::proc::fds(pid).unwrap();
        fds.into_iter()
            .filter(|(_, t)| *t == socket)
            .map(|(n, _)| n)
            .collect()
    };
    let (in_node, in_child) = (holders(node.pid()), holders(child));
    assert!(in_node.is_empty(), "node closed its copy: {in_node:?}");
    assert_eq!(in_child.len(), 1);
    assert!(
        child_line.contains(&socket),
        "the child got that very socket: {child_line}"
    );
    observed.push(format!(
        "listening sockets on 127.0.0.1:{port} in /proc/net/tcp: {}",
        inodes.len()
    ));
    observed.push(format!("node parent fds -> {socket}: {in_node:?}"));
    observed.push(format!("rust child fds -> {socket}: {in_child:?}"));

    drop(stdin); // end of Node's stdin: it disconnects, the child exits
    lines.rest(DEFAULT_TIMEOUT).unwrap();
    let status = node.wait().unwrap();
    assert!(status.success());
    let history = lines.history().join("\n");
    assert!(history.contains("O_NONBLOCK was true"), "{history}");
    assert!(history.ends_with("child exited with code 0"), "{history}");
    let parent_fd = number_after(&history, ", fd ");
    assert_ne!(parent_fd, in_child[0], "one socket, two numbers");

    let redactor = Redactor::new()
        .id(node.pid(), "NODE")
        .id(child, "CHILD")
        .pattern(r"(node parent[^\n]*, fd )\d+", "${1}[NODE-FD]")
        .numbered(r"socket:\[\d+\]", "SOCKET");
    let _g = Redactor::plain_settings().bind_to_scope();
    // One text, so that [SOCKET-1] is the same socket in both snapshots.
    let text = redactor.apply(&format!(
        "$ node labs/lab-06-handles/node/send-server.js target/debug/serve-handle\n{history}\n\
         => {}\n---\n{}\n",
        labkit::run::outcome(status),
        observed.join("\n")
    ));
    let (transcript, seen) = text.split_once("---\n").unwrap();
    insta::assert_snapshot!("node_sends_server", transcript);
    insta::assert_snapshot!("node_sends_server_observed", seen);
}

#[test]
fn a_rust_parent_sends_a_listener_and_the_node_child_serves_it() {
    if !labkit::require_tool("node") {
        return;
    }
    let finished = labkit::run(&mut demo(env!("CARGO_BIN_EXE_send-listener"))).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let out = &finished.stdout;
    let node = number_after(out, "hello from node ");
    assert!(out.contains(&format!(r#""pid":{node}"#)), "{out}");
    assert_eq!(out.matches(r#""status":"200""#).count(), 2, "{out}");
    assert!(out.contains("send a plain message: Queued"), "{out}");
    assert!(
        out.contains(": 0\n"),
        "our copy is closed after the ack: {out}"
    );
    // As they arrived: Node answered the handle before the message queued behind it.
    let got = out.find(r#""got":"server""#).unwrap();
    let echo = out.find(r#""echo":"sent after it""#).unwrap();
    assert!(got < echo, "{out}");
    let parent_fd = number_after(out, ", fd ");
    assert_ne!(
        parent_fd,
        number_after(out, r#""fd":"#),
        "one socket, two numbers"
    );
    // The Rust parent's fd and Node's fd name the same socket.
    let first = out.find("socket:[").unwrap();
    let inode = &out[first..first + out[first..].find(']').unwrap() + 1];
    assert!(out[first + 1..].contains(inode), "{out}");

    let redactor = Redactor::new()
        .id(node, "NODE")
        .pattern(r#""fd":\d+"#, r#""fd":[NODE-FD]"#)
        .numbered(r"socket:\[\d+\]", "SOCKET");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "rust_sends_listener",
        redactor.apply(&finished.transcript("./target/debug/send-listener"))
    );
}
