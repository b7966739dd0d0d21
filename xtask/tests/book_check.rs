//! `cargo xtask book-check` fails on a broken book: a fixture book with one good page and
//! pages broken the ways the check must catch, each run through the real check (mdBook,
//! chromedriver, headless Chromium). Skipped with a message where Chromium is missing;
//! a failure under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use labkit::Finished;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The fixture copied into a temp dir, with the project's mermaid scripts beside it.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("xtask/tests/fixtures/book-check");
    for rel in [
        "book.toml",
        "src/SUMMARY.md",
        "src/good.md",
        "src/diagram.md",
        "src/console.md",
        "src/quiz.md",
        "quizzes/fixture.toml",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from.join(rel), to).unwrap();
    }
    for js in ["mermaid.min.js", "mermaid-init.js"] {
        std::fs::copy(root().join(js), dir.path().join(js)).unwrap();
    }
    dir
}

fn have_browser() -> bool {
    ["mdbook", "chromedriver", "chromium"]
        .iter()
        .all(|tool| labkit::require_tool(tool))
}

fn book_check(book: &Path, extra: &[&str]) -> Finished {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(root())
        .arg("book-check")
        .arg("--book")
        .arg(book)
        .arg("--out")
        .arg(book.join("out"))
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    labkit::run(&mut cmd).unwrap()
}

/// The table's row for a page.
fn row<'a>(run: &'a Finished, page: &str) -> &'a str {
    run.stdout_lines()
        .into_iter()
        .find(|l| l.starts_with(page))
        .unwrap_or_else(|| panic!("no row for {page} in:\n{}", run.stdout))
}

#[test]
fn each_broken_page_is_reported_and_the_good_pages_pass() {
    if !have_browser() {
        return;
    }
    let book = fixture();
    let run = book_check(book.path(), &[]);
    assert!(
        !run.status.success(),
        "the check passed a broken book:\n{}",
        run.stdout
    );
    assert!(
        row(&run, "good.html").ends_with(" ok"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        row(&run, "quiz.html").ends_with(" ok"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    for expected in [
        "diagram.html: mermaid diagram 1: syntax error",
        "console.html: browser log SEVERE (console-api)",
        "fixture: an error in the console",
        "console.html: browser log SEVERE (network)",
        "missing-picture.png - Failed to load resource",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} not in:\n{}",
            run.stderr
        );
    }
    assert!(book.path().join("out/good.png").is_file(), "no screenshot");

    // Now break the built site the way a bad deployment would, and check it again
    // without building: the quiz's script is gone.
    let script = book.path().join("out/site/quiz/quiz-embed.iife.js");
    std::fs::remove_file(&script).unwrap();
    let run = book_check(book.path(), &["--no-build"]);
    assert!(!run.status.success());
    for expected in [
        "quiz.html: quiz 1 did not mount",
        "quiz-embed.iife.js - Failed to load resource",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} not in:\n{}",
            run.stderr
        );
    }
    assert!(!row(&run, "quiz.html").ends_with(" ok"));
}

#[test]
fn a_missing_quiz_file_fails_the_build() {
    if !have_browser() {
        return;
    }
    let book = fixture();
    std::fs::remove_file(book.path().join("quizzes/fixture.toml")).unwrap();
    let run = book_check(book.path(), &[]);
    assert!(!run.status.success());
    assert!(run.stderr.contains("mdbook build failed"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Failed to read quiz file"),
        "{}",
        run.stderr
    );
}
