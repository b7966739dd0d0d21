//! Checks on what the pages pull in from the labs: includes and anchors, snapshot bodies
//! without their insta header, fenced code with a language, and snapshots that a test
//! really asserts.

use std::fs;
use std::path::{Path, PathBuf};

use crate::layout::{
    Problem, SnapshotHeader, files_with_extension, labs, markdown_files, read, rel,
};
use crate::markdown::{Selector, directives, fences, is_anchor_line, is_any_anchor_line};

/// The text an include puts on the page, or why it cannot.
pub fn resolve(file_text: &str, selector: &Selector) -> Result<String, String> {
    let lines: Vec<&str> = file_text.lines().collect();
    match selector {
        Selector::Whole => Ok(file_text.to_string()),
        Selector::Lines(start, end) => {
            let first = start.unwrap_or(1).max(1);
            let last = end.unwrap_or(lines.len()).min(lines.len());
            if first > last {
                return Err(format!("line range {first}..{last} is empty"));
            }
            Ok(lines[first - 1..last].join("\n"))
        }
        Selector::Anchor(name) => {
            let begin = lines.iter().position(|l| is_anchor_line(l, name, false));
            let end = lines.iter().position(|l| is_anchor_line(l, name, true));
            match (begin, end) {
                (None, _) => Err(format!("no `ANCHOR: {name}` in the file")),
                (Some(_), None) => Err(format!("no `ANCHOR_END: {name}` in the file")),
                (Some(b), Some(e)) if e <= b => Err(format!(
                    "`ANCHOR_END: {name}` comes before `ANCHOR: {name}`"
                )),
                (Some(b), Some(e)) => {
                    let body: Vec<&str> = lines[b + 1..e]
                        .iter()
                        .copied()
                        .filter(|l| !is_any_anchor_line(l))
                        .collect();
                    if body.iter().all(|l| l.trim().is_empty()) {
                        Err(format!("anchor `{name}` is empty"))
                    } else {
                        Ok(body.join("\n"))
                    }
                }
            }
        }
    }
}

/// Whether resolved text starts with, or contains, an insta header.
fn leaks_insta_header(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(2).any(|w| {
        w[0] == "---" && (w[1].starts_with("source: ") || w[1].starts_with("expression: "))
    })
}

/// An include found on a page, resolved to a file path.
#[derive(Debug)]
pub struct Include {
    pub page: PathBuf,
    pub line: usize,
    pub target: PathBuf,
    pub selector: Selector,
}

/// Every `{{#include}}` and `{{#rustdoc_include}}` of every page.
pub fn all_includes(root: &Path) -> Vec<Include> {
    let mut found = Vec::new();
    for page in markdown_files(root) {
        let Ok(text) = fs::read_to_string(&page) else {
            continue;
        };
        let dir = page.parent().unwrap_or(root).to_path_buf();
        for d in directives(&text) {
            if d.name != "include" && d.name != "rustdoc_include" {
                continue;
            }
            let (path, selector) = d.include_target();
            found.push(Include {
                page: page.clone(),
                line: d.line,
                target: normalize(&dir.join(path)),
                selector,
            });
        }
    }
    found
}

/// Remove `.` and `..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Includes name existing files and anchors; line numbers only for snapshots, starting
/// exactly at the body; no insta header reaches a page.
pub fn check_includes(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for inc in all_includes(root) {
        let page = rel(root, &inc.page);
        let shown = rel(root, &inc.target);
        let mut problem = |msg: String| problems.push(Problem::new(&page, inc.line, msg));
        let Ok(text) = fs::read_to_string(&inc.target) else {
            problem(format!("include of a missing file {}", shown.display()));
            continue;
        };
        let is_snapshot = inc.target.extension().is_some_and(|e| e == "snap");
        if is_snapshot {
            let Some(body) = SnapshotHeader::parse(&text).map(|h| h.body_start) else {
                problem(format!("{} has no insta header", shown.display()));
                continue;
            };
            if inc.selector != Selector::Lines(Some(body), None) {
                problem(format!(
                    "include a snapshot's body only: use `{}:{body}:` (its header must not reach the page)",
                    shown.display()
                ));
                continue;
            }
        } else if matches!(inc.selector, Selector::Lines(..)) {
            problem(format!(
                "{}: use an anchor, not line numbers (line numbers break silently when code moves)",
                shown.display()
            ));
            continue;
        }
        match resolve(&text, &inc.selector) {
            Err(why) => problem(format!("{}: {why}", shown.display())),
            Ok(resolved) if leaks_insta_header(&resolved) => problem(format!(
                "{}: an insta header reaches the page",
                shown.display()
            )),
            Ok(_) => {}
        }
    }
    problems
}

/// Every code fence on every page has a language (mdBook compiles untagged fences as Rust
/// in `mdbook test`).
pub fn check_fences(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for page in markdown_files(root) {
        let text = match read(root, &page) {
            Ok(text) => text,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        for fence in fences(&text) {
            if fence.info.is_empty() {
                problems.push(Problem::new(
                    rel(root, &page),
                    fence.line,
                    "code fence without a language (use rust, text, console, js, sh, …)",
                ));
            }
        }
    }
    problems
}

/// Every snapshot file of a lab is asserted by name in that lab's code. insta does not
/// complain about a snapshot nobody asserts, and a page could keep showing it forever.
pub fn check_snapshot_references(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for lab in labs(root).unwrap_or_default() {
        let sources: Vec<String> = files_with_extension(root, &lab.dir, "rs")
            .iter()
            .filter_map(|p| fs::read_to_string(root.join(p)).ok())
            .collect();
        for snap in lab.snapshots(root) {
            let name = snap
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let quoted = format!("\"{name}\"");
            if !sources.iter().any(|s| s.contains(&quoted)) {
                problems.push(Problem::new(
                    snap,
                    0,
                    format!("no test asserts snapshot {quoted} (remove it or assert it)"),
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_resolve_without_their_marker_lines() {
        let text = "a\n// ANCHOR: x\nfn x() {}\n// ANCHOR: inner\nlet y;\n// ANCHOR_END: inner\n// ANCHOR_END: x\n";
        assert_eq!(
            resolve(text, &Selector::Anchor("x".into())).unwrap(),
            "fn x() {}\nlet y;"
        );
        assert!(resolve(text, &Selector::Anchor("nope".into())).is_err());
        assert!(
            resolve(
                "// ANCHOR: e\n// ANCHOR_END: e\n",
                &Selector::Anchor("e".into())
            )
            .is_err()
        );
    }

    #[test]
    fn header_leaks_are_seen() {
        assert!(leaks_insta_header("---\nsource: x.rs\n---\nbody"));
        assert!(!leaks_insta_header("body\n---\nmore"));
    }
}
