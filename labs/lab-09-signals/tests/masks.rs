//! Chapter 9 tests: blocked, ignored and caught signals as `/proc/PID/status` shows them,
//! and what of them survives `execve` (blocked and ignored stay, caught go back to the
//! default), also when `nohup` does the ignoring.

use std::io::Write;

mod common;
use common::{GLIBC_INTERNAL, like_a_shell, without_internal};
use lab_09::masks::Masks;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};

const MASKS: &str = env!("CARGO_BIN_EXE_masks");

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn decoded_masks_match_what_the_demo_installed_and_exec_keeps_blocked_and_ignored() {
    let mut cmd = demo(MASKS);
    cmd.args([
        "--block", "USR1", "--ignore", "HUP", "--catch", "USR2", "--exec",
    ])
    .stdin(std::process::Stdio::piped());
    let mut child = ChildGuard::spawn(like_a_shell(&mut cmd)).unwrap();
    let mut stdin = child.take_stdin().unwrap();
    let mut lines = child.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();

    // Seen from outside, before the exec: exactly what was installed, plus what every
    // Rust program starts with (SIGPIPE ignored, SIGSEGV and SIGBUS caught by std).
    let outside = Masks::of(child.pid()).unwrap();
    // ... the same as the demo printed about itself,
    let printed: Vec<String> = lines.history()[2..5]
        .iter()
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(printed, outside.lines());
    // ... and exactly what was installed, plus what every Rust program starts with.
    assert_eq!(without_internal(&outside.blocked), names(&["SIGUSR1"]));
    assert_eq!(
        without_internal(&outside.ignored),
        names(&["SIGHUP", "SIGPIPE"])
    );
    assert_eq!(
        without_internal(&outside.caught),
        names(&["SIGBUS", "SIGSEGV", "SIGUSR2"])
    );

    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    let after = lines.rest(DEFAULT_TIMEOUT).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{after:?}");
    // After execv: the mask and SIG_IGN survived, the handler for SIGUSR2 did not. The new
    // program's std caught SIGSEGV and SIGBUS again, and ignored SIGPIPE again.
    let internal = regex::Regex::new(GLIBC_INTERNAL).unwrap();
    let after_lines: Vec<String> = after
        .iter()
        .map(|l| internal.replace_all(l.trim(), "").into_owned())
        .collect();
    assert_eq!(
        after_lines[1..],
        [
            "SigBlk: SIGUSR1",
            "SigIgn: SIGHUP SIGPIPE",
            "SigCgt: SIGBUS SIGSEGV"
        ]
    );
    // Same pid before and after: exec replaced the program, not the process.
    assert!(
        after[0].contains(&format!("pid={}", child.pid())),
        "{after:?}"
    );

    let mut text = String::from(
        "$ ./target/debug/masks --block USR1 --ignore HUP --catch USR2 --exec < /dev/null\n",
    );
    for line in lines.history() {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("=> {}", labkit::run::outcome(status)));
    let _g = Redactor::new()
        .id(child.pid(), "MASKS")
        .pattern(GLIBC_INTERNAL, "")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("masks_exec", text);
}

#[test]
fn sighup_ignored_by_nohup_stays_ignored_in_the_program_it_execs() {
    let mut cmd = demo("nohup");
    cmd.args([MASKS, "--report"]);
    let done = run(like_a_shell(&mut cmd)).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("nohup masks --report")
    );
    let ignored = done
        .stdout_lines()
        .into_iter()
        .find(|l| l.trim().starts_with("SigIgn"))
        .unwrap();
    let internal = regex::Regex::new(GLIBC_INTERNAL).unwrap();
    assert_eq!(
        internal.replace_all(ignored.trim(), ""),
        "SigIgn: SIGHUP SIGPIPE"
    );
    let _g = Redactor::new()
        .pattern(GLIBC_INTERNAL, "")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "masks_nohup",
        done.transcript("nohup ./target/debug/masks --report < /dev/null 2>&1 | cat")
    );
}

#[test]
fn posix_spawn_leaves_glibc_s_internal_signals_ignored() {
    // This test process has a handler for glibc's internal signal 33 (SIGSETXID) ...
    let own = Masks::of(std::process::id()).unwrap();
    let rt33 = "SIGRT33".to_string();
    assert!(own.caught.contains(&rt33), "{own:?}");
    let report = |cmd: &mut std::process::Command| {
        let done = run(cmd).unwrap();
        assert!(
            done.status.success(),
            "{}",
            done.transcript("masks --report")
        );
        let line = done
            .stdout_lines()
            .into_iter()
            .find(|l| l.trim().starts_with("SigIgn"));
        line.unwrap().trim().to_string()
    };
    // ... and glibc's posix_spawn (std's usual path) leaves it ignored in the child, and
    // SIG_IGN survives the exec. (std resets SIGPIPE; the child's own std ignores it again.)
    let spawned = report(demo(MASKS).arg("--report"));
    assert!(spawned.contains("SIGRT33"), "{spawned}");
    // With fork and exec, exec just resets the handler to the default.
    let forked = report(like_a_shell(demo(MASKS).arg("--report")));
    assert!(!forked.contains("SIGRT33"), "{forked}");
    // Signal 32 is ignored in the child exactly when it is ignored here: inherited.
    let ours = own.ignored.contains(&"SIGRT32".to_string());
    assert_eq!(forked.contains("SIGRT32"), ours, "{forked} / {own:?}");
}
