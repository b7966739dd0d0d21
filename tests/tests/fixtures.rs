//! Every check fails on a broken book: a tiny, good project is written to a temporary
//! directory, one thing is broken, and the checker must report exactly that problem.

use std::fs;
use std::path::{Path, PathBuf};

use book_tests::{Problem, check_project};

/// A small project that passes every check.
const GOOD: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[workspace]\nmembers = [\"labs/lab-01-demo\"]\n",
    ),
    (
        "README.md",
        "# Demo\n\n```sh\ncargo test --workspace\n```\n",
    ),
    (
        ".ci/run",
        "#!/usr/bin/env bash\nset -e\ncargo test --workspace\n",
    ),
    (
        "book/SUMMARY.md",
        "# Summary\n\n[Introduction](introduction.md)\n\n- [Demo](01-demo.md)\n- [Later]()\n",
    ),
    ("book/introduction.md", "# Introduction\n\nHello.\n"),
    (
        "book/01-demo.md",
        "# Demo\n\n\
         > Lab: `labs/lab-01-demo`, check it with `cargo test -p lab-01`.\n\n\
         > **What you will learn**\n> - one\n> - two\n> - three\n\n\
         ```rust\n{{#include ../labs/lab-01-demo/src/lib.rs:answer}}\n```\n\n\
         ```text\n{{#include ../labs/lab-01-demo/tests/snapshots/answer.snap:4:}}\n```\n\n\
         ```mermaid\ngraph TD; A-->B\n```\n\n\
         {{#quiz ../quizzes/01-demo.toml}}\n",
    ),
    (
        "labs/lab-01-demo/Cargo.toml",
        "[package]\nname = \"lab-01\"\nversion = \"0.1.0\"\n",
    ),
    (
        "labs/lab-01-demo/src/lib.rs",
        "// ANCHOR: answer\npub fn answer() -> u32 {\n    42\n}\n// ANCHOR_END: answer\n\n\
         pub fn double(x: u32) -> u32 {\n    // EXERCISE: return twice `x`.\n    // BEGIN SOLUTION\n    x * 2\n    // END SOLUTION\n}\n",
    ),
    (
        "labs/lab-01-demo/tests/t.rs",
        "#[test]\nfn answer() {\n    insta::assert_snapshot!(\"answer\", lab_01::answer().to_string());\n}\n",
    ),
    (
        "labs/lab-01-demo/tests/snapshots/answer.snap",
        "---\nsource: labs/lab-01-demo/tests/t.rs\n---\n42\n",
    ),
    (
        "quizzes/01-demo.toml",
        "[[questions]]\ntype = \"ShortAnswer\"\nprompt.prompt = \"1?\"\nanswer.answer = \"1\"\n\n\
         [[questions]]\ntype = \"ShortAnswer\"\nprompt.prompt = \"2?\"\nanswer.answer = \"2\"\n\n\
         [[questions]]\ntype = \"ShortAnswer\"\nprompt.prompt = \"3?\"\nanswer.answer = \"3\"\n\n\
         [[questions]]\ntype = \"ShortAnswer\"\nprompt.prompt = \"4?\"\nanswer.answer = \"4\"\n",
    ),
];

/// The good project in a temporary directory (removed on drop, also on panic).
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn good() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in GOOD {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Fixture { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Replace `from` by `to` in one file; the text must be there.
    fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = fs::read_to_string(self.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        fs::write(self.path(rel), text.replacen(from, to, 1)).unwrap();
        self
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        fs::create_dir_all(self.path(rel).parent().unwrap()).unwrap();
        fs::write(self.path(rel), text).unwrap();
        self
    }

    fn problems(&self) -> Vec<Problem> {
        check_project(self.root())
    }

    /// Exactly one problem, in `file` at `line`, whose message contains `words`.
    fn expect_one(&self, file: &str, line: usize, words: &str) {
        let problems = self.problems();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems.len(),
            1,
            "expected one problem, got:\n{}",
            shown.join("\n")
        );
        let p = &problems[0];
        assert_eq!((p.file.to_str().unwrap(), p.line), (file, line), "{p}");
        assert!(p.message.contains(words), "{p:?} should mention {words:?}");
    }
}

const CHAPTER: &str = "book/01-demo.md";

#[test]
fn the_good_fixture_has_no_problems() {
    let problems = Fixture::good().problems();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(problems.is_empty(), "{}", shown.join("\n"));
}

#[test]
fn a_missing_include_file_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "src/lib.rs:answer", "src/gone.rs:answer");
    f.expect_one(CHAPTER, 11, "missing file labs/lab-01-demo/src/gone.rs");
}

#[test]
fn a_missing_anchor_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "lib.rs:answer", "lib.rs:answe");
    f.expect_one(CHAPTER, 11, "no `ANCHOR: answe`");
}

#[test]
fn an_anchor_without_its_end_is_reported() {
    let f = Fixture::good();
    f.edit("labs/lab-01-demo/src/lib.rs", "// ANCHOR_END: answer\n", "");
    f.expect_one(CHAPTER, 11, "no `ANCHOR_END: answer`");
}

