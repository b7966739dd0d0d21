//! Chapter 4 demo: `spawn` with pipes. The parent starts a child (this same program with
//! `--child`), asks it for a line, reads the answer while the child keeps running, and
//! only then asks for the next one.
//!
//! `./target/debug/stream --rounds 3`

use clap::Parser;
use lab_04::cli;
use lab_04::stream::{Event, answer_each_line, converse};
use std::process::Command;

/// Ask a child for lines one at a time and print each answer as it arrives.
#[derive(Parser)]
struct Args {
    /// How many lines to ask for.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    rounds: u16,
    /// Be the child: answer every line of stdin with one line on stdout.
    #[arg(long, hide = true)]
    child: bool,
}

fn main() {
    let args: Args = cli::parse("stream");
    if args.child {
        if let Err(e) = answer_each_line() {
            cli::fail("stream (child)", e);
        }
        return;
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| cli::fail("stream", e));
    println!("parent: pid={}", std::process::id());
    let status = converse(
        Command::new(exe).arg("--child"),
        args.rounds.into(),
        |event| match event {
            Event::Asked(k) => println!("parent: asked for line {k}"),
            Event::Got {
                line,
                child_running,
            } => {
                let state = if child_running {
                    "still running"
                } else {
                    "already exited"
                };
                println!("parent: got {line:?} (the child is {state})");
            }
        },
    )
    .unwrap_or_else(|e| cli::fail("stream", e));
    println!("parent: closed the child's stdin; it {}", describe(status));
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended: {status}"),
    }
}
