//! Lab for chapter 11, the hidden thread pool: the threads of a tokio runtime and of Node, counted from /proc in each phase.
