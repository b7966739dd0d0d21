//! Chapter 8 exercises: `check_private_dir` (a directory fit for a notify socket) and
//! `could_acquire_a_terminal` (from /proc/PID/stat).

use std::os::unix::fs::PermissionsExt;

use lab_08::check_private_dir;
use lab_08::could_acquire_a_terminal;
use labkit::daemon::DaemonGuard;
use labkit::demo;

/// Our uid: the owner of a directory we just created.
fn uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::metadata(tmp.path()).unwrap().uid()
}

#[test]
fn exercise_private_dir_accepts_0700_and_refuses_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    check_private_dir(&dir, uid()).unwrap();

    // Each permission bit for group or others, alone, is refused, and the error names
    // the mode (a check of 0o070 only, or of 0o007 only, fails here).
    for mode in [
        0o740, 0o720, 0o710, 0o704, 0o702, 0o701, 0o750, 0o755, 0o777,
    ] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = check_private_dir(&dir, uid()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{mode:o}");
        assert!(
            err.to_string().contains(&format!("{mode:o}")),
            "{mode:o}: {err}"
        );
    }
    // The owner's own bits do not matter.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    check_private_dir(&dir, uid()).unwrap();

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = check_private_dir(&dir, uid() + 1).unwrap_err();
    assert!(err.to_string().contains("owned by"), "{err}");

    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        check_private_dir(&file, uid()).is_err(),
        "a file is not a directory"
    );

    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    assert!(
        check_private_dir(&link, uid()).is_err(),
        "a symlink could be swapped later"
    );
}

/// Kills and reaps a plain child on drop.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The path of a program on PATH.
fn which(name: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}

/// Wait until `pid` has exec'd `comm` and leads its own session.
fn wait_for_session_leader(pid: u32, comm: &str) -> u32 {
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || match labkit::proc::stat(pid) {
        Ok(s) if s.session == pid && s.comm == comm => Ok(pid),
        other => Err(format!("{other:?}")),
    })
    .unwrap()
}

#[test]
fn exercise_only_a_session_leader_without_a_tty_could_acquire_one() {
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let mut start = demo(env!("CARGO_BIN_EXE_labd"));
    start
        .arg("--state-dir")
        .arg(state)
        .args(["start", "--interval-ms", "60000"]);
    let started = labkit::run(&mut start).unwrap();
    let pid: u32 = started
        .stdout
        .trim()
        .strip_prefix("started pid=")
        .unwrap()
        .parse()
        .unwrap();
    guard.track(pid).unwrap();
    assert!(
        !could_acquire_a_terminal(pid).unwrap(),
        "the double fork's point"
    );

    // setsid(1) in a child that is not a group leader calls setsid() and execs sleep: a
    // session leader with no terminal, like Node's detached child.
    let leader = Reap(
        std::process::Command::new("setsid")
            .args(["sleep", "60"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let leader_pid = leader.0.id();
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        match labkit::proc::stat(leader_pid) {
            Ok(s) if s.session == leader_pid && s.comm == "sleep" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();
    assert!(could_acquire_a_terminal(leader_pid).unwrap());

    // A session leader whose command name has spaces and a ')' in it: a parser that
    // splits the whole line on spaces, or cuts at the first ')', reads the wrong fields.
    let odd_name = tmp.path().join("z) 0 0 0");
    std::os::unix::fs::symlink(which("sleep"), &odd_name).unwrap();
    let odd = Reap(
        std::process::Command::new("setsid")
            .arg(&odd_name)
            .arg("60")
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let odd_pid = wait_for_session_leader(odd.0.id(), "z) 0 0 0");
    assert!(could_acquire_a_terminal(odd_pid).unwrap(), "odd name");

    // A session leader that has a controlling terminal already: `setsid --ctty` makes
    // its stdin, a pseudo-terminal, the new session's terminal. Not a candidate.
    let pty = nix::pty::openpty(None, None).unwrap();
    let with_tty = Reap(
        std::process::Command::new("setsid")
            .args(["--ctty", "sleep", "60"])
            .stdin(std::fs::File::from(pty.slave))
            .spawn()
            .unwrap(),
    );
    let tty_pid = wait_for_session_leader(with_tty.0.id(), "sleep");
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        match labkit::proc::stat(tty_pid) {
            Ok(s) if s.tty_nr != 0 => Ok(()),
            other => Err(format!("no terminal yet: {other:?}")),
        }
    })
    .unwrap();
    assert!(
        !could_acquire_a_terminal(tty_pid).unwrap(),
        "it has a terminal already"
    );
    drop(pty.master);
    assert!(
        could_acquire_a_terminal(u32::MAX).is_err(),
        "no such process"
    );

    let mut stop = demo(env!("CARGO_BIN_EXE_labd"));
    stop.arg("--state-dir").arg(state).arg("stop");
    assert!(labkit::run(&mut stop).unwrap().status.success());
}
