//! Chapter 9 tests: a dead child stays a zombie (state `Z`) until its parent waits for
//! it, then it is gone; with SIGCHLD ignored or `SA_NOCLDWAIT`, no zombie is ever left and
//! the wait fails with ECHILD.

use std::io::Write;

use labkit::proc::{is_gone, stat};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, lines::fields};

const ZOMBIE: &str = env!("CARGO_BIN_EXE_zombie");

struct Seen {
    transcript: String,
    child: u32,
    parent: u32,
    before: Result<(char, u32), String>,
    after_gone: bool,
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
        // The parent printed `ready` without waiting; the child may still be exiting, but
        // it never shows `Z`: the kernel frees it at once.
        assert!(
            !matches!(seen.before, Ok(('Z', _))),
            "{how}: a zombie: {:?}",
            seen.before
        );
        assert!(
            seen.after_gone,
            "{how}: child {} still in /proc",
            seen.child
        );
        assert!(
            seen.transcript.contains("ECHILD"),
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
    // SIGQUIT's default action dumps core, but the child set RLIMIT_CORE to 0: `false`.
    assert!(
        seen.transcript
            .contains("reaped: Signaled(Pid([CHILD]), SIGQUIT, false)"),
        "{}",
        seen.transcript
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("zombie_signaled", seen.transcript);
}
