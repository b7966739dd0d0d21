//! Lab for chapter 8, daemons: the classic double fork with a locked pid file and readiness pipe, and a new-style supervisor with sd_notify readiness.
