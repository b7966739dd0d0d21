//! Chapter 8 tests, Node.js side: `spawn(…, {detached: true, stdio: 'ignore'}).unref()`
//! run for real, and the "daemon" it starts examined in /proc.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use labkit::daemon::DaemonGuard;
use labkit::{DEFAULT_TIMEOUT, Redactor, demo, eventually, proc};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

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
fn a_detached_node_child_is_a_session_leader_and_nothing_more() {
    if !labkit::require_tool("node") {
        return;
    }
    let guard = DaemonGuard::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let log_path = dir.join("daemon.log");
    let mut cmd = demo("node");
    // A umask unlike the usual 0022, set in the child before exec, as `(umask 027; node …)`
    // sets it: to see that the daemon keeps its parent's.
    // SAFETY: umask(2) is async-signal-safe and the closure allocates nothing.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o027));
            Ok(())
        });
    }
    cmd.current_dir(dir)
        .arg(Path::new(NODE_DIR).join("detach.js"))
        .arg(&log_path);
    // The same careless parent as in the labd test: an extra fd 100 without close-on-exec (Node uses low numbers itself).
    let extra: OwnedFd = File::open("/dev/null").unwrap().into();
    labkit::fd::place_fd(&mut cmd, extra, 100);
    let detach = labkit::run(&mut cmd).unwrap(); // run in [CWD], a fresh temporary dir
    assert!(detach.status.success(), "{detach:?}");
    let detach_pid = number_after(&detach.stdout, "detach.js pid=").unwrap();
    let pid = number_after(&detach.stdout, "daemon.js pid=").unwrap();
    guard.track(pid).unwrap();
    let me = std::process::id();
    // detach.js has exited: wait until the daemon logs its new parent.
    let wanted = format!("pid={pid} ppid={me}");
    let log = eventually(DEFAULT_TIMEOUT, || {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.lines().any(|l| l == wanted) {
            Ok(log)
        } else {
            Err(format!("log: {log:?}"))
        }
    })
    .unwrap();

    let stat = proc::stat(pid).unwrap();
    assert_eq!(
        stat.ppid, me,
        "re-parented to the subreaper once detach.js exited"
    );
    assert_eq!(stat.session, pid, "setsid: it leads a new session…");
    assert_eq!(stat.pgrp, pid, "…and a new process group");
    assert_eq!(stat.tty_nr, 0);
    let fds = proc::fds(pid).unwrap();
    for fd in 0..3 {
        assert!(
            fds.contains(&(fd, "/dev/null".to_string())),
            "stdio 'ignore' = /dev/null: {fds:?}"
        );
    }
    let fd100 = fds
        .iter()
        .find(|(fd, _)| *fd == 100)
        .map(|(_, t)| t.clone());
    assert_eq!(
        fd100.as_deref(),
        Some("/dev/null"),
        "the inherited fd 100 is still open"
    );
    assert!(!fds.iter().any(|(_, t)| t.ends_with(".pid")), "no pid file");
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, dir, "it kept the cwd it was started in");
    let umask = proc::status(pid)
        .unwrap()
        .get("Umask")
        .map(str::to_string)
        .unwrap();

    let first = log.lines().next().unwrap_or("").to_string();
    let mut text =
        detach.transcript("(umask 027; node labs/lab-08-daemons/node/detach.js /tmp/daemon.log)");
    text += &format!(
        "\n$ head -1 /tmp/daemon.log; grep -m1 'ppid={me}' /tmp/daemon.log\n{first}\n{wanted}\n"
    );
    let names = |p: u32| match p {
        p if p == pid => "[NODE-DAEMON]".to_string(),
        p if p == me => "[TEST]".to_string(),
        p => p.to_string(),
    };
    text += &format!(
        "# /proc/[NODE-DAEMON]/stat\n{:>13} {:>13} {:>13} {:>13} {:>6}\n",
        "PID", "PPID", "PGID", "SID", "TTY_NR"
    );
    text += &format!(
        "{:>13} {:>13} {:>13} {:>13} {:>6}\n",
        names(pid),
        names(stat.ppid),
        names(stat.pgrp),
        names(stat.session),
        stat.tty_nr
    );
    text += "# /proc/[NODE-DAEMON]/fd 0, 1, 2 and 100 (the parent had an extra fd 100)\n";
    for (fd, target) in fds.iter().filter(|(fd, _)| [0, 1, 2, 100].contains(fd)) {
        text += &format!("{fd} -> {target}\n");
    }
    assert_eq!(umask, "0027", "the umask is inherited unchanged");
    text += &format!("# /proc/[NODE-DAEMON]/cwd\n{}\n", cwd.display());
    text +=
        &format!("# /proc/[NODE-DAEMON]/status, its umask (the shell set 027)\nUmask: {umask}\n");
    let redactor = Redactor::new()
        .id(pid, "NODE-DAEMON")
        .id(detach_pid, "DETACH")
        .id(me, "TEST")
        .text(&dir.display().to_string(), "CWD");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_detached", redactor.apply(&text));
}
