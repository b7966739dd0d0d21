//! Chapter 1, exercise 01.2 on a real child: `waitpid` also reports a child that a
//! signal *stopped* (with `WUNTRACED`) and one that continued (with `WCONTINUED`).

use std::io::Write;
use std::process::Stdio;

use lab_01::status::describe_wait;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, demo};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

#[test]
fn exercise_01_2_a_stopped_child_is_alive_and_can_continue() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_set-title"));
    cmd.arg("stop-me").stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    child
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    let pid = Pid::from_raw(child.pid() as i32);

    // Neither waitpid below reaps the child: a stop and a continue are events, not ends.
    kill(pid, Signal::SIGSTOP).unwrap();
    let stopped = waitpid(pid, Some(WaitPidFlag::WUNTRACED)).unwrap();
    assert_eq!(
        describe_wait(stopped),
        "stopped by SIGSTOP (signal 19, still alive)"
    );
    kill(pid, Signal::SIGCONT).unwrap();
    let continued = waitpid(pid, Some(WaitPidFlag::WCONTINUED)).unwrap();
    assert_eq!(describe_wait(continued), "continued");

    child.take_stdin().unwrap().write_all(b"\n").unwrap();
    assert!(child.wait().unwrap().success());
}
