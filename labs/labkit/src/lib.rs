//! labkit: the small set of helpers that several labs' tests and demos share.
//!
//! The teaching code lives in the labs; this crate only holds what would otherwise be
//! copied into every lab's `tests/` folder:
//!
//! - [`run`]: run a program to its end under a deadline and keep its status, stdout and
//!   stderr; [`run::Finished::transcript`] prints a run the way the book shows it.
//! - [`child`]: a guard that runs a demo in its own process group and kills and reaps the
//!   whole group when dropped, also when the test panics; [`demo`] prepares the command.
//! - [`lines`]: read a child's output line by line with a time-out, and wait for its
//!   readiness line instead of sleeping.
//! - [`wait::eventually`]: poll for a condition the kernel sends no notification for,
//!   failing at the deadline (never returning a stale value).
//! - [`proc`]: readers for `/proc/PID/...` (stat, status with its signal masks, comm,
//!   cmdline, threads, fds, children), so a test can look at a process from the outside.
//! - [`redact`]: insta filters for values that truly vary between runs, named and
//!   numbered so that relationships survive (`[TEST]`, `[HEAP-1]`).
//! - [`fd::place_fd`]: give a child a file descriptor at a fixed number (fd 3).
//! - [`group::signal_group`]: signal a whole process group, refusing our own.
//! - [`daemon::DaemonGuard`]: kill and reap processes that left our group (daemons).
//! - [`tools::require_tool`]: skip a Node.js or Java comparison on a reader's machine
//!   without the tool, fail it in CI.
//! - [`http`]: a tiny HTTP/1.1 client for testing the labs' servers.
//! - [`experiment`]: what the labs' `--release` experiments share: the machine line, the
//!   median and spread of a row, the `--json` report (DESIGN §9) and its check in tests.

use std::time::Duration;

pub mod child;
pub mod daemon;
pub mod experiment;
pub mod fd;
pub mod group;
pub mod http;
pub mod lines;
pub mod proc;
pub mod redact;
pub mod run;
pub mod tools;
pub mod wait;

pub use child::{ChildGuard, demo};
pub use lines::LineReader;
pub use redact::Redactor;
pub use run::{Finished, run, run_for};
pub use tools::require_tool;
pub use wait::eventually;

/// The one time-out of the test helpers: how long a test waits for a line, an exit or a
/// condition before it calls the program hung. Generous on purpose: it only turns a hang
/// into a failure, it never orders events.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
