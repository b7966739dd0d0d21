//! Lab for chapter 9, signals, killing and zombies: handlers vs SIGKILL, masks in /proc, zombies and reaping, subreapers, process groups, pidfds.
