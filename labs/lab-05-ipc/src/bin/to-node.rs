//! Chapter 5 demo: a Rust parent, a Node child (`node/child.js`), one channel. The child
//! uses nothing but `process.on('message')` and `process.send`. `--malformed` sends a
//! line that is not JSON, to show what real Node does with it.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode};

use clap::Parser;
use lab_05::spawn_with_channel;
use serde_json::{Value, json};

const CHILD_JS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node/child.js");

/// Start `node node/child.js` with a channel at fd 3 and exchange messages with it.
#[derive(Parser)]
struct Args {
    /// After the first message, send the bytes `not json\n{"n":2}\n`.
    #[arg(long)]
    malformed: bool,
}

// ANCHOR: main
fn run(malformed: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut node = Command::new("node");
    node.arg(CHILD_JS);
    let (mut child, mut channel) = spawn_with_channel(node)?;
    let mut ask = |n: u64| -> Result<Option<Value>, lab_05::ChannelError> {
        println!("rust parent -> node: {}", json!({ "n": n }));
        channel.send(&json!({ "n": n }))?;
        channel.recv()
    };
    println!("rust parent got {}", ask(1)?.unwrap_or_default());
    if malformed {
        println!("rust parent -> node: raw bytes \"not json\\n{{\\\"n\\\":2}}\\n\"");
        channel.get_ref().write_all(b"not json\n{\"n\":2}\n")?;
        match channel.recv::<Value>()? {
            Some(reply) => println!("rust parent got {reply}"),
            None => println!("rust parent: channel closed, no answer to {{\"n\":2}}"),
        }
    } else {
        for n in 2..=3 {
            println!("rust parent got {}", ask(n)?.unwrap_or_default());
        }
    }
    drop(channel); // Node sees 'disconnect'
    let status = child.wait()?;
    match (status.code(), status.signal()) {
        (Some(code), _) => println!("node exited with code {code}"),
        (_, sig) => println!("node killed by signal {sig:?}"),
    }
    Ok(())
}
// ANCHOR_END: main

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args.malformed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("to-node: {e}");
            ExitCode::FAILURE
        }
    }
}
