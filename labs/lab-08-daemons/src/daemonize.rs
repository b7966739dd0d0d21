//! Chapter 8: `labd start`, the classic ("SysV") daemon of daemon(7).
//!
//! Three processes take part:
//! - the **starter**, the `labd start` that you typed. It creates the readiness pipe, forks,
//!   and then blocks reading the pipe until the daemon reports.
//! - the **session leader** (the starter's child). It calls `setsid`, which makes it the
//!   leader of a new session and a new process group with no controlling terminal, takes
//!   the pid file's lock, forks once more and exits at once.
//! - the **daemon** (the grandchild). It is in the new session but does not lead it, so it
//!   can never acquire a controlling terminal by opening one. Its parent exited, so the
//!   kernel re-parents it to init or to the nearest subreaper. It sets up and then writes
//!   `ok PID` (or its error) into the pipe.
//!
//! `fork` copies only the calling thread, so this must run while the process has one
//! thread: the `labd` binary calls it before anything could start a thread.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, umask};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, chdir, dup2_stdin, fork, getpid, getppid, pipe2, setsid};

use crate::StateDir;
use crate::body::{self, Body, log};
use crate::pidfile::{self, Acquired, Content, PidFile};

/// How long `start` keeps trying when the pid file is locked but names no process that
/// holds it: long enough for any `status` or `stop` that looks at the file, far shorter
/// than a person notices.
pub const START_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// What the starter learned from the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new daemon runs with this pid.
    Started(u32),
    /// One was already running, with this pid; nothing was started.
    AlreadyRunning(u32),
}

/// Options of the daemon's body.
#[derive(Debug, Clone)]
pub struct Options {
    pub interval: std::time::Duration,
    pub ignore_term: bool,
}

/// The number of threads of this process, from /proc/self/task.
fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

// ANCHOR: start
/// Run by the starter: fork off a daemon and wait until it reports. Returns the daemon's
/// answer, or its error as text.
pub fn start(state: &StateDir, opts: &Options) -> Result<Started, String> {
    let threads = thread_count().map_err(|e| format!("cannot count threads: {e}"))?;
    if threads != 1 {
        return Err(format!(
            "start must fork from a single thread, not {threads}"
        ));
    }
    let starter = getpid();
    // O_CLOEXEC: no program we might exec later inherits the pipe.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    io::stdout().flush().ok(); // the child would print our buffered output again
    // SAFETY: one thread (checked above), so the child's copy of every lock is unlocked.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(read_end);
            session_leader(state, opts, write_end, starter)
        }
        ForkResult::Parent { child } => {
            drop(write_end); // else our own copy would keep the pipe open: no EOF, ever
            let mut report = String::new();
            let read = File::from(read_end).read_to_string(&mut report);
            // The session leader exits right after its fork: reap it, or it stays a zombie.
            let _ = waitpid(child, None);
            read.map_err(|e| format!("reading the readiness pipe: {e}"))?;
            parse_report(&report)
        }
    }
}
// ANCHOR_END: start

/// The one line the daemon (or the session leader) writes into the pipe.
fn parse_report(report: &str) -> Result<Started, String> {
    let line = report.lines().next().unwrap_or("");
    if let Some(pid) = line.strip_prefix("ok ") {
        pid.parse()
            .map(Started::Started)
            .map_err(|_| format!("bad report {line:?}"))
    } else if let Some(pid) = line.strip_prefix("already ") {
        pid.parse()
            .map(Started::AlreadyRunning)
            .map_err(|_| format!("bad report {line:?}"))
    } else if let Some(error) = line.strip_prefix("error ") {
        Err(error.to_string())
    } else {
        Err("the daemon exited before it reported (no readiness message)".to_string())
    }
}

/// Write a report into the readiness pipe. One `write` of a short line to a pipe is
/// atomic (below PIPE_BUF, 4096 bytes).
fn report(pipe: &OwnedFd, line: &str) {
    let _ = nix::unistd::write(pipe, format!("{line}\n").as_bytes());
}

/// Report an error and end this process without running anything of the starter's (no
/// atexit handlers, no buffered output flushed twice).
fn fail(pipe: &OwnedFd, message: &str) -> ! {
    report(pipe, &format!("error {message}"));
    // SAFETY: _exit is always safe to call; it ends the process at once.
    unsafe { libc::_exit(1) }
}

// ANCHOR: session_leader
/// The starter's child: new session, the pid file's lock, second fork.
fn session_leader(state: &StateDir, opts: &Options, ready: OwnedFd, starter: Pid) -> ! {
    // A new session and process group, and no controlling terminal. setsid fails (EPERM)
    // in a process group leader; a fresh child never is one.
    if let Err(e) = setsid() {
        fail(&ready, &format!("setsid: {e}"));
    }
    let leader = getpid();
    // Take the lock here, before the second fork: a lock belongs to the open file
    // description, which the daemon inherits, so the daemon holds it once we exit.
    let pid_file = match pidfile::acquire_patiently(&state.pid_file(), START_PATIENCE) {
        Ok(Acquired::Locked(pid_file)) => pid_file,
        Ok(Acquired::Taken(Some(pid))) => {
            report(&ready, &format!("already {pid}"));
            // SAFETY: see `fail`.
            unsafe { libc::_exit(0) }
        }
        Ok(Acquired::Taken(None)) => fail(
            &ready,
            &format!(
                "{} stayed locked for {} ms by no process that it names (another labd starting?)",
                state.pid_file().display(),
                START_PATIENCE.as_millis()
            ),
        ),
        Err(e) => fail(
            &ready,
            &format!("cannot open {}: {e}", state.pid_file().display()),
        ),
    };
    // SAFETY: still one thread.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => daemon(state, opts, ready, pid_file, starter, leader),
        // The daemon has its copies of the pipe and the locked pid file: leave.
        // SAFETY: see `fail`.
        Ok(ForkResult::Parent { .. }) => unsafe { libc::_exit(0) },
        Err(e) => fail(&ready, &format!("second fork: {e}")),
    }
}
// ANCHOR_END: session_leader

