//! Chapter 9 tests: a dead child stays a zombie (state `Z`) until its parent waits for
//! it, then it is gone; with SIGCHLD ignored or `SA_NOCLDWAIT`, no zombie is ever left, and
//! the wait blocks while a child lives, then fails with ECHILD. Bad input is refused.

use std::io::Write;

use labkit::proc::{is_gone, stat};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, eventually, lines::fields};

const ZOMBIE: &str = env!("CARGO_BIN_EXE_zombie");

struct Seen {
    transcript: String,
    child: u32,
    parent: u32,
    before: Result<(char, u32), String>,
    /// With `--no-zombies`: the parent was seen inside waitid(2) while the child lived.
    blocked_in_wait: bool,
    after_gone: bool,
}

/// The system call `pid` is blocked in, from `/proc/PID/syscall` (its first field).
fn syscall_of(pid: u32) -> Result<i64, String> {
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/syscall")).map_err(|e| e.to_string())?;
    let first = text.split_whitespace().next().unwrap_or_default();
    first
        .parse()
        .map_err(|_| format!("not in a system call: {text:?}"))
}

fn run(args: &[&str]) -> Seen {
    let mut cmd = demo(ZOMBIE);
    cmd.args(args).stdin(std::process::Stdio::piped());
    let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
    let mut stdin = guard.take_stdin().unwrap();
    let mut lines = guard.stdout_lines();
    let ready = lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    let child: u32 = fields(&ready)["child"].parse().unwrap();
    // Looked at from outside, while the parent waits for our line.
    let before = stat(child)
        .map(|s| (s.state, s.ppid))
        .map_err(|e| e.to_string());
    let mut blocked_in_wait = false;
    if args.contains(&"--no-zombies") && !args.contains(&"--die-by") {
        // The child lives until its stdin ends, and we have not closed it yet: the parent
        // must be sitting in waitid although no zombie can ever come.
        eventually(DEFAULT_TIMEOUT, || match syscall_of(guard.pid())? {
            n if n == libc::SYS_waitid => Ok(()),
            n => Err(format!("parent in system call {n}")),
        })
        .unwrap();
        let state = stat(child).unwrap().state;
        assert!(matches!(state, 'S' | 'R'), "child state {state}");
        blocked_in_wait = true;
    }
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    lines.rest(DEFAULT_TIMEOUT).unwrap();
    let after_gone = stat(child).is_err_and(|e| is_gone(&e));
    let status = guard.wait().unwrap();
    assert!(status.success(), "{:?}", lines.history());
    let mut transcript = format!(
        "$ ./target/debug/zombie {}< /dev/null\n",
        args.iter().map(|a| format!("{a} ")).collect::<String>()
    );
    for line in lines.history() {
        transcript.push_str(line);
        transcript.push('\n');
    }
    transcript.push_str(&format!("=> {}", labkit::run::outcome(status)));
    let transcript = Redactor::new()
        .id(child, "CHILD")
        .id(guard.pid(), "PARENT")
        .apply(&transcript);
    Seen {
        transcript,
        child,
        parent: guard.pid(),
        before,
        blocked_in_wait,
        after_gone,
    }
}

#[test]
fn a_dead_child_is_a_zombie_until_its_parent_waits_then_it_is_gone() {
    let seen = run(&[]);
    let (state, ppid) = seen.before.clone().unwrap();
    assert_eq!(state, 'Z', "child {} before the wait", seen.child);
    assert_eq!(ppid, seen.parent, "the zombie's parent is the demo");
    assert!(
        seen.after_gone,
        "child {} still in /proc after the wait",
        seen.child
    );
    assert!(
        seen.transcript.contains("reaped: Exited(Pid([CHILD]), 3)"),
        "{}",
        seen.transcript
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("zombie", seen.transcript);
}

#[test]
fn with_sigchld_ignored_or_sa_nocldwait_there_is_no_zombie_and_wait_says_echild() {
    for how in ["ignore", "nocldwait"] {
        let seen = run(&["--no-zombies", how]);
        // The child lives until its stdin ends; the parent waited in waitid meanwhile.
        let (state, _) = seen.before.clone().unwrap();
        assert!(matches!(state, 'S' | 'R'), "{how}: child state {state}");
        assert!(seen.blocked_in_wait, "{how}");
        assert!(
            seen.after_gone,
            "{how}: child {} still in /proc",
            seen.child
        );
        assert!(
            seen.transcript.contains("waitid: ECHILD"),
            "{how}: {}",
            seen.transcript
        );
        if how == "ignore" {
            let _g = Redactor::plain_settings().bind_to_scope();
            insta::assert_snapshot!("zombie_ignored", seen.transcript);
        }
    }
}

#[test]
fn a_child_killed_by_a_signal_is_reported_as_signaled_without_a_core_dump() {
    let seen = run(&["--die-by", "QUIT"]);
    assert_eq!(seen.before.clone().unwrap().0, 'Z');
    assert!(seen.after_gone);
    // SIGQUIT's default action dumps core, but the child made itself non-dumpable, which
    // stops the dump whatever core_pattern says: `false`.
    assert!(
        seen.transcript
            .contains("reaped: Signaled(Pid([CHILD]), SIGQUIT, false)"),
        "{}",
        seen.transcript
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("zombie_signaled", seen.transcript);
}

#[test]
fn a_sigpipe_reset_to_the_default_in_the_child_kills_it() {
    // std ignores SIGPIPE in the demo, and the forked child inherits that; the child sets
    // it back to the default before raising it, so it dies of it as announced.
    let seen = run(&["--die-by", "PIPE"]);
    assert!(
        seen.transcript
            .contains("reaped: Signaled(Pid([CHILD]), SIGPIPE, false)"),
        "{}",
        seen.transcript
    );
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_code_2() {
    let cases = [
        (
            &["--die-by", "STOP"][..],
            "SIGSTOP stops a process instead of ending it",
        ),
        (
            &["--die-by", "TTOU"][..],
            "SIGTTOU stops a process instead of ending it",
        ),
        (
            &["--die-by", "CONT"][..],
            "SIGCONT's default action is to do nothing",
        ),
        (&["--code", "256"][..], "256 is not in 0..=255"),
        (&["--code", "-1"][..], "-1 is not in 0..=255"),
    ];
    for (args, expected) in cases {
        let done = labkit::run(demo(ZOMBIE).args(args)).unwrap();
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
        assert!(done.stderr.starts_with("zombie: "), "{}", done.stderr);
        assert!(done.stderr.contains(expected), "{args:?}: {}", done.stderr);
        assert!(done.stdout.is_empty(), "{args:?}: {}", done.stdout);
    }
}
