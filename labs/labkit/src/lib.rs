//! labkit: the small set of helpers that several labs' tests and demos share.
//!
//! The teaching code lives in the labs; this crate only holds what would otherwise be
//! copied into every lab's `tests/` folder:
//!
//! - [`redact`]: insta filters for values that truly vary between runs (pids, ports,
//!   durations, temp paths, inode numbers), plus named literal replacements that keep
//!   relationships visible ("the child's ppid is the parent's pid").
//! - [`proc`]: readers for `/proc/PID/...` (state letter, ppid, comm, threads, fds,
//!   children), so a test can look at a process from the outside.
//! - [`child`]: a guard that runs a demo in its own process group and kills and reaps the
//!   whole group when dropped, also when the test panics.
//! - [`lines`]: read a child's output line by line with a time-out, and wait for its
//!   readiness line instead of sleeping.
//! - [`http`]: a tiny HTTP/1.1 client for testing the labs' servers.

pub mod child;
pub mod http;
pub mod lines;
pub mod proc;
pub mod redact;

pub use child::{ChildGuard, demo};
pub use lines::LineReader;
pub use redact::Redactor;