#[test]
fn line_numbers_in_a_source_include_are_refused() {
    let f = Fixture::good();
    f.edit(CHAPTER, "lib.rs:answer", "lib.rs:2:4");
    f.expect_one(CHAPTER, 11, "use an anchor");
}

#[test]
fn a_whole_snapshot_include_would_leak_the_header() {
    let f = Fixture::good();
    f.edit(CHAPTER, "answer.snap:4:", "answer.snap");
    f.expect_one(
        CHAPTER,
        15,
        "use `labs/lab-01-demo/tests/snapshots/answer.snap:4:`",
    );
}

#[test]
fn a_snapshot_include_must_start_at_the_body() {
    let f = Fixture::good();
    f.edit(CHAPTER, "answer.snap:4:", "answer.snap:3:");
    f.expect_one(CHAPTER, 15, "header must not reach the page");
    // A longer header moves the body: the include must follow it.
    let f = Fixture::good();
    f.edit(
        "labs/lab-01-demo/tests/snapshots/answer.snap",
        "---\n42",
        "expression: x\n---\n42",
    );
    f.expect_one(CHAPTER, 15, "answer.snap:5:");
}

#[test]
fn an_untagged_fence_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "```text\n", "```\n");
    f.expect_one(CHAPTER, 14, "without a language");
}

#[test]
fn a_summary_link_to_a_missing_file_is_reported() {
    let f = Fixture::good();
    f.edit("book/SUMMARY.md", "- [Later]()", "- [Later](03-later.md)");
    f.expect_one("book/SUMMARY.md", 6, "missing file 03-later.md");
}

#[test]
fn a_chapter_without_its_test_command_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "`cargo test -p lab-01`", "the tests");
    f.expect_one(
        CHAPTER,
        0,
        "does not show its lab's command `cargo test -p lab-01`",
    );
}

#[test]
fn a_chapter_naming_another_lab_is_reported() {
    let f = Fixture::good();
    let text = fs::read_to_string(f.path(CHAPTER)).unwrap() + "Also run `cargo test -p lab-02`.\n";
    f.write(CHAPTER, &text);
    let last_line = text.lines().count();
    f.expect_one(
        CHAPTER,
        last_line,
        "names another lab, `cargo test -p lab-02`",
    );
}

#[test]
fn an_include_from_another_lab_is_reported() {
    let f = Fixture::good();
    f.write(
        "labs/lab-01-demo/../lab-09-other/x.rs",
        "// ANCHOR: x\nfn x() {}\n// ANCHOR_END: x\n",
    );
    f.edit(
        CHAPTER,
        "lab-01-demo/src/lib.rs:answer",
        "lab-09-other/x.rs:x",
    );
    let problems = f.problems();
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        shown.contains(&"book/01-demo.md:11: includes labs/lab-09-other/x.rs from outside its lab labs/lab-01-demo".to_string()),
        "{}",
        shown.join("\n")
    );
}

#[test]
fn a_lab_outside_the_workspace_is_reported() {
    let f = Fixture::good();
    f.edit("Cargo.toml", "labs/lab-01-demo", "labs/other");
    f.expect_one(
        CHAPTER,
        0,
        "labs/lab-01-demo is not a member of the workspace",
    );
}

#[test]
fn a_glob_member_counts() {
    let f = Fixture::good();
    f.edit("Cargo.toml", "labs/lab-01-demo", "labs/*");
    assert!(f.problems().is_empty());
}

#[test]
fn a_wrong_package_name_is_reported() {
    let f = Fixture::good();
    f.edit("labs/lab-01-demo/Cargo.toml", "lab-01", "demo");
    f.expect_one(
        CHAPTER,
        0,
        "names package Some(\"demo\"), expected \"lab-01\"",
    );
}

#[test]
fn a_lab_without_a_chapter_is_reported() {
    let f = Fixture::good();
    f.write(
        "labs/lab-05-ipc/Cargo.toml",
        "[package]\nname = \"lab-05\"\n",
    );
    f.expect_one(
        "labs/lab-05-ipc",
        0,
        "lab lab-05-ipc is not named by any chapter",
    );
}

#[test]
fn a_quiz_with_three_questions_is_reported() {
    let f = Fixture::good();
    let quiz = fs::read_to_string(f.path("quizzes/01-demo.toml")).unwrap();
    let cut = quiz.rfind("[[questions]]").unwrap();
    f.write("quizzes/01-demo.toml", &quiz[..cut]);
    f.expect_one(CHAPTER, 22, "has 3 questions, expected 4 to 6");
}

#[test]
fn a_missing_quiz_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "{{#quiz ../quizzes/01-demo.toml}}\n", "");
    f.expect_one(CHAPTER, 0, "has no quiz");
    let f = Fixture::good();
    fs::remove_file(f.path("quizzes/01-demo.toml")).unwrap();
    f.expect_one(CHAPTER, 22, "quiz file ../quizzes/01-demo.toml is missing");
}

