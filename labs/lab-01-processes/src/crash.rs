//! Chapter 1: uncaught errors.
//!
//! Node emits `'uncaughtException'` and, without a listener, prints the stack and exits
//! with code 1. Rust's counterpart is a *panic*: the panic hook runs first (by default it
//! prints "thread 'main' panicked at …"), then, with the default `panic = "unwind"`, the
//! stack unwinds, running destructors, and a panic that leaves `main` ends the process
//! with exit code 101. With `panic = "abort"` the hook runs and the process aborts
//! (SIGABRT) on the spot: no destructor, no 101.

use std::any::Any;
use std::panic::{self, PanicHookInfo};

/// The message of a panic: `panic!("text")` carries a `&str`, `panic!("{x}")` a `String`.
pub fn panic_message(payload: &dyn Any) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".to_string())
}

// ANCHOR: hook
/// Replace the default panic message with our own one-line report, the way a Node
/// program logs in `process.on('uncaughtException', …)`. The hook runs for *every*
/// panic, also one that `catch_unwind` will stop later.
pub fn install_panic_hook() {
    panic::set_hook(Box::new(|info: &PanicHookInfo<'_>| {
        let message = panic_message(info.payload());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        eprintln!("panic hook: thread '{name}' panicked: {message} ({place})");
    }));
}
// ANCHOR_END: hook

// ANCHOR: catch
/// Run `work`, turning a panic into an `Err` with the panic's message: a boundary
/// (a request handler, a job in a pool) that keeps one failure from ending the process.
pub fn run_catching<T>(work: impl FnOnce() -> T + panic::UnwindSafe) -> Result<T, String> {
    panic::catch_unwind(work).map_err(|payload| panic_message(&*payload))
}
// ANCHOR_END: catch

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_catching_returns_the_value_or_the_panic_message() {
        assert_eq!(run_catching(|| 6 * 7), Ok(42));
        assert_eq!(
            run_catching(|| -> i32 { panic!("static message") }),
            Err("static message".into())
        );
        let n = 3;
        assert_eq!(
            run_catching(|| -> i32 { panic!("formatted {n}") }),
            Err("formatted 3".into())
        );
    }
}
