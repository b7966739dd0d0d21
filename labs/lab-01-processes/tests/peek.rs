//! Chapter 1, exercise 01.1 on a real process: read the card of a child we started, by
//! its pid, from outside. The child renamed itself so that its comm ends in half a
//! character, as `/proc/PID/stat` then shows it too.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use lab_01::card::ticks_per_second;
use lab_01::peek::peek;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, demo};

#[test]
fn exercise_01_1_peek_sees_our_child_as_ps_would() {
    let before = Instant::now();
    let mut cmd = demo(env!("CARGO_BIN_EXE_set-title"));
    // A title whose 15-byte cut splits 'í': the child's comm is not valid UTF-8.
    cmd.arg("worker-cafetería").stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    child
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    // Once it blocks reading stdin, the child sleeps: state S.
    let info = labkit::eventually(DEFAULT_TIMEOUT, || {
        let info = peek(child.pid()).map_err(|e| e.to_string())?;
        if info.state == 'S' {
            Ok(info)
        } else {
            Err(format!("state {}", info.state))
        }
    })
    .unwrap();
    let elapsed = before.elapsed();
    assert_eq!(info.pid, child.pid());
    assert_eq!(info.ppid, std::process::id());
    assert_eq!(info.comm, "worker-cafeter\u{fffd}");
    // Start time and /proc/uptime are rounded down (a tick, 10 ms): allow for both.
    let slack = Duration::from_secs_f64(1.0 / ticks_per_second().unwrap() as f64 + 0.01);
    assert!(info.age <= elapsed + slack, "{info:?} after {elapsed:?}");

    child.take_stdin().unwrap().write_all(b"\n").unwrap();
    assert!(child.wait().unwrap().success());
}
