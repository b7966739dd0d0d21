//! Lab for chapter 9, signals, killing and zombies: handlers vs SIGKILL, masks in /proc,
//! zombies and reaping, subreapers, process groups, pidfds.
//!
//! The demos in `src/bin` fork and signal; the library holds what they share and what the
//! chapter shows: safe ways to react to a signal ([`handler`]), signal masks as `/proc`
//! reports them ([`masks`]), pidfds ([`pidfd`]) and process groups ([`group`]).

pub mod cli;
pub mod group;
pub mod handler;
pub mod masks;
pub mod pidfd;

/// Leave at once with `code`: no atexit handlers, no flushing of anything buffered. A
/// forked child of these demos ends this way (its parent's buffers are not its to flush).
pub fn underscore_exit(code: i32) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}
