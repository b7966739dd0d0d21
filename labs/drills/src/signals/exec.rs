//! The executor: runs a signals scenario for real, inside `drill-exec`.
//!
//! `drill-exec` (the *conductor*) forks P; P forks C at the `fork` step. Each process is a
//! *puppet*: it waits on its own command pipe, runs one step when told to, and answers on its
//! own report pipe. The conductor sends `G <step>` to the process whose step comes next and
//! reads that process's report pipe until `D` (done). So the steps run one at a time, in the
//! listed order, and the lines come out in the order they were written:
//!
//! ```text
//! conductor -> puppet   G 4      run step 4 (0-based)
//!                       S        sync: just answer D
//! puppet -> conductor   L TEXT   a report line (`P handled SIGUSR1`, `P: after exec`)
//!                       F PID    the fork step made C, with this pid
//!                       D        done
//!                       E TEXT   a step failed (a bug in the executor, not an outcome)
//! ```
//!
//! A signal sent to the *other* process arrives while that process sleeps in read(2) on its
//! command pipe (or is on its way there after its last `D`). After the sender's `D`, the
//! conductor sends the receiver `S` and reads its report pipe until `D` or end-of-file, and
//! only then runs the next step. The kernel checks for pending unblocked signals at every
//! switch from kernel to user mode, such as the return from that read(2) (signal(7),
//! "Execution of signal handlers"), so the signal is handled, or kills the receiver, before
//! the receiver's code sees the command, and the handler's line comes before the `D`. An
//! unblocked signal whose action is to terminate (the default of the five, and SIGKILL
//! always) is not handled on that return: `complete_signal()` in kernel/signal.c marks the
//! receiver's thread group as exiting, queues SIGKILL for each thread and wakes them, and
//! kill(2) may return to the sender before the receiver has died. The receiver dies on its
//! way back from the kernel, without returning to its program, so it never answers `D`; its
//! report pipe reads end-of-file once it has exited (the kernel closes its files). That wait
//! for the answer or the end-of-file, not the speed of the kill, makes cross-process delivery
//! as deterministic as a `raise`.
//!
//! The SIGKILL traps run as written: `handle SIGKILL` and `ignore SIGKILL` call sigaction(2),
//! which fails with EINVAL; the puppet takes that as the expected answer and answers `D`
//! (any other answer stops the run with `E`). `block SIGKILL` calls sigprocmask(2), which
//! succeeds; the puppet reads its mask back and stops the run with `E` if SIGKILL is in it.
//! `raise SIGKILL` never returns: the conductor reads the process's report pipe to its
//! end-of-file. `kill OTHER SIGKILL` returns, perhaps while the other process still lives;
//! that one cannot answer the `S` that follows, and the conductor reads its report pipe to
//! end-of-file before the next step, as for any fatal signal above.
//!
//! A process that dies closes its report pipe: the conductor reads end-of-file and marks it
//! dead. Each report pipe has exactly one writer for that reason: P closes C's ends right after
//! the fork, and C closes P's.
//!
//! `exec` re-executes `/proc/self/exe` (this binary) as `drill-exec signals-resume --seed N
//! --size S`, with the pipes and the scenario as JSON in the environment variable
//! `DRILLS_SIGNALS_RESUME`. The pipes are created close-on-exec, as std creates every fd
//! (here with `pipe2(O_CLOEXEC)`: nix's `pipe()` is a plain pipe(2), without the flag);
//! just before the exec the puppet clears `FD_CLOEXEC` on its own ends, so
//! the same descriptor numbers are open in the new program, which finds them in the JSON (a
//! fixed fd number as labkit's `place_fd` uses would work too, but needs a dup2 per pipe).
//! The new program then answers the exec step's `D`: the exec is over, with handlers reset and
//! mask and pending signals kept (execve(2)).
//!
//! Nobody reaps P or C before the end of the run, so a dead one is a zombie and its pid cannot
//! be reused under a later `kill`. `drill-exec` is a child subreaper
//! (`PR_SET_CHILD_SUBREAPER`, prctl(2)): when P dies, C becomes its child, and the conductor
//! reaps P and then C and reads their real wait statuses.

