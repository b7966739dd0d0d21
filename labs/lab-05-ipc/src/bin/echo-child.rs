//! Chapter 5 demo: a Rust child for a Node parent. It takes the channel Node made
//! (`NODE_CHANNEL_FD`), answers every message `m` with `{"echo": m}`, and exits 0 when
//! the parent disconnects. `node labs/lab-05-ipc/node/parent.js target/debug/echo-child`

use std::process::ExitCode;

use clap::Parser;
use lab_05::Channel;
use serde_json::{Value, json};

/// Answer every message m on the IPC channel at NODE_CHANNEL_FD with {"echo": m}.
#[derive(Parser)]
struct Args {}

// ANCHOR: main
fn main() -> ExitCode {
    Args::parse();
    let mut channel = match Channel::from_env() {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!("echo-child: {e} (start me from Node with stdio [.., .., .., 'ipc'])");
            return ExitCode::from(2);
        }
    };
    loop {
        match channel.recv::<Value>() {
            Ok(Some(msg)) => {
                if let Err(e) = channel.send(&json!({ "echo": msg })) {
                    eprintln!("echo-child: {e}");
                    return ExitCode::FAILURE;
                }
            }
            Ok(None) => return ExitCode::SUCCESS, // the parent disconnected
            Err(e) if e.is_recoverable() => eprintln!("echo-child: skipped: {e}"),
            Err(e) => {
                eprintln!("echo-child: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
}
// ANCHOR_END: main
