//! Chapter 1 tests: the process card, seen by the parent that started it.

use std::process::Stdio;

use labkit::{ChildGuard, Redactor, demo};

const CARD: &str = env!("CARGO_BIN_EXE_card");

/// Run `card` in a clean environment: no inherited variables but one, working
/// directory `/`. Returns the card and the child's pid.
fn run_card(stdout: Stdio) -> (String, u32) {
    let mut cmd = demo(CARD);
    cmd.env_clear()
        .env("GREETING", "hello")
        .current_dir("/")
        .args(["--env", "GREETING", "--env", "MISSING"])
        .stdout(stdout);
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let pid = child.pid();
    let output = match child.take_stdout() {
        Some(out) => std::io::read_to_string(out).unwrap(),
        None => String::new(),
    };
    assert!(child.wait().unwrap().success());
    (output, pid)
}

fn redactor(child_pid: u32) -> Redactor {
    Redactor::new()
        .id(child_pid, "CARD")
        .id(std::process::id(), "TEST")
        .text(CARD, "EXE")
        .pattern(r"uid=\d+ gid=\d+", "uid=[UID] gid=[GID]")
        .text(std::env::consts::ARCH, "ARCH")
}

#[test]
fn the_card_shows_the_process_as_the_kernel_sees_it() {
    let (card, pid) = run_card(Stdio::piped());
    // The parent of a spawned process is the process that spawned it: this test.
    let ppid_line = format!("ppid:     {}", std::process::id());
    assert!(card.lines().any(|l| l == ppid_line), "{card}");
    let _guard = redactor(pid).settings().bind_to_scope();
    insta::assert_snapshot!("card", card);
}

#[test]
fn stdout_points_wherever_the_parent_opened_it() {
    // What a shell does for `card > card.txt`: open the file, hand it over as fd 1.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.txt");
    let file = std::fs::File::create(&path).unwrap();
    let (_, pid) = run_card(Stdio::from(file));
    let card = std::fs::read_to_string(&path).unwrap();
    let streams: Vec<&str> = card.lines().filter(|l| l.starts_with("std")).collect();
    let _guard = redactor(pid).settings().bind_to_scope();
    insta::assert_snapshot!("card_redirected", streams.join("\n"));
}