// ANCHOR: daemon
/// The grandchild: the daemon itself.
fn daemon(
    state: &StateDir,
    opts: &Options,
    ready: OwnedFd,
    mut pid_file: PidFile,
    starter: Pid,
    leader: Pid,
) -> ! {
    // Our parent exits right after the fork. Wait until the kernel has re-parented us, so
    // that every line we log shows the parent we will keep.
    while getppid() == leader {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    umask(Mode::empty()); // file modes below are exactly what we ask for
    if let Err(e) = chdir("/") {
        give_up(pid_file, &ready, &format!("chdir /: {e}")); // don't keep a mount point busy
    }
    let keep = [ready.as_raw_fd(), pid_file_fd(&pid_file)];
    if let Err(e) = close_inherited_fds(&keep) {
        give_up(pid_file, &ready, &format!("closing inherited fds: {e}"));
    }
    let null = File::open("/dev/null").and_then(|null| Ok(dup2_stdin(&null)?));
    if let Err(e) = null {
        give_up(pid_file, &ready, &format!("/dev/null as stdin: {e}"));
    }
    let log_path = state.log_file();
    if let Err(e) = body::open_log(&log_path) {
        give_up(
            pid_file,
            &ready,
            &format!("cannot open log {}: {e}", log_path.display()),
        );
    }
    let me = getpid();
    if let Err(e) = pid_file.write_pid(me.as_raw() as u32) {
        give_up(pid_file, &ready, &format!("cannot write the pid file: {e}"));
    }
    let signals = match body::route_signals(opts.ignore_term) {
        Ok(signals) => signals,
        Err(e) => give_up(pid_file, &ready, &format!("signals: {e}")),
    };
    match pid_file.stale {
        Content::Pid(stale) => log(&format!(
            "took over a stale pid file (pid {stale}: its lock was free)"
        )),
        Content::Garbage => log("took over a pid file that held no valid pid (its lock was free)"),
        Content::Empty => {}
    }
    log(&format!(
        "daemon pid={me} started by {starter}, forked by session leader {leader}, now ppid={}",
        getppid()
    ));
    report(&ready, &format!("ok {me}"));
    drop(ready); // the starter reads EOF and exits
    let body = Body {
        interval: opts.interval,
        log_path: Some(log_path),
    };
    let code = body.run(&signals);
    // Remove the name but keep the locked fd: `exit` runs no destructors, so the lock is
    // released by the kernel as the process ends, not a moment before.
    let _ = pid_file.remove();
    std::process::exit(code)
}
// ANCHOR_END: daemon

fn pid_file_fd(pid_file: &PidFile) -> RawFd {
    pid_file.raw_fd()
}

/// The daemon failed after the session leader took the lock: remove the pid file if we
/// created it (a stale one stays for the next start to take over), then report.
fn give_up(pid_file: PidFile, ready: &OwnedFd, message: &str) -> ! {
    if pid_file.stale == Content::Empty {
        let _ = pid_file.remove();
    }
    fail(ready, &format!("daemon pid={}: {message}", getpid()))
}

// ANCHOR: close_fds
/// Close every fd above 2 except those in `keep`: whatever the starter inherited (an
/// open socket, a pipe to a terminal multiplexer) would otherwise stay open for the
/// daemon's whole life. `close_range(2)` (Linux 5.9) closes a range in one call; on an
/// older kernel we list /proc/self/fd instead.
pub fn close_inherited_fds(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd > 2).collect();
    keep.sort_unstable();
    let mut first = 3;
    for &k in keep.iter().chain(std::iter::once(&RawFd::MAX)) {
        if k > first {
            // SAFETY: closes fds by number; nothing else in this process owns them.
            let r = unsafe { libc::close_range(first as u32, (k - 1) as u32, 0) };
            if r == -1 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::ENOSYS) {
                    return Err(err);
                }
                return close_by_listing(&keep);
            }
        }
        first = k.saturating_add(1);
    }
    Ok(())
}

fn close_by_listing(keep: &[RawFd]) -> io::Result<()> {
    let open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect(); // the listing's own fd is closed once collect returns
    for fd in open.into_iter().filter(|fd| *fd > 2 && !keep.contains(fd)) {
        // SAFETY: as above; EBADF (the listing's closed fd) is ignored.
        unsafe { libc::close(fd) };
    }
    Ok(())
}
// ANCHOR_END: close_fds
