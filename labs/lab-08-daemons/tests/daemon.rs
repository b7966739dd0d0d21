//! Chapter 8 tests, the classic daemon: `labd start/status/stop/logs` under a subreaper
//! (labkit's DaemonGuard), each in its own temporary state dir.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use labkit::daemon::DaemonGuard;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Finished, Redactor, demo, eventually, proc};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const LABD: &str = env!("CARGO_BIN_EXE_labd");

/// `labd --state-dir STATE ARGS…`, as `labkit::demo` prepares it.
fn labd(state: &Path, args: &[&str]) -> Command {
    let mut cmd = demo(LABD);
    cmd.arg("--state-dir").arg(state).args(args);
    cmd
}

fn run(state: &Path, args: &[&str]) -> Finished {
    labkit::run(&mut labd(state, args)).unwrap()
}

/// The transcript with the command as the book shows it.
fn shown(finished: &Finished, args: &str) -> String {
    finished.transcript(&format!("./target/debug/labd --state-dir /tmp/labd {args}"))
}

/// The pid in `started pid=N`.
fn started_pid(finished: &Finished) -> u32 {
    let line = finished.stdout.trim();
    line.strip_prefix("started pid=")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no `started pid=N`: {finished:?}"))
}

/// The number after `key` (`started by 123,` -> 123) in the log's daemon line.
fn number_after(text: &str, key: &str) -> u32 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text:?}"))
        + key.len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A regex that matches the path literally (temporary dirs are `/tmp/.tmpXXXXXX`).
