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
}
