//! Chapter 4 demo: starting a program that does not exist. With `posix_spawn` (what
//! `Command` uses) the error comes back from `spawn` itself and no child is left. With
//! `pre_exec`, std falls back to fork + exec, and still reports the exec's error from
//! `spawn` (the child sends its errno back over a close-on-exec pipe). Through a shell,
//! the shell starts fine and then exits with 127.
//!
//! `./target/debug/spawn-missing` (or `--program NAME`)

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};

use clap::Parser;
use lab_04::cli;
use lab_04::forking::own_children;

/// Try to start a missing program three ways and report what each one says.
#[derive(Parser)]
struct Args {
    /// The program to try (it should not exist).
    #[arg(long, default_value = "no-such-program")]
    program: String,
}

fn children() -> String {
    match own_children() {
        Ok(c) if c.is_empty() => "none".to_string(),
        Ok(c) => format!("{c:?}"),
        Err(e) => format!("unknown ({e})"),
    }
}

/// How a child that did start ended, in words.
fn ended(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => match s.code() {
            Some(code) => format!("exited with code {code}"),
            None => format!("ended: {s}"),
        },
        Err(e) => format!("could not be waited for: {e}"),
    }
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("spawn-missing");
    let program = args.program.as_str();

    match Command::new(program).spawn() {
        Ok(mut child) => println!("posix_spawn: {program} exists; it {}", ended(child.wait())),
        Err(e) => println!("posix_spawn: spawn() failed: kind {:?}: {e}", e.kind()),
    }
    println!("  children of this process: {}", children());

    let mut forced = Command::new(program);
    // SAFETY: the closure does nothing; its presence alone makes std fork and exec.
    unsafe { forced.pre_exec(|| Ok(())) };
    match forced.spawn() {
        Ok(mut child) => println!("fork+exec: {program} exists; it {}", ended(child.wait())),
        Err(e) => println!("fork+exec: spawn() failed: kind {:?}: {e}", e.kind()),
    }
    println!("  children of this process: {}", children());

    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(program)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| cli::fail("spawn-missing", e));
    match String::from_utf8_lossy(&out.stderr).trim_end() {
        "" => println!("sh -c {program}: spawn() succeeded; nothing on stderr"),
        said => println!("sh -c {program}: spawn() succeeded; the shell said: {said}"),
    }
    println!("  and it {}", ended(Ok(out.status)));
}
// ANCHOR_END: main
