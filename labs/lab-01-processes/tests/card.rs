//! Chapter 1 tests: the process card, seen by the parent that started it.
//!
//! The test starts `card` the way the book's shell command does:
//!
//! ```sh
//! env -i -C / GREETING=hello "$PWD/target/debug/card" --env GREETING --env MISSING < /dev/null 2>&1 | cat
//! ```
//!
//! an empty environment but one variable, working directory `/`, stdin from `/dev/null`,
//! stdout and stderr into one pipe. The shell's `card` has the shell as its parent; this
//! one has the test: both are `[PARENT]` in the snapshot.

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use labkit::{Finished, Redactor, demo};

const CARD: &str = env!("CARGO_BIN_EXE_card");
const SHOWN: &str = r#"env -i -C / GREETING=hello "$PWD/target/debug/card" --env GREETING --env MISSING < /dev/null"#;

fn card_command() -> Command {
    let mut cmd = demo(CARD);
    cmd.env_clear()
        .env("GREETING", "hello")
        .current_dir("/")
        .args(["--env", "GREETING", "--env", "MISSING"]);
    cmd
}

/// Run `card` with stdout and stderr both on one pipe (`2>&1 | cat`), read it after the
/// card has exited (it writes far less than a pipe holds).
fn run_card_into_one_pipe() -> (Finished, u32) {
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut cmd = card_command();
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut finished = labkit::run(&mut cmd).unwrap();
    // The Command still holds our copies of the write end: without dropping it, the
    // pipe would never reach end of file.
    drop(cmd);
    reader.read_to_string(&mut finished.stdout).unwrap();
    let pid = finished
        .stdout_lines()
        .iter()
        .find_map(|l| l.strip_prefix("pid:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("a pid line");
    (finished, pid)
}

fn redactor(card_pid: u32) -> Redactor {
    Redactor::new()
        .id(card_pid, "CARD")
        .id(std::process::id(), "PARENT")
        .text(CARD, "EXE")
        .pattern(r"uid=\d+ gid=\d+", "uid=[UID] gid=[GID]")
        .text(std::env::consts::ARCH, "ARCH")
}

#[test]
fn the_card_shows_the_process_as_the_kernel_sees_it() {
    let (finished, pid) = run_card_into_one_pipe();
    assert!(finished.status.success(), "{finished:?}");
    // The parent of a spawned process is the process that spawned it: this test.
    let ppid_line = format!("ppid:     {}", std::process::id());
    assert!(
        finished.stdout_lines().contains(&ppid_line.as_str()),
        "{finished:?}"
    );
    // `2>&1`: stdout and stderr are the same pipe (the same inode).
    let stream = |name: &str| {
        finished
            .stdout_lines()
            .into_iter()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
    };
    assert_eq!(stream("stdout:"), stream("stderr:"));
    let _guard = redactor(pid).settings().bind_to_scope();
    insta::assert_snapshot!("card", finished.transcript(&format!("{SHOWN} 2>&1 | cat")));
}

#[test]
fn stdout_points_wherever_the_parent_opened_it() {
    // `card > card.txt 2>&1`: a shell opens card.txt in its forked child before exec.
    // Command opens nothing: we open the file here, in the parent, and the child gets it
    // as fd 1 and 2 (std dup2s the descriptors into place before exec).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.txt");
    let file = std::fs::File::create(&path).unwrap();
    let mut cmd = card_command();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let card = std::fs::read_to_string(&path).unwrap();
    let streams: Vec<&str> = card.lines().filter(|l| l.starts_with("std")).collect();
    let shown = format!("{SHOWN} > /tmp/card.txt 2>&1; grep ^std /tmp/card.txt");
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "card_redirected",
        format!("$ {shown}\n{}", streams.join("\n"))
    );
}

#[test]
fn the_cards_age_fits_inside_the_time_the_test_measured() {
    // The card computes its age from the kernel's start time and /proc/uptime, both
    // rounded down (to a clock tick, to 10 ms); the test measures with its own clock.
    // The process started after `before` and printed before `after`, so its true age is
    // at most `after - before`; allow the two roundings plus the card's 2 decimals.
    let ticks_per_second = lab_01::card::ticks_per_second().unwrap();
    let slack = Duration::from_secs_f64(1.0 / ticks_per_second as f64 + 0.01 + 0.005);
    let before = Instant::now();
    let (finished, _) = run_card_into_one_pipe();
    let elapsed = before.elapsed();
    let shown: f64 = finished
        .stdout_lines()
        .iter()
        .find_map(|l| l.strip_prefix("uptime:"))
        .and_then(|v| v.trim().strip_suffix('s'))
        .and_then(|v| v.parse().ok())
        .expect("an uptime line");
    assert!(
        Duration::from_secs_f64(shown) <= elapsed + slack,
        "the card says {shown}s, but it lived at most {elapsed:?} (+ {slack:?} rounding)"
    );
}

/// The card's line that starts with `name`, without the name.
fn line(finished: &Finished, name: &str) -> Option<String> {
    finished
        .stdout_lines()
        .into_iter()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
}

#[test]
fn comm_comes_from_the_name_exec_was_given_and_may_end_in_half_a_character() {
    // Started through a symbolic link, the kernel takes comm from the link's name (cut to
    // 15 bytes, here through 'í'), while /proc/self/exe names the file it loaded.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("worker-cafetería");
    std::os::unix::fs::symlink(CARD, &link).unwrap();
    let finished = labkit::run(&mut demo(&link)).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(line(&finished, "comm:").unwrap(), "worker-cafeter\u{fffd}");
    let real = std::fs::canonicalize(CARD).unwrap();
    assert_eq!(line(&finished, "exe:").unwrap(), real.display().to_string());
    let shown: Vec<&str> = finished
        .stdout_lines()
        .into_iter()
        .filter(|l| ["comm:", "argv:", "exe:"].iter().any(|p| l.starts_with(p)))
        .collect();
    let _guard = Redactor::new()
        .text(&real.display().to_string(), "EXE")
        .text(&dir.path().display().to_string(), "TEMP")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "card_symlink",
        format!(
            "$ ln -s \"$PWD/target/debug/card\" /tmp/worker-cafetería\n\
             $ /tmp/worker-cafetería | grep -E '^(comm|argv|exe):'\n{}",
            shown.join("\n")
        )
    );
}