fn as_regex(path: &Path) -> String {
    let text = path.display().to_string();
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

fn log_of(state: &Path) -> String {
    std::fs::read_to_string(state.join("labd.log")).unwrap_or_default()
}

fn names_in(state: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn start_status_stop() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("labd"); // missing: start creates it
    let start = run(&state, &["start", "--interval-ms", "60000"]);
    assert!(start.status.success(), "{start:?}");
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the state dir is private");

    let status = run(&state, &["status"]);
    assert_eq!(status.status.code(), Some(0));
    assert_eq!(status.stdout, format!("running pid={pid}\n"));
    let again = run(&state, &["start"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "LSB: start on a running service is a success"
    );
    assert_eq!(again.stdout, format!("already running (pid {pid})\n"));
    assert_eq!(guard.alive(), vec![pid], "the first daemon still runs");
    let logs = run(&state, &["logs"]);
    let starter = number_after(&logs.stdout, "started by ");
    let leader = number_after(&logs.stdout, "session leader ");
    assert!(
        logs.stdout
            .ends_with(&format!("now ppid={}\n", std::process::id())),
        "{logs:?}"
    );

    let stop = run(&state, &["stop"]);
    assert_eq!(stop.status.code(), Some(0));
    assert_eq!(stop.stdout, format!("stopped pid={pid}\n"));
    assert!(
        guard.alive().is_empty(),
        "stop returns once the daemon is gone"
    );
    let status_after = run(&state, &["status"]);
    assert_eq!(status_after.status.code(), Some(3));
    let stop_again = run(&state, &["stop"]);
    assert_eq!(
        stop_again.status.code(),
        Some(0),
        "LSB: stop on a stopped service is a success"
    );
    let logs_after = run(&state, &["logs"]);
    assert!(
        logs_after.stdout.ends_with("SIGTERM: exiting\n"),
        "{logs_after:?}"
    );
    assert_eq!(
        names_in(&state),
        ["labd.log"],
        "the pid file went with the daemon"
    );

    let transcript = [
        shown(&start, "start --interval-ms 60000"),
        shown(&status, "status"),
        shown(&again, "start"),
        shown(&logs, "logs"),
        shown(&stop, "stop"),
        shown(&status_after, "status"),
        shown(&stop_again, "stop"),
        shown(&logs_after, "logs"),
    ]
    .join("\n");
    let redactor = Redactor::new()
        .id(pid, "DAEMON")
        .id(starter, "STARTER")
        .id(leader, "LEADER")
        .id(std::process::id(), "TEST");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("start_status_stop", redactor.apply(&transcript));
}

/// The double fork seen from /proc: who is the daemon's parent, which session and group it
/// is in, whether it has a terminal, and which fds it kept.
#[test]
fn double_fork_in_proc() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    // Hand the starter an extra fd, as a careless parent would: fd 7, open on /dev/null.
    let extra: OwnedFd = File::open("/dev/null").unwrap().into();
    let mut cmd = labd(state, &["start", "--interval-ms", "60000"]);
    labkit::fd::place_fd(&mut cmd, extra, 7);
    let mut starter = ChildGuard::spawn(&mut cmd).unwrap();
    let starter_pid = starter.pid();
    let line = starter
        .stdout_lines()
        .wait_for("started pid=", DEFAULT_TIMEOUT)
        .unwrap();
    let pid: u32 = line["started pid=".len()..].parse().unwrap();
    guard.track(pid).unwrap();
    assert!(starter.wait().unwrap().success());

    let log = log_of(state);
    assert_eq!(number_after(&log, "started by "), starter_pid);
    let leader = number_after(&log, "session leader ");
    let me = std::process::id();
    // The starter returns once the daemon has reported ready; the daemon may still be
    // running its first steps (a log line). Wait until it sleeps in its loop, so that the
    // STAT column reads the same on every run.
    let stat = eventually(DEFAULT_TIMEOUT, || {
        let stat = proc::stat(pid).map_err(|e| e.to_string())?;
        match stat.state {
            'S' => Ok(stat),
            state => Err(format!("the daemon is in state {state}")),
        }
    })
    .unwrap();
    assert_eq!(
        stat.ppid, me,
        "re-parented to the subreaper (this test), not to the starter"
    );
    assert_eq!(stat.session, leader, "in the session the leader created");
    assert_eq!(stat.pgrp, leader, "in the leader's process group");
    assert_ne!(
        stat.session, pid,
        "not a session leader: it can never get a terminal"
    );
    assert_eq!(stat.tty_nr, 0, "no controlling terminal");
    assert!(!proc::is_alive(leader), "the session leader exited");
    let fds = proc::fds(pid).unwrap();
    assert!(
        fds.iter().all(|(fd, _)| *fd != 7),
        "the inherited fd 7 was closed: {fds:?}"
    );
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, Path::new("/"));
    let umask = proc::status(pid).unwrap().get("Umask").map(str::to_string);
    assert_eq!(umask.as_deref(), Some("0000"));

    let names = |p: u32| match p {
        p if p == pid => "[DAEMON]".to_string(),
        p if p == leader => "[LEADER]".to_string(),
        p if p == me => "[TEST]".to_string(),
        p => p.to_string(),
    };
    let mut text = format!(
        "# /proc/[DAEMON]/stat: the columns of ps -o pid,ppid,pgid,sid,tty,stat,comm\n\
         {:>8} {:>8} {:>8} {:>8} {:>6} {:<4} {}\n",
        "PID", "PPID", "PGID", "SID", "TTY_NR", "STAT", "COMM"
    );
    text += &format!(
        "{:>8} {:>8} {:>8} {:>8} {:>6} {:<4} {}\n",
        names(pid),
        names(stat.ppid),
        names(stat.pgrp),
        names(stat.session),
        stat.tty_nr,
        stat.state,
        stat.comm
    );
    text += "# /proc/[DAEMON]/fd (the starter had an extra fd 7)\n";
    for (fd, target) in &fds {
        text += &format!("{fd} -> {target}\n");
    }
    text += &format!("# /proc/[DAEMON]/cwd\n{}\n", cwd.display());
    let stop = run(state, &["stop"]);
    assert!(stop.status.success(), "{stop:?}");
    let redactor = Redactor::new().pattern(&as_regex(state), "/tmp/labd");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("double_fork_in_proc", redactor.apply(&text));
}

