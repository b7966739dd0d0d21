//! Chapter 2: holding started threads until the main thread has looked at them, without
//! a hang when a later thread cannot be started.
//!
//! A `Barrier::new(n)` waits for `n` threads. If the third of four spawns fails (too many
//! threads, no memory for a stack), the two that did start wait at the barrier for ever,
//! and `thread::scope`, which joins every thread it started, waits for them for ever too.
//! A [`Gate`] avoids that: the workers wait until the main thread *opens* it, and dropping
//! the [`Closed`] guard opens it, so an early return with `?` lets them go as well.

use std::sync::{PoisonError, RwLock, RwLockWriteGuard};

// ANCHOR: gate
/// Threads wait at a gate until it opens. It opens when the guard that [`Gate::close`]
/// returned is dropped, on any path out of the code that holds it.
#[derive(Debug, Default)]
pub struct Gate(RwLock<()>);

/// The gate is closed while this guard lives; dropping it opens the gate.
#[derive(Debug)]
pub struct Closed<'a> {
    _write_lock: RwLockWriteGuard<'a, ()>,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Close the gate: from now until the guard is dropped, `pass` waits.
    pub fn close(&self) -> Closed<'_> {
        Closed {
            _write_lock: self.0.write().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Wait until the gate is open (return at once if it is).
    pub fn pass(&self) {
        // A read lock waits while the writer (the `Closed` guard) holds the lock.
        drop(self.0.read().unwrap_or_else(PoisonError::into_inner));
    }
}
// ANCHOR_END: gate

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;

    #[test]
    fn threads_wait_until_the_guard_is_dropped() {
        let gate = Gate::new();
        let (passed, passes) = mpsc::channel();
        thread::scope(|s| {
            let closed = gate.close();
            for i in 0..3 {
                let passed = passed.clone();
                let gate = &gate;
                s.spawn(move || {
                    gate.pass();
                    passed.send(i).unwrap();
                });
            }
            // Nobody passes while the gate is closed.
            assert_eq!(
                passes.recv_timeout(std::time::Duration::from_millis(50)),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            drop(closed);
        });
        drop(passed);
        let mut all: Vec<i32> = passes.iter().collect();
        all.sort();
        assert_eq!(all, [0, 1, 2]);
    }

    #[test]
    fn an_early_return_opens_the_gate() {
        let gate = Gate::new();
        let result: Result<(), &str> = thread::scope(|s| {
            let _closed = gate.close();
            s.spawn(|| gate.pass());
            Err("a later spawn failed")
        });
        // Reaching this line at all is the point: the scope joined the waiting thread.
        assert_eq!(result, Err("a later spawn failed"));
    }
}
