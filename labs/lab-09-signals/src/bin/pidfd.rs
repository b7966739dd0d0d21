//! Chapter 9 demo: a remembered pid can name another process later; a pidfd cannot.
//!
//! Child A is started, a pidfd is opened for it, and A is reaped. Then, if we may (root, or
//! CAP_CHECKPOINT_RESTORE), we create child B *with A's old pid* on purpose, through
//! `clone3` and its `set_tid` field: the reuse that could otherwise take hours of forking
//! happens at once, and only with our own processes. `kill(pid, 0)` now reaches B, while
//! the old pidfd still refers to A and fails with ESRCH (as it did since A was reaped, not
//! since A died: a zombie can still be signalled through its pidfd). Last, `kill(pid, 0)` from an
//! unprivileged user shows EPERM: the process exists, but we may not signal it.
//!
//! `./target/debug/pidfd` (as root for the reuse step; `sudo ./target/debug/pidfd`)

use std::io::{Read, Write};
use std::os::fd::AsFd;

use clap::Parser;
use lab_09::pidfd::{pidfd_open, pidfd_send_signal};
use lab_09::{cli, underscore_exit};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::{ForkResult, Pid, Uid, fork, getpid, setuid};

/// Show pid reuse, and a pidfd that is not fooled by it.
#[derive(Parser)]
struct Args {}

fn flush() {
    std::io::stdout()
        .flush()
        .unwrap_or_else(|e| cli::fail("pidfd", e));
}

fn probe(pid: Pid) -> String {
    match kill(pid, None) {
        Ok(()) => "ok, a process has this pid".to_string(),
        Err(Errno::ESRCH) => "ESRCH, no such process".to_string(),
        Err(Errno::EPERM) => "EPERM, it exists but we may not signal it".to_string(),
        Err(e) => format!("{e}"),
    }
}

fn result(r: std::io::Result<()>) -> String {
    match r {
        Ok(()) => "ok".to_string(),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
            "ESRCH, that process is gone (reaped)".to_string()
        }
        Err(e) => e.to_string(),
    }
}

/// A child that waits until the returned pipe end is closed, then exits with 0.
fn waiting_child() -> (Pid, std::io::PipeWriter) {
    let (mut r, w) = std::io::pipe().unwrap_or_else(|e| cli::fail("pidfd", e));
    flush();
    // SAFETY: single-threaded.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(w);
            let _ = r.read(&mut [0u8; 1]);
            underscore_exit(0)
        }
        Ok(ForkResult::Parent { child }) => (child, w),
        Err(e) => cli::fail("pidfd", format!("fork: {e}")),
    }
}

/// The fields of `struct clone_args` (linux/sched.h) up to `set_tid_size`.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
}

// ANCHOR: reuse
/// Like fork, but the child gets the pid `wanted` (clone3 with `set_tid`, Linux 5.5).
/// The child waits until the returned pipe end is closed; it may also die of a signal.
fn child_with_pid(wanted: Pid) -> std::io::Result<(Pid, std::io::PipeWriter)> {
    let (mut r, w) = std::io::pipe()?;
    let tids = [wanted.as_raw()];
    let args = CloneArgs {
        exit_signal: libc::SIGCHLD as u64,
        set_tid: tids.as_ptr() as u64,
        set_tid_size: 1,
        ..CloneArgs::default()
    };
    flush();
    // SAFETY: without CLONE_VM this is a fork: the child gets a copy of our memory, and
    // this process is single-threaded. The child only reads a pipe and calls _exit.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &raw const args, size_of::<CloneArgs>()) };
    match ret {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            drop(w);
            let _ = r.read(&mut [0u8; 1]);
            underscore_exit(0)
        }
        pid => Ok((Pid::from_raw(pid as i32), w)),
    }
}
// ANCHOR_END: reuse

// ANCHOR: main
fn main() {
    let _: Args = cli::parse("pidfd");
    let (a, a_gate) = waiting_child();
    let a_fd = pidfd_open(a.as_raw() as u32).unwrap_or_else(|e| cli::fail("pidfd", e));
    println!("child A: pid={a}, pidfd opened");
    println!("kill({a}, 0): {}", probe(a));
    drop(a_gate); // A reads end of file and exits
    // Wait until A is dead but leave it a zombie (WNOWAIT): the pidfd still reaches it.
    waitid(Id::Pid(a), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
        .unwrap_or_else(|e| cli::fail("pidfd", e));
    println!(
        "A exited, a zombie: pidfd_send_signal(A's pidfd, 0): {}",
        result(pidfd_send_signal(a_fd.as_fd(), None))
    );
    let status = waitpid(a, None).unwrap_or_else(|e| cli::fail("pidfd", e));
    println!("A reaped: {status:?}");
    println!("kill({a}, 0): {}", probe(a));
    println!(
        "pidfd_send_signal(A's pidfd, 0): {}",
        result(pidfd_send_signal(a_fd.as_fd(), None))
    );

    match child_with_pid(a) {
        Err(e) => {
            println!(
                "clone3 with set_tid={a}: {e}; reuse step skipped (needs CAP_CHECKPOINT_RESTORE)"
            )
        }
        Ok((b, b_gate)) => {
            println!("child B: pid={b}, the number A had");
            println!("kill({a}, 0): {}", probe(a));
            let sent = pidfd_send_signal(a_fd.as_fd(), Some(Signal::SIGTERM));
            println!("SIGTERM through A's old pidfd: {}", result(sent));
            println!("B still running: kill({b}, 0): {}", probe(b));
            let b_fd = pidfd_open(b.as_raw() as u32).unwrap_or_else(|e| cli::fail("pidfd", e));
            let sent = pidfd_send_signal(b_fd.as_fd(), Some(Signal::SIGTERM));
            println!("SIGTERM through B's own pidfd: {}", result(sent));
            let status = waitpid(b, None).unwrap_or_else(|e| cli::fail("pidfd", e));
            println!("B reaped: {status:?}");
            drop(b_gate);
        }
    }

    // kill(pid, 0) as a user who does not own the target: the answer is EPERM.
    let me = getpid();
    flush();
    // SAFETY: single-threaded; the child prints one line and calls _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let target = if Uid::effective().is_root() {
                setuid(Uid::from_raw(65534)).unwrap_or_else(|e| cli::fail("pidfd", e));
                me // root-owned: nobody may not signal it
            } else {
                Pid::from_raw(1) // init: owned by root
            };
            println!(
                "as uid {}: kill({target}, 0): {}",
                Uid::current(),
                probe(target)
            );
            flush();
            underscore_exit(0)
        }
        Ok(ForkResult::Parent { child }) => {
            waitpid(child, None).unwrap_or_else(|e| cli::fail("pidfd", e));
        }
        Err(e) => cli::fail("pidfd", format!("fork: {e}")),
    }
}
// ANCHOR_END: main
