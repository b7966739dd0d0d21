//! Chapter 4 tests: `exec` with a max buffer (the typed error, the whole group killed and
//! reaped), `execFile` against injection, and the quoting exercise.

mod common;
use common::{Sweep, sleepers};
use lab_04::exec::{ExecError, Stream, exec_file, exec_shell, shell_quote};
use labkit::{Redactor, demo, run};

const EXEC_SHELL: &str = env!("CARGO_BIN_EXE_exec-shell");
const INJECT: &str = env!("CARGO_BIN_EXE_inject");

/// The marker of this file's background `sleep` (node.rs uses another one).
const MARKER: &str = "27.1828";

#[test]
fn over_max_buffer_the_whole_group_is_killed_and_nothing_is_left() {
    let _sweep = Sweep(MARKER);
    let cmdline = format!("sleep {MARKER} & yes | head -c 2000000");
    let done = run(demo(EXEC_SHELL).args(["--max-buffer", "65536", &cmdline])).unwrap();
    assert_eq!(
        done.status.code(),
        Some(1),
        "{}",
        done.transcript("exec-shell")
    );
    // The demo reaped the whole group before it exited: no sleep survives it.
    assert_eq!(sleepers(MARKER), Vec::<u32>::new());
    let _g = Redactor::new()
        .pattern(r"group \d+", "group [PGID]")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "exec_shell_max_buffer",
        done.transcript(&format!(
            "./target/debug/exec-shell --max-buffer 65536 '{cmdline}'"
        ))
    );
}

#[test]
fn under_the_limit_output_and_status_come_back() {
    let done = run(demo(EXEC_SHELL).arg("echo out; echo err >&2; exit 3")).unwrap();
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "exec_shell_ok",
        done.transcript("./target/debug/exec-shell 'echo out; echo err >&2; exit 3'")
    );
}

#[test]
fn when_the_shell_ends_what_it_left_in_its_group_is_killed() {
    // A background job with its output redirected: the shell ends at once, and the sleep
    // would outlive it by 18.5 s.
    let _sweep = Sweep("18.5");
    let cmdline = r#"sleep 18.5 >/dev/null 2>&1 & echo "started $!""#;
    let done = run(demo(EXEC_SHELL).arg(cmdline)).unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        done.transcript("exec-shell")
    );
    let pid: u32 = done.stdout.lines().next().unwrap()["started ".len()..]
        .parse()
        .unwrap();
    // Killed and, the demo being a child subreaper, reaped: not even a zombie is left.
    assert!(labkit::proc::stat(pid).is_err(), "{pid} is still there");
    assert_eq!(sleepers("18.5"), Vec::<u32>::new());
    // The byte count depends on the pid's digits: check it here, show it as [N].
    let first = done.stdout.lines().next().unwrap();
    assert_eq!(
        done.stdout_lines()[1],
        format!(
            "exec-shell: {} bytes on stdout, 0 on stderr; exited with code 0",
            first.len() + 1
        )
    );
    let _g = Redactor::new()
        .id(pid, "SLEEP")
        .pattern(r"\d+ bytes on stdout", "[N] bytes on stdout")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "exec_shell_leftover",
        done.transcript(&format!("./target/debug/exec-shell '{cmdline}'"))
    );
}

#[test]
fn a_background_job_holding_the_pipes_does_not_keep_us_waiting() {
    // `sleep 60.25 &` keeps the shell's stdout and stderr: end of file would come only
    // when it ends. exec_shell kills the group when the shell exits, so it returns now.
    let _sweep = Sweep("60.25");
    let done = run(demo(EXEC_SHELL).arg("sleep 60.25 & echo started")).unwrap();
    assert_eq!(done.status.code(), Some(0));
    assert_eq!(
        done.stdout,
        "started\nexec-shell: 8 bytes on stdout, 0 on stderr; exited with code 0\n"
    );
    assert_eq!(sleepers("60.25"), Vec::<u32>::new());
}

#[test]
fn a_shell_that_closes_its_output_still_runs_to_its_own_end() {
    // End of file on both pipes is not the end of the shell: it goes on and exits with 3.
    let out = exec_shell("echo before; exec >&- 2>&-; sleep 0.2; exit 3", 4096).unwrap();
    assert_eq!(out.stdout, b"before\n");
    assert_eq!(out.status.code(), Some(3), "{:?}", out.status);
}

#[test]
fn a_shell_that_ignores_sigterm_is_killed_all_the_same() {
    // `trap "" TERM` would make Node wait (its maxBuffer kill is a SIGTERM); SIGKILL
    // cannot be ignored.
    match exec_shell("trap '' TERM; yes | head -c 200000; sleep 5", 4096) {
        Err(ExecError::MaxBuffer { shell, pgid, .. }) => {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(shell.signal(), Some(9), "{shell:?}");
            assert!(labkit::proc::stat(pgid).is_err(), "{pgid} still exists");
        }
        other => panic!("expected MaxBuffer, got {other:?}"),
    }
}

#[test]
fn bad_input_gets_one_line() {
    let done = run(&mut demo(EXEC_SHELL)).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "exec-shell: the following required arguments were not provided: <CMDLINE>\n"
    );
    let done = run(demo(EXEC_SHELL).args(["--max-buffer", "-1", "true"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

#[test]
fn the_error_is_typed_and_keeps_what_arrived() {
    match exec_shell("head -c 5000 /dev/zero >&2", 4096) {
        Err(ExecError::MaxBuffer {
            stream,
            limit,
            stdout,
            stderr,
            pgid,
            ..
        }) => {
            assert_eq!(stream, Stream::Stderr);
            assert_eq!(limit, 4096);
            assert_eq!(stderr.len(), 4096);
            assert!(stdout.is_empty());
            // The shell was reaped: its pid (the group's id) is no longer a process.
            assert!(labkit::proc::stat(pgid).is_err(), "{pgid} still exists");
        }
        other => panic!("expected MaxBuffer, got {other:?}"),
    }
    let out = exec_shell("printf hello; exit 4", 5).unwrap();
    assert_eq!(out.stdout, b"hello");
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn a_name_with_shell_syntax_stays_one_argument_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let done = run(demo(INJECT).arg(dir.path())).unwrap();
    assert!(done.status.success(), "{}", done.transcript("inject"));
    // Only the shell ran the `touch`.
    assert!(dir.path().join("MARKER").exists());
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "inject",
        done.transcript("mkdir /tmp/inject && ./target/debug/inject /tmp/inject")
    );
    // Run again in the same directory: refused, one line.
    let again = run(demo(INJECT).arg(dir.path())).unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        again.stderr,
        "inject: MARKER already exists here: use an empty directory\n"
    );
}

#[test]
fn exec_file_passes_arguments_verbatim() {
    let out = exec_file("printf", &["%s|", "a b", "$HOME", "x; touch y"]).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a b|$HOME|x; touch y|"
    );
}

#[test]
fn exercise_shell_quote_keeps_every_argument_literal() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        "x; touch MARKER",
        "$(touch MARKER)",
        "`touch MARKER`",
        "it's",
        "'; touch MARKER; '",
        "a\nb",
        "",
        "*",
    ];
    for arg in hostile {
        let cmdline = format!(
            "cd {} && printf '%s' {}",
            shell_quote(&dir.path().to_string_lossy()),
            shell_quote(arg)
        );
        let out = exec_shell(&cmdline, 4096).unwrap();
        assert!(
            out.status.success(),
            "{arg:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            arg,
            "{arg:?} quoted as {}",
            shell_quote(arg)
        );
        assert!(!dir.path().join("MARKER").exists(), "{arg:?} ran a command");
    }
}