use std::ffi::{CString, c_int};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, kill, sigaction, sigprocmask,
};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2};
use serde::{Deserialize, Serialize};

use super::{Action, End, Outcome, Scenario, Sig, Who, print_line, status_line};

/// The whole run must finish within this time; then every process is killed.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The pids the last [`execute`] created (P, and C if forked), for the leak check.
static PIDS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// The pids the last run created.
pub fn last_run_pids() -> Vec<i32> {
    PIDS.lock().map(|p| p.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// The puppet side: P and C.

/// For the handler, which gets no argument but the signal number: this process's letter and
/// its report pipe.
static ROLE: AtomicU8 = AtomicU8::new(b'?');
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

/// The handler every `handle SIG` step installs (for SIGKILL, the kernel refuses it).
/// Async-signal-safe only (signal-safety(7)): it builds the line in a stack buffer and makes
/// one write(2), and puts errno back.
extern "C" fn report_handled(signo: c_int) {
    let saved = Errno::last_raw();
    let name: &[u8] = match signo {
        1 => b"SIGHUP",
        2 => b"SIGINT",
        10 => b"SIGUSR1",
        12 => b"SIGUSR2",
        15 => b"SIGTERM",
        _ => b"SIG?",
    };
    let mut buf = [0u8; 40];
    let mut n = 0;
    let role = [ROLE.load(Ordering::Relaxed)];
    for &b in b"L "
        .iter()
        .chain(&role)
        .chain(b" handled ")
        .chain(name)
        .chain(b"\n")
    {
        buf[n] = b;
        n += 1;
    }
    // SAFETY: the report fd stays open for the puppet's whole life (only exit closes it).
    let fd = unsafe { BorrowedFd::borrow_raw(REPORT_FD.load(Ordering::Relaxed)) };
    let _ = nix::unistd::write(fd, &buf[..n]);
    Errno::set_raw(saved);
}

/// What a puppet needs to know, also across exec (it travels as JSON in [`RESUME_ENV`]).
#[derive(Debug, Serialize, Deserialize)]
struct Puppet {
    who: Who,
    cmd: RawFd,
    report: RawFd,
    /// The other process's pid, once it exists (P learns C's at the fork; C is told P's).
    peer: Option<i32>,
    /// P, before the fork: C's command read end and report write end, to hand down.
    child_fds: Option<(RawFd, RawFd)>,
    scenario: Scenario,
}

/// A fatal problem inside a puppet: report it and exit with a code no scenario uses.
fn die(report: RawFd, what: &str) -> ! {
    let line = format!("E {}\n", what.replace('\n', " "));
    // SAFETY: `report` is this puppet's open report fd.
    let _ = nix::unistd::write(unsafe { BorrowedFd::borrow_raw(report) }, line.as_bytes());
    exit_now(120)
}

/// _exit(2): end this puppet at once, without running exit handlers or flushing std's
/// buffers (nix 0.31 has no wrapper; `nix::libc` is the libc crate nix itself uses).
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { nix::libc::_exit(code) }
}

fn close_raw(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
}

impl Puppet {
    fn write(&self, text: &str) {
        // SAFETY: `self.report` is open for the puppet's whole life.
        let fd = unsafe { BorrowedFd::borrow_raw(self.report) };
        if nix::unistd::write(fd, text.as_bytes()).is_err() {
            exit_now(121); // the conductor is gone: nobody to report to
        }
    }

    /// One command line from the conductor, read byte by byte (no buffer to lose at exec).
    fn read_command(&self) -> String {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            // SAFETY: `self.cmd` is open for the puppet's whole life.
            match nix::unistd::read(unsafe { BorrowedFd::borrow_raw(self.cmd) }, &mut byte) {
                Ok(0) => exit_now(122), // the conductor is gone
                Ok(_) if byte[0] == b'\n' => return String::from_utf8_lossy(&line).into_owned(),
                Ok(_) => line.push(byte[0]),
                Err(Errno::EINTR) => {} // a handler ran (SA_RESTART covers most cases)
                Err(e) => die(self.report, &format!("read command: {e}")),
            }
        }
    }

    fn publish(&self) {
        ROLE.store(self.who.letter() as u8, Ordering::Relaxed);
        REPORT_FD.store(self.report, Ordering::Relaxed);
    }

    fn serve(mut self) -> ! {
        self.publish();
        loop {
            let command = self.read_command();
            if command == "S" {
                self.write("D\n");
                continue;
            }
            let Some(i) = command
                .strip_prefix("G ")
                .and_then(|n| n.parse::<usize>().ok())
            else {
                die(self.report, &format!("bad command {command:?}"));
            };
            let Some(step) = self.scenario.steps.get(i).cloned() else {
                die(self.report, &format!("no step {i}"));
            };
            match self.run(&step.action) {
                Ok(true) => self.write("D\n"),
                Ok(false) => {}
                Err(e) => die(
                    self.report,
                    &format!("step {}: {}: {e}", i + 1, step.action),
                ),
            }
        }
    }

    fn set(&self, signal: Sig, handler: SigHandler) -> nix::Result<()> {
        let action = SigAction::new(handler, SaFlags::SA_RESTART, SigSet::empty());
        // SAFETY: the only handler we install makes async-signal-safe calls only.
        let result = unsafe { sigaction(signal.nix(), &action) }.map(drop);
        if signal != Sig::Kill {
            return result;
        }
        // A SIGKILL trap: the kernel refuses to change SIGKILL's action (sigaction(2), EINVAL)
        // and the program goes on, as a C program that ignores the return value would. Any
        // other answer contradicts the model.
        match result {
            Err(Errno::EINVAL) => Ok(()),
            Ok(()) => die(self.report, "sigaction(SIGKILL) succeeded"),
            Err(e) => Err(e),
        }
    }

    /// `sigprocmask(SIG_BLOCK, {SIG})`. For SIGKILL the call succeeds and the kernel leaves
    /// SIGKILL out of the mask (sigprocmask(2), NOTES); the puppet reads the mask back and
    /// stops the run if the kernel says otherwise.
    fn block(&self, signal: Sig) -> nix::Result<()> {
        sigprocmask(
            SigmaskHow::SIG_BLOCK,
            Some(&SigSet::from(signal.nix())),
            None,
        )?;
        if signal == Sig::Kill && SigSet::thread_get_mask()?.contains(signal.nix()) {
            die(self.report, "SIGKILL is in the mask after sigprocmask");
        }
        Ok(())
    }

    /// Runs one step; `Ok(true)` when the conductor gets a `D` for it.
    fn run(&mut self, action: &Action) -> nix::Result<bool> {
        let one = |s: Sig| SigSet::from(s.nix());
        match action {
            Action::Fork => return self.fork(),
            Action::Exec => return self.exec(),
            _ => {}
        }
        match action {
            Action::Handle { signal } => self.set(*signal, SigHandler::Handler(report_handled)),
            Action::Ignore { signal } => self.set(*signal, SigHandler::SigIgn),
            Action::Default { signal } => self.set(*signal, SigHandler::SigDfl),
            Action::Block { signal } => self.block(*signal),
            Action::Unblock { signal } => {
                sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&one(*signal)), None)
            }
            Action::UnblockAll => sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&all_five()), None),
            Action::Raise { signal } => kill(getpid(), signal.nix()),
            Action::Kill { signal, .. } => match self.peer {
                Some(pid) => kill(Pid::from_raw(pid), signal.nix()),
                None => die(self.report, "kill before the other process exists"),
            },
            Action::Print { text } => {
                self.write(&format!("L {}\n", print_line(self.who, text)));
                Ok(())
            }
            Action::Exit { code } => exit_now(i32::from(*code)),
            Action::Exec | Action::Fork => unreachable!("handled above"),
        }
        .map(|()| true)
    }

    /// Only returns if execv(2) failed; the new program answers the step's `D`.
    fn exec(&self) -> nix::Result<bool> {
        let mut keep = vec![self.cmd, self.report];
        if let Some((c, r)) = self.child_fds {
            keep.extend([c, r]);
        }
        for fd in keep {
            // SAFETY: all four are open fds this puppet owns.
            fcntl(
                unsafe { BorrowedFd::borrow_raw(fd) },
                FcntlArg::F_SETFD(FdFlag::empty()),
            )?;
        }
        // The state travels in an environment variable: drill-exec's command line has a
        // fixed shape (`FAMILY --seed N --size S`), and `ps` still shows the seed.
        let state = serde_json::to_string(self).expect("a puppet serialises");
        let seed = self.scenario.seed.to_string();
        let size = self.scenario.size.to_string();
        let argv: Vec<CString> = ["drill-exec", RESUME_ARG, "--seed", &seed, "--size", &size]
            .into_iter()
            .map(|a| CString::new(a).expect("no NUL"))
            .collect();
        let mut env: Vec<CString> = std::env::vars_os()
            .filter(|(k, _)| k != RESUME_ENV)
            .filter_map(|(k, v)| {
                let mut kv = k.into_encoded_bytes();
                kv.push(b'=');
                kv.extend(v.into_encoded_bytes());
                CString::new(kv).ok()
            })
            .collect();
        env.push(CString::new(format!("{RESUME_ENV}={state}")).expect("JSON has no NUL"));
        match nix::unistd::execve(c"/proc/self/exe", &argv, &env) {
            Err(e) => Err(e),
        }
    }

    /// `Ok(true)` in P, `Ok(false)` in the new C (which must not answer the fork step).
    fn fork(&mut self) -> nix::Result<bool> {
        let Some((c_cmd, c_report)) = self.child_fds.take() else {
            die(self.report, "fork twice");
        };
        let p = getpid().as_raw();
        // SAFETY: puppets are single-threaded (forked from the single-threaded drill-exec).
        match unsafe { fork() }? {
            ForkResult::Child => {
                close_raw(self.cmd);
                close_raw(self.report);
                self.who = Who::C;
                self.cmd = c_cmd;
                self.report = c_report;
                self.peer = Some(p);
                self.publish();
                // C says nothing about its birth (P's `F` and `D` do): no `D` from C.
                Ok(false)
            }
            ForkResult::Parent { child } => {
                close_raw(c_cmd);
                close_raw(c_report);
                self.peer = Some(child.as_raw());
                self.write(&format!("F {child}\n"));
                Ok(true)
            }
        }
    }
}

