//! Chapter 2: a thread's stack is finite.
//!
//! The main thread's stack grows on demand up to the `RLIMIT_STACK` limit (`ulimit -s`,
//! usually 8 MiB). A thread that Rust starts gets a fixed stack: 2 MiB by default, or
//! `RUST_MIN_STACK` bytes, or what `thread::Builder::stack_size` asks for. Below every
//! thread stack glibc leaves a guard page that may not be touched. A recursion that runs
//! past the end touches it, the kernel sends SIGSEGV, and Rust's handler for that signal
//! sees the fault is in a guard page, prints which thread overflowed, and aborts the
//! whole process: a stack overflow cannot be caught like a panic.

use std::hint::black_box;

// ANCHOR: recurse
/// Recurse `depth` calls deep, each call keeping a 1 KiB array on the stack.
pub fn recurse(depth: u64) -> u64 {
    // `black_box` stops the optimiser from removing the array or turning the recursion
    // into a loop: every call really needs its own frame.
    let frame = black_box([depth as u8; 1024]);
    if depth == 0 {
        return 0;
    }
    recurse(depth - 1) + u64::from(frame[depth as usize % 1024])
}
// ANCHOR_END: recurse

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shallow_recursion_returns() {
        // Sum of (d as u8) for d in 1..=10.
        assert_eq!(recurse(10), 55);
    }
}
