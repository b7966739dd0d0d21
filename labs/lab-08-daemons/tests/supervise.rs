//! Chapter 8 tests, the new-style supervisor: restarts with growing back-off and a
//! give-up, readiness over NOTIFY_SOCKET, SIGTERM forwarded, the socket file removed.

use std::path::Path;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, proc};
use nix::sys::signal::Signal;

const LABD: &str = env!("CARGO_BIN_EXE_labd");

fn names_in(state: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn number_after(text: &str, key: &str) -> Option<u32> {
    let at = text.find(key)? + key.len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn a_crashing_child_is_restarted_with_growing_delays_then_given_up() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let mut cmd = demo(LABD);
    cmd.arg("--state-dir").arg(state).args([
        "supervise",
        "--max-restarts",
        "3",
        "--backoff-ms",
        "10",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1), "{finished:?}");
    let lines = finished.stdout_lines();
    let delays: Vec<u32> = lines
        .iter()
        .filter(|l| l.starts_with("restart "))
        .filter_map(|l| number_after(l, " in "))
        .collect();
    assert_eq!(delays, [10, 20, 40], "each delay doubles: {lines:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("child started"))
            .count(),
        4
    );
    assert_eq!(lines.last(), Some(&"giving up: 3 restarts within 60000 ms"));
    assert!(
        names_in(state).is_empty(),
        "the notify socket was removed: {:?}",
        names_in(state)
    );
    let mut redactor = Redactor::new();
    let children = lines
        .iter()
        .filter_map(|l| number_after(l, "child started pid="));
    for (i, pid) in children.enumerate() {
        redactor = redactor.id(pid, &format!("CHILD-{}", i + 1));
    }
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "supervise_gives_up",
        redactor.apply(&finished.transcript(
            "./target/debug/labd --state-dir /tmp/labd supervise --max-restarts 3 --backoff-ms 10 -- sh -c 'exit 3'"
        ))
    );
}

#[test]
fn readiness_comes_over_notify_socket_and_sigterm_is_forwarded() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let mut cmd = demo(LABD);
    cmd.arg("--state-dir")
        .arg(state)
        .args(["supervise", "--", LABD, "--state-dir"])
        .arg(state)
        .args(["run", "--notify", "--interval-ms", "60000"]);
    let mut supervisor = ChildGuard::spawn(&mut cmd).unwrap();
    let sup = supervisor.pid();
    let mut lines = supervisor.stdout_lines();
    let ready = lines.wait_for("child ready pid=", DEFAULT_TIMEOUT).unwrap();
    let child = number_after(&ready, "pid=").unwrap();
    let started = number_after(&lines.history()[0], "child started pid=").unwrap();
    assert_eq!(
        child, started,
        "the kernel's credentials name the child as the sender"
    );
    assert_eq!(
        proc::stat(child).unwrap().ppid,
        sup,
        "the child stays in the foreground"
    );
    let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap();
    let socket = state.join("notify.sock");
    let expected = format!("NOTIFY_SOCKET={}", socket.display());
    assert!(
        environ.split(|&b| b == 0).any(|v| v == expected.as_bytes()),
        "{expected}"
    );
    assert!(
        std::fs::symlink_metadata(&socket).is_ok(),
        "bound while supervising"
    );

    supervisor.signal(Signal::SIGTERM).unwrap();
    let rest = lines.rest(DEFAULT_TIMEOUT).unwrap();
    let status = supervisor.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let all: Vec<String> = lines.history().to_vec();
    assert!(rest.contains(&"| SIGTERM: exiting".to_string()), "{all:?}");
    assert_eq!(
        all.last().map(String::as_str),
        Some(format!("child pid={child} exited with code 0").as_str())
    );
    assert!(
        names_in(state).is_empty(),
        "socket removed: {:?}",
        names_in(state)
    );

    let before: Vec<&String> = all.iter().take(all.len() - rest.len()).collect();
    let mut text = String::from(
        "$ ./target/debug/labd --state-dir /tmp/labd supervise -- ./target/debug/labd --state-dir /tmp/labd run --notify --interval-ms 60000\n",
    );
    for line in before {
        text += &format!("{line}\n");
    }
    text += "# in another terminal: kill -TERM [SUPERVISOR]\n";
    for line in &rest {
        text += &format!("{line}\n");
    }
    text += "=> exited with code 0";
    let redactor = Redactor::new().id(child, "CHILD").id(sup, "SUPERVISOR");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("supervise_ready_and_term", redactor.apply(&text));
}

/// Without NOTIFY_SOCKET, `--notify` does nothing: the same program runs unsupervised.
#[test]
fn run_without_a_supervisor_ignores_notify() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = demo(LABD);
    cmd.env_remove("NOTIFY_SOCKET")
        .arg("--state-dir")
        .arg(tmp.path())
        .args(["run", "--notify", "--interval-ms", "60000"]);
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = child.stdout_lines();
    lines
        .wait_for("labd running in the foreground", DEFAULT_TIMEOUT)
        .unwrap();
    child.signal(Signal::SIGTERM).unwrap();
    assert_eq!(lines.rest(DEFAULT_TIMEOUT).unwrap(), ["SIGTERM: exiting"]);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The supervisor blocks SIGTERM, SIGINT and SIGCHLD for its signalfd. The mask survives
/// fork and exec and std's `Command` keeps it, so the supervisor empties it in the child
/// (`pre_exec`). Cut that, and this test sees `SigBlk: 0000000000014002`.
#[test]
fn the_child_does_not_inherit_the_blocked_mask() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = demo(LABD);
    cmd.arg("--state-dir").arg(tmp.path()).args([
        "supervise",
        "--",
        "grep",
        "SigBlk",
        "/proc/self/status",
    ]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let lines = finished.stdout_lines();
    assert!(
        lines.contains(&"| SigBlk:\t0000000000000000"),
        "an empty mask: {lines:?}"
    );
}

/// A supervisor killed with SIGKILL leaves notify.sock behind (no `Drop` runs). The next
/// one finds that nobody listens on it, removes it and binds its own; a socket that
/// someone still listens on is refused.
#[test]
fn a_stale_notify_socket_is_replaced_a_live_one_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let socket = state.join("notify.sock");
    drop(std::os::unix::net::UnixDatagram::bind(&socket).unwrap()); // the file stays
    let mut cmd = demo(LABD);
    cmd.arg("--state-dir")
        .arg(state)
        .args(["supervise", "--", "true"]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(0), "{finished:?}");
    assert_eq!(
        finished.stdout_lines().first(),
        Some(&"removed a stale notify.sock (nobody listens on it)"),
        "{finished:?}"
    );
    assert!(names_in(state).is_empty(), "{:?}", names_in(state));

    let live = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1), "{finished:?}");
    assert_eq!(
        finished.stderr,
        format!(
            "labd: cannot bind {}: another supervisor listens on it\n",
            socket.canonicalize().unwrap().display()
        )
    );
    assert_eq!(finished.stdout, "");
    drop(live);
}
