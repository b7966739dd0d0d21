//! Lab for chapter 10, worker threads and a pool: std threads with channels as Node's workers,
//! and a ThreadPool on std::thread with a bounded queue.

pub mod pool;

pub use pool::s5_pool::{Full, JobHandle, JobPanicked, ThreadPool};
pub mod bench;
pub mod cli;
pub mod exercises;
pub mod workers;
