//! Chapter 2: what each thread keeps for itself, besides its stack.
//!
//! Threads share memory, files and signal *handlers*, but a few things are per thread:
//! thread-local variables (`thread_local!`, one copy per thread), `errno` (which glibc
//! keeps in thread-local storage), and the signal *mask*, the set of signals a thread
//! has blocked. The kernel shows each thread's mask as `SigBlk` in
//! `/proc/PID/task/TID/status`.

use std::cell::Cell;
use std::fs;
use std::io;
use std::sync::{Barrier, mpsc};
use std::thread;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

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
    let looked = Barrier::new(3); // main has read the masks: the workers may end
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
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
                    tx.send((name.to_string(), gettid(), handled)).unwrap();
                    looked.wait(); // stay alive until main has looked
                })?;
        }
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
        looked.wait();
        states
    })
}
// ANCHOR_END: sigmask

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
