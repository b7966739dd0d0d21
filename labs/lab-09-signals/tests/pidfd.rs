//! Chapter 9 tests: a pidfd names one process, so it cannot hit a recycled pid; `kill(pid,
//! 0)` answers exists / ESRCH / EPERM; and the exercise that stops a process with a grace
//! period through a pidfd.

use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use lab_09::pidfd::{Stopped, pidfd_open, pidfd_send_signal, stop_with_grace};
use labkit::lines::fields;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};
use nix::unistd::Uid;

const PIDFD: &str = env!("CARGO_BIN_EXE_pidfd");
const GRACEFUL: &str = env!("CARGO_BIN_EXE_graceful");
const MASKS: &str = env!("CARGO_BIN_EXE_masks");

#[test]
fn a_pidfd_of_a_reaped_child_fails_with_esrch() {
    let mut child = Command::new("true").spawn().unwrap();
    let fd = pidfd_open(child.id()).unwrap();
    pidfd_send_signal(fd.as_fd(), None).unwrap(); // alive or a zombie: the process exists
    child.wait().unwrap();
    let err = pidfd_send_signal(fd.as_fd(), None).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
}

#[test]
fn a_recycled_pid_is_reached_by_kill_but_not_by_the_old_pidfd() {
    let done = run(&mut demo(PIDFD)).unwrap();
    assert!(done.status.success(), "{}", done.transcript("pidfd"));
    let out = &done.stdout;
    let a: u32 = fields(done.stdout_lines()[0])["pid"]
        .trim_end_matches(',')
        .parse()
        .unwrap();
    assert!(out.contains(&format!("kill({a}, 0): ESRCH")), "{out}");
    assert!(
        out.contains("pidfd_send_signal(A's pidfd, 0): ESRCH"),
        "{out}"
    );
    if !Uid::effective().is_root() {
        // Creating a process with a chosen pid needs CAP_CHECKPOINT_RESTORE.
        assert!(out.contains("skipped"), "{out}");
        eprintln!("not root: the pid reuse step was skipped, no snapshot compared");
        return;
    }
    assert!(
        out.contains(&format!("child B: pid={a}, the number A had")),
        "{out}"
    );
    assert!(
        out.contains("SIGTERM through A's old pidfd: ESRCH"),
        "{out}"
    );
    assert!(out.contains("B reaped: Signaled("), "{out}");
    assert!(out.contains("EPERM"), "{out}");
    let text = Redactor::new()
        .id(a, "A")
        .id(done_pid_of_parent(out), "DEMO")
        .apply(&done.transcript("sudo ./target/debug/pidfd"));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("pidfd_reuse", text);
}

/// The demo's own pid, from its last line `as uid 65534: kill(PID, 0): …`.
fn done_pid_of_parent(out: &str) -> u32 {
    let last = out.lines().last().unwrap();
    let inner = last.split("kill(").nth(1).unwrap();
    inner.split(',').next().unwrap().parse().unwrap()
}

#[test]
fn exercise_stop_with_grace_uses_term_first_and_kill_only_when_needed() {
    // A program that exits on SIGTERM: SIGTERM is enough.
    let mut polite = ChildGuard::spawn(&mut demo(GRACEFUL)).unwrap();
    // Keep reading its stdout: it prints after SIGTERM, and a closed pipe would make
    // that print fail (EPIPE, Rust ignores SIGPIPE) and the program panic.
    let mut lines = polite.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    assert_eq!(
        stop_with_grace(polite.pid(), DEFAULT_TIMEOUT).unwrap(),
        Stopped::ByTerm
    );
    assert_eq!(
        polite.wait().unwrap().code(),
        Some(0),
        "{:?}",
        lines.rest(DEFAULT_TIMEOUT)
    );

    // A program that ignores SIGTERM: after the grace period, SIGKILL.
    let mut cmd = demo(MASKS);
    cmd.args(["--ignore", "TERM"]).stdin(Stdio::piped());
    let mut stubborn = ChildGuard::spawn(&mut cmd).unwrap();
    let _stdin = stubborn.take_stdin(); // keeps it waiting
    stubborn
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    let grace = Duration::from_millis(200);
    assert_eq!(
        stop_with_grace(stubborn.pid(), grace).unwrap(),
        Stopped::ByKill
    );
    let status = stubborn.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}