fn all_five() -> SigSet {
    let mut set = SigSet::empty();
    for s in Sig::ALL {
        set.add(s.nix());
    }
    set
}

/// The family argument of a resumed (re-executed) puppet:
/// `drill-exec signals-resume --seed N --size S`, with its state in [`RESUME_ENV`].
pub const RESUME_ARG: &str = "signals-resume";

/// The environment variable that carries a resumed puppet's state (JSON).
pub const RESUME_ENV: &str = "DRILLS_SIGNALS_RESUME";

/// The `signals-resume` mode of `drill-exec`: a puppet that has just exec'd itself. It
/// acknowledges the exec step and goes on serving commands.
pub fn resume() -> ! {
    let state = std::env::var(RESUME_ENV).unwrap_or_default();
    let puppet: Puppet = match serde_json::from_str(&state) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("drill-exec {RESUME_ARG}: no valid state in {RESUME_ENV}: {e}");
            std::process::exit(2)
        }
    };
    puppet.publish();
    puppet.write("D\n");
    puppet.serve()
}

/// The family argument that runs a scenario given as JSON on stdin instead of a generated
/// one: `drill-exec signals-scenario --seed 0 < scenario.json`. The tests use it to check
/// hand-made scenarios, one per kernel fact, against the real kernel.
pub const SCENARIO_ARG: &str = "signals-scenario";

