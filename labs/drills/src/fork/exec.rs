//! Running a fork scenario for real (inside `drill-exec`, a single-threaded process).
//!
//! The calling process is the drill's root. It makes itself a child subreaper
//! (prctl(2) `PR_SET_CHILD_SUBREAPER`), so every orphan of the scenario comes back to it
//! rather than to init, and it reaps nobody until it has read `/proc`: orphaned zombies stay
//! zombies where the student can see them. It forks `a`, which runs its list, forking the
//! others.
//!
//! Every process reports over one shared pipe, one record per write(2):
//! `L NAME TEXT` (a print), `F NAME PID` (written by the parent after fork(2) returned),
//! `E NAME` (about to `_exit`), `K NAME` (the killer, after kill(2) returned), `D NAME` (its
//! list is done; it now blocks reading the hold pipe). Each record is far shorter than
//! `PIPE_BUF` (4096 bytes on Linux), so records never interleave (pipe(7)). The writes are
//! raw write(2) calls, never a buffered stream: a fork copies a stdio buffer that has not
//! been flushed, and both processes then print its contents (the classic trap of OSTEP's
//! fork chapter, with printf and no newline).
//!
//! When every process has said `D` or `E`, or was killed, the root waits until each one that
//! exited or was killed shows `Z` in `/proc` or has no `/proc` entry (it was reaped): by
//! then `exit_notify` has re-parented its children. It reads each process's state and ppid
//! from `/proc/PID/stat`, then kills everything (SIGKILL to `a`'s process group and to each
//! pid) and reaps every child until `ECHILD`. The hold pipe's write end belongs to the root
//! alone: if the root dies, every blocked process reads end of file and exits.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::prctl::set_child_subreaper;
use nix::sys::signal::{SigHandler, Signal, kill, killpg, signal};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe, read, setpgid, write};

use super::{Action, Node, Outcome, ROOT, Scenario, State};

/// The whole run, from the first fork to the last /proc read.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Kills and reaps everything the run started, whatever ended it.
struct Cleanup {
    group: Pid,
    pids: Vec<Pid>,
    hold: Option<OwnedFd>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // ESRCH is fine: the process (or the whole group) is gone already.
        let _ = killpg(self.group, Signal::SIGKILL);
        for &pid in &self.pids {
            let _ = kill(pid, Signal::SIGKILL);
        }
        self.hold.take();
        // As a subreaper, every descendant ends up as our child: reap until none is left.
        // Stops at ECHILD (no child left); EINTR just tries again.
        while matches!(waitpid(Pid::from_raw(-1), None), Ok(_) | Err(Errno::EINTR)) {}
    }
}

// ANCHOR: record
/// One record on the report pipe.
fn record(report: &OwnedFd, text: &str) {
    let line = format!("{text}\n");
    if write(report, line.as_bytes()) != Ok(line.len()) {
        // The root is gone or the pipe is broken: nobody would read what we do next.
        exit_now(90);
    }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) ends the process at once. Unlike exit(3) it runs no atexit handler
    // and flushes no stdio buffer, so nothing inherited from the parent is written twice.
    unsafe { nix::libc::_exit(code) }
}
// ANCHOR_END: record