#[test]
fn sighup_reopens_the_log() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let start = run(state, &["start", "--interval-ms", "60000"]);
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    // Rotate: rename the log (the daemon keeps writing to the renamed file), then SIGHUP.
    std::fs::rename(state.join("labd.log"), state.join("labd.log.1")).unwrap();
    kill(Pid::from_raw(pid as i32), Signal::SIGHUP).unwrap();
    eventually(DEFAULT_TIMEOUT, || {
        let text = log_of(state);
        if text.contains("log reopened") {
            Ok(())
        } else {
            Err(format!("new log: {text:?}"))
        }
    })
    .unwrap();
    let stop = run(state, &["stop"]);
    assert!(stop.status.success(), "{stop:?}");
    let old = std::fs::read_to_string(state.join("labd.log.1")).unwrap();
    let new = log_of(state);
    assert!(old.ends_with("SIGHUP: reopening log\n"), "{old:?}");
    assert_eq!(new, "log reopened\nSIGTERM: exiting\n");
    let text = format!(
        "$ ./target/debug/labd --state-dir /tmp/labd start --interval-ms 60000\n{}\
         $ mv /tmp/labd/labd.log /tmp/labd/labd.log.1\n\
         $ kill -HUP $(cat /tmp/labd/labd.pid)\n\
         $ ./target/debug/labd --state-dir /tmp/labd stop\n{}\
         $ cat /tmp/labd/labd.log.1\n{old}\
         $ cat /tmp/labd/labd.log\n{new}",
        start.stdout, stop.stdout
    );
    let leader = number_after(&old, "session leader ");
    let starter = number_after(&old, "started by ");
    let redactor = Redactor::new()
        .id(pid, "DAEMON")
        .id(starter, "STARTER")
        .id(leader, "LEADER")
        .id(std::process::id(), "TEST");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("sighup_rotation", redactor.apply(&text));
}

#[test]
fn stop_kills_a_daemon_that_ignores_sigterm() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let start = run(state, &["start", "--ignore-term", "--interval-ms", "60000"]);
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    let ignored = proc::status(pid).unwrap().signal_mask("SigIgn").unwrap();
    assert_ne!(
        ignored & (1 << (libc_sigterm() - 1)),
        0,
        "SIGTERM is ignored"
    );
    let stop = run(state, &["stop", "--stop-timeout-ms", "200"]);
    assert_eq!(stop.status.code(), Some(0), "{stop:?}");
    assert!(guard.alive().is_empty());
    assert_eq!(
        names_in(state),
        ["labd.log"],
        "stop removed the pid file the killed daemon left"
    );
    let log = log_of(state);
    assert!(!log.contains("SIGTERM"), "the daemon never saw it: {log:?}");
    let transcript = [
        shown(&start, "start --ignore-term"),
        shown(&stop, "stop --stop-timeout-ms 200"),
    ]
    .join("\n");
    let _g = Redactor::new().id(pid, "DAEMON").settings().bind_to_scope();
    insta::assert_snapshot!("stop_with_sigkill", transcript);
}

fn libc_sigterm() -> u32 {
    Signal::SIGTERM as u32
}

#[test]
fn a_stale_pid_file_is_reported_and_taken_over() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    // A daemon killed with SIGKILL leaves its pid file, with nobody holding the lock.
    std::fs::write(state.join("labd.pid"), "4000000\n").unwrap();
    let status = run(state, &["status"]);
    assert_eq!(status.status.code(), Some(1), "LSB: dead, pid file exists");
    let start = run(state, &["start", "--interval-ms", "60000"]);
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    let status_now = run(state, &["status"]);
    assert_eq!(status_now.stdout, format!("running pid={pid}\n"));
    let logs = run(state, &["logs"]);
    assert!(
        logs.stdout
            .starts_with("took over a stale pid file (pid 4000000"),
        "{logs:?}"
    );
    let stop = run(state, &["stop"]);
    assert!(stop.status.success());
    // And a stale file that `stop` finds: it removes it.
    std::fs::write(state.join("labd.pid"), "4000000\n").unwrap();
    let stop_stale = run(state, &["stop"]);
    assert_eq!(stop_stale.status.code(), Some(0));
    assert_eq!(names_in(state), ["labd.log"]);
    let starter = number_after(&logs.stdout, "started by ");
    let leader = number_after(&logs.stdout, "session leader ");
    let transcript = [
        "$ mkdir -m 700 /tmp/labd".to_string(),
        "$ echo 4000000 > /tmp/labd/labd.pid   # as a killed daemon leaves it".to_string(),
        shown(&status, "status"),
        shown(&start, "start --interval-ms 60000"),
        shown(&status_now, "status"),
        shown(&logs, "logs"),
        shown(&stop, "stop"),
        "$ echo 4000000 > /tmp/labd/labd.pid".to_string(),
        shown(&stop_stale, "stop"),
    ]
    .join("\n");
    let redactor = Redactor::new()
        .id(pid, "DAEMON")
        .id(starter, "STARTER")
        .id(leader, "LEADER")
        .id(std::process::id(), "TEST");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("stale_pid_file", redactor.apply(&transcript));
}

