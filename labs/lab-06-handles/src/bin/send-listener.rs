//! Chapter 6 demo: a Rust parent binds a listener, sends it to a Node child
//! (`node/serve.js`) over the IPC channel, closes its own copy once acked, and then
//! talks HTTP to the child through the socket it made.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use lab_06::{HandleChannel, HandleKind, Incoming, fd_target};
use serde_json::{Value, json};

const SERVE_JS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node/serve.js");
/// How long the child may take to ack the listener.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Send a listening socket to `node node/serve.js` and get HTTP answers from it.
#[derive(Parser)]
struct Args {}

// ANCHOR: main
fn run() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let target = fd_target(listener.as_fd());
    println!(
        "rust parent pid={}: listening on {addr}, fd {} -> {target}",
        std::process::id(),
        listener.as_raw_fd()
    );
    let mut node = Command::new("node");
    node.arg(SERVE_JS);
    let (mut child, channel) = lab_05::spawn_with_channel(node)
        .map_err(|e| format!("cannot start `node` (is Node.js on PATH?): {e}"))?;
    let mut channel = HandleChannel::new(channel.into_inner());
    // The channel owns the fd now and closes it when the child acks.
    let fd = OwnedFd::from(listener);
    println!(
        "send net.Server: {:?}",
        channel.send_handle(HandleKind::Server, "server", fd, None)?
    );
    println!(
        "send a plain message: {:?}",
        channel.send(&json!("sent after it"))?
    );
    channel.wait_ack_timeout(ACK_TIMEOUT)?; // a child that never answers is an error
    println!(
        "acked; our copy is closed, queued messages: {}",
        channel.queued()
    );
    for _ in 0..2 {
        // In the order they arrive: Node answers the handle before it sees the queued
        // message, which we wrote only after its ack.
        match channel.recv()? {
            Some(Incoming::Message(m)) => println!("node child says {m}"),
            Some(Incoming::Handle(h)) => return Err(format!("unexpected {:?}", h.kind).into()),
            None => return Err("node closed the channel".into()),
        }
    }
    let ours = std::fs::read_dir("/proc/self/fd")?
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.display().to_string() == target))
        .count();
    println!("fds of ours -> {target}: {ours}");
    for _ in 0..2 {
        println!("GET / -> {}", get(addr)?);
    }
    channel.disconnect()?; // Node's 'disconnect': the child closes the server and exits
    println!("node exited: {}", child.wait()?);
    Ok(())
}
// ANCHOR_END: main

/// One HTTP/1.1 request; the status line's code and the body.
fn get(addr: SocketAddr) -> std::io::Result<Value> {
    let mut conn = TcpStream::connect(addr)?;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw)?;
    let status = raw.split(' ').nth(1).unwrap_or("?").to_string();
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok(json!({ "status": status, "body": body }))
}

fn main() -> ExitCode {
    Args::parse();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("send-listener: {e}");
            ExitCode::FAILURE
        }
    }
}
