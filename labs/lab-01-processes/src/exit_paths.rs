//! Chapter 1: the ways out of a process, and which cleanup each one runs.
//!
//! Three kinds of cleanup can run when a process ends:
//!
//! - Rust destructors (`Drop`) of the values on the stack: they run when `main` returns
//!   and when a panic unwinds, and never on `std::process::exit`.
//! - libc's exit handlers, registered with `atexit(3)`: `exit(3)` runs them (returning
//!   from `main` and `std::process::exit` both end in `exit(3)`); `_exit(2)` does not.
//! - stdout's buffer: Rust's stdout keeps an unfinished line in memory. Std flushes it
//!   when `main` returns and in `std::process::exit`; `_exit(2)` and a fatal signal lose it.

// ANCHOR: cleanup
/// Prints a line when dropped: our stand-in for `process.on('exit', …)`.
#[derive(Debug)]
pub struct Cleanup(pub &'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("cleanup: {}", self.0);
    }
}
// ANCHOR_END: cleanup

// ANCHOR: atexit
/// Register a C-level exit handler, the kind `exit(3)` runs and `_exit(2)` skips. It
/// writes to stderr with one `write(2)`: no buffer of ours is involved.
pub fn register_atexit_handler() {
    extern "C" fn on_exit() {
        let _ = nix::unistd::write(std::io::stderr(), b"atexit handler: ran\n");
    }
    // SAFETY: `on_exit` is a plain function that touches no Rust state.
    let registered = unsafe { libc::atexit(on_exit) };
    assert_eq!(registered, 0, "atexit refused the handler");
}
// ANCHOR_END: atexit

// ANCHOR: underscore_exit
/// End the process at once with `_exit(2)`: no destructor, no exit handler, no flush of
/// any buffer. This is what a forked child must call instead of `exit` when it does not
/// `exec` (chapter 4): `exit` would run the parent's handlers and flush the parent's
/// buffered output a second time.
pub fn underscore_exit(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions; it never returns.
    unsafe { libc::_exit(code) }
}
// ANCHOR_END: underscore_exit