/// The daemon reports its own failure through the readiness pipe; the starter prints it
/// and exits 1.
#[test]
fn a_daemon_that_cannot_start_tells_the_starter() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    std::fs::create_dir(state.join("labd.log")).unwrap(); // a directory: open() fails
    let start = run(state, &["start"]);
    assert_eq!(start.status.code(), Some(1), "{start:?}");
    assert_eq!(start.stdout, "");
    let pid = number_after(&start.stderr, "daemon pid=");
    // It reports first and exits after, so the starter may be done before the daemon is:
    // wait until it is a zombie (ours: we are its subreaper; the guard reaps it).
    guard.track(pid).unwrap();
    eventually(DEFAULT_TIMEOUT, || match guard.alive().is_empty() {
        true => Ok(()),
        false => Err(format!(
            "daemon {pid} still running after reporting its failure"
        )),
    })
    .unwrap();
    assert_eq!(names_in(state), ["labd.log"], "no pid file left behind");
    let status = run(state, &["status"]);
    assert_eq!(status.status.code(), Some(3));
    let redactor = Redactor::new()
        .id(pid, "DAEMON")
        .pattern(&as_regex(state), "/tmp/labd");
    let _g = redactor.settings().bind_to_scope();
    insta::assert_snapshot!(
        "start_fails",
        format!(
            "$ mkdir -m 700 /tmp/labd\n$ mkdir /tmp/labd/labd.log   # the log cannot be opened\n{}",
            shown(&start, "start")
        )
    );
}

/// Two starts at the same moment: the lock lets exactly one daemon run.
#[test]
fn two_starts_race_for_the_lock() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let mut a = ChildGuard::spawn(&mut labd(state, &["start", "--interval-ms", "60000"])).unwrap();
    let mut b = ChildGuard::spawn(&mut labd(state, &["start", "--interval-ms", "60000"])).unwrap();
    let out_a = a.stdout_lines().rest(DEFAULT_TIMEOUT).unwrap();
    let out_b = b.stdout_lines().rest(DEFAULT_TIMEOUT).unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    let both: Vec<&String> = out_a.iter().chain(&out_b).collect();
    let started: Vec<u32> = both
        .iter()
        .filter_map(|l| l.strip_prefix("started pid=")?.parse().ok())
        .collect();
    assert_eq!(started.len(), 1, "exactly one daemon started: {both:?}");
    guard.track(started[0]).unwrap();
    let pid_file = std::fs::read_to_string(state.join("labd.pid")).unwrap();
    assert_eq!(pid_file, format!("{}\n", started[0]));
    assert!(run(state, &["stop"]).status.success());
}

#[test]
fn bad_input_gets_one_line() {
    let not_a_dir = run(Path::new("/dev/null/labd"), &["status"]);
    assert_eq!(not_a_dir.status.code(), Some(1));
    assert_eq!(
        not_a_dir.stderr,
        "labd: state dir /dev/null/labd: Not a directory (os error 20)\n"
    );
    let unknown = labkit::run(&mut labd(Path::new("/tmp"), &["restart"])).unwrap();
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "clap's usage error: {unknown:?}"
    );
    assert!(
        unknown
            .stderr
            .starts_with("error: unrecognized subcommand 'restart'")
    );
}

/// Lock `path` the way a daemon does (exclusive) or a prober does (shared), from this test
/// process, after writing `content` into it.
fn lock_with(path: &Path, content: &str, arg: nix::fcntl::FlockArg) -> nix::fcntl::Flock<File> {
    std::fs::write(path, content).unwrap();
    let file = File::open(path).unwrap();
    nix::fcntl::Flock::lock(file, arg)
        .map_err(|(_, e)| e)
        .unwrap()
}

