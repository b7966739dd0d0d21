//! Chapter 9 tests: SIGTERM reaches a handler that cleans up, SIGKILL reaches nobody.
//! Both ways of handling (signalfd and a self-pipe handler) are run, and the masks in
//! `/proc` show how each one is set up.

use labkit::proc::{signal_names, status};
use labkit::run::outcome;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo};
use nix::sys::signal::Signal;

const GRACEFUL: &str = env!("CARGO_BIN_EXE_graceful");

struct Run {
    text: String,
    state_file_left: bool,
    masks: (Vec<String>, Vec<String>),
}

/// Start graceful, wait for `ready`, send `signal`, collect everything.
fn run(via: &str, signal: Signal) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("graceful.state");
    let mut cmd = demo(GRACEFUL);
    cmd.args(["--via", via, "--state-file"]).arg(&state);
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = child.stdout_lines();
    let ready = lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    assert!(state.exists(), "no state file after {ready:?}");
    let own = status(child.pid()).unwrap();
    let masks = (
        signal_names(own.signal_mask("SigBlk").unwrap()),
        signal_names(own.signal_mask("SigCgt").unwrap()),
    );
    child.signal(signal).unwrap();
    let rest = lines.rest(DEFAULT_TIMEOUT).unwrap();
    let exit = child.wait().unwrap();
    let mut text = format!(
        "$ ./target/debug/graceful --via {via} --state-file {} &\n{ready}\n$ kill -{} {}\n",
        state.display(),
        &signal.as_str()[3..],
        child.pid()
    );
    for line in rest {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!("=> {}", outcome(exit)));
    let text = Redactor::new()
        .id(child.pid(), "GRACEFUL")
        .id(std::process::id(), "KILLER")
        .text(&dir.path().display().to_string(), "DIR")
        .apply(&text);
    Run {
        text,
        state_file_left: state.exists(),
        masks,
    }
}

fn has(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n == name)
}

#[test]
fn sigterm_runs_the_cleanup_and_exits_0_with_a_signalfd() {
    let run = run("signalfd", Signal::SIGTERM);
    assert!(run.text.contains("cleanup: removed"), "{}", run.text);
    assert!(run.text.ends_with("=> exited with code 0"), "{}", run.text);
    assert!(!run.state_file_left);
    // With a signalfd, SIGTERM and SIGINT are blocked, and no handler is installed.
    let (blocked, caught) = run.masks;
    assert!(
        has(&blocked, "SIGTERM") && has(&blocked, "SIGINT"),
        "{blocked:?}"
    );
    assert!(!has(&caught, "SIGTERM"), "{caught:?}");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("graceful_term", run.text);
}

#[test]
fn sigterm_runs_the_cleanup_through_a_self_pipe_handler() {
    let run = run("self-pipe", Signal::SIGTERM);
    assert!(run.text.contains("cleanup: removed"), "{}", run.text);
    assert!(run.text.ends_with("=> exited with code 0"), "{}", run.text);
    assert!(!run.state_file_left);
    // With a handler, SIGTERM is caught and nothing is blocked.
    let (blocked, caught) = run.masks;
    assert!(
        has(&caught, "SIGTERM") && has(&caught, "SIGINT"),
        "{caught:?}"
    );
    assert!(blocked.is_empty(), "{blocked:?}");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("graceful_term_self_pipe", run.text);
}

#[test]
fn sigkill_leaves_no_chance_to_clean_up() {
    for via in ["signalfd", "self-pipe"] {
        let run = run(via, Signal::SIGKILL);
        assert!(!run.text.contains("cleanup"), "{}", run.text);
        assert!(
            run.state_file_left,
            "the state file is gone after SIGKILL ({via})"
        );
        assert!(run.text.contains("killed by SIGKILL"), "{}", run.text);
        if via == "signalfd" {
            let _g = Redactor::plain_settings().bind_to_scope();
            insta::assert_snapshot!("graceful_kill", run.text);
        }
    }
}