/// Runs process `me`'s list. Never returns: the process exits or blocks until released.
fn run_process(s: &Scenario, me: usize, report: &OwnedFd, hold: &OwnedFd) -> ! {
    let name = &s.processes[me].name;
    let mut children: BTreeMap<&str, Pid> = BTreeMap::new();
    for action in &s.processes[me].actions {
        match action {
            Action::Fork(c) => {
                // SAFETY: drill-exec is single-threaded (no thread was ever started), so the
                // child may do anything its parent could, allocation included.
                match unsafe { fork() } {
                    Ok(ForkResult::Child) => {
                        let c = s.index(c).expect("generated names exist");
                        run_process(s, c, report, hold)
                    }
                    Ok(ForkResult::Parent { child }) => {
                        children.insert(c, child);
                        record(report, &format!("F {c} {child}"));
                    }
                    Err(e) => {
                        record(report, &format!("X {name} fork failed: {e}"));
                        exit_now(91);
                    }
                }
            }
            Action::Print(text) => record(report, &format!("L {name} {text}")),
            Action::Exit(code) => {
                record(report, &format!("E {name}"));
                exit_now(*code);
            }
            Action::Wait(c) => {
                let pid = children[c.as_str()];
                loop {
                    match waitpid(pid, None) {
                        Err(Errno::EINTR) => continue,
                        Ok(_) => break,
                        Err(e) => {
                            record(report, &format!("X {name} waitpid({c}) failed: {e}"));
                            exit_now(92);
                        }
                    }
                }
            }
            Action::Kill(c) => {
                if let Err(e) = kill(children[c.as_str()], Signal::SIGKILL) {
                    record(report, &format!("X {name} kill({c}) failed: {e}"));
                    exit_now(93);
                }
                record(report, &format!("K {c}"));
            }
            Action::Subreaper => {
                if let Err(e) = set_child_subreaper(true) {
                    record(report, &format!("X {name} prctl failed: {e}"));
                    exit_now(94);
                }
            }
        }
    }
    record(report, &format!("D {name}"));
    // Alive until the drill has looked: read(2) on the hold pipe blocks (state S) until the
    // root closes its end or dies.
    let mut byte = [0u8; 1];
    loop {
        match read(hold, &mut byte) {
            Err(Errno::EINTR) => continue,
            _ => exit_now(0),
        }
    }
}

/// What `/proc/PID/stat` says: `None` when there is no such process any more.
fn proc_stat(pid: Pid) -> Result<Option<(char, i32)>, String> {
    let path = format!("/proc/{pid}/stat");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // A process reaped between open and read: ESRCH.
        Err(e) if e.raw_os_error() == Some(nix::libc::ESRCH) => return Ok(None),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
    };
    // The command name is in parentheses and may contain anything: split at the last ')'.
    let rest = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{path}: no ')' in {text:?}"))?;
    let mut fields = rest.split_whitespace();
    let state = fields.next().and_then(|f| f.chars().next());
    let ppid = fields.next().and_then(|f| f.parse().ok());
    match (state, ppid) {
        (Some(state), Some(ppid)) => Ok(Some((state, ppid))),
        _ => Err(format!("{path}: cannot read state and ppid from {text:?}")),
    }
}

fn left(deadline: Instant) -> Result<Duration, String> {
    let now = Instant::now();
    if now >= deadline {
        Err(format!(
            "the run did not finish within {} s (killed)",
            DEADLINE.as_secs()
        ))
    } else {
        Ok(deadline - now)
    }
}

/// What the records said so far.
struct Records<'s> {
    s: &'s Scenario,
    pids: Vec<Option<Pid>>,
    /// Said `D` or `E`, or was killed.
    finished: Vec<bool>,
    /// Exited or was killed: must show `Z` in /proc, or be gone, before the drill looks.
    ended: Vec<bool>,
    lines: Vec<String>,
    /// The start of a record whose end has not arrived yet.
    pending: Vec<u8>,
}

impl Records<'_> {
    fn handle(&mut self, line: &str, cleanup: &mut Cleanup) -> Result<(), String> {
        let mut words = line.splitn(3, ' ');
        let (kind, who, rest) = (words.next(), words.next(), words.next());
        let index = who
            .and_then(|w| self.s.index(w))
            .ok_or_else(|| format!("a record names no process: {line:?}"));
        match kind {
            Some("L") => self.lines.push(rest.unwrap_or_default().to_string()),
            Some("F") => {
                let pid = rest
                    .and_then(|r| r.parse().ok())
                    .map(Pid::from_raw)
                    .ok_or_else(|| format!("bad record {line:?}"))?;
                self.pids[index?] = Some(pid);
                cleanup.pids.push(pid);
            }
            Some("D") => self.finished[index?] = true,
            Some("E") | Some("K") => {
                let i = index?;
                self.finished[i] = true;
                self.ended[i] = true;
            }
            Some("X") => return Err(format!("process {}", &line[2..])),
            _ => return Err(format!("bad record {line:?}")),
        }
        Ok(())
    }

    /// Reads what the pipe has (waiting for it until `deadline`, or not at all with `None`);
    /// `false` when there was nothing (end of file, or nothing ready without waiting).
    fn read(
        &mut self,
        report: &OwnedFd,
        deadline: Option<Instant>,
        cleanup: &mut Cleanup,
    ) -> Result<bool, String> {
        let timeout = match deadline {
            Some(deadline) => PollTimeout::try_from(left(deadline)?).unwrap_or(PollTimeout::MAX),
            None => PollTimeout::ZERO,
        };
        let mut fds = [PollFd::new(report.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(false),
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(true),
            Err(e) => return Err(format!("poll: {e}")),
        }
        let mut buf = [0u8; 4096];
        let got = match read(report, &mut buf) {
            Ok(got) => got,
            Err(Errno::EINTR) => return Ok(true),
            Err(e) => return Err(format!("read: {e}")),
        };
        if got == 0 {
            return Ok(false); // every writer has exited
        }
        self.pending.extend_from_slice(&buf[..got]);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            self.handle(&line, cleanup)?;
        }
        Ok(true)
    }
}