#[test]
fn a_chapter_without_a_diagram_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "```mermaid", "```text");
    f.expect_one(CHAPTER, 0, "has no mermaid diagram");
}

#[test]
fn a_chapter_not_saying_where_its_lab_is_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "> Lab: `labs/lab-01-demo`, check", "> Check");
    f.expect_one(
        CHAPTER,
        0,
        "does not mention its lab's path `labs/lab-01-demo`",
    );
}

#[test]
fn an_unasserted_snapshot_is_reported() {
    let f = Fixture::good();
    f.write(
        "labs/lab-01-demo/tests/snapshots/orphan.snap",
        "---\nsource: t.rs\n---\nold\n",
    );
    f.expect_one(
        "labs/lab-01-demo/tests/snapshots/orphan.snap",
        0,
        "no test asserts snapshot \"orphan\"",
    );
}

#[test]
fn readme_and_ci_must_carry_the_test_command() {
    let f = Fixture::good();
    f.edit("README.md", "cargo test --workspace", "cargo test");
    f.expect_one("README.md", 0, "does not show `cargo test --workspace`");
    let f = Fixture::good();
    f.edit(".ci/run", "cargo test --workspace", "cargo build");
    f.expect_one(".ci/run", 0, "does not run `cargo test --workspace`");
}

#[test]
fn a_misnamed_lab_directory_is_reported() {
    let f = Fixture::good();
    f.write(
        "labs/lab-5-ipc/Cargo.toml",
        "[package]\nname = \"lab-05\"\n",
    );
    f.expect_one(
        "labs/lab-5-ipc",
        0,
        "lab lab-5-ipc is not named lab-NN-slug (package lab-NN)",
    );
}

const LIB: &str = "labs/lab-01-demo/src/lib.rs";

/// The good fixture with the exercise region moved into the listing `answer` (lines 4-6).
fn solution_in_the_listing() -> Fixture {
    let f = Fixture::good();
    f.edit(
        LIB,
        "    42\n",
        "    // EXERCISE: return the answer.\n    // BEGIN SOLUTION\n    42\n    // END SOLUTION\n",
    );
    f
}

#[test]
fn a_solution_inside_an_included_anchor_is_reported() {
    let f = solution_in_the_listing();
    f.expect_one(
        LIB,
        4,
        "the solution of exercise 01.1 (lines 4-6) is inside anchor `answer` (lines 1-8), \
         which book/01-demo.md:11 includes",
    );
    // Including the whole file shows the solution too.
    let f = Fixture::good();
    f.write("labs/lab-01-demo/src/whole.rs", "pub fn f() {\n    // EXERCISE: x.\n    // BEGIN SOLUTION\n    1;\n    // END SOLUTION\n}\n");
    let text = fs::read_to_string(f.path(CHAPTER)).unwrap()
        + "\n```rust\n{{#include ../labs/lab-01-demo/src/whole.rs}}\n```\n";
    f.write(CHAPTER, &text);
    let include_line = text.lines().count() - 1;
    f.expect_one(
        "labs/lab-01-demo/src/whole.rs",
        3,
        &format!(
            "inside the whole file (lines 1-6), which book/01-demo.md:{include_line} includes"
        ),
    );
}

#[test]
fn an_appendix_may_show_a_solution_region() {
    // The instructor's guide shows the markers on purpose: only chapters count.
    let f = solution_in_the_listing();
    f.edit(
        CHAPTER,
        "```rust\n{{#include ../labs/lab-01-demo/src/lib.rs:answer}}\n```\n",
        "",
    );
    f.write(
        "book/appendix.md",
        "# Appendix\n\n```rust\n{{#include ../labs/lab-01-demo/src/lib.rs:answer}}\n```\n",
    );
    let problems = f.problems();
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn malformed_exercise_markers_are_reported() {
    let f = Fixture::good();
    f.edit(LIB, "    // BEGIN SOLUTION\n", "");
    f.expect_one(LIB, 10, "END SOLUTION without a BEGIN SOLUTION");
}

#[test]
fn a_chapter_without_its_learning_box_is_reported() {
    let f = Fixture::good();
    f.edit(CHAPTER, "> **What you will learn**\n", "> **In short**\n");
    f.expect_one(CHAPTER, 0, "has no \"What you will learn\" box");
    let f = Fixture::good();
    f.edit(CHAPTER, "> - three\n", "");
    f.expect_one(
        CHAPTER,
        5,
        "its \"What you will learn\" box lists 2 objective(s), expected 3 to 5",
    );
    // A section works as well as a block quote.
    let f = Fixture::good();
    f.edit(
        CHAPTER,
        "> **What you will learn**\n> - one\n> - two\n> - three\n",
        "## What you will learn\n\n1. one\n2. two\n3. three\n   still three\n\n## The idea\n\n- not an objective\n",
    );
    assert!(f.problems().is_empty(), "{:?}", f.problems());
}
