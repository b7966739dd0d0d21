//! Chapter 9 tests: `killpg` reaches every process of a group at once, and only them; a
//! process that moved to a group of its own escapes it. And `comm`, the name that
//! `killall` and `pgrep` match, keeps only 15 bytes.

use std::collections::BTreeMap;

use labkit::daemon::DaemonGuard;
use labkit::group::signal_group;
use labkit::lines::fields;
use labkit::proc::{is_alive, stat};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, eventually};
use nix::sys::signal::Signal;

const GROUP: &str = env!("CARGO_BIN_EXE_group");
const MASKS: &str = env!("CARGO_BIN_EXE_masks");

/// Start `group --escape`; return the guard, the lines up to `ready`, and role -> pid.
fn start(guard: &DaemonGuard) -> (ChildGuard, Vec<String>, BTreeMap<String, u32>) {
    let mut cmd = demo(GROUP);
    cmd.arg("--escape");
    let mut leader = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = leader.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    let history = lines.history().to_vec();
    let mut pids = BTreeMap::new();
    for line in &history[..history.len() - 1] {
        let role = line.split(" pid=").next().unwrap().trim().to_string();
        let pid: u32 = fields(line)["pid"].parse().unwrap();
        if pid != leader.pid() {
            guard.track(pid).unwrap(); // killed and reaped even if the test fails
        }
        pids.insert(role, pid);
    }
    (leader, history, pids)
}

#[test]
fn killpg_ends_the_whole_group_but_not_the_process_that_left_it() {
    let guard = DaemonGuard::new().unwrap(); // orphans of the group come to us: we reap them
    let (mut leader, history, pids) = start(&guard);
    let pgid = leader.pid();
    let session = stat(pgid).unwrap().session;
    for (role, &pid) in &pids {
        let s = stat(pid).unwrap();
        let expected = if role == "escapee" { pid } else { pgid };
        assert_eq!(s.pgrp, expected, "{role}");
        assert_eq!(s.session, session, "{role}: same session for all");
    }

    signal_group(pgid, Signal::SIGTERM).unwrap(); // kill -TERM -- -PGID
    let status = leader.wait().unwrap();
    let members: Vec<u32> = pids
        .iter()
        .filter(|(r, _)| *r != "escapee")
        .map(|(_, &p)| p)
        .collect();
    eventually(DEFAULT_TIMEOUT, || {
        match members.iter().find(|&&p| is_alive(p)) {
            Some(p) => Err(format!("{p} still running")),
            None => Ok(()),
        }
    })
    .unwrap();
    let escapee = pids["escapee"];
    assert!(is_alive(escapee), "the escapee was reached");
    // Its parent, the leader, is dead: it was re-parented to the subreaper, us.
    assert_eq!(stat(escapee).unwrap().ppid, std::process::id());

    let mut text = String::from("$ ./target/debug/group --escape &\n");
    for line in &history {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("$ kill -TERM -- -{pgid}\n"));
    // Not the output of any command: the test's own findings, in the demo's order.
    text.push_str("--- afterwards, as the test finds them (its wait status, then /proc)\n");
    text.push_str(&format!("leader: {}\n", labkit::run::outcome(status)));
    let order: Vec<String> = history[..history.len() - 1]
        .iter()
        .map(|l| l.split(" pid=").next().unwrap().trim().to_string())
        .collect();
    for role in &order {
        let pid = pids[role];
        if pid == pgid {
            continue;
        }
        let now = if is_alive(pid) {
            format!("still running, ppid={}", stat(pid).unwrap().ppid)
        } else {
            "dead".to_string()
        };
        text.push_str(&format!("{role} {pid}: {now}\n"));
    }
    // The session is named by position (`sid=N`), not by value: under a pid namespace
    // (a container, `unshare --pid`) a session led from outside it reads as 0, and
    // replacing every word `0` would rewrite unrelated numbers.
    let printed: Vec<&str> = text
        .split("sid=")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(printed, vec![session.to_string().as_str(); 5], "{text}");
    let mut redactor = Redactor::new()
        .pattern(r"\bsid=\d+\b", "sid=[SID]")
        .id(std::process::id(), "TEST");
    for (role, &pid) in &pids {
        redactor = redactor.id(pid, &role.to_uppercase().replace(' ', "-"));
    }
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("group_killpg", redactor.apply(text.trim_end()));
}

#[test]
fn exercise_group_members_lists_exactly_the_demo_s_group() {
    let guard = DaemonGuard::new().unwrap();
    let (leader, _, pids) = start(&guard);
    let mut expected: Vec<u32> = pids
        .iter()
        .filter(|(r, _)| *r != "escapee")
        .map(|(_, &p)| p)
        .collect();
    expected.sort_unstable();
    assert_eq!(
        lab_09::group::group_members(leader.pid()).unwrap(),
        expected
    );
    assert_eq!(
        lab_09::group::group_members(pids["escapee"]).unwrap(),
        [pids["escapee"]]
    );
    // A group nobody is in.
    assert_eq!(
        lab_09::group::group_members(1 << 23).unwrap(),
        Vec::<u32>::new()
    );
    // The race: a process that was listed but is gone by the time it is read. A reaped
    // child's pid stands for it (/proc has no entry for it any more): skipped, no error.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    assert!(!is_alive(gone_pid));
    let mut candidates = vec![gone_pid, pids["escapee"], 1];
    candidates.extend(expected.iter().rev());
    assert_eq!(
        lab_09::group::members_of(leader.pid(), candidates).unwrap(),
        expected,
        "a vanished pid must be skipped, and the result sorted"
    );
}

#[test]
fn comm_keeps_15_bytes_of_a_long_program_name_and_cmdline_keeps_all() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("lab09-a-very-long-process-name");
    std::os::unix::fs::symlink(MASKS, &link).unwrap();
    let mut cmd = demo(&link);
    cmd.stdin(std::process::Stdio::piped()); // masks waits for a line after `ready`
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let _stdin = child.take_stdin();
    child
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    // The kernel takes comm from the name of the file that was executed: the link's name,
    // cut to 15 bytes (16 with the final NUL).
    assert_eq!(labkit::proc::comm(child.pid()).unwrap(), "lab09-a-very-lo");
    let argv = labkit::proc::cmdline(child.pid()).unwrap();
    assert_eq!(argv[0], link.to_str().unwrap());
}
