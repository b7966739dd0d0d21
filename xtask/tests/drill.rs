//! `cargo xtask drill`, end to end on the real project: what it prints is what the book
//! shows (the drills crate's reviewed snapshots), `--reveal` and `--answer` run the scenario
//! for real, and the exit codes tell a grading script what happened.

use std::path::{Path, PathBuf};

use drills::Drill;
use drills::fork::{Fork, State};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn xtask(args: &[&str]) -> Run {
    let mut cmd = labkit::demo(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("drill").args(args).current_dir(root());
    let run = labkit::run(&mut cmd).expect("xtask drill runs to the end");
    Run {
        code: run.status.code().unwrap_or(-1),
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// The body of one of the drills crate's snapshots (what the book includes).
fn snapshot(name: &str) -> String {
    let path = root().join(format!("labs/drills/tests/snapshots/{name}.snap"));
    let text = std::fs::read_to_string(&path).unwrap();
    let body_start = book_tests::layout::SnapshotHeader::parse(&text)
        .expect("an insta header")
        .body_start;
    let lines: Vec<&str> = text.lines().skip(body_start - 1).collect();
    lines.join("\n")
}

fn answer_file(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("answer.txt");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_drill_prints_the_books_scenario_the_same_every_time() {
    let first = xtask(&["fork", "--seed", "7"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.stdout.trim_end(),
        snapshot("fork_seed7_size2").trim_end()
    );
    assert_eq!(
        first.stdout,
        xtask(&["fork", "--seed", "7", "--size", "2"]).stdout
    );
    assert_eq!(first.stdout, Fork::render(&Fork::generate(7, 2)));
}

#[test]
fn the_reveal_is_the_books_up_to_the_outcome_this_run_produced() {
    let run = xtask(&["fork", "--seed", "7", "--reveal"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let redacted = redact_run_number(&run.stdout);
    assert_eq!(
        redacted.trim_end(),
        snapshot("fork_seed7_reveal").trim_end()
    );
}

/// `produced outcome N of` -> `produced outcome [K] of` (the snapshot's redaction).
fn redact_run_number(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once("produced outcome ") {
            Some((head, tail)) => {
                let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
                format!("{head}produced outcome [K]{rest}")
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn answers_are_graded_with_exit_codes_a_script_can_use() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = Fork::allowed(&Fork::generate(7, 2));

    // Right: every allowed outcome is accepted.
    for (k, outcome) in allowed.iter().enumerate() {
        let file = answer_file(&dir, &Fork::format_answer(outcome));
        let run = xtask(&["fork", "--seed", "7", "--answer", &file]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout,
            format!(
                "correct: your answer is outcome {} of the {} Linux may produce.\n",
                k + 1,
                allowed.len()
            )
        );
    }

    // Wrong: the diff the book shows, exit code 1.
    let mut wrong = allowed[0].clone();
    wrong.lines.reverse();
    for node in &mut wrong.tree {
        if node.state == State::Zombie {
            node.state = State::Gone;
            node.ppid = None;
        }
    }
    let file = answer_file(&dir, &Fork::format_answer(&wrong));
    let run = xtask(&["fork", "--seed", "7", "--answer", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim_end(),
        snapshot("fork_seed7_wrong_answer").trim_end()
    );

    // Malformed: one line on stderr naming the line, exit code 2, nothing run.
    let file = answer_file(&dir, "lines:\na1\ntree:\na ppid=root sleeping\n");
    let run = xtask(&["fork", "--seed", "7", "--answer", &file]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "xtask: {file}: line 4: expected `NAME ppid=PARENT alive`, `NAME ppid=PARENT zombie` or `NAME gone`, found `a ppid=root sleeping`\n"
        )
    );
    let missing = dir.path().join("missing.txt");
    let run = xtask(&["fork", "--seed", "7", "--answer", missing.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("xtask: cannot read "),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // A typo is malformed too, with what the scenario has: a process it does not have.
    let file = answer_file(
        &dir,
        "lines:\na1\ntree:\na ppid=root zombie\nb gone\nz gone\n",
    );
    let run = xtask(&["fork", "--seed", "7", "--answer", &file]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!("xtask: {file}: line 6: this drill has no process `z` (its processes: a, b, c)\n")
    );

    // Larger than 64 KiB: malformed, and nothing is graded.
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "lines:\n".to_string() + &"a1\n".repeat(40 * 1024)).unwrap();
    let big = big.to_str().unwrap();
    let run = xtask(&["fork", "--seed", "7", "--answer", big]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!("xtask: {big}: larger than 64 KiB: an answer is a few lines of text\n")
    );

    // A FIFO nobody writes to: rejected at once instead of blocking (labkit::run would
    // report a hang as an error).
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = fifo.to_str().unwrap();
    let run = xtask(&["fork", "--seed", "7", "--answer", fifo]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!("xtask: {fifo}: not a regular file (an answer is a text file of at most 64 KiB)\n")
    );
    // A directory is not an answer either.
    let d = dir.path().to_str().unwrap();
    let run = xtask(&["fork", "--seed", "7", "--answer", d]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // An unknown family: one line, exit code 2.
    let run = xtask(&["forks", "--seed", "7"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "xtask: unknown drill family `forks` (fork, signals)\n"
    );
}

#[test]
fn json_has_the_scenario_the_outcomes_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Fork::generate(7, 3);
    let allowed = Fork::allowed(&scenario);
    let file = answer_file(&dir, &Fork::format_answer(allowed.last().unwrap()));
    let run = xtask(&[
        "fork", "--seed", "7", "--size", "3", "--answer", &file, "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["family"], "fork");
    assert_eq!(doc["seed"], 7);
    assert_eq!(doc["size"], 3);
    assert_eq!(doc["scenario"], serde_json::to_value(&scenario).unwrap());
    assert_eq!(doc["allowed"], serde_json::to_value(&allowed).unwrap());
    assert_eq!(doc["observed_allowed"], true);
    let observed: drills::fork::Outcome = serde_json::from_value(doc["observed"].clone()).unwrap();
    let index = doc["observed_index"].as_u64().unwrap() as usize;
    assert_eq!(allowed[index - 1], observed);
    assert_eq!(doc["verdict"]["correct"], true);
    assert_eq!(doc["verdict"]["closest"], allowed.len());

    // A malformed answer in --json mode: a document that says so, exit code 2.
    let file = answer_file(&dir, "tree:\n");
    let run = xtask(&["fork", "--seed", "7", "--answer", &file, "--json"]);
    assert_eq!(run.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["family"], "fork");
    assert_eq!(doc["seed"], 7);
    assert_eq!(doc["size"], 2);
    // The scenario and the allowed outcomes, from the model: nothing was run.
    let scenario = Fork::generate(7, 2);
    assert_eq!(doc["scenario"], serde_json::to_value(&scenario).unwrap());
    assert_eq!(
        doc["allowed"],
        serde_json::to_value(Fork::allowed(&scenario)).unwrap()
    );
    assert!(doc.get("observed").is_none(), "{doc:#}");
    assert_eq!(doc["verdict"]["correct"], false);
    assert_eq!(
        doc["verdict"]["malformed"],
        format!("{file}: line 1: expected `lines:` first, found `tree:`")
    );
}
