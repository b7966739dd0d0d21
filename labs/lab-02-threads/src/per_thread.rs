//! Chapter 2: what each thread keeps for itself, besides its stack.
//!
//! Threads share memory, files and signal *handlers*, but a few things are per thread:
//! thread-local variables (`thread_local!`, one copy per thread), `errno` (which glibc
//! keeps in thread-local storage), and the signal *mask*, the set of signals a thread
//! has blocked. The kernel shows each thread's mask as `SigBlk` in
//! `/proc/PID/task/TID/status`. A signal sent to the whole process goes to one thread
//! that does not block it; the working directory, on the other hand, is shared.

use std::cell::Cell;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, kill, pthread_sigmask, sigaction,
};
use nix::unistd::getpid;

use crate::gate::Gate;

// ANCHOR: thread_local
thread_local! {
    /// How many requests this thread has handled: every thread has its own counter.
    static HANDLED: Cell<u32> = const { Cell::new(0) };
}

fn handle_requests(n: u32) -> u32 {
    for _ in 0..n {
        HANDLED.with(|handled| handled.set(handled.get() + 1));
    }
    HANDLED.with(Cell::get)
}
// ANCHOR_END: thread_local

/// One thread's own state, seen from inside the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    pub name: String,
    pub tid: u32,
    /// The thread's copy of the `HANDLED` thread-local after it handled some requests.
    pub handled: u32,
    /// The signals in the thread's `SigBlk` mask, by name.
    pub blocked: Vec<String>,
}

/// The blocked signals of thread `tid` of this process, from its `SigBlk` line.
pub fn blocked_signals(tid: u32) -> io::Result<Vec<String>> {
    let status = fs::read_to_string(format!("/proc/self/task/{tid}/status"))?;
    let hex = status
        .lines()
        .find_map(|line| line.strip_prefix("SigBlk:"))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no SigBlk line"))?;
    let mask = u64::from_str_radix(hex.trim(), 16)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((1..=64)
        .filter(|n| mask & (1u64 << (n - 1)) != 0)
        .map(|n| match Signal::try_from(n) {
            Ok(signal) => signal.as_str().to_string(),
            Err(_) => format!("signal {n}"),
        })
        .collect())
}

fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

// ANCHOR: sigmask
/// Main and two workers each handle a different number of requests; the worker
/// `blocker` also blocks SIGUSR1, for itself only. While all three are alive, main reads
/// every thread's mask from `/proc`.
pub fn per_thread_state() -> io::Result<Vec<ThreadState>> {
    let looked = Gate::new(); // opens when main has read the masks: the workers may end
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        let closed = looked.close();
        for (name, requests, block) in [("blocker", 2, Some(Signal::SIGUSR1)), ("plain", 3, None)] {
            let (tx, looked) = (tx.clone(), &looked);
            thread::Builder::new()
                .name(name.to_string())
                .spawn_scoped(s, move || {
                    if let Some(signal) = block {
                        let mask = SigSet::from(signal);
                        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
                            .expect("pthread_sigmask");
                    }
                    let handled = handle_requests(requests);
                    tx.send((name.to_string(), gettid(), handled)).ok();
                    looked.pass(); // stay alive until main has looked
                })?;
        }
        drop(tx);
        let mut threads = vec![("main".to_string(), gettid(), handle_requests(1))];
        threads.extend(rx.iter().take(2));
        threads[1..].sort(); // "blocker" before "plain", whoever reported first
        let states = threads
            .into_iter()
            .map(|(name, tid, handled)| {
                Ok(ThreadState {
                    blocked: blocked_signals(tid)?,
                    name,
                    tid,
                    handled,
                })
            })
            .collect();
        drop(closed);
        states
    })
}
// ANCHOR_END: sigmask

/// Which thread ran the handler for one signal sent to the whole process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Whether main blocked SIGUSR1 too when it was sent (`blocker` always does).
    pub main_blocked: bool,
    /// The thread whose handler ran, by name.
    pub handled_by: String,
    pub tid: u32,
}

/// The tid of the thread that ran the SIGUSR1 handler last (0: none yet).
static HANDLER_RAN_ON: AtomicU32 = AtomicU32::new(0);

