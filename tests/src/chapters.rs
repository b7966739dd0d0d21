//! Checks on the book's structure: SUMMARY links, one lab per written chapter (and one
//! chapter per lab, named `lab-NN-slug`), each chapter's quiz, diagram and "What you will
//! learn" box, no exercise solution inside a listing a chapter includes, and the README's
//! test command in CI.

use std::fs;
use std::path::Path;

use crate::includes::all_includes;
use crate::layout::{
    Chapter, Lab, Problem, is_workspace_member, lab_dirs, read, rel, toml_file, written_chapters,
};
use crate::markdown::{Selector, directives, fences, is_anchor_line, summary_links};
use crate::regions::exercises;

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
    for dir in lab_dirs(root).unwrap_or_default() {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let Some(lab) = Lab::from_dir(&dir) else {
            problems.push(Problem::new(
                &dir,
                0,
                format!("lab {name} is not named lab-NN-slug (package lab-NN)"),
            ));
            continue;
        };
        if !chapters.iter().any(|c| c.number == lab.number) {
            problems.push(Problem::new(
                &dir,
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
        .unwrap_or_default()
        .into_iter()
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .map(|d| root.join(d))
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

/// Each chapter has its "What you will learn" box (DESIGN §6): a block quote, or a
/// section, whose first line names it, followed by 3 to 5 objectives as list items.
pub fn check_learning_boxes(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for chapter in written_chapters(root) {
        let Ok(text) = fs::read_to_string(&chapter.path) else {
            continue; // check_summary reports the missing file
        };
        let page = rel(root, &chapter.path);
        match learning_box(&text) {
            None => problems.push(Problem::new(
                page,
                0,
                "has no \"What you will learn\" box (3 to 5 objectives as a list, DESIGN §6)",
            )),
            Some((line, n)) if !(3..=5).contains(&n) => problems.push(Problem::new(
                page,
                line,
                format!("its \"What you will learn\" box lists {n} objective(s), expected 3 to 5"),
            )),
            Some(_) => {}
        }
    }
    problems
}

/// The line of the "What you will learn" box and how many list items it has: in a block
/// quote, the items of that quote; under a heading, the items before the next heading.
fn learning_box(text: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.to_lowercase().contains("what you will learn"))?;
    let quoted = lines[at].trim_start().starts_with('>');
    let heading = lines[at].trim_start().starts_with('#');
    if !quoted && !heading {
        return None;
    }
    let is_item = |l: &str| {
        let l = l.trim_start();
        l.starts_with("- ")
            || l.starts_with("* ")
            || l.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let items = lines[at + 1..]
        .iter()
        .take_while(|l| {
            if quoted {
                l.trim_start().starts_with('>')
            } else {
                !l.trim_start().starts_with('#')
            }
        })
        .map(|l| {
            if quoted {
                l.trim_start()[1..].trim_start()
            } else {
                l
            }
        })
        .filter(|l| !l.starts_with(' ') && is_item(l))
        .count();
    Some((at + 1, items))
}

/// No exercise's solution lies in a listing a chapter shows (DESIGN §7): a region inside
/// an included anchor (or an included whole file) would put the solution on the page, and
/// a `todo!()` in the student edition's listing.
pub fn check_solutions_outside_listings(root: &Path) -> Vec<Problem> {
    let files = match crate::layout::project_files(root) {
        Ok(files) => files,
        Err(e) => {
            return vec![Problem::new(
                ".",
                0,
                format!("cannot list the project's files: {e}"),
            )];
        }
    };
    let exercises = match exercises(root, &files) {
        Ok(exercises) => exercises,
        Err(malformed) => return malformed,
    };
    let chapters = written_chapters(root);
    let mut problems = Vec::new();
    for inc in all_includes(root) {
        if !chapters.iter().any(|c| c.path == inc.page) {
            continue; // appendices may show the markers on purpose
        }
        let target = rel(root, &inc.target);
        let in_file: Vec<_> = exercises
            .iter()
            .filter(|e| e.region.file == target)
            .collect();
        if in_file.is_empty() {
            continue;
        }
        let Ok(text) = fs::read_to_string(&inc.target) else {
            continue; // check_includes reports it
        };
        let (what, span) = match &inc.selector {
            Selector::Whole => (
                "the whole file".to_string(),
                Some((1, text.lines().count())),
            ),
            Selector::Anchor(name) => (format!("anchor `{name}`"), anchor_span(&text, name)),
            Selector::Lines(..) => continue, // check_includes refuses line numbers in sources
        };
        let Some((begin, end)) = span else {
            continue; // check_includes reports the missing anchor
        };
        for ex in in_file {
            let r = &ex.region;
            if r.begin <= end && r.end >= begin {
                problems.push(Problem::new(
                    &r.file,
                    r.begin,
                    format!(
                        "the solution of exercise {} (lines {}-{}) is inside {what} (lines {begin}-{end}), which {}:{} includes: move the listing or the exercise",
                        ex.id,
                        r.begin,
                        r.end,
                        rel(root, &inc.page).display(),
                        inc.line
                    ),
                ));
            }
        }
    }
    problems
}

/// The 1-based lines of `ANCHOR: name` and `ANCHOR_END: name`.
fn anchor_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let begin = lines.iter().position(|l| is_anchor_line(l, name, false))?;
    let end = lines.iter().position(|l| is_anchor_line(l, name, true))?;
    (begin < end).then_some((begin + 1, end + 1))
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
