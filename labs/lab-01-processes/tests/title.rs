//! Chapter 1 tests: a process renames itself; we read both of its names from outside.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, proc};

#[test]
fn the_title_is_cut_to_15_bytes_and_argv0_is_the_parents_choice() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_set-title"));
    // The parent decides argv[0]; it need not be the program's file name.
    cmd.arg0("my-app: worker")
        .arg("lab01-worker-long-title")
        .stdin(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).unwrap();
    let mut lines = child.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();

    // Seen from outside, while the demo waits on its stdin.
    let pid = child.pid();
    let comm = proc::comm(pid).unwrap();
    let cmdline = proc::cmdline(pid).unwrap();
    assert_eq!(comm.len(), 15);

    child.take_stdin().unwrap().write_all(b"done\n").unwrap();
    assert!(child.wait().unwrap().success());

    let transcript = format!(
        "{}\n--- seen from outside\n/proc/{pid}/comm:    {comm}\n/proc/{pid}/cmdline: {}",
        lines.history().join("\n"),
        cmdline.join(" | "),
    );
    let _guard = Redactor::new().id(pid, "CHILD").settings().bind_to_scope();
    insta::assert_snapshot!("title", transcript);
}
