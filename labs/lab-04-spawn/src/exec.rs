//! Chapter 4, `exec` and `execFile`.
//!
//! Node's `exec(cmdline, {maxBuffer}, cb)` runs `/bin/sh -c cmdline` and collects all of
//! stdout and stderr in memory. Past `maxBuffer` bytes on either stream it fails with
//! `ERR_CHILD_PROCESS_STDIO_MAXBUFFER` and sends SIGTERM to the shell, and to nothing
//! else: whatever the shell started lives on. [`exec_shell`] does the same job, but starts
//! the shell as the leader of a new process group, and kills the whole group with SIGKILL
//! and reaps what it can: over the limit, and also when the shell ends, because the command
//! is done when the shell is done and whatever it left in its group goes with it.
//!
//! `execFile(file, args)` runs a program with an argument vector and no shell: nothing in
//! an argument is ever parsed as shell syntax. That is simply `Command::new(file).args(…)`.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// Node's default `maxBuffer` since v12: 1 MiB per stream.
pub const NODE_MAX_BUFFER: usize = 1024 * 1024;

/// What a command printed, and how it ended.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Which stream went over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

// ANCHOR: error
/// Why [`exec_shell`] failed.
#[derive(Debug)]
pub enum ExecError {
    /// The shell could not be started (no `/bin/sh`, out of processes …).
    Spawn(io::Error),
    /// Reading the pipes or waiting failed.
    Io(io::Error),
    /// One stream went over `limit` bytes. The process group `pgid` was killed and the
    /// shell reaped; `stdout` and `stderr` hold what arrived, cut at `limit`.
    MaxBuffer {
        stream: Stream,
        limit: usize,
        pgid: u32,
        shell: ExitStatus,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
}
// ANCHOR_END: error

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Spawn(e) => write!(f, "could not start /bin/sh: {e}"),
            ExecError::Io(e) => write!(f, "{e}"),
            ExecError::MaxBuffer {
                stream,
                limit,
                pgid,
                ..
            } => {
                let name = match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                write!(
                    f,
                    "{name} went over max_buffer ({limit} bytes): killed process group {pgid} and reaped the shell"
                )
            }
        }
    }
}

impl std::error::Error for ExecError {}

// ANCHOR: exec_shell
/// Run `cmdline` with `/bin/sh -c`, collect stdout and stderr (each at most `max_buffer`
/// bytes), and wait for the shell. The command is done when the shell is done: then, or
/// as soon as a stream goes over the limit, the shell's whole process group is killed and
/// reaped, so no background job outlives the call. Over the limit the result is
/// [`ExecError::MaxBuffer`]. (A process that left the group with `setsid` or `setpgid` is
/// out of reach; if it keeps our pipes open, the call waits for it.)
pub fn exec_shell(cmdline: &str, max_buffer: usize) -> Result<ExecOutput, ExecError> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmdline)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0) // the shell leads a new group; everything it starts joins it
        .spawn()
        .map_err(ExecError::Spawn)?;
    let pgid = Pid::from_raw(child.id() as i32);
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let shell = match pidfd_open(pgid) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = kill_and_reap_group(&mut child, pgid);
            return Err(ExecError::Spawn(e));
        }
    };
    match collect(stdout, stderr, max_buffer, &shell, pgid) {
        Ok(Collected::Done { stdout, stderr }) => {
            // Both pipes are closed, but the shell may still run (`exec >&-` closes its
            // stdout). Once it has exited, kill what it left behind in its group, and reap.
            wait_readable(&shell).map_err(ExecError::Io)?;
            let status = kill_and_reap_group(&mut child, pgid).map_err(ExecError::Io)?;
            Ok(ExecOutput {
                status,
                stdout,
                stderr,
            })
        }
        Ok(Collected::Over {
            stream,
            stdout,
            stderr,
        }) => {
            let shell = kill_and_reap_group(&mut child, pgid).map_err(ExecError::Io)?;
            Err(ExecError::MaxBuffer {
                stream,
                limit: max_buffer,
                pgid: pgid.as_raw() as u32,
                shell,
                stdout,
                stderr,
            })
        }
        Err(e) => {
            let _ = kill_and_reap_group(&mut child, pgid);
            Err(ExecError::Io(e))
        }
    }
}
// ANCHOR_END: exec_shell

