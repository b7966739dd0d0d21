//! Stage 1: a thread per job. `std::thread::spawn` already gives a result per job and keeps
//! a panic inside its thread; what it does not give is a limit: a thousand jobs are a
//! thousand threads, each with its own stack and its own `clone` and exit.

use std::thread::{self, JoinHandle};

// ANCHOR: submit
/// Runs `f` on a new thread of its own; `join` on the handle gives its value, or `Err` with
/// the panic payload if it panicked.
pub fn submit<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread::spawn(f)
}
// ANCHOR_END: submit
