//! Chapter 8: `labd supervise`, the new-style way (systemd, pm2).
//!
//! The supervised program does not fork itself away: it stays in the foreground as our
//! child, so we learn of its death from the kernel (SIGCHLD and `waitpid`) instead of from a
//! pid file. It says "ready" over systemd's notify protocol: we bind a datagram socket,
//! pass its path in `NOTIFY_SOCKET`, and it sends `READY=1\n`. When it crashes we restart
//! it after a delay that doubles each time, and give up after too many restarts within a
//! window. SIGTERM to us is forwarded to the child, and we wait for it.

use std::ffi::OsString;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, UnixCredentials, recvmsg, setsockopt, sockopt,
};
use nix::unistd::Pid;

use crate::StateDir;
use crate::body::log;

/// The restart policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Give up when a crash would need restart number `max_restarts + 1` within `window`.
    pub max_restarts: u32,
    pub window: Duration,
    /// The delay before the first restart; it doubles for each further one.
    pub backoff: Duration,
    /// The delay never grows beyond this.
    pub max_backoff: Duration,
}

// ANCHOR: backoff
/// The delay before restart number `n` (1, 2, 3 …): `backoff`, then twice that, four times
/// that …, capped at `max_backoff`.
pub fn backoff_delay(policy: &Policy, n: u32) -> Duration {
    let factor = 1u32 << n.saturating_sub(1).min(20);
    policy
        .backoff
        .saturating_mul(factor)
        .min(policy.max_backoff)
}

/// Count the restarts of the last `window`: a child that crashed three times an hour ago
/// and ran fine since starts again from the first, short delay.
fn restarts_in_window(starts: &mut Vec<Instant>, window: Duration, now: Instant) -> u32 {
    starts.retain(|t| now.duration_since(*t) < window);
    starts.push(now);
    starts.len() as u32
}
// ANCHOR_END: backoff

/// Removes the socket file when the supervisor ends, however it ends (but a SIGKILL).
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ANCHOR: notify_socket
/// Bind the notify socket and ask the kernel to attach the sender's credentials to every
/// datagram (SO_PASSCRED), so we know which process sent `READY=1` even though the
/// sender does not send them itself (sd-notify does not).
fn bind_notify_socket(path: &Path) -> io::Result<UnixDatagram> {
    let socket = bind_or_replace_stale(path)?;
    setsockopt(&socket, sockopt::PassCred, &true)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Bind `path`; if a socket file is already there, connect to it to see whether anybody
/// still listens. Nobody (ECONNREFUSED) means a supervisor ended without removing it (a
/// SIGKILL runs no `Drop`): remove it and bind again. Someone means another supervisor
/// uses this state dir: refuse.
fn bind_or_replace_stale(path: &Path) -> io::Result<UnixDatagram> {
    use std::os::unix::fs::FileTypeExt;
    let in_use = match UnixDatagram::bind(path) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => e,
        other => return other,
    };
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return Err(in_use);
    }
    match UnixDatagram::unbound()?.connect(path) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            log(&format!(
                "removed a stale {} (nobody listens on it)",
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
            std::fs::remove_file(path)?;
            UnixDatagram::bind(path)
        }
        Ok(()) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "another supervisor listens on it",
        )),
        Err(_) => Err(in_use),
    }
}

/// Read one datagram: its text and the pid of the process that sent it.
fn receive(socket: &UnixDatagram) -> io::Result<Option<(String, Option<i32>)>> {
    let mut buf = [0u8; 4096];
    let mut cmsg = nix::cmsg_space!(UnixCredentials);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = match recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    ) {
        Ok(msg) => msg,
        Err(nix::errno::Errno::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut sender = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmCredentials(cred) = c {
            sender = Some(cred.pid());
        }
    }
    let len = msg.bytes;
    Ok(Some((
        String::from_utf8_lossy(&buf[..len]).into_owned(),
        sender,
    )))
}
// ANCHOR_END: notify_socket

/// The exit status in words.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("was killed by {s}"),
            Err(_) => format!("was killed by signal {sig}"),
        },
        _ => format!("ended: {status}"),
    }
}

/// How one run of the child ended.
enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// We forwarded SIGTERM (or SIGINT) and it then exited.
    Stopped(ExitStatus),
}