// ANCHOR: kill_group
/// SIGKILL to every process in the group (the shell and all it started, or, once the
/// shell has exited, whatever it left behind), then reap the shell. Then reap any other member that became our child: when this process is a
/// child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), the shell's orphans are re-parented
/// to us, and `waitpid(-pgid)` collects them until none is left (ECHILD). Without it they
/// go to init, which reaps them.
fn kill_and_reap_group(child: &mut Child, pgid: Pid) -> io::Result<ExitStatus> {
    match killpg(pgid, Signal::SIGKILL) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => return Err(e.into()),
    }
    let shell = child.wait()?;
    loop {
        match waitpid(Pid::from_raw(-pgid.as_raw()), None) {
            Ok(_) => continue,
            Err(Errno::ECHILD) => return Ok(shell),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
// ANCHOR_END: kill_group

/// A pidfd for `pid` (Linux 5.3): it polls readable once the process has exited.
/// nix 0.31 has no wrapper, so this is the raw system call.
fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Block until `fd` polls readable (for a pidfd: until the process has exited; it is not
/// reaped, so its pid, and the group id, stay taken).
fn wait_readable(fd: &OwnedFd) -> io::Result<()> {
    loop {
        match poll(
            &mut [PollFd::new(fd.as_fd(), PollFlags::POLLIN)],
            PollTimeout::NONE,
        ) {
            Ok(n) if n > 0 => return Ok(()),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

enum Collected {
    Done {
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    Over {
        stream: Stream,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
}

// ANCHOR: collect
/// Read both pipes as data arrives (`poll` says which one is ready), so a child that
/// fills stderr while we wait on stdout cannot block. Also watch the shell's pidfd: when
/// the shell exits, kill its group, so that a background job holding our pipes (`sleep
/// 1000 &`) cannot keep us waiting. Stops at end of file on both pipes, or as soon as one
/// stream passes `limit`.
fn collect(
    mut out: ChildStdout,
    mut err: ChildStderr,
    limit: usize,
    shell: &OwnedFd,
    pgid: Pid,
) -> io::Result<Collected> {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let (mut out_open, mut err_open, mut shell_running) = (true, true, true);
    let mut buf = vec![0u8; 64 * 1024];
    while out_open || err_open {
        let mut fds = Vec::new();
        if out_open {
            fds.push(PollFd::new(out.as_fd(), PollFlags::POLLIN));
        }
        if err_open {
            fds.push(PollFd::new(err.as_fd(), PollFlags::POLLIN));
        }
        if shell_running {
            fds.push(PollFd::new(shell.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let mut ready = ready.into_iter();
        if out_open && ready.next() == Some(true) {
            let n = out.read(&mut buf)?;
            out_open = n > 0;
            stdout.extend_from_slice(&buf[..n]);
        }
        if err_open && ready.next() == Some(true) {
            let n = err.read(&mut buf)?;
            err_open = n > 0;
            stderr.extend_from_slice(&buf[..n]);
        }
        if shell_running && ready.next() == Some(true) {
            // The shell exited: what is still running in its group was left behind.
            shell_running = false;
            match killpg(pgid, Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let over = if stdout.len() > limit {
            Some(Stream::Stdout)
        } else if stderr.len() > limit {
            Some(Stream::Stderr)
        } else {
            None
        };
        if let Some(stream) = over {
            stdout.truncate(limit);
            stderr.truncate(limit);
            return Ok(Collected::Over {
                stream,
                stdout,
                stderr,
            });
        }
    }
    Ok(Collected::Done { stdout, stderr })
}
// ANCHOR_END: collect

// ANCHOR: exec_file
/// `execFile(program, args)`: no shell, each argument reaches the program exactly as
/// given, as one element of its `argv`.
pub fn exec_file(program: &str, args: &[&str]) -> io::Result<ExecOutput> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    Ok(ExecOutput {
        status: out.status,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}
// ANCHOR_END: exec_file

/// Quote `arg` for `/bin/sh` so that the shell passes it on as one literal argument, for
/// the rare case where a shell is really needed (a pipeline in a command line) and a
/// value must be spliced into it.
pub fn shell_quote(arg: &str) -> String {
    // EXERCISE: quote `arg` for POSIX sh: the result must reach the program as exactly
    // the bytes of `arg` (spaces, `;`, `$`, backquotes, quotes, newlines and all).
    // BEGIN SOLUTION
    // Inside single quotes nothing is special except the closing quote itself: end the
    // quoted part, add an escaped quote, open a new quoted part.
    format!("'{}'", arg.replace('\'', r"'\''"))
    // END SOLUTION
}