#[test]
fn a_value_that_is_not_utf8_is_still_set() {
    use std::os::unix::ffi::OsStrExt;
    let mut cmd = demo(CARD);
    cmd.env_clear()
        .env("X", std::ffi::OsStr::from_bytes(b"\xff"))
        .args(["--env", "X"]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(
        line(&finished, "env:").unwrap(),
        "1 in total; X=\u{fffd} (set, not UTF-8)"
    );
}

#[test]
fn a_deleted_working_directory_is_named_in_the_error() {
    // The shell enters a fresh directory, removes it, and becomes the card.
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    let mut cmd = demo("/bin/sh");
    cmd.args(["-c", r#"cd "$0" && rmdir "$0" && exec "$1""#])
        .arg(&gone)
        .arg(CARD);
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1), "{finished:?}");
    assert_eq!(finished.stdout, "");
    assert_eq!(
        finished.stderr,
        "card: cannot read the process card: working directory: \
         No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_closed_standard_input_is_reopened_on_dev_null_before_main() {
    // `card <&-` starts the card with fd 0 closed. Rust's runtime opens /dev/null on any
    // of fds 0-2 that is closed before main runs, so the card never sees "(closed)".
    let mut cmd = demo("/bin/sh");
    cmd.args(["-c", r#"exec "$0" <&-"#, CARD]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(line(&finished, "stdin:").unwrap(), "/dev/null");
}
