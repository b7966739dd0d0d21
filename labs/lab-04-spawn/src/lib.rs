//! Lab for chapter 4, **spawn, exec, execFile and fork**: Node's four `child_process`
//! calls, and what each one is in Rust on Linux.
//!
//! - [`stream`]: `spawn` with pipes: a conversation with a child, line by line, while it
//!   runs.
//! - [`pipes`]: writing a child's stdin while reading its stdout: the deadlock that naive
//!   code hits once both pipes are full, and the fix (a thread per direction).
//! - [`exec`]: `exec`: a command line through `sh -c`, output collected under a
//!   max-buffer limit; over the limit, a typed error and the whole process group killed
//!   and reaped. Also `execFile`'s lesson: arguments without a shell.
//! - [`forking`]: what the `fork` demos read: `/proc/PID/smaps_rollup`, the open fds,
//!   `_exit`.
//! - [`cli`]: one clear line for bad input to a demo.

pub mod cli;
pub mod exec;
pub mod forking;
pub mod pipes;
pub mod stream;
