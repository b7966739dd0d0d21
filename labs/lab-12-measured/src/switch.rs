//! Chapter 12, context switches: two workers hand one byte (or one turn) back and forth;
//! each round trip makes each side block and the other wake, so the time per round trip
//! is about two context switches plus the two wake-ups. Processes over two pipes, threads
//! over two pipes, and threads with a Mutex + Condvar (which blocks on a futex in the
//! kernel). `pinned` puts both sides on one CPU, so every hand-over is a real switch on
//! that CPU instead of a wake-up of a task sleeping on the other CPU.
//!
//! `processes` forks: call it from a single-threaded program only (`compare`).

use std::fs::File;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use lab_04::forking::underscore_exit;
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};

/// Runs `f` with the calling thread (and so the threads and children it creates) allowed
/// on one CPU only, the first of its current set, and puts the old set back after.
pub fn pinned<T>(f: impl FnOnce() -> T) -> T {
    let old = sched_getaffinity(Pid::from_raw(0)).expect("sched_getaffinity");
    let first = (0..CpuSet::count())
        .find(|&c| old.is_set(c).unwrap_or(false))
        .expect("at least one CPU");
    let mut one = CpuSet::new();
    one.set(first).expect("a CPU number below the set's size");
    sched_setaffinity(Pid::from_raw(0), &one).expect("sched_setaffinity");
    let result = f();
    sched_setaffinity(Pid::from_raw(0), &old).expect("sched_setaffinity");
    result
}

fn pipes() -> ((File, File), (File, File)) {
    let (a_read, a_write) = pipe().expect("pipe");
    let (b_read, b_write) = pipe().expect("pipe");
    (
        (File::from(a_read), File::from(a_write)),
        (File::from(b_read), File::from(b_write)),
    )
}

/// Echo `rounds` bytes: read one from `from`, write it to `to`.
fn echo(mut from: File, mut to: File, rounds: u32) {
    let mut byte = [0u8];
    for _ in 0..rounds {
        from.read_exact(&mut byte).expect("read");
        to.write_all(&byte).expect("write");
    }
}

/// Send `rounds` bytes one at a time, each after the echo of the one before.
fn serve(mut to: File, mut from: File, rounds: u32) -> Duration {
    let mut byte = [1u8];
    let started = Instant::now();
    for _ in 0..rounds {
        to.write_all(&byte).expect("write");
        from.read_exact(&mut byte).expect("read");
    }
    started.elapsed()
}

// ANCHOR: processes
/// Two processes, two pipes: the parent writes a byte, the child echoes it back.
pub fn processes(rounds: u32) -> Duration {
    let ((to_child_r, to_child_w), (to_parent_r, to_parent_w)) = pipes();
    // SAFETY: single-threaded caller; the child echoes and leaves with _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            drop((to_child_w, to_parent_r));
            echo(to_child_r, to_parent_w, rounds);
            underscore_exit(0)
        }
        ForkResult::Parent { child } => {
            drop((to_child_r, to_parent_w));
            let took = serve(to_child_w, to_parent_r, rounds);
            assert_eq!(waitpid(child, None), Ok(WaitStatus::Exited(child, 0)));
            took
        }
    }
}

/// Two threads of one process, two pipes: the same hand-over.
pub fn threads_pipe(rounds: u32) -> Duration {
    let ((to_child_r, to_child_w), (to_parent_r, to_parent_w)) = pipes();
    let echoer = std::thread::spawn(move || echo(to_child_r, to_parent_w, rounds));
    let took = serve(to_child_w, to_parent_r, rounds);
    echoer.join().expect("echo thread");
    took
}
// ANCHOR_END: processes

// ANCHOR: condvar
/// Two threads, no file descriptor: a turn counter under a Mutex, a Condvar to wait for
/// the other side's turn (a futex wait and a futex wake per hand-over).
pub fn threads_condvar(rounds: u32) -> Duration {
    let shared = Arc::new((Mutex::new(0u64), Condvar::new()));
    let theirs = Arc::clone(&shared);
    let echoer = std::thread::spawn(move || {
        let (turn, cv) = &*theirs;
        let mut t = turn.lock().unwrap();
        for i in 0..u64::from(rounds) {
            t = cv.wait_while(t, |t| *t != 2 * i + 1).unwrap(); // our turn: odd
            *t += 1;
            cv.notify_one();
        }
    });
    let (turn, cv) = &*shared;
    let started = Instant::now();
    let mut t = turn.lock().unwrap();
    for i in 0..u64::from(rounds) {
        *t += 1; // hand the turn over (odd) ...
        cv.notify_one();
        t = cv.wait_while(t, |t| *t != 2 * i + 2).unwrap(); // ... and wait for it back
    }
    let took = started.elapsed();
    drop(t);
    echoer.join().expect("echo thread");
    took
}
// ANCHOR_END: condvar

#[cfg(test)]
mod tests {
    use super::*;

    // Threads only (the harness must not fork); the behaviour, never the time.
    #[test]
    fn thread_ping_pongs_complete() {
        threads_pipe(100);
        threads_condvar(100);
        pinned(|| threads_condvar(10));
    }
}
