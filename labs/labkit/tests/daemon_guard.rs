//! The daemon guard in its own test binary: it makes the test process a subreaper, which
//! should not change how the library's other unit tests see their orphans.

use std::process::{Command, Stdio};

use labkit::daemon::DaemonGuard;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, proc};

/// A shell that starts a daemon-like process (new session via `setsid`, its parent gone
/// at once), prints the daemon's pid, and exits.
fn start_daemon() -> u32 {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"setsid sh -c 'echo $$; exec sleep 300 >/dev/null' &"#)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut parent = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = parent.stdout_lines();
    let pid = lines.next_line(DEFAULT_TIMEOUT).unwrap().unwrap();
    assert!(parent.wait().unwrap().success());
    pid.parse().unwrap()
}

#[test]
fn a_daemon_that_left_our_group_is_killed_and_reaped_on_drop() {
    let guard = DaemonGuard::new().unwrap();
    let pid = start_daemon();
    guard.track(pid).unwrap();
    let stat = proc::stat(pid).unwrap();
    assert_eq!(stat.pgrp, pid, "setsid made it lead a group of its own");
    assert_eq!(stat.session, pid);
    // Its parent exited; as a subreaper, the test process adopted it.
    assert_eq!(stat.ppid, std::process::id());
    assert_eq!(guard.alive(), [pid]);
    drop(guard);
    // Killed and reaped: no /proc entry, not even a zombie.
    assert!(proc::stat(pid).is_err(), "{pid} still exists");
}
