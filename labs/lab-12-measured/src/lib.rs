//! Lab for chapter 12, **Processes vs threads, measured**: the comparison table that ends
//! many a course (data sharing, CPU and memory, creation and switching cost, coding
//! difficulty, reliability, distribution), with every cell a measurement or a test.
//!
//! - [`create`]: a worker created and destroyed, each Rust way, and its floor (the bare
//!   system calls);
//! - [`switch`]: ping-pong between two processes or two threads (pipes, a Condvar);
//! - [`memory`]: memory per worker, from `/proc/PID/smaps_rollup` ([`smaps`]);
//! - [`share`]: a big buffer shared by `Arc`, copied through a pipe, or mapped with
//!   `memfd_create` + `mmap`;
//! - [`chart`]: the SVG chart of a run of the `compare` experiment;
//! - [`exercises`]: the chapter's exercises;
//! - `distribution`: the lab-07 server on several network namespaces behind nginx.
//!
//! The reliability rows are the `crash-worker` demo and its tests.

pub mod chart;
pub mod create;
pub mod distribution;
pub mod exercises;
pub mod memory;
pub mod share;
pub mod smaps;
pub mod switch;
