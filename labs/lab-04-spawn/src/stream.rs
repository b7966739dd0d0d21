//! Chapter 4, `spawn`: talk to a running child through its stdin and stdout.
//!
//! Node's `spawn` hands you `child.stdout` as a stream whose `'data'` events arrive while
//! the child runs. In Rust the same pipe is a [`std::process::ChildStdout`]: reading it
//! blocks until the child has written something, so each line can be handled the moment it
//! is written, not after the child has ended.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, ExitStatus, Stdio};

/// What the parent saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The parent wrote request `k` to the child's stdin.
    Asked(usize),
    /// The parent read this line from the child's stdout; `child_running` says whether the
    /// child was still alive at that moment (not yet exited, so the line was streamed).
    Got { line: String, child_running: bool },
}

// ANCHOR: converse
/// Start `cmd` with both pipes, then `rounds` times: write `k` on a line of its stdin and
/// read one line back. Every event goes to `log` as it happens. Closing stdin at the end
/// is the child's signal to finish.
pub fn converse(
    cmd: &mut Command,
    rounds: usize,
    mut log: impl FnMut(Event),
) -> io::Result<ExitStatus> {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let talk = (1..=rounds).try_for_each(|k| {
        // ChildStdin has no buffer of its own: the line is in the pipe when this returns.
        writeln!(stdin, "{k}")?;
        log(Event::Asked(k));
        let mut line = String::new();
        if stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "child closed stdout",
            ));
        }
        let child_running = child.try_wait()?.is_none();
        log(Event::Got {
            line: line.trim_end().to_string(),
            child_running,
        });
        Ok(())
    });
    drop(stdin); // end of file: the child's read loop ends
    if let Err(e) = talk {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    child.wait()
}
// ANCHOR_END: converse

// ANCHOR: answer
/// The child's side: answer every line of stdin with one line on stdout, until end of
/// file. `println!` on a pipe is flushed at each newline: Rust's stdout is line-buffered
/// whatever it is connected to.
pub fn answer_each_line() -> io::Result<usize> {
    let pid = std::process::id();
    let mut answered = 0;
    for line in io::stdin().lock().lines() {
        let line = line?;
        answered += 1;
        println!("tick {} from the child (pid={pid})", line.trim());
    }
    Ok(answered)
}
// ANCHOR_END: answer
