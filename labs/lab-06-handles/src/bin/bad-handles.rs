//! Chapter 6 demo: each way a handle can go wrong, played over a socketpair in this one
//! process: one end is our `HandleChannel`, the other a raw socket that writes exactly
//! the bytes and fds of each case, then shows what came back.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

use clap::Parser;
use lab_06::scm::send_fds;
use lab_06::{HandleChannel, HandleKind};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Send bad envelopes and fds to a HandleChannel and print its typed errors.
#[derive(Parser)]
struct Args {}

const ENVELOPE: &[u8] = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":\"x\"}\n";

fn pair() -> std::io::Result<(HandleChannel, UnixStream)> {
    let (a, b) = lab_05::socket_pair()?;
    let raw = UnixStream::from(b);
    raw.set_nonblocking(true)?; // to show "nothing" instead of waiting for it
    Ok((HandleChannel::from(a), raw))
}

/// What the channel wrote back to the raw end, if anything.
fn answer(raw: &UnixStream) -> String {
    let mut buf = [0u8; 512];
    match (&*raw).read(&mut buf) {
        Ok(n) => format!("{:?}", String::from_utf8_lossy(&buf[..n])),
        Err(_) => "nothing".to_string(),
    }
}

// ANCHOR: cases
fn run() -> Result<(), Box<dyn std::error::Error>> {
    let null = File::open("/dev/null")?;
    let cases: [(&str, &[u8], usize); 4] = [
        ("envelope without an fd", ENVELOPE, 0),
        ("three fds, room for one", ENVELOPE, 3),
        ("an fd with a plain message", b"{\"plain\":true}\n", 1),
        (
            "unknown type",
            b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"msg\":null}\n",
            1,
        ),
    ];
    for (name, bytes, nfds) in cases {
        let (mut channel, raw) = pair()?;
        send_fds(raw.as_fd(), bytes, &vec![null.as_fd(); nfds])?;
        println!("{name}:");
        println!("  recv  -> {}", show(channel.recv()));
        println!("  peer got {}", answer(&raw));
    }
    // Room for three fds in the buffer, but one free fd number under RLIMIT_NOFILE: the
    // kernel installs one, closes the other two and sets MSG_CTRUNC, as for a short buffer.
    let (channel, raw) = pair()?;
    let mut channel = channel.with_max_fds(3);
    send_fds(
        raw.as_fd(),
        ENVELOPE,
        &[null.as_fd(), null.as_fd(), null.as_fd()],
    )?;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let lowest_free = null.try_clone()?.as_raw_fd(); // closed again at once
    setrlimit(Resource::RLIMIT_NOFILE, lowest_free as u64 + 1, hard)?;
    let result = channel.recv();
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard)?;
    println!("three fds, room for three, one free fd number:");
    println!("  recv  -> {}", show(result));
    println!("  peer got {}", answer(&raw));
    // A receiver that always nacks: the sender resends three times, then gives up.
    let (mut sender, raw) = pair()?;
    sender.send_handle(HandleKind::Server, "x", null.try_clone()?.into(), None)?;
    (&raw).write_all(&b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n".repeat(4))?;
    println!("four nacks:");
    println!("  wait_ack -> {}", show(sender.wait_ack()));
    Ok(())
}
// ANCHOR_END: cases

fn show<T: std::fmt::Debug>(result: Result<T, lab_06::HandleError>) -> String {
    match result {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("{} error: {e}", e.kind()),
    }
}

fn main() -> ExitCode {
    Args::parse();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bad-handles: {e}");
            ExitCode::FAILURE
        }
    }
}
