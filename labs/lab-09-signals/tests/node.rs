//! Chapter 9 tests, Node.js side: `process.on('SIGTERM')` cleans up, SIGKILL cannot be
//! caught, `child.kill()` and the `'exit'` event's `(code, signal)`, what an idle Node
//! catches, and what Node and libuv do to ignored signals (nohup's SIGHUP included).

use std::os::unix::process::ExitStatusExt;

use lab_09::masks::Masks;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};
use nix::sys::signal::Signal;

mod common;
use common::like_a_shell;

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

fn node(args: &[&str]) -> std::process::Command {
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR).args(args);
    cmd
}

#[test]
fn node_sigterm_listener_cleans_up_and_sigkill_leaves_the_file() {
    if !labkit::require_tool("node") {
        return;
    }
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("node.state");
        let mut child =
            ChildGuard::spawn(&mut node(&["graceful.js", state.to_str().unwrap()])).unwrap();
        let mut lines = child.stdout_lines();
        let ready = lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
        assert!(state.exists());
        child.signal(signal).unwrap();
        let rest = lines.rest(DEFAULT_TIMEOUT).unwrap();
        let status = child.wait().unwrap();
        let mut text = format!(
            "$ node graceful.js {} &\n{ready}\n$ kill -{} {}\n",
            state.display(),
            &signal.as_str()[3..],
            child.pid()
        );
        for line in &rest {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("=> {}", labkit::run::outcome(status)));
        let text = Redactor::new()
            .id(child.pid(), "NODE")
            .text(dir.path().to_str().unwrap(), "DIR")
            .apply(&text);
        let _g = Redactor::plain_settings().bind_to_scope();
        if signal == Signal::SIGTERM {
            assert_eq!(status.code(), Some(0), "{text}");
            assert!(!state.exists(), "{text}");
            insta::assert_snapshot!("node_graceful_term", text);
        } else {
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{text}");
            assert!(state.exists(), "{text}");
            assert!(rest.is_empty(), "{text}");
            insta::assert_snapshot!("node_graceful_kill", text);
        }
    }
}

#[test]
fn node_child_kill_and_the_exit_event_s_code_and_signal() {
    if !labkit::require_tool("node") {
        return;
    }
    let done = run(&mut node(&["kill-child.js"])).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node kill-child.js")
    );
    assert!(
        done.stdout.contains("exit code=null signal=SIGTERM"),
        "{}",
        done.stdout
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_kill_child", done.transcript("node kill-child.js"));
}

#[test]
fn an_idle_node_already_catches_sigint_and_sigterm() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut child = ChildGuard::spawn(&mut node(&["idle.js"])).unwrap();
    child
        .stdout_lines()
        .wait_for("ready", DEFAULT_TIMEOUT)
        .unwrap();
    let masks = Masks::of(child.pid()).unwrap();
    for name in ["SIGINT", "SIGTERM"] {
        assert!(
            masks.caught.iter().any(|n| n == name),
            "{name} not caught: {masks:?}"
        );
    }
    // And yet, with no listener, SIGTERM ends it as the signal's default action would.
    child.signal(Signal::SIGTERM).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
}

#[test]
fn node_undoes_nohup_for_itself_and_libuv_resets_ignored_signals_in_its_children() {
    if !labkit::require_tool("node") {
        return;
    }
    let plain = run(&mut node(&["spawn-report.js"])).unwrap();
    let mut cmd = demo("nohup");
    cmd.current_dir(NODE_DIR).args(["node", "spawn-report.js"]);
    let nohup = run(like_a_shell(&mut cmd)).unwrap();
    for done in [&plain, &nohup] {
        assert!(
            done.status.success(),
            "{}",
            done.transcript("spawn-report.js")
        );
        // Node ignores SIGPIPE and SIGXFSZ itself; its child does not inherit that: libuv
        // reset them.
        assert!(
            done.stdout.contains(
                "node itself: SIGHUP not ignored, SIGPIPE ignored, SIGXFSZ ignored, blocked mask empty"
            ),
            "{}",
            done.stdout
        );
        assert!(
            done.stdout.contains(
                "child (cat): SIGHUP not ignored, SIGPIPE not ignored, SIGXFSZ not ignored, blocked mask empty"
            ),
            "{}",
            done.stdout
        );
    }
    let text = format!(
        "{}\n{}",
        plain.transcript("node spawn-report.js"),
        nohup.transcript("nohup node spawn-report.js < /dev/null 2>&1 | cat")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_spawn_report", text);
}

/// Make `cmd`'s program start with SIGUSR2 and SIGWINCH blocked, as if its parent had
/// blocked them (a blocked mask survives fork and exec).
fn with_usr2_and_winch_blocked(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: sigprocmask is async-signal-safe; nothing else runs in the forked child.
    unsafe {
        cmd.pre_exec(|| {
            let mut set = nix::sys::signal::SigSet::empty();
            set.add(Signal::SIGUSR2);
            set.add(Signal::SIGWINCH);
            set.thread_block()?;
            Ok(())
        })
    }
}

#[test]
fn node_empties_a_blocked_mask_it_inherits() {
    if !labkit::require_tool("node") {
        return;
    }
    // A Rust program started that way keeps the two blocked ...
    let mut cmd = demo(env!("CARGO_BIN_EXE_masks"));
    cmd.arg("--report");
    let done = run(with_usr2_and_winch_blocked(&mut cmd)).unwrap();
    assert!(
        done.stdout.contains("SigBlk: SIGUSR2 SIGWINCH"),
        "{}",
        done.stdout
    );
    // ... Node empties its mask when it starts (so libuv's reset of the mask in a child it
    // spawns has nothing left to do, and cannot be seen from outside).
    let done = run(with_usr2_and_winch_blocked(&mut node(&["spawn-report.js"]))).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("spawn-report.js")
    );
    assert!(
        done.stdout.contains(
            "node itself: SIGHUP not ignored, SIGPIPE ignored, SIGXFSZ ignored, blocked mask empty"
        ),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("child (cat): SIGHUP not ignored, SIGPIPE not ignored, SIGXFSZ not ignored, blocked mask empty"),
        "{}",
        done.stdout
    );
}

#[test]
fn node_graceful_without_its_argument_says_how_to_run_it() {
    if !labkit::require_tool("node") {
        return;
    }
    let done = run(&mut node(&["graceful.js"])).unwrap();
    assert_eq!(done.status.code(), Some(2), "{}", done.stderr);
    assert_eq!(
        done.stderr.trim(),
        "graceful.js: usage: node graceful.js STATE-FILE"
    );
}

#[test]
fn nohup_does_not_protect_node_from_sighup() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo("nohup");
    cmd.current_dir(NODE_DIR).args(["node", "idle.js"]);
    let mut child = ChildGuard::spawn(like_a_shell(&mut cmd)).unwrap();
    let mut lines = child.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    // nohup exec'd node: same pid. SIGHUP's default action ends it.
    assert_eq!(labkit::proc::comm(child.pid()).unwrap(), "node");
    child.signal(Signal::SIGHUP).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGHUP));
}
