//! Chapter 1 tests: a child gets copies of its parent's cwd, environment and inheritable
//! descriptors (not the close-on-exec ones); changing them in the child never changes
//! the parent (the shell here, as in the book).

use labkit::{Redactor, demo};

const INHERIT: &str = env!("CARGO_BIN_EXE_inherit");
const SCRIPT: &str = r#""$0"; echo "shell:   cwd=$(pwd) GREETING=$GREETING""#;

#[test]
fn a_child_cannot_change_its_parents_cwd_or_environment() {
    let mut cmd = demo("/bin/sh");
    cmd.env_clear()
        .env("GREETING", "hello")
        .current_dir("/")
        .args(["-c", SCRIPT, INHERIT]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(
        finished.stdout_lines(),
        [
            "inherit: cwd=/ GREETING=hello",
            "inherit: cwd=/tmp GREETING=changed",
            // set_var changed the C library's copy, not the block exec put in memory.
            "inherit: /proc/self/environ still has GREETING=hello",
            "inherit: fd 3 -> /etc/passwd (close-on-exec), fd 4 -> /etc/passwd (flag cleared)",
            // exec closed the close-on-exec descriptor; the other one crossed it.
            "child:   cwd=/tmp GREETING=changed",
            "child:   fd 3 closed, fd 4 -> /etc/passwd",
            "shell:   cwd=/ GREETING=hello",
        ]
    );
    let shown =
        format!(r#"env -i -C / GREETING=hello sh -c '{SCRIPT}' "$PWD/target/debug/inherit""#);
    let _settings = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("inherit", finished.transcript(&shown));
}

#[test]
fn node_opens_files_close_on_exec_too() {
    if !labkit::require_tool("node") {
        return;
    }
    // Node (libuv) opens a file, then runs a child that looks for the same descriptor.
    const SCRIPT: &str = r#"
        const fd = require("fs").openSync("/etc/passwd", "r");
        let seen;
        try {
            seen = require("child_process").execFileSync("readlink", [`/proc/self/fd/${fd}`],
                { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
        } catch {
            seen = "closed"; // readlink failed: the child has no such descriptor
        }
        console.log(`fd ${fd} in the child: ${seen}`);
        // A control: the same child does see its fd 0 (stdin "ignore" is /dev/null).
        const zero = require("child_process").execFileSync("readlink", ["/proc/self/fd/0"],
            { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
        console.log(`fd 0 in the child: ${zero}`);
        console.log(`fd ${fd} in node: ${require("fs").readlinkSync(`/proc/self/fd/${fd}`)}`);
    "#;
    let finished = labkit::run(demo("node").args(["-e", SCRIPT])).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let lines = finished.stdout_lines();
    assert!(lines[0].ends_with("in the child: closed"), "{lines:?}");
    assert_eq!(lines[1], "fd 0 in the child: /dev/null");
    assert!(lines[2].ends_with("in node: /etc/passwd"), "{lines:?}");
}
