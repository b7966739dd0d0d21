//! Chapter 4 demo: the pipe deadlock, proven and bounded, and its fix.
//!
//! The child is `cat`, which copies its stdin to its stdout. The parent writes `--bytes`
//! bytes to it. Naively (the default) it writes everything before reading anything; a
//! watchdog thread looks at both pipes and, once both are full, knows that neither side
//! can ever move again: it kills the child and reports. With `--threaded` a second thread
//! writes while the main thread reads, and every byte comes back.
//!
//! `./target/debug/pipe-deadlock --bytes 1048576` and `… --threaded`

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_04::cli;
use lab_04::pipes::{Fill, Probe, blocked_syscall, feed_naive, feed_threaded};

/// Send bytes through `cat`: naively (deadlocks on big inputs) or with a writer thread.
#[derive(Parser)]
struct Args {
    /// How many bytes to send through the child (at most 1 GiB: the input is held in memory).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(0..=1 << 30))]
    bytes: u64,
    /// Write stdin from a thread of its own while reading stdout (the fix).
    #[arg(long)]
    threaded: bool,
    /// Give up on proving a deadlock after this many milliseconds (then kill anyway).
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

fn main() {
    let args: Args = cli::parse("pipe-deadlock");
    let input = vec![b'x'; args.bytes as usize];
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| cli::fail("pipe-deadlock", format!("cannot start cat: {e}")));
    if args.threaded {
        let output =
            feed_threaded(&mut child, input).unwrap_or_else(|e| cli::fail("pipe-deadlock", e));
        let status = child
            .wait()
            .unwrap_or_else(|e| cli::fail("pipe-deadlock", e));
        println!(
            "threaded: wrote {} bytes and read {} back while writing; cat exited with code {}",
            args.bytes,
            output.len(),
            status.code().unwrap_or(-1)
        );
        return;
    }
    let written = Arc::new(AtomicUsize::new(0));
    let watchdog = {
        let probe = Probe::new(&child).unwrap_or_else(|e| cli::fail("pipe-deadlock", e));
        let pid = child.id();
        let timeout = Duration::from_millis(args.timeout_ms);
        thread::spawn(move || watch(probe, pid, timeout))
    };
    let result = feed_naive(&mut child, &input, &written);
    let verdict = watchdog.join().expect("watchdog panicked");
    let status = child
        .wait()
        .unwrap_or_else(|e| cli::fail("pipe-deadlock", e));
    let written = written.load(Ordering::Relaxed);
    match (result, verdict) {
        (Ok(output), _) => println!(
            "naive: wrote {} bytes, then read {} back; cat exited with code {}",
            args.bytes,
            output.len(),
            status.code().unwrap_or(-1)
        ),
        (Err(e), Verdict::Deadlock(fill)) => {
            println!(
                "naive: deadlocked after writing {written} of {} bytes",
                args.bytes
            );
            println!(
                "watchdog: stdin pipe holds {} of {} bytes, stdout pipe {} of {}: both full",
                fill.stdin.0, fill.stdin.1, fill.stdout.0, fill.stdout.1
            );
            println!(
                "watchdog: cat is blocked in write(1, ...), waiting for us to read its stdout;"
            );
            println!(
                "watchdog: we are blocked in write(stdin), waiting for cat to read: killed cat"
            );
            println!("naive: {}; our write then failed: {e}", outcome(status));
            std::process::exit(1);
        }
        (Err(e), Verdict::TimedOut) => cli::fail(
            "pipe-deadlock",
            format!(
                "no deadlock proven within {} ms, killed cat; write failed: {e}",
                args.timeout_ms
            ),
        ),
        (Err(e), Verdict::Finished) => cli::fail("pipe-deadlock", e),
    }
}

/// What the watchdog found.
enum Verdict {
    /// Both pipes full and cat blocked writing its stdout: nobody can ever move again.
    Deadlock(Fill),
    /// Cat left its read loop (it got to the end of its input): no deadlock.
    Finished,
    /// Neither within the time-out; the child was killed anyway.
    TimedOut,
}

/// Poll both pipes until they are both full with cat blocked in `write(1, …)` (a proven
/// deadlock: kill cat), until cat no longer has a stdin (it finished), or until the
/// time-out passes (kill cat anyway, so the demo always ends).
fn watch(probe: Probe, pid: u32, timeout: Duration) -> Verdict {
    let started = Instant::now();
    loop {
        if stdin_gone(pid) {
            return Verdict::Finished;
        }
        let fill = probe.fill();
        if let Ok(fill) = fill
            && fill.deadlocked()
            && child_blocked_writing_stdout(pid)
        {
            drop(probe); // our extra reader must not keep the parent's write blocked
            let _ = kill(pid);
            return Verdict::Deadlock(fill);
        }
        if started.elapsed() > timeout {
            drop(probe);
            let _ = kill(pid);
            return Verdict::TimedOut;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn child_blocked_writing_stdout(pid: u32) -> bool {
    matches!(blocked_syscall(pid), Ok((n, 1)) if n == libc::SYS_write)
}

/// Cat has no stdin any more: it read to the end and exited (or is exiting).
fn stdin_gone(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/fd/0")).is_err()
}

fn kill(pid: u32) -> nix::Result<()> {
    use nix::sys::signal::{Signal, kill};
    kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL)
}

fn outcome(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("cat exited with code {code}"),
        (None, Some(9)) => "cat was killed by SIGKILL".to_string(),
        (None, Some(sig)) => format!("cat was killed by signal {sig}"),
        _ => format!("cat ended: {status}"),
    }
}
