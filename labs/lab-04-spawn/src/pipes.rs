//! Chapter 4: feeding a child's stdin while reading its stdout.
//!
//! A pipe holds 64 KiB by default (`F_GETPIPE_SZ`). A filter such as `cat` reads its input
//! and writes its output; when nobody reads that output, its stdout pipe fills, `cat`
//! blocks in `write`, stops reading, and then its stdin pipe fills too. A parent that
//! writes all of stdin before it reads any of stdout is now blocked in `write` as well:
//! each side waits for the other, forever. [`feed_naive`] is that parent; [`feed_threaded`]
//! is the fix; [`Probe`] proves the deadlock from the outside instead of guessing it from
//! a time-out.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

// ANCHOR: naive
/// Write all of `input` to the child's stdin, close it, then read its stdout to the end.
/// Correct for small inputs; deadlocks once the input and the output both exceed what
/// the two pipes and the child can hold. `written` counts the bytes that went in.
pub fn feed_naive(child: &mut Child, input: &[u8], written: &AtomicUsize) -> io::Result<Vec<u8>> {
    let mut stdin = child.stdin.take().expect("stdin is piped");
    for chunk in input.chunks(4096) {
        stdin.write_all(chunk)?; // blocks while the stdin pipe is full
        written.fetch_add(chunk.len(), Ordering::Relaxed);
    }
    drop(stdin);
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_end(&mut output)?;
    Ok(output)
}
// ANCHOR_END: naive

// ANCHOR: threaded
/// Write stdin on a thread of its own while this thread reads stdout, so neither pipe
/// can stay full. (This is what Node's event loop does for you, and what
/// `Child::wait_with_output` does not: it closes stdin before reading.)
pub fn feed_threaded(child: &mut Child, input: Vec<u8>) -> io::Result<Vec<u8>> {
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = thread::spawn(move || stdin.write_all(&input)); // stdin closes when done
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_end(&mut output)?;
    writer.join().expect("the writer thread panicked")?;
    Ok(output)
}
// ANCHOR_END: threaded

/// Bytes waiting in a pipe (`ioctl(FIONREAD)`, which works on either end).
pub fn unread_bytes(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int to the pointer we pass.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// How many bytes a pipe can hold (`fcntl(F_GETPIPE_SZ)`).
pub fn pipe_capacity(fd: RawFd) -> io::Result<usize> {
    // SAFETY: F_GETPIPE_SZ takes no argument and only reads the pipe's size.
    let rc = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

/// The system call a process is blocked in, from `/proc/PID/syscall`: its number and
/// first argument (for `write`, number 1 on x86-64, the fd).
pub fn blocked_syscall(pid: u32) -> io::Result<(i64, i64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall"))?;
    let mut fields = text.split_whitespace();
    let number = fields.next().and_then(|n| n.parse().ok());
    let arg0 = fields
        .next()
        .and_then(|a| i64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
    match (number, arg0) {
        (Some(n), Some(a)) => Ok((n, a)),
        _ => Err(io::Error::other(format!(
            "not blocked in a system call: {}",
            text.trim()
        ))),
    }
}

/// Looks at both pipes of a child from another thread while the parent's main thread
/// may be blocked on one of them. It holds fds of its own: a copy (`dup`) of our read end
/// of the child's stdout, and the child's read end of its stdin, opened again through
/// `/proc/PID/fd/0`. Extra *readers* never delay an end of file (that waits for the
/// writers), but one would keep a blocked writer blocked after the child died: drop the
/// probe before killing the child.
#[derive(Debug)]
pub struct Probe {
    stdin: std::fs::File,
    stdout: std::os::fd::OwnedFd,
}

/// Both pipes as the probe saw them: bytes waiting and capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub stdin: (usize, usize),
    pub stdout: (usize, usize),
}

impl Fill {
    /// Both pipes full: the child cannot write, so it does not read; we cannot write.
    pub fn deadlocked(&self) -> bool {
        self.stdin.0 >= self.stdin.1 && self.stdout.0 >= self.stdout.1
    }
}

impl Probe {
    /// A probe on the child's stdin and stdout pipes (both must be piped).
    pub fn new(child: &Child) -> io::Result<Probe> {
        use std::os::fd::AsFd;
        let stdout = child.stdout.as_ref().expect("stdout is piped");
        Ok(Probe {
            stdin: std::fs::File::open(format!("/proc/{}/fd/0", child.id()))?,
            stdout: stdout.as_fd().try_clone_to_owned()?,
        })
    }

    /// How full both pipes are now.
    pub fn fill(&self) -> io::Result<Fill> {
        let (stdin, stdout) = (self.stdin.as_raw_fd(), self.stdout.as_raw_fd());
        Ok(Fill {
            stdin: (unread_bytes(stdin)?, pipe_capacity(stdin)?),
            stdout: (unread_bytes(stdout)?, pipe_capacity(stdout)?),
        })
    }
}

/// How a two-program pipeline ended, and what the second program printed.
#[derive(Debug)]
pub struct PipelineOutput {
    pub first: std::process::ExitStatus,
    pub second: std::process::ExitStatus,
    pub stdout: Vec<u8>,
}

/// `first | second` without a shell: the first program's stdout becomes the second's
/// stdin, and the second's stdout is collected. Both are waited for.
pub fn pipeline(
    first: &mut std::process::Command,
    second: &mut std::process::Command,
) -> io::Result<PipelineOutput> {
    // EXERCISE: connect the two programs with a pipe, like `first | second` in a shell,
    // without starting a shell; collect the second's stdout and both exit statuses. Make
    // sure the second sees end of file when the first ends (who else holds the write end?).
    // BEGIN SOLUTION
    use std::process::Stdio;
    let mut upstream = first.stdout(Stdio::piped()).spawn()?;
    let pipe = upstream.stdout.take().expect("stdout is piped");
    // `Stdio::from(pipe)` stays inside `second` after the spawn: the Command keeps the read
    // end until its stdin is replaced. Replace it at once, or the first program never gets
    // EPIPE when the second stops reading (`yes | head -n 1` would never end).
    let downstream = second
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::piped())
        .spawn();
    second.stdin(Stdio::null());
    let downstream = match downstream {
        Ok(d) => d,
        Err(e) => {
            let _ = upstream.kill();
            let _ = upstream.wait();
            return Err(e);
        }
    };
    let out = downstream.wait_with_output()?;
    let first = upstream.wait()?;
    Ok(PipelineOutput {
        first,
        second: out.status,
        stdout: out.stdout,
    })
    // END SOLUTION
}
