//! Chapter 5 demo: Node's fork_compute in Rust. The parent starts itself again as a child
//! with a channel at fd 3, sends `{"cmd":"start","upto":N}`; the child computes
//! 1 + 2 + … + N and replies `{"sum":S}`; the parent sends `{"cmd":"stop"}` and reaps it.
//! `--crash` makes the child die (SIGKILL) halfway through writing its reply.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode};

use clap::Parser;
use lab_05::compute::{self, Reply, sum_range, sum_upto};
use lab_05::{Channel, spawn_with_channel};
use nix::sys::signal::{Signal, raise};

/// Fork a child with a channel, have it compute a sum, and reap it.
#[derive(Parser)]
struct Args {
    /// Sum the numbers 1 to N (at most 1000000000).
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(..=compute::MAX_RANGE))]
    upto: u64,
    /// The child dies halfway through writing its reply.
    #[arg(long)]
    crash: bool,
    /// Run as the child (the parent passes this).
    #[arg(long, hide = true)]
    child: bool,
}

fn wire(msg: &impl serde::Serialize) -> String {
    serde_json::to_string(msg).unwrap_or_default()
}

// ANCHOR: child
fn child(crash: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut channel = Channel::from_env()?;
    while let Some(cmd) = channel.recv::<compute::Command>()? {
        match cmd {
            compute::Command::Start { upto } => {
                let fd3 = std::fs::read_link("/proc/self/fd/3").unwrap_or_default();
                println!(
                    "child:  pid={} got start; fd 3 is {}",
                    std::process::id(),
                    fd3.display()
                );
                let sum = sum_upto(upto).ok_or("the range is too long to add up")?;
                let reply = Reply { sum };
                if crash {
                    let line = wire(&reply);
                    let half = &line.as_bytes()[..line.len() / 2];
                    let shown = String::from_utf8_lossy(half);
                    println!(
                        "child:  writes {shown} ({} of {} bytes), then dies",
                        half.len(),
                        line.len() + 1
                    );
                    std::io::stdout().flush()?;
                    channel.get_ref().write_all(half)?;
                    let _ = raise(Signal::SIGKILL);
                }
                channel.send(&reply)?;
            }
            compute::Command::Range { from, to } => {
                let sum = sum_range(from, to).ok_or("the range is too long to add up")?;
                channel.send(&Reply { sum })?;
            }
            compute::Command::Stop => break,
        }
    }
    Ok(())
}
// ANCHOR_END: child

// ANCHOR: parent
fn parent(upto: u64, crash: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("--child");
    if crash {
        cmd.arg("--crash");
    }
    let (mut child, mut channel) = spawn_with_channel(cmd)?;
    println!(
        "parent: pid={} started child pid={}",
        std::process::id(),
        child.id()
    );
    let start = compute::Command::Start { upto };
    println!("parent -> child: {}", wire(&start));
    channel.send(&start)?;
    match channel.recv::<Reply>() {
        Ok(Some(reply)) => println!("child -> parent: {}", wire(&reply)),
        Ok(None) => println!("parent: the child closed the channel without replying"),
        Err(e) => println!("parent: recv failed: {e}"),
    }
    let stop = compute::Command::Stop;
    match channel.send(&stop) {
        Ok(()) => println!("parent -> child: {}", wire(&stop)),
        Err(e) => println!("parent: cannot send stop: {e}"),
    }
    let status = child.wait()?;
    match (status.code(), status.signal()) {
        (Some(code), _) => println!("parent: child exited with code {code}"),
        (None, Some(sig)) => println!("parent: child killed by signal {sig}"),
        _ => println!("parent: child ended: {status}"),
    }
    Ok(())
}
// ANCHOR_END: parent

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.child {
        child(args.crash)
    } else {
        parent(args.upto, args.crash)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fork-compute: {e}");
            ExitCode::FAILURE
        }
    }
}