/// The `signals-scenario` mode of `drill-exec`: prints `{"family", "outcome", "pids"}` like a
/// seeded run, or one error line on stderr and exit code 1 (2 for a bad scenario).
pub fn run_stdin_scenario() -> std::process::ExitCode {
    let mut text = String::new();
    let scenario: Scenario = match std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("drill-exec {SCENARIO_ARG}: not a signals scenario on stdin: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match execute(&scenario) {
        Ok(outcome) => {
            let report = serde_json::json!({
                "family": "signals",
                "outcome": outcome,
                "pids": last_run_pids(),
            });
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("drill-exec: signals scenario from stdin: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------
// The conductor side: drill-exec.

/// The conductor's end of one puppet: its command pipe, its report pipe (buffered).
#[derive(Debug)]
struct Link {
    cmd: Option<OwnedFd>,
    report: OwnedFd,
    buf: Vec<u8>,
    pid: Option<Pid>,
    alive: bool,
}

impl Link {
    fn send(&mut self, text: &str) {
        if let Some(fd) = &self.cmd
            && nix::unistd::write(fd, text.as_bytes()).is_err()
        {
            // EPIPE: the puppet has died (std ignores SIGPIPE in drill-exec); the report
            // pipe's end-of-file will say so.
            self.cmd = None;
        }
    }

    /// The next line from the puppet, `None` at end-of-file (it died).
    fn read_line(&mut self, deadline: Instant) -> Result<Option<String>, String> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..nl]).into_owned()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.report.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => return Err(format!("no answer within {DEADLINE:?}")),
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            let mut chunk = [0u8; 512];
            match nix::unistd::read(&self.report, &mut chunk) {
                Ok(0) => {
                    self.alive = false;
                    return Ok(None);
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(format!("read report: {e}")),
            }
        }
    }
}

#[derive(Debug)]
struct Conductor {
    links: [Link; 2],
    lines: Vec<String>,
    deadline: Instant,
}

impl Conductor {
    /// Reads `who`'s report pipe until `D` or end-of-file.
    fn collect(&mut self, who: Who) -> Result<(), String> {
        loop {
            let Some(line) = self.links[who.index()].read_line(self.deadline)? else {
                self.links[who.index()].cmd = None;
                return Ok(());
            };
            if line == "D" {
                return Ok(());
            } else if let Some(text) = line.strip_prefix("L ") {
                self.lines.push(text.to_string());
            } else if let Some(pid) = line.strip_prefix("F ").and_then(|p| p.parse::<i32>().ok()) {
                let c = &mut self.links[Who::C.index()];
                c.pid = Some(Pid::from_raw(pid));
                c.alive = true;
                if let Ok(mut pids) = PIDS.lock() {
                    pids.push(pid);
                }
            } else if let Some(err) = line.strip_prefix("E ") {
                return Err(format!("{who}: {err}"));
            } else {
                return Err(format!("{who} sent an unexpected line {line:?}"));
            }
        }
    }

    fn run(&mut self, scenario: &Scenario) -> Result<(), String> {
        for (i, step) in scenario.steps.iter().enumerate() {
            let who = step.who;
            if !self.links[who.index()].alive {
                continue; // dead or never forked: the step is skipped
            }
            self.links[who.index()].send(&format!("G {i}\n"));
            self.collect(who)?;
            let sync = match step.action {
                // The signal is pending in the receiver (or the receiver is dying of it, or
                // dead): make the receiver come back from its read(2) once, so it is delivered
                // now, and wait for its `D` or, if it dies, its end-of-file.
                Action::Kill { target, .. } => Some(target),
                // Wait until C has taken its new identity: a signal P sends it next must find
                // C's handler writing "C handled ...", not the "P" it inherited with the fork.
                Action::Fork => Some(Who::C),
                _ => None,
            };
            if let Some(target) = sync
                && self.links[target.index()].alive
            {
                self.links[target.index()].send("S\n");
                self.collect(target)?;
            }
        }
        for who in [Who::P, Who::C] {
            if self.links[who.index()].alive {
                return Err(format!("{who} is still running after its last step"));
            }
        }
        Ok(())
    }
}

fn end_of(status: WaitStatus) -> Result<End, String> {
    match status {
        WaitStatus::Exited(_, code) => Ok(End::Exited(code as u8)),
        WaitStatus::Signaled(_, signal, _) => Sig::EVERY
            .into_iter()
            .find(|s| s.nix() == signal)
            .map(End::Killed)
            .ok_or_else(|| format!("killed by an unexpected signal {signal}")),
        other => Err(format!("unexpected wait status {other:?}")),
    }
}

/// Runs `scenario` for real. Must be called in a single-threaded process (it forks), and
/// `drill-exec` is one. Every process it creates is dead and reaped when it returns.
pub fn execute(scenario: &Scenario) -> Result<Outcome, String> {
    if let Ok(mut pids) = PIDS.lock() {
        pids.clear();
    }
    // So that C, orphaned when P dies, is re-parented to us and we can read its status.
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("set_child_subreaper: {e}"))?;
    let pipe = || pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2: {e}"));
    let (p_cmd_r, p_cmd_w) = pipe()?;
    let (p_rep_r, p_rep_w) = pipe()?;
    let (c_cmd_r, c_cmd_w) = pipe()?;
    let (c_rep_r, c_rep_w) = pipe()?;
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    // SAFETY: drill-exec is single-threaded; the child only makes plain calls.
    let p = match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop((p_cmd_w, p_rep_r, c_cmd_w, c_rep_r));
            let puppet = Puppet {
                who: Who::P,
                cmd: p_cmd_r.into_raw_fd(),
                report: p_rep_w.into_raw_fd(),
                peer: None,
                child_fds: Some((c_cmd_r.into_raw_fd(), c_rep_w.into_raw_fd())),
                scenario: scenario.clone(),
            };
            // The rules say: every drill signal starts with its default action, unblocked.
            // drill-exec may have inherited an ignored SIGINT/SIGHUP (nohup, a script's `&`)
            // or a blocked mask (chapter 9): clear both for the five.
            for s in Sig::ALL {
                if puppet.set(s, SigHandler::SigDfl).is_err() {
                    die(puppet.report, "reset dispositions");
                }
            }
            if sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&all_five()), None).is_err() {
                die(puppet.report, "reset mask");
            }
            puppet.serve()
        }
        ForkResult::Parent { child } => child,
    };
    drop((p_cmd_r, p_rep_w, c_cmd_r, c_rep_w));
    if let Ok(mut pids) = PIDS.lock() {
        pids.push(p.as_raw());
    }
    let link = |cmd, report, pid, alive| Link {
        cmd: Some(cmd),
        report,
        buf: Vec::new(),
        pid,
        alive,
    };
    let mut conductor = Conductor {
        links: [
            link(p_cmd_w, p_rep_r, Some(p), true),
            link(c_cmd_w, c_rep_r, None, false),
        ],
        lines: Vec::new(),
        deadline: Instant::now() + DEADLINE,
    };
    let result = conductor.run(scenario);
    if let Err(e) = result {
        // Something went wrong (a bug, or the deadline): leave nothing behind.
        for pid in conductor.links.iter().filter_map(|l| l.pid) {
            let _ = kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        kill_and_reap_children();
        return Err(e);
    }
    // Every process has ended. Reap P first: then C, alive or a zombie, is our child (we are
    // its subreaper since P died), and we can read its status too.
    let mut ends = Vec::new();
    for l in &conductor.links {
        ends.push(match l.pid {
            Some(pid) => Some(waitpid(pid, None).map_err(|e| format!("waitpid {pid}: {e}"))?),
            None => None,
        });
    }
    let mut status = vec![status_line(Who::P, end_of(ends[0].expect("P was forked"))?)];
    if scenario.has_child() {
        let c = match ends[1] {
            Some(ws) => end_of(ws)?,
            None => End::NeverForked,
        };
        status.push(status_line(Who::C, c));
    }
    Ok(Outcome {
        lines: conductor.lines,
        status,
    })
}

/// Kills and reaps every child we have, again until none is left (a grandchild is
/// re-parented to us, the subreaper, when its parent dies). /proc/self/task/TID/children
/// lists zombies too (proc(5)); drill-exec has one thread, whose TID is its pid.
fn kill_and_reap_children() {
    let me = getpid();
    for _ in 0..100 {
        let list =
            std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).unwrap_or_default();
        let pids: Vec<Pid> = list
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .map(Pid::from_raw)
            .collect();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let _ = kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}