/// Runs `s` and returns what Linux did, with the pid of every process it created.
pub fn execute(s: &Scenario) -> Result<(Outcome, Vec<i32>), String> {
    let deadline = Instant::now() + DEADLINE;
    let n = s.processes.len();
    // An ignored SIGCHLD survives execve(2), and with it the kernel reaps children itself
    // (wait(2), NOTES): no zombie would stay for /proc to show. Back to the default.
    // SAFETY: SIG_DFL installs no handler.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }
        .map_err(|e| format!("cannot reset SIGCHLD: {e}"))?;
    set_child_subreaper(true).map_err(|e| format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"))?;
    let (report_r, report_w) = pipe().map_err(|e| format!("pipe: {e}"))?;
    let (hold_r, hold_w) = pipe().map_err(|e| format!("pipe: {e}"))?;

    // SAFETY: single-threaded, see run_process.
    let a = match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(report_r);
            drop(hold_w);
            // Its own process group, so the root can kill the whole scenario at once.
            let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
            run_process(s, 0, &report_w, &hold_r)
        }
        ForkResult::Parent { child } => child,
    };
    // Both sides set the group, so it is in place whichever runs first.
    let _ = setpgid(a, a);
    drop(report_w);
    drop(hold_r);
    let mut cleanup = Cleanup {
        group: a,
        pids: vec![a],
        hold: Some(hold_w),
    };

    let mut run = Records {
        s,
        pids: vec![None; n],
        finished: vec![false; n],
        ended: vec![false; n],
        lines: Vec::new(),
        pending: Vec::new(),
    };
    run.pids[0] = Some(a);

    // 1. Every process finishes its list (or is killed).
    while !run.finished.iter().all(|&f| f) {
        if !run.read(&report_r, Some(deadline), &mut cleanup)? {
            left(deadline)?;
            if !run.finished.iter().all(|&f| f) {
                return Err("the report pipe closed before every process finished".into());
            }
        }
    }
    // 2. Each process that exited or was killed has finished dying (Z) or was reaped.
    for i in (0..n).filter(|&i| run.ended[i]) {
        let pid = run.pids[i].ok_or_else(|| format!("no pid for {}", s.processes[i].name))?;
        while let Some((state, _)) = proc_stat(pid)? {
            if state == 'Z' {
                break;
            }
            left(deadline)?;
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    // 3. Everything written is in the pipe now (the writers are dead or blocked): drain it.
    while run.read(&report_r, None, &mut cleanup)? {}
    let Records { pids, lines, .. } = run;

    // 4. The tree, from /proc.
    let me = getpid();
    let name_of = |ppid: i32| {
        if ppid == me.as_raw() {
            ROOT.to_string()
        } else {
            pids.iter()
                .position(|p| *p == Some(Pid::from_raw(ppid)))
                .map_or(format!("pid{ppid}"), |i| s.processes[i].name.clone())
        }
    };
    let mut tree = Vec::new();
    for (i, p) in s.processes.iter().enumerate() {
        let pid = pids[i].ok_or_else(|| format!("process {} was never forked", p.name))?;
        let (ppid, state) = match proc_stat(pid)? {
            None => (None, State::Gone),
            Some(('Z', ppid)) => (Some(name_of(ppid)), State::Zombie),
            Some((_, ppid)) => (Some(name_of(ppid)), State::Alive),
        };
        tree.push(Node {
            name: p.name.clone(),
            ppid,
            state,
        });
    }
    tree.sort();
    let all: Vec<i32> = pids.iter().flatten().map(|p| p.as_raw()).collect();
    drop(cleanup);
    Ok((Outcome { lines, tree }, all))
}
