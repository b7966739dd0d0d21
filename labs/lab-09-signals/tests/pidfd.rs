//! Chapter 9 tests: a pidfd names one process, so it cannot hit a recycled pid; `kill(pid,
//! 0)` answers exists / ESRCH / EPERM; and the exercise that stops a process with a grace
//! period through a pidfd.

use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use lab_09::pidfd::{Stopped, pidfd_open, pidfd_send_signal, stop_with_grace};
use labkit::lines::fields;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{Pid, Uid};

const PIDFD: &str = env!("CARGO_BIN_EXE_pidfd");
const GRACEFUL: &str = env!("CARGO_BIN_EXE_graceful");
const MASKS: &str = env!("CARGO_BIN_EXE_masks");

#[test]
fn a_pidfd_reaches_a_zombie_and_fails_with_esrch_only_once_it_is_reaped() {
    let mut child = Command::new("true").spawn().unwrap();
    let fd = pidfd_open(child.id()).unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    // Dead, not reaped: a zombie.
    waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).unwrap();
    assert_eq!(labkit::proc::stat(child.id()).unwrap().state, 'Z');
    pidfd_send_signal(fd.as_fd(), None).unwrap();
    pidfd_send_signal(fd.as_fd(), Some(nix::sys::signal::Signal::SIGTERM)).unwrap();
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
        out.contains("A exited, a zombie: pidfd_send_signal(A's pidfd, 0): ok"),
        "{out}"
    );
    assert!(
        out.contains("pidfd_send_signal(A's pidfd, 0): ESRCH"),
        "{out}"
    );
    if !Uid::effective().is_root() {
        // Creating a process with a chosen pid needs CAP_CHECKPOINT_RESTORE.
        assert!(out.contains("skipped"), "{out}");
        let strict = ["CI", "LABKIT_STRICT_TOOLS"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"));
        assert!(
            !strict,
            "not root, and CI is set: the pid reuse step (and its snapshot) must run in CI"
        );
        eprintln!("skipped: not root, so the pid reuse step and its snapshot were not checked");
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

const PIDFD_ONLY: &str =
    "stop_with_grace failed; kill(2) fails with EPERM in this thread: signal through the pidfd";

/// Run `f` on a new thread in which kill(2), tkill(2) and tgkill(2) fail with EPERM (a
/// seccomp filter, which binds only the thread that installs it): a `stop_with_grace` that
/// signals by pid fails there, one that signals through a pidfd does not.
fn without_kill<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        forbid_kill_in_this_thread();
        f()
    })
    .join()
    .unwrap()
}

fn forbid_kill_in_this_thread() {
    // A classic BPF program over struct seccomp_data, whose first field is the call number.
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump_eq = |k: i64, jt: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf: 0,
        k: k as u32,
    };
    let filter = [
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0), // the call number
        jump_eq(libc::SYS_kill, 3),
        jump_eq(libc::SYS_tkill, 2),
        jump_eq(libc::SYS_tgkill, 1),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with valid arguments; the filter outlives the call (the kernel copies it).
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        let r = libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &raw const program,
        );
        assert_eq!(r, 0, "seccomp: {}", std::io::Error::last_os_error());
    }
    // The filter works: kill(2) is refused in this thread, even signal 0 to ourselves.
    let err = nix::sys::signal::kill(nix::unistd::getpid(), None).unwrap_err();
    assert_eq!(err, nix::errno::Errno::EPERM);
}

#[test]
fn exercise_stop_with_grace_uses_term_first_and_kill_only_when_needed() {
    // A program that exits on SIGTERM: SIGTERM is enough.
    let mut polite = ChildGuard::spawn(&mut demo(GRACEFUL)).unwrap();
    // Keep reading its stdout: it prints after SIGTERM, and a closed pipe would make
    // that print fail (EPIPE, Rust ignores SIGPIPE) and the program panic.
    let mut lines = polite.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    let pid = polite.pid();
    // kill(2) is refused in the thread that runs the exercise: only a pidfd works there.
    assert_eq!(
        without_kill(move || stop_with_grace(pid, DEFAULT_TIMEOUT)).expect(PIDFD_ONLY),
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
    let pid = stubborn.pid();
    assert_eq!(
        without_kill(move || stop_with_grace(pid, grace)).expect(PIDFD_ONLY),
        Stopped::ByKill
    );
    let status = stubborn.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}