/// Run `argv` under supervision until it exits cleanly, we are stopped, or we give up.
/// Returns the supervisor's exit code.
pub fn supervise(state: &StateDir, policy: &Policy, argv: &[OsString]) -> io::Result<u8> {
    // ANCHOR: supervise_setup
    let mut mask = SigSet::empty();
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGCHLD] {
        mask.add(sig);
    }
    mask.thread_block()?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let path = state.notify_socket();
    let socket = bind_notify_socket(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {}: {e}", path.display())))?;
    let _remove = SocketFile(path.clone());
    // ANCHOR_END: supervise_setup
    let mut starts = Vec::new();
    // ANCHOR: supervise_loop
    loop {
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .env("NOTIFY_SOCKET", &path)
            .stdout(Stdio::piped()); // we print its lines, as a journal would collect them
        unblock_signals_in_child(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {:?}: {e}", argv[0])))?;
        log(&format!("child started pid={}", child.id()));
        let ended = watch(&mut child, &signals, &socket)?;
        let (Ended::Exited(status) | Ended::Stopped(status)) = ended;
        log(&format!("child pid={} {}", child.id(), describe(status)));
        if let Ended::Stopped(_) = ended {
            return Ok(0);
        }
        if status.success() {
            log("child exited cleanly: not restarting");
            return Ok(0);
        }
        let n = restarts_in_window(&mut starts, policy.window, Instant::now());
        if n > policy.max_restarts {
            log(&format!(
                "giving up: {} restarts within {} ms",
                policy.max_restarts,
                policy.window.as_millis()
            ));
            return Ok(1);
        }
        let delay = backoff_delay(policy, n);
        log(&format!(
            "restart {n} of {} in {} ms",
            policy.max_restarts,
            delay.as_millis()
        ));
        if wait_or_stop(&signals, delay)? {
            log("stopped while waiting to restart");
            return Ok(0);
        }
    }
    // ANCHOR_END: supervise_loop
}

// ANCHOR: watch
/// Wait for the child to end, announcing its readiness and forwarding SIGTERM/SIGINT.
fn watch(child: &mut Child, signals: &SignalFd, socket: &UnixDatagram) -> io::Result<Ended> {
    let mut output = ChildOutput::new(child.stdout.take())?;
    let mut stopping = false;
    loop {
        let mut fds = vec![
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(socket.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(pipe) = output.fd() {
            fds.push(PollFd::new(pipe, PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        output.relay()?;
        while let Some((text, sender)) = receive(socket)? {
            // One datagram may carry several newline-separated assignments.
            if text.lines().any(|l| l == "READY=1") {
                // What the child wrote before it sent READY=1 is in the pipe by now (its
                // write returned before its send began): print it before "child ready".
                output.relay()?;
                let who = sender.map_or("?".to_string(), |p| p.to_string());
                log(&format!("child ready pid={who} (READY=1)"));
            }
        }
        while let Some(info) = signals.read_signal()? {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => {}
                Ok(sig) => {
                    log(&format!("got {sig}: forwarding it to pid={}", child.id()));
                    kill(Pid::from_raw(child.id() as i32), sig)?;
                    stopping = true;
                }
                Err(_) => {}
            }
        }
        // SIGCHLD may have merged with another, or come before we looked: just ask.
        if let Some(status) = child.try_wait()? {
            output.relay()?; // what it wrote before it exited is in the pipe now
            output.finish();
            return Ok(if stopping {
                Ended::Stopped(status)
            } else {
                Ended::Exited(status)
            });
        }
    }
}
// ANCHOR_END: watch

/// The child's stdout: read without blocking, printed line by line with a `| ` prefix.
struct ChildOutput {
    pipe: Option<std::fs::File>,
    partial: Vec<u8>,
}

impl ChildOutput {
    fn new(stdout: Option<std::process::ChildStdout>) -> io::Result<ChildOutput> {
        let pipe = match stdout {
            Some(stdout) => {
                let fd = std::os::fd::OwnedFd::from(stdout);
                let flags = OFlag::from_bits_retain(fcntl(&fd, FcntlArg::F_GETFL)?);
                fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
                Some(std::fs::File::from(fd))
            }
            None => None,
        };
        Ok(ChildOutput {
            pipe,
            partial: Vec::new(),
        })
    }

    fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.pipe.as_ref().map(|p| p.as_fd())
    }

    /// Print every complete line that is in the pipe now.
    fn relay(&mut self) -> io::Result<()> {
        let Some(pipe) = &mut self.pipe else {
            return Ok(());
        };
        let mut buf = [0u8; 4096];
        loop {
            match io::Read::read(pipe, &mut buf) {
                Ok(0) => {
                    self.pipe = None; // EOF
                    break;
                }
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            log(&format!("| {}", String::from_utf8_lossy(&line[..end])));
        }
        Ok(())
    }

    /// The child is gone: print a last line without its newline, if any.
    fn finish(&mut self) {
        if !self.partial.is_empty() {
            log(&format!("| {}", String::from_utf8_lossy(&self.partial)));
            self.partial.clear();
        }
    }
}

// ANCHOR: unblock
/// The blocked signal mask survives `fork` and `execve`, and std's `Command` leaves it as
/// it is (it resets only SIGPIPE's disposition): without this, the child would start with
/// SIGTERM blocked, and a `kill -TERM` would stay pending for ever.
fn unblock_signals_in_child(command: &mut Command) {
    // SAFETY: runs between fork and exec; sigprocmask is async-signal-safe, and the closure
    // allocates nothing.
    unsafe {
        command.pre_exec(|| {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            Ok(())
        });
    }
}
// ANCHOR_END: unblock

/// Sleep `delay`, unless SIGTERM or SIGINT comes first (then return true).
fn wait_or_stop(signals: &SignalFd, delay: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + delay;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(false),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        while let Some(info) = signals.read_signal()? {
            if matches!(
                Signal::try_from(info.ssi_signo as i32),
                Ok(Signal::SIGTERM | Signal::SIGINT)
            ) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The foreground mode a supervisor runs: the daemon's body without any forking, logging
/// to stdout, and `READY=1` once it is set up.
pub fn run_foreground(interval: Duration, notify: bool) -> io::Result<u8> {
    // ANCHOR: run_foreground
    let signals = crate::body::route_signals(false)?;
    log(&format!(
        "labd running in the foreground pid={} ppid={}",
        std::process::id(),
        nix::unistd::getppid()
    ));
    if notify {
        // Does nothing when NOTIFY_SOCKET is not set: the same binary runs without a
        // supervisor.
        sd_notify::notify(&[sd_notify::NotifyState::Ready])?;
    }
    let body = crate::body::Body {
        interval,
        log_path: None,
    };
    let code = body.run(&signals);
    // ANCHOR_END: run_foreground
    Ok(code as u8)
}
