//! Chapter 1 tests, Node.js side: exit listeners, exit codes, uncaught exceptions and
//! unhandled rejections, each run with `node` and snapshotted.

use labkit::{Finished, Redactor, demo};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

/// `node PROGRAM ARGS` in the node folder, as the book shows it.
fn node(program: &str, args: &[&str]) -> Finished {
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR).arg(program).args(args);
    labkit::run(&mut cmd).unwrap()
}

/// Node's stack traces name its internal modules with line numbers that change between
/// versions: keep the message, drop the frames, hide the version.
fn without_stack_frames(text: &str) -> String {
    const FRAMES: &str = "    at … (stack frames)";
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if !line.starts_with("    at ") {
            out.push(line);
        } else if out.last() != Some(&FRAMES) {
            out.push(FRAMES);
        }
    }
    out.join("\n")
}

fn redactor() -> Redactor {
    Redactor::new()
        .text(env!("CARGO_MANIFEST_DIR"), "LAB")
        .pattern(r"Node\.js v\d+\.\d+\.\d+", "Node.js [VERSION]")
}

#[test]
fn node_exit_listeners_run_on_exit_and_throw_but_not_on_a_signal() {
    if !labkit::require_tool("node") {
        return;
    }
    let runs: Vec<String> = ["return", "exit", "exit-256", "throw", "signal"]
        .iter()
        .map(|how| {
            let finished = node("exit-paths.js", &["--how", how]);
            without_stack_frames(&finished.transcript(&format!("node exit-paths.js --how {how}")))
        })
        .collect();
    let _guard = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("node_exit_paths", runs.join("\n\n"));
}

#[test]
fn an_uncaught_exception_listener_replaces_the_default_exit() {
    if !labkit::require_tool("node") {
        return;
    }
    let finished = node("uncaught.js", &[]);
    assert_eq!(finished.status.code(), Some(70));
    let _guard = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("node_uncaught", finished.transcript("node uncaught.js"));
}

#[test]
fn an_unhandled_rejection_prints_the_error_and_exits_1() {
    if !labkit::require_tool("node") {
        return;
    }
    let finished = node("rejection.js", &[]);
    assert_eq!(finished.status.code(), Some(1));
    let text = without_stack_frames(&finished.transcript("node rejection.js"));
    let _guard = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("node_rejection", text);
}

#[test]
fn exit_code_before_exit_and_a_timer_in_an_exit_listener() {
    if !labkit::require_tool("node") {
        return;
    }
    let finished = node("exit-code.js", &[]);
    assert_eq!(finished.status.code(), Some(7));
    let _guard = redactor().settings().bind_to_scope();
    insta::assert_snapshot!("node_exit_code", finished.transcript("node exit-code.js"));
}

#[test]
fn node_runs_the_exit_listeners_before_it_prints_an_uncaught_exception() {
    if !labkit::require_tool("node") {
        return;
    }
    // `node exit-paths.js --how throw 2>&1 | cat`: both streams into one pipe, so the
    // order of the writes survives.
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR)
        .args(["exit-paths.js", "--how", "throw"])
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let finished = labkit::run(&mut cmd).unwrap();
    drop(cmd); // our copies of the pipe's write end
    let mut both = String::new();
    std::io::Read::read_to_string(&mut reader, &mut both).unwrap();
    assert_eq!(finished.status.code(), Some(1), "{finished:?}");
    let listener = both.find("exit listener: code 1").expect(&both);
    let error = both.find("Error: something went wrong").expect(&both);
    assert!(listener < error, "{both}");
}

#[test]
fn node_ignores_sigpipe_and_sigxfsz_and_catches_sigint_sigusr1_sigterm() {
    if !labkit::require_tool("node") {
        return;
    }
    // Node's own dispositions, before any JavaScript installs a listener.
    let finished = node(
        "-e",
        &[r#"process.stdout.write(require("fs").readFileSync("/proc/self/status", "utf8"))"#],
    );
    assert!(finished.status.success(), "{finished:?}");
    let status = labkit::proc::Status::parse(&finished.stdout);
    // A child inherits ignored signals across exec: compare with `cat`, started the same
    // way, to see what Node itself added.
    let cat = labkit::run(demo("cat").arg("/proc/self/status")).unwrap();
    let before = labkit::proc::Status::parse(&cat.stdout);
    let ignored_by_node =
        status.signal_mask("SigIgn").unwrap() & !before.signal_mask("SigIgn").unwrap();
    assert_eq!(
        labkit::proc::signal_names(ignored_by_node),
        ["SIGPIPE", "SIGXFSZ"]
    );
    let caught = labkit::proc::signal_names(status.signal_mask("SigCgt").unwrap());
    for signal in ["SIGINT", "SIGUSR1", "SIGTERM"] {
        assert!(caught.iter().any(|s| s == signal), "{signal} in {caught:?}");
    }
}
