//! Lab for chapter 3, blocking the event loop: a single-threaded tokio HTTP server whose /compute blocks /, and its fixes (spawn_blocking, a thread pool, a child process).
