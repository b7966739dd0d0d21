//! Chapter 1 tests: a process renames itself; we read both of its names from outside.
//!
//! The book's command is `(exec -a 'my-app: worker' ./target/debug/set-title
//! worker-cafetería)`: bash's `exec -a` chooses argv[0], as `Command::arg0` does here.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use lab_01::title::{COMM_MAX_BYTES, cut_title};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, proc};

const TITLE: &str = "worker-cafetería";

/// `/proc/PID/comm` as raw bytes: after a cut through a character it is not UTF-8.
fn comm_bytes(pid: u32) -> Vec<u8> {
    let mut bytes = std::fs::read(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(bytes.pop(), Some(b'\n'));
    bytes
}

/// Start set-title with argv[0] "my-app: worker", wait until it has renamed itself, and
/// read its names from outside. Returns the demo's lines, comm's bytes and cmdline.
fn run_set_title(title: &str) -> (Vec<String>, u32, Vec<u8>, Vec<String>) {
    let mut cmd = demo(env!("CARGO_BIN_EXE_set-title"));
    // The parent decides argv[0]; it need not be the program's file name.
    cmd.arg0("my-app: worker").arg(title).stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = child.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();

    // Seen from outside, while the demo waits on its stdin.
    let pid = child.pid();
    let comm = comm_bytes(pid);
    let cmdline = proc::cmdline(pid).unwrap();

    child.take_stdin().unwrap().write_all(b"done\n").unwrap();
    assert!(child.wait().unwrap().success());
    (lines.history().to_vec(), pid, comm, cmdline)
}

#[test]
fn the_title_is_cut_to_15_bytes_and_argv0_is_the_parents_choice() {
    let (lines, pid, comm, cmdline) = run_set_title(TITLE);
    // The kernel kept exactly 15 bytes, and the 15th is the first half of 'í'.
    assert_eq!(comm.len(), COMM_MAX_BYTES);
    assert_eq!(&comm[..], &TITLE.as_bytes()[..COMM_MAX_BYTES]);
    assert!(std::str::from_utf8(&comm).is_err());
    assert_eq!(cmdline, ["my-app: worker", TITLE]);

    // The introduction's conventions: " | " stands for a NUL byte in cmdline; comm is
    // shown with its bytes escaped, since its last byte is half a character.
    let transcript = format!(
        "$ (exec -a 'my-app: worker' ./target/debug/set-title {TITLE})\n{}\n\
         --- seen from outside, while it waits\n\
         /proc/{pid}/comm:    {} ({} bytes)\n\
         /proc/{pid}/cmdline: {}",
        lines.join("\n"),
        comm.escape_ascii(),
        comm.len(),
        cmdline.join(" | "),
    );
    let _guard = Redactor::new().id(pid, "CHILD").settings().bind_to_scope();
    insta::assert_snapshot!("title", transcript);
}

#[test]
fn exercise_01_3_cut_title_matches_what_the_kernel_kept() {
    for title in [
        TITLE,
        "lab01-worker-long-title",
        "ñandú-trabajador",
        "short",
    ] {
        let (_, _, comm, _) = run_set_title(title);
        let cut = cut_title(title);
        // What the kernel kept, read back as far as it is valid UTF-8.
        let valid = match std::str::from_utf8(&comm) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&comm[..e.valid_up_to()]).unwrap(),
        };
        assert_eq!(cut.kept, valid, "{title}");
        assert_eq!(cut.split.is_some(), valid.len() < comm.len(), "{title}");
    }
}

#[test]
fn trailing_spaces_are_part_of_the_name() {
    // Only the newline the kernel adds to /proc/PID/comm is removed, never the spaces.
    let (lines, _, comm, _) = run_set_title("a b ");
    assert_eq!(comm, b"a b ");
    assert!(lines.iter().any(|l| l == "comm after:  a b "), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l == r#"asked for:   a b  (4 bytes, kernel keeps "a b ")"#),
        "{lines:?}"
    );
    let (lines, _, _, _) = run_set_title("x");
    assert!(
        lines
            .iter()
            .any(|l| l == r#"asked for:   x (1 byte, kernel keeps "x")"#),
        "{lines:?}"
    );
}
