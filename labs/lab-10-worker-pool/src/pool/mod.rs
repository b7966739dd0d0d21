//! Chapter 10: the pool, built in stages. Each module is one step, compiled and tested as
//! the chapter shows it; `s5_pool` is the finished `ThreadPool`.

pub mod s1_thread_per_job;
pub mod s2_fixed_workers;
pub mod s3_bounded_queue;
pub mod s4_results;
pub mod s5_pool;
