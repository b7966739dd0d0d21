//! Lab for chapter 1, **Processes**: Node's `process` object, re-taught from the kernel up.
//!
//! - [`card`]: who am I? pid, parent, command name, arguments, working directory,
//!   environment, user, age and where the three standard streams point, read from the
//!   kernel (mostly from `/proc/self`).
//! - [`title`]: the two names of a process: the kernel's 15-byte `comm`, which
//!   `prctl(PR_SET_NAME)` changes, and `argv[0]`, which the parent chose.
//! - [`status`]: how a parent reads the end of a child: an exit code, or a signal.
//! - [`crash`]: the uncaught-error story: a panic hook, `catch_unwind`, exit code 101.
//! - [`exit_paths`]: which cleanup runs on each way out: destructors, `atexit` handlers,
//!   stdout's buffer.
//! - [`peek`]: reading *another* process's card by pid (an exercise).

pub mod card;
pub mod crash;
pub mod exit_paths;
pub mod peek;
pub mod status;
pub mod title;
