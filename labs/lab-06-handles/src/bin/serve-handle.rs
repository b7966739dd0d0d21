//! Chapter 6 demo: a Rust child of a Node parent (`node/send-server.js`) that receives a
//! listening socket over its IPC channel and serves HTTP on it. It never calls `bind` or
//! `listen`: the socket was made by Node.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lab_06::{HandleChannel, HandleKind, Incoming, fd_target, is_nonblocking};
use serde_json::json;

/// Wait for a net.Server on the IPC channel (NODE_CHANNEL_FD), ack it, serve HTTP on it
/// until the parent disconnects. Start it from Node with stdio [..., 'ipc'].
#[derive(Parser)]
struct Args {}

// ANCHOR: main
fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut channel = HandleChannel::from_env()?;
    let pid = std::process::id();
    let handle = match channel.recv()? {
        Some(Incoming::Handle(h)) if h.kind == HandleKind::Server => h, // acked already
        Some(Incoming::Handle(h)) => {
            return Err(format!("expected a net.Server, got a {}", h.kind.node_name()).into());
        }
        Some(Incoming::Message(m)) => {
            return Err(format!("expected a net.Server, got the plain message {m}").into());
        }
        None => return Err("expected a net.Server, but the channel closed".into()),
    };
    let (fd, target) = (handle.fd.as_fd(), fd_target(handle.fd.as_fd()));
    let number = fd.as_raw_fd();
    println!(
        "rust child pid={pid}: got {} as fd {number} -> {target}",
        handle.msg
    );
    let nonblocking = is_nonblocking(fd)?;
    let listener = handle.into_listener().map_err(|_| "not a listener")?;
    listener.set_nonblocking(false)?; // a blocking accept loop below
    println!("rust child: O_NONBLOCK was {nonblocking}, now cleared; serving");
    channel.send(&json!({ "serving": true, "pid": pid }))?;
    std::thread::spawn(move || serve(listener, pid));
    // The parent's disconnect (end of file on the channel) ends the program.
    while channel.recv()?.is_some() {}
    println!("rust child: parent disconnected, exiting");
    Ok(())
}

fn serve(listener: TcpListener, pid: u32) {
    for conn in listener.incoming().flatten() {
        // A thread per client: a slow one does not hold up the others.
        std::thread::spawn(move || answer(conn, pid)); // a client that went away: its problem
    }
}

/// At most this many bytes of request line and headers, and this long to send them.
const MAX_HEADER: u64 = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

fn answer(mut conn: TcpStream, pid: u32) -> std::io::Result<()> {
    conn.set_read_timeout(Some(READ_TIMEOUT))?; // read_line fails with WouldBlock after it
    let mut reader = BufReader::new(conn.try_clone()?.take(MAX_HEADER));
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if !line.ends_with('\n') {
            // The cap cut the headers short, or the client closed mid-request.
            let status = "431 Request Header Fields Too Large";
            return write!(conn, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        }
        if line == "\r\n" || line == "\n" {
            break; // the empty line that ends the headers
        }
    }
    let body = format!("hello from {pid}");
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
// ANCHOR_END: main

fn main() -> ExitCode {
    Args::parse();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve-handle: {e}");
            ExitCode::FAILURE
        }
    }
}
