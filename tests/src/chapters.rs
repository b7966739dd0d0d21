//! Checks on the book's structure: SUMMARY links, one lab per written chapter (and one
//! chapter per lab), each chapter's quiz and diagram, and the README's test command in CI.

use std::fs;
use std::path::Path;

use crate::Problem;
use crate::includes::all_includes;
use crate::markdown::{directives, fences, summary_links};
use crate::project::{
    Chapter, is_workspace_member, lab_dirs, read, rel, toml_file, written_chapters,
};

/// Every SUMMARY link with a target points to an existing file (drafts `[Title]()` are
/// allowed: they keep the table of contents honest about what is not written yet).
pub fn check_summary(root: &Path) -> Vec<Problem> {
    let summary = root.join("book/SUMMARY.md");
    let text = match read(root, &summary) {
        Ok(text) => text,
        Err(p) => return vec![p],
    };
    summary_links(&text)
        .into_iter()
        .filter(|(_, _, target)| !target.is_empty() && !root.join("book").join(target).is_file())
        .map(|(line, title, target)| {
            Problem::new(
                "book/SUMMARY.md",
                line,
                format!("[{title}] links to a missing file {target}"),
            )
        })
        .collect()
}

/// Each written chapter names exactly its own lab, and each lab has a chapter.
pub fn check_chapters(root: &Path) -> Vec<Problem> {
    let chapters = written_chapters(root);
    let mut problems = Vec::new();
    for chapter in &chapters {
        problems.extend(check_one_chapter(root, chapter));
    }
    for lab in lab_dirs(root) {
        let name = lab
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let named = chapters
            .iter()
            .any(|c| name.starts_with(&format!("lab-{}-", c.number)));
        if !named {
            problems.push(Problem::new(
                rel(root, &lab),
                0,
                format!("lab {name} is not named by any chapter"),
            ));
        }
    }
    problems
}

fn check_one_chapter(root: &Path, chapter: &Chapter) -> Vec<Problem> {
    let page = rel(root, &chapter.path);
    if !chapter.path.is_file() {
        return Vec::new(); // check_summary reports the missing file
    }
    let text = match read(root, &chapter.path) {
        Ok(text) => text,
        Err(p) => return vec![p],
    };
    let package = chapter.package();
    let mut problems = Vec::new();
    let mut problem = |line: usize, msg: String| problems.push(Problem::new(&page, line, msg));

    // (a) the test command, for this lab only.
    let command = format!("cargo test -p {package}");
    if !text.contains(&command) {
        problem(0, format!("does not show its lab's command `{command}`"));
    }
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(pos) = rest.find("cargo test -p ") {
            let named: String = rest[pos + 14..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if named != package {
                problem(
                    i + 1,
                    format!(
                        "names another lab, `cargo test -p {named}` (this chapter's lab is {package})"
                    ),
                );
            }
            rest = &rest[pos + 14..];
        }
    }

    // (c) exactly one lab directory, a workspace member with the right package name.
    let prefix = format!("lab-{}-", chapter.number);
    let labs: Vec<_> = lab_dirs(root)
        .into_iter()
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    let lab = match labs.as_slice() {
        [lab] => lab.clone(),
        [] => {
            problem(0, format!("no lab directory labs/{prefix}*"));
            return problems;
        }
        many => {
            problem(0, format!("{} lab directories labs/{prefix}*", many.len()));
            return problems;
        }
    };
    let lab_rel = rel(root, &lab).to_string_lossy().to_string();
    match is_workspace_member(root, &lab_rel) {
        Ok(true) => {}
        Ok(false) => problem(0, format!("{lab_rel} is not a member of the workspace")),
        Err(p) => problems_push(&mut problem, p),
    }
    match toml_file(root, &lab.join("Cargo.toml")) {
        Ok(manifest) => {
            let name = manifest
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str());
            if name != Some(package.as_str()) {
                problem(
                    0,
                    format!("{lab_rel}/Cargo.toml names package {name:?}, expected \"{package}\""),
                );
            }
        }
        Err(p) => problems_push(&mut problem, p),
    }

    // (d) the chapter says where its lab is, in its own words (an include path that
    // happens to contain the lab's path does not tell the reader anything).
    let says_where = text
        .lines()
        .any(|line| !line.contains("{{#") && line.contains(&lab_rel));
    if !says_where {
        problem(0, format!("does not mention its lab's path `{lab_rel}`"));
    }

    // (b) every include comes from this chapter's lab.
    for inc in all_includes(root).iter().filter(|i| i.page == chapter.path) {
        if !inc.target.starts_with(&lab) {
            problem(
                inc.line,
                format!(
                    "includes {} from outside its lab {lab_rel}",
                    rel(root, &inc.target).display()
                ),
            );
        }
    }

    // (e) a quiz of 4 to 6 questions.
    let quizzes: Vec<_> = directives(&text)
        .into_iter()
        .filter(|d| d.name == "quiz")
        .collect();
    if quizzes.is_empty() {
        problem(
            0,
            "has no quiz ({{#quiz ../quizzes/NN-slug.toml}})".to_string(),
        );
    }
    for quiz in quizzes {
        let path = chapter.path.parent().unwrap_or(root).join(&quiz.args);
        match toml_file(root, &path) {
            Ok(value) => {
                let count = value
                    .get("questions")
                    .and_then(|q| q.as_array())
                    .map_or(0, Vec::len);
                if !(4..=6).contains(&count) {
                    problem(
                        quiz.line,
                        format!("quiz {} has {count} questions, expected 4 to 6", quiz.args),
                    );
                }
            }
            Err(_) if !path.is_file() => {
                problem(quiz.line, format!("quiz file {} is missing", quiz.args))
            }
            Err(p) => problems_push(&mut problem, p),
        }
    }

    // (f) at least one diagram.
    if !fences(&text).iter().any(|f| f.info == "mermaid") {
        problem(0, "has no mermaid diagram".to_string());
    }
    problems
}

fn problems_push(problem: &mut impl FnMut(usize, String), p: Problem) {
    problem(p.line, format!("{}: {}", p.file.display(), p.message));
}

/// The README gives the test command, and CI runs that same command.
pub fn check_readme_and_ci(root: &Path) -> Vec<Problem> {
    const COMMAND: &str = "cargo test --workspace";
    let mut problems = Vec::new();
    for (file, what) in [("README.md", "show"), (".ci/run", "run")] {
        match fs::read_to_string(root.join(file)) {
            Ok(text) if text.lines().any(|l| l.trim() == COMMAND) => {}
            Ok(_) => problems.push(Problem::new(
                file,
                0,
                format!("does not {what} `{COMMAND}` on a line of its own"),
            )),
            Err(e) => problems.push(Problem::new(file, 0, format!("cannot read: {e}"))),
        }
    }
    problems
}
