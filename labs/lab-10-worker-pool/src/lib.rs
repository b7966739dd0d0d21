//! Lab for chapter 10, worker threads and a pool: std threads with channels as Node's workers, and a ThreadPool on std::thread with a bounded queue.