/// A locked pid file whose content is not a pid, or is the pid of a process that does not
/// hold the file: `status` says "unknown" (LSB 4) and `stop` signals nobody. With 0 or
/// -1 (or 4294967295, which is -1 as an i32), `kill` would hit a whole process group or
/// every process we may signal.
#[test]
fn stop_signals_only_a_pid_that_holds_the_pid_file() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let pid_file = state.join("labd.pid");
    for content in ["0\n", "-1\n", "4294967295\n", "2147483648\n", "labd\n"] {
        let lock = lock_with(
            &pid_file,
            content,
            nix::fcntl::FlockArg::LockExclusiveNonblock,
        );
        let status = run(state, &["status"]);
        assert_eq!(status.status.code(), Some(4), "{content:?}: {status:?}");
        assert_eq!(
            status.stdout,
            "unknown: the pid file is locked, but holds no valid pid\n"
        );
        let stop = run(state, &["stop", "--stop-timeout-ms", "200"]);
        assert_eq!(stop.status.code(), Some(1), "{content:?}: {stop:?}");
        assert_eq!(
            stop.stdout,
            "the pid file is locked, but holds no valid pid: not signalling anyone\n"
        );
        drop(lock);
    }
    // A real process, which does not hold the pid file: it must survive `stop`.
    let sleeper = ChildGuard::spawn(Command::new("sleep").arg("60")).unwrap();
    let other = sleeper.pid();
    let lock = lock_with(
        &pid_file,
        &format!("{other}\n"),
        nix::fcntl::FlockArg::LockExclusiveNonblock,
    );
    let status = run(state, &["status"]);
    assert_eq!(status.status.code(), Some(4), "{status:?}");
    assert_eq!(
        status.stdout,
        format!("unknown: the pid file is locked, but pid {other} does not hold it open\n")
    );
    let stop = run(state, &["stop", "--stop-timeout-ms", "200"]);
    assert_eq!(stop.status.code(), Some(1), "{stop:?}");
    assert_eq!(
        stop.stdout,
        format!(
            "the pid file is locked, but pid {other} does not hold it open: not signalling anyone\n"
        )
    );
    assert!(proc::is_alive(other), "stop left the stranger alone");
    drop(lock);
}

/// `status` and `stop` hold a shared lock for a moment. A `start` that finds the pid file
/// locked by something other than the daemon it names retries for START_PATIENCE (1 s),
/// and never answers "already running" for a pid that is gone. Here the shared lock is
/// held for the whole start: it gives up with an error.
#[test]
fn a_shared_lock_is_not_a_running_daemon() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let lock = lock_with(
        &state.join("labd.pid"),
        "4000000\n",
        nix::fcntl::FlockArg::LockSharedNonblock,
    );
    let start = run(state, &["start", "--interval-ms", "60000"]);
    assert_eq!(start.status.code(), Some(1), "{start:?}");
    assert_eq!(start.stdout, "", "no `already running (pid 4000000)`");
    assert!(
        start.stderr.starts_with("labd: ")
            && start
                .stderr
                .ends_with("labd.pid stayed locked for 1000 ms by no process that it names (another labd starting?)\n"),
        "{start:?}"
    );
    drop(lock);
    let start = run(state, &["start", "--interval-ms", "60000"]);
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    assert!(run(state, &["stop"]).status.success());
}

/// A pid file with no valid pid in it and a free lock: `status` says so (LSB 1), `start`
/// takes it over and logs it, `stop` removes one.
#[test]
fn a_pid_file_with_garbage_is_reported_taken_over_and_removed() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    std::fs::write(state.join("labd.pid"), "garbage\n").unwrap();
    let status = run(state, &["status"]);
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    assert_eq!(
        status.stdout,
        "not running (a pid file with no valid pid)\n"
    );
    let start = run(state, &["start", "--interval-ms", "60000"]);
    let pid = started_pid(&start);
    guard.track(pid).unwrap();
    assert!(
        log_of(state)
            .starts_with("took over a pid file that held no valid pid (its lock was free)\n"),
        "{}",
        log_of(state)
    );
    assert!(run(state, &["stop"]).status.success());
    std::fs::write(state.join("labd.pid"), "0\n").unwrap();
    let stop = run(state, &["stop"]);
    assert_eq!(stop.status.code(), Some(0));
    assert_eq!(
        stop.stdout,
        "not running (removed a pid file with no valid pid)\n"
    );
    assert_eq!(names_in(state), ["labd.log"]);
}

/// `status`, `stop` and `logs` never create the state dir: a typo leaves nothing behind.
#[test]
fn only_start_creates_the_state_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("typo");
    let status = run(&typo, &["status"]);
    assert_eq!(status.status.code(), Some(3), "{status:?}");
    assert_eq!(status.stdout, "not running\n");
    let stop = run(&typo, &["stop"]);
    assert_eq!(stop.status.code(), Some(0), "{stop:?}");
    let logs = run(&typo, &["logs"]);
    assert_eq!((logs.status.code(), logs.stdout.as_str()), (Some(0), ""));
    assert!(!typo.exists(), "no directory was created");
}