extern "C" fn note_handler_thread(_signal: nix::libc::c_int) {
    // Only async-signal-safe work in a handler: gettid is a bare system call, the store
    // an atomic instruction.
    HANDLER_RAN_ON.store(gettid(), Ordering::SeqCst);
}

// ANCHOR: delivery
/// Send SIGUSR1 to the whole process twice (`kill(getpid())`, as `kill PID` from a shell
/// does) and see which thread runs the handler: first while only `blocker` blocks it,
/// then while main blocks it too. Today's kernel tries the main thread first, then goes
/// round the others for one that does not block the signal.
///
/// This installs a process-wide handler and signals the process: call it only in a
/// program of your own (the `per-thread` demo), never inside a test harness.
pub fn who_handles_a_process_signal() -> io::Result<Vec<Delivery>> {
    let handler = SigAction::new(
        SigHandler::Handler(note_handler_thread),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic and calls gettid.
    unsafe { sigaction(Signal::SIGUSR1, &handler) }?;
    let usr1 = SigSet::from(Signal::SIGUSR1);
    let done = Gate::new();
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        let closed = done.close();
        for (name, blocks) in [("blocker", true), ("plain", false)] {
            let (tx, done) = (tx.clone(), &done);
            thread::Builder::new()
                .name(name.to_string())
                .spawn_scoped(s, move || {
                    if blocks {
                        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None)
                            .expect("pthread_sigmask");
                    }
                    tx.send((gettid(), name)).ok();
                    done.pass(); // asleep here when the signals come
                })?;
        }
        drop(tx);
        let mut names = vec![(gettid(), "main")];
        names.extend(rx.iter().take(2));
        let mut deliveries = Vec::new();
        for main_blocks in [false, true] {
            if main_blocks {
                pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None)?;
            }
            HANDLER_RAN_ON.store(0, Ordering::SeqCst);
            kill(getpid(), Signal::SIGUSR1)?;
            let tid = wait_for_handler(Duration::from_secs(10))?;
            let name = names.iter().find(|(t, _)| *t == tid).map(|(_, n)| *n);
            deliveries.push(Delivery {
                main_blocked: main_blocks,
                handled_by: name.unwrap_or("another thread").to_string(),
                tid,
            });
        }
        pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&usr1), None)?;
        drop(closed);
        Ok(deliveries)
    })
}
// ANCHOR_END: delivery

/// The tid the handler recorded, once it has run; an error at the deadline.
fn wait_for_handler(timeout: Duration) -> io::Result<u32> {
    let deadline = Instant::now() + timeout;
    loop {
        match HANDLER_RAN_ON.load(Ordering::SeqCst) {
            0 if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no thread ran the SIGUSR1 handler within {timeout:?}"),
                ));
            }
            0 => thread::yield_now(),
            tid => return Ok(tid),
        }
    }
}

// ANCHOR: cwd
/// A worker changes the working directory; main then asks for its own. The working
/// directory (like the umask) belongs to the process, not to a thread: threads are
/// created with `CLONE_FS`, which shares them.
///
/// This changes the calling process's directory: call it only in a program of your own
/// (the `per-thread` demo), never inside a test harness.
pub fn cwd_after_a_worker_moves(to: &Path) -> io::Result<PathBuf> {
    thread::scope(|s| s.spawn(|| std::env::set_current_dir(to)).join())
        .map_err(|_| io::Error::other("the worker panicked"))??;
    std::env::current_dir()
}
// ANCHOR_END: cwd

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_has_its_own_thread_local_and_signal_mask() {
        let states = per_thread_state().unwrap();
        let view: Vec<(&str, u32, Vec<String>)> = states
            .iter()
            .map(|t| (t.name.as_str(), t.handled, t.blocked.clone()))
            .collect();
        assert_eq!(
            view,
            [
                ("main", 1, vec![]),
                ("blocker", 2, vec!["SIGUSR1".to_string()]),
                ("plain", 3, vec![]),
            ]
        );
        let mut tids: Vec<u32> = states.iter().map(|t| t.tid).collect();
        tids.sort();
        tids.dedup();
        assert_eq!(tids.len(), 3);
    }
}
