//! Chapter 12 exercises. Each solution sits between `// BEGIN SOLUTION` and
//! `// END SOLUTION`; in the student edition it is `todo!()` and the tests fail until it
//! is written. Both functions fork, so they run in the `isolate` and `count-shared`
//! binaries, never in the test harness itself.

use std::sync::atomic::{AtomicU64, Ordering};

use lab_04::forking::underscore_exit;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

use crate::share::SharedMemory;

/// How a job run in a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The job returned.
    Returned,
    /// The job panicked (the child caught the panic and exited with code 101).
    Panicked,
    /// The child was killed by a signal (a segfault, an abort).
    Killed(Signal),
    /// The child exited with another code (the job called `exit` itself).
    Exited(i32),
}

/// Run `job` in a forked child, so that nothing it does (panic, abort, segfault) can take
/// the caller down, and say how it ended. The caller must be single-threaded.
pub fn run_isolated(job: fn()) -> Outcome {
    // EXERCISE: 12.1: fork; in the child run `job` under `std::panic::catch_unwind` and
    // leave with `_exit` (0 when it returned, 101 when it panicked); in the parent wait for
    // the child and turn its wait status into an `Outcome`.
    // BEGIN SOLUTION
    // SAFETY: the caller is single-threaded (see above).
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = match std::panic::catch_unwind(job) {
                Ok(()) => 0,
                Err(_) => 101,
            };
            underscore_exit(code)
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, 0) => Outcome::Returned,
            WaitStatus::Exited(_, 101) => Outcome::Panicked,
            WaitStatus::Exited(_, code) => Outcome::Exited(code),
            WaitStatus::Signaled(_, signal, _) => Outcome::Killed(signal),
            other => panic!("unexpected wait status {other:?}"),
        },
    }
    // END SOLUTION
}

/// Fork `children` processes that each add 1 to one shared counter `adds` times, wait for
/// all of them, and return the counter: `children * adds` when the counter is really
/// shared and every addition atomic. The caller must be single-threaded.
pub fn count_in_children(children: usize, adds: u64) -> u64 {
    // EXERCISE: 12.2: put an `AtomicU64` in memory that the children share with the
    // parent (a `SharedMemory`, through its raw pointer `as_mut_ptr` and
    // `AtomicU64::from_ptr`), let each child `fetch_add` into it, reap every child (each
    // must exit with 0), and read the total.
    // BEGIN SOLUTION
    let shared = SharedMemory::new("lab12-counter", 8).expect("memfd");
    let word = shared.as_mut_ptr().cast::<u64>();
    assert!(word.is_aligned(), "mmap returns page-aligned memory");
    // SAFETY: `word` is aligned (checked above), points at 8 zero-filled bytes that stay
    // mapped while `shared` lives (until this function returns, after the last use of
    // `counter`), and every access to them, here and in every child, is atomic. The
    // pointer comes from the mapping itself, not from a shared `&[u8]`, so writing
    // through it is allowed.
    let counter: &AtomicU64 = unsafe { AtomicU64::from_ptr(word) };
    let mut pids = Vec::new();
    for _ in 0..children {
        // SAFETY: single-threaded caller; the child only does atomic adds and _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                for _ in 0..adds {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                underscore_exit(0)
            }
            ForkResult::Parent { child } => pids.push(child),
        }
    }
    for pid in pids {
        assert_eq!(waitpid(pid, None), Ok(WaitStatus::Exited(pid, 0)));
    }
    counter.load(Ordering::Relaxed)
    // END SOLUTION
}
