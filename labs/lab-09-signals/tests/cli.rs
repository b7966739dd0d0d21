//! Chapter 9: every demo answers `--help`, and bad input gets one clear line on stderr and
//! exit code 2.

use labkit::{demo, run};

const DEMOS: [(&str, &str); 6] = [
    ("graceful", env!("CARGO_BIN_EXE_graceful")),
    ("masks", env!("CARGO_BIN_EXE_masks")),
    ("zombie", env!("CARGO_BIN_EXE_zombie")),
    ("orphan", env!("CARGO_BIN_EXE_orphan")),
    ("group", env!("CARGO_BIN_EXE_group")),
    ("pidfd", env!("CARGO_BIN_EXE_pidfd")),
];

#[test]
fn every_demo_has_help() {
    for (name, exe) in DEMOS {
        let done = run(demo(exe).arg("--help")).unwrap();
        assert!(
            done.status.success(),
            "{name}: {}",
            done.transcript("--help")
        );
        assert!(done.stdout.contains("Usage:"), "{name}: {}", done.stdout);
    }
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    for (name, exe) in DEMOS {
        let done = run(demo(exe).arg("--no-such-option")).unwrap();
        assert_eq!(done.status.code(), Some(2), "{name}");
        assert_eq!(done.stderr.lines().count(), 1, "{name}: {}", done.stderr);
        assert!(
            done.stderr.starts_with(&format!("{name}: ")),
            "{}",
            done.stderr
        );
    }
    let done = run(demo(DEMOS[1].1).args(["--block", "NOPE"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr.trim(),
        "masks: invalid value 'NOPE' for '--block <BLOCK>': not a signal: \"NOPE\" (try TERM, SIGUSR1 or 15)"
    );
    // SIGKILL and SIGSTOP: the rule is named, not just EINVAL (or a silent no-op for a mask).
    for (args, expected) in [
        (
            ["--block", "KILL"],
            "masks: invalid value 'KILL' for '--block <BLOCK>': SIGKILL cannot be blocked (the kernel leaves SIGKILL and SIGSTOP out of every mask)",
        ),
        (
            ["--ignore", "STOP"],
            "masks: invalid value 'STOP' for '--ignore <IGNORE>': SIGSTOP cannot be ignored or caught (sigaction refuses SIGKILL and SIGSTOP with EINVAL)",
        ),
        (
            ["--catch", "9"],
            "masks: invalid value '9' for '--catch <CATCH>': SIGKILL cannot be ignored or caught (sigaction refuses SIGKILL and SIGSTOP with EINVAL)",
        ),
    ] {
        let done = run(demo(DEMOS[1].1).args(args)).unwrap();
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(done.stderr.trim(), expected);
    }
    // graceful names the state file it could not write.
    let done = run(demo(DEMOS[0].1).args(["--state-file", "/nonexistent/graceful.state"])).unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(
        done.stderr.trim(),
        "graceful: cannot write /nonexistent/graceful.state: No such file or directory (os error 2)"
    );
}
