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
fn posix_spawn_ignores_glibc_s_internal_signals_in_every_child() {
    let own = Masks::of(std::process::id()).unwrap();
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
    // glibc's posix_spawn (std's usual path) sets 32 and 33 to SIG_IGN in the child,
    // whatever this process does with them, and SIG_IGN survives the exec. (std resets
    // SIGPIPE; the child's own std ignores it again.)
    let spawned = report(demo(MASKS).arg("--report"));
    assert!(
        spawned.contains("SIGRT32 SIGRT33"),
        "{spawned} / ours: {own:?}"
    );
    // With fork and exec, the child keeps exactly what this process ignores (a caught
    // signal goes back to the default): here too only what we ignore ourselves.
    let forked = report(like_a_shell(demo(MASKS).arg("--report")));
    for internal in ["SIGRT32", "SIGRT33"] {
        let ours = own.ignored.contains(&internal.to_string());
        assert_eq!(
            forked.contains(internal),
            ours,
            "{internal}: {forked} / ours: {own:?}"
        );
    }
}

#[test]
fn posix_spawn_ignores_32_and_33_even_from_a_parent_that_never_ignored_them() {
    // A parent that neither ignores nor catches 32 and 33: `masks --spawn-report`, started
    // with fork and exec after the test reset both to the default, starts `masks --report`
    // through Command. Its child has them ignored.
    let mut cmd = demo(MASKS);
    cmd.arg("--spawn-report");
    // glibc's sigaction refuses its internal signals, so the raw system call: the kernel's
    // struct is handler, flags, restorer, mask, and all zeros mean SIG_DFL.
    // SAFETY: rt_sigaction and sigaction are async-signal-safe; nothing else runs in the
    // forked child.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            common::every_signal_at_its_default()?;
            let default = [0usize; 4];
            for signal in [32, 33] {
                let r = libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    default.as_ptr(),
                    std::ptr::null::<usize>(),
                    8,
                );
                if r != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    let done = run(&mut cmd).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("masks --spawn-report")
    );
    let lines = done.stdout_lines();
    let parent: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    let ign: Vec<&&str> = parent.iter().filter(|l| l.starts_with("SigIgn")).collect();
    let cgt: Vec<&&str> = parent.iter().filter(|l| l.starts_with("SigCgt")).collect();
    assert_eq!(ign.len(), 2, "{}", done.stdout);
    // The parent: neither ignores nor catches them.
    assert!(
        !ign[0].contains("SIGRT3") && !cgt[0].contains("SIGRT3"),
        "{}",
        done.stdout
    );
    // The child it started with Command: both ignored.
    assert_eq!(
        *ign[1], "SigIgn: SIGPIPE SIGRT32 SIGRT33",
        "{}",
        done.stdout
    );
    // What a reader sees from bash, which leaves 32 and 33 at their defaults too.
    let pids: Vec<u32> = parent
        .iter()
        .filter_map(|l| l.split("(pid=").nth(1))
        .map(|p| p.trim_end_matches("):").parse().unwrap())
        .collect();
    let text = Redactor::new()
        .id(pids[0], "PARENT")
        .id(pids[1], "CHILD")
        .apply(&done.transcript("./target/debug/masks --spawn-report < /dev/null"));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("masks_spawn_report", text);
}

#[test]
fn a_pending_blocked_signal_survives_exec() {
    let mut cmd = demo(MASKS);
    cmd.args(["--block", "TERM", "--exec"])
        .stdin(std::process::Stdio::piped());
    let mut child = ChildGuard::spawn(like_a_shell(&mut cmd)).unwrap();
    let mut stdin = child.take_stdin().unwrap();
    let mut lines = child.stdout_lines();
    lines.wait_for("ready", DEFAULT_TIMEOUT).unwrap();
    child.signal(nix::sys::signal::Signal::SIGTERM).unwrap();
    // Blocked, so pending for the process, not delivered.
    let status = labkit::proc::status(child.pid()).unwrap();
    let pending = labkit::proc::signal_names(status.signal_mask("ShdPnd").unwrap());
    assert_eq!(pending, ["SIGTERM"]);
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    let after = lines.rest(DEFAULT_TIMEOUT).unwrap();
    // The new program starts with SIGTERM still blocked and still pending ...
    let after: Vec<&str> = after.iter().map(|l| l.trim()).collect();
    assert!(after.contains(&"SigBlk: SIGTERM"), "{after:?}");
    assert!(after.contains(&"ShdPnd: SIGTERM"), "{after:?}");
    // ... and exits normally with it never delivered: the exit discards it.
    assert_eq!(child.wait().unwrap().code(), Some(0), "{after:?}");
}
