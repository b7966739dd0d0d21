//! Exercise regions in lab sources, and cutting them out.
//!
//! A region is a reference solution inside a function body:
//!
//! ```text
//!     // EXERCISE: what the student should do (may continue on more // lines)
//!     // BEGIN SOLUTION
//!     the solution
//!     // END SOLUTION
//! ```
//!
//! Cutting replaces the lines from `BEGIN` to `END` with one `todo!("exercise NN.k: …")`,
//! keeping the `EXERCISE` comment. Markers count only as whole comment lines, so a string
//! that mentions them is not a marker.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::layout::{Lab, Problem, labs};

pub const EXERCISE: &str = "// EXERCISE:";
pub const BEGIN: &str = "// BEGIN SOLUTION";
pub const END: &str = "// END SOLUTION";

/// One solution region of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub file: PathBuf,
    /// 1-based lines of the `BEGIN` and `END` markers.
    pub begin: usize,
    pub end: usize,
    /// The task, from the `EXERCISE:` comment (continuation lines joined).
    pub task: String,
    pub indent: String,
}

/// The regions of one source file, or every malformed marker in it.
pub fn parse(file: &Path, source: &str) -> Result<Vec<Region>, Vec<Problem>> {
    let lines: Vec<&str> = source.lines().collect();
    let in_fn = inside_function_body(source);
    let mut regions = Vec::new();
    let mut errors = Vec::new();
    let mut open: Option<usize> = None;
    let error = |line: usize, message: &str| Problem::new(file, line, message);
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        match line.trim() {
            BEGIN => {
                if let Some(outer) = open {
                    errors.push(error(n, &format!("BEGIN SOLUTION inside the region opened at line {outer} (regions do not nest)")));
                    continue;
                }
                if !in_fn.get(i).copied().unwrap_or(false) {
                    errors.push(error(n, "BEGIN SOLUTION outside a function body"));
                }
                if task_above(&lines, i).is_none() {
                    errors.push(error(
                        n,
                        "BEGIN SOLUTION without an `// EXERCISE:` comment right above it",
                    ));
                }
                open = Some(n);
            }
            END => match open.take() {
                Some(begin) => {
                    let indent = lines[begin - 1].len() - lines[begin - 1].trim_start().len();
                    regions.push(Region {
                        file: file.to_path_buf(),
                        begin,
                        end: n,
                        task: task_above(&lines, begin - 1).unwrap_or_default(),
                        indent: lines[begin - 1][..indent].to_string(),
                    });
                }
                None => errors.push(error(n, "END SOLUTION without a BEGIN SOLUTION")),
            },
            _ => {}
        }
    }
    if let Some(begin) = open {
        errors.push(error(begin, "BEGIN SOLUTION without an END SOLUTION"));
    }
    if errors.is_empty() {
        Ok(regions)
    } else {
        Err(errors)
    }
}

/// An exercise: its region and its id `NN.k` (k counts the lab's regions in file order).
#[derive(Debug, Clone)]
pub struct Exercise {
    pub lab: Lab,
    pub id: String,
    pub region: Region,
}

/// Every exercise of every lab, or every malformed marker. `files` are the project's
/// files, relative to `root` (see [`crate::layout::project_files`]); regions are looked
/// for in the labs' `.rs` files.
pub fn exercises(root: &Path, files: &[PathBuf]) -> Result<Vec<Exercise>, Vec<Problem>> {
    let labs = labs(root).map_err(|e: io::Error| vec![Problem::new("labs", 0, e.to_string())])?;
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for lab in labs {
        let mut k = 0;
        for file in files
            .iter()
            .filter(|f| f.starts_with(&lab.dir) && f.extension().is_some_and(|e| e == "rs"))
        {
            let Ok(source) = fs::read_to_string(root.join(file)) else {
                continue;
            };
            match parse(file, &source) {
                Ok(regions) => {
                    for region in regions {
                        k += 1;
                        found.push(Exercise {
                            lab: lab.clone(),
                            id: format!("{}.{k}", lab.number),
                            region,
                        });
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The task of the comment block right above line `begin` (0-based), if it has an
/// `// EXERCISE:` line: that line's text and the comment lines after it, joined.
fn task_above(lines: &[&str], begin: usize) -> Option<String> {
    let mut start = begin;
    while start > 0 && lines[start - 1].trim_start().starts_with("//") {
        start -= 1;
    }
    let block = &lines[start..begin];
    let at = block
        .iter()
        .position(|l| l.trim_start().starts_with(EXERCISE))?;
    let words: Vec<&str> = block[at..]
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let l = l.trim_start();
            if k == 0 {
                &l[EXERCISE.len()..]
            } else {
                &l[2..]
            }
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Some(words.join(" "))
}

/// For each line (0-based), whether it starts inside the body of a `fn`. A small lexer
/// skips comments, strings and character literals, and remembers for every `{` whether
/// the code before it (since the last `;`, `{` or `}`) contains the keyword `fn`.
pub fn inside_function_body(source: &str) -> Vec<bool> {
    let chars: Vec<char> = source.chars().collect();
    let mut at_line_start = vec![false];
    let mut stack: Vec<bool> = Vec::new();
    let mut header = String::new();
    // Brackets and parentheses open since the last brace: a `;` inside them (an array
    // type `[u64; 256]` in a signature) does not end the header.
    let mut nesting = 0usize;
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied().unwrap_or('\0');
        match c {
            '\n' => {
                at_line_start.push(stack.iter().any(|f| *f));
                header.push(' ');
            }
            '/' if next == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 1;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    } else if chars[i] == '\n' {
                        at_line_start.push(stack.iter().any(|f| *f));
                    }
                    i += 1;
                }
                continue;
            }
            'r' if (next == '"' || next == '#')
                && (i == 0 || !ident(chars[i - 1]) || chars[i - 1] == 'b') =>
            {
                // A raw string r"…" or r#"…"#: find its closing quote and hashes.
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) == Some(&'"') {
                    j += 1;
                    loop {
                        match chars.get(j) {
                            None => break,
                            Some('"') if (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')) => {
                                j += 1 + hashes;
                                break;
                            }
                            Some('\n') => at_line_start.push(stack.iter().any(|f| *f)),
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j;
                    continue;
                }
                header.push(c);
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    } else if chars[i] == '\n' {
                        at_line_start.push(stack.iter().any(|f| *f));
                    }
                    i += 1;
                }
            }
            '\'' => {
                // 'x' and '\n' are characters; 'a (no closing quote) is a lifetime.
                if next == '\\' {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            '{' => {
                let is_fn = header.split(|c: char| !ident(c)).any(|word| word == "fn");
                stack.push(is_fn);
                header.clear();
                nesting = 0;
            }
            '}' => {
                stack.pop();
                header.clear();
                nesting = 0;
            }
            '(' | '[' => {
                nesting += 1;
                header.push(c);
            }
            ')' | ']' => {
                nesting = nesting.saturating_sub(1);
                header.push(c);
            }
            ';' if nesting == 0 => header.clear(),
            _ => header.push(c),
        }
        i += 1;
    }
    at_line_start
}

/// The `todo!` line that replaces a region: the task as the panic message, escaped for a
/// string literal that is also a format string.
pub fn stub(region: &Region, id: &str) -> String {
    let message: String = format!("exercise {id}: {}", region.task)
        .chars()
        .flat_map(|c| match c {
            '\\' => vec!['\\', '\\'],
            '"' => vec!['\\', '"'],
            '{' => vec!['{', '{'],
            '}' => vec!['}', '}'],
            c => vec![c],
        })
        .collect();
    format!("{}todo!(\"{message}\")", region.indent)
}

/// `source` with the given regions (with their ids) replaced by their stubs.
pub fn cut(source: &str, regions: &[(Region, String)]) -> String {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let n = i + 1;
        match regions.iter().find(|(r, _)| (r.begin..=r.end).contains(&n)) {
            Some((r, id)) if n == r.begin => out.push(stub(r, id)),
            Some(_) => {}
            None => out.push(line.to_string()),
        }
    }
    let mut text = out.join("\n");
    if source.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The solution lines of a region (between the markers).
pub fn solution_lines<'a>(source: &'a str, region: &Region) -> Vec<&'a str> {
    source
        .lines()
        .skip(region.begin)
        .take(region.end - region.begin - 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
pub fn double(x: u32) -> u32 {
    // EXERCISE: return twice `x`,
    // without overflow checks.
    // BEGIN SOLUTION
    x * 2
    // END SOLUTION
}

fn text() -> &'static str {
    "// BEGIN SOLUTION is only text here { "
}
"#;

    fn parse_str(source: &str) -> Result<Vec<Region>, Vec<Problem>> {
        parse(Path::new("lib.rs"), source)
    }

    fn messages(source: &str) -> Vec<String> {
        parse_str(source)
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn a_region_is_found_with_its_task_and_indent() {
        let regions = parse_str(GOOD).unwrap();
        assert_eq!(
            regions,
            [Region {
                file: "lib.rs".into(),
                begin: 5,
                end: 7,
                task: "return twice `x`, without overflow checks.".into(),
                indent: "    ".into(),
            }]
        );
    }

    #[test]
    fn cutting_leaves_the_exercise_and_a_todo() {
        let regions = parse_str(GOOD).unwrap();
        let cut_text = cut(GOOD, &[(regions[0].clone(), "01.1".into())]);
        assert!(cut_text.contains("    // EXERCISE: return twice `x`,\n"));
        assert!(cut_text.contains(
            "    todo!(\"exercise 01.1: return twice `x`, without overflow checks.\")\n}"
        ));
        assert!(!cut_text.contains("x * 2"));
        assert!(
            !cut_text
                .lines()
                .any(|l| l.trim() == BEGIN || l.trim() == END)
        );
        assert_eq!(solution_lines(GOOD, &regions[0]), ["    x * 2"]);
    }

    #[test]
    fn braces_and_quotes_in_a_task_are_escaped() {
        let source = "fn f() {\n    // EXERCISE: print \"{x}\" with \\n\n    // BEGIN SOLUTION\n    1\n    // END SOLUTION\n}\n";
        let regions = parse_str(source).unwrap();
        assert_eq!(
            stub(&regions[0], "02.3"),
            r#"    todo!("exercise 02.3: print \"{{x}}\" with \\n")"#
        );
    }

    #[test]
    fn unbalanced_markers_are_errors_with_lines() {
        let no_end = "fn f() {\n    // EXERCISE: x\n    // BEGIN SOLUTION\n    1\n}\n";
        assert_eq!(
            messages(no_end),
            ["lib.rs:3: BEGIN SOLUTION without an END SOLUTION"]
        );
        let no_begin = "fn f() {\n    1\n    // END SOLUTION\n}\n";
        assert_eq!(
            messages(no_begin),
            ["lib.rs:3: END SOLUTION without a BEGIN SOLUTION"]
        );
    }

    #[test]
    fn nested_regions_are_errors() {
        let nested = "fn f() {\n    // EXERCISE: x\n    // BEGIN SOLUTION\n    // EXERCISE: y\n    // BEGIN SOLUTION\n    1\n    // END SOLUTION\n    // END SOLUTION\n}\n";
        let found = messages(nested);
        assert!(
            found[0].starts_with("lib.rs:5: BEGIN SOLUTION inside the region opened at line 3"),
            "{found:?}"
        );
    }

    #[test]
    fn a_region_outside_a_function_body_is_an_error() {
        let outside = "// EXERCISE: x\n// BEGIN SOLUTION\nconst X: u32 = 1;\n// END SOLUTION\n";
        assert_eq!(
            messages(outside),
            ["lib.rs:2: BEGIN SOLUTION outside a function body"]
        );
        let in_struct = "struct S {\n    // EXERCISE: x\n    // BEGIN SOLUTION\n    a: u32,\n    // END SOLUTION\n}\n";
        assert_eq!(
            messages(in_struct),
            ["lib.rs:3: BEGIN SOLUTION outside a function body"]
        );
    }

    #[test]
    fn a_region_needs_its_exercise_line() {
        let bare = "fn f() {\n    // just a comment\n    // BEGIN SOLUTION\n    1\n    // END SOLUTION\n}\n";
        assert_eq!(
            messages(bare),
            ["lib.rs:3: BEGIN SOLUTION without an `// EXERCISE:` comment right above it"]
        );
    }

    #[test]
    fn function_bodies_are_told_apart_from_other_braces() {
        let source = "impl S {\n    fn a(&self) -> char {\n        let s = \"}\"; let c = '}';\n        x\n    }\n}\nfn b<'a>(x: &'a str) {\n    y\n}\n";
        let inside = inside_function_body(source);
        // A line starts inside a body until its closing brace has been read.
        assert_eq!(
            &inside[..9],
            [false, false, true, true, true, false, false, true, true]
        );
    }

    #[test]
    fn an_array_type_in_a_signature_keeps_the_fn() {
        let source = "pub fn h(d: &[u8; 4]) -> [u64; 256] {\n    x\n}\nconst A: [u8; 2] = [0; 2];\nstruct S {\n    a: u8,\n}\n";
        let inside = inside_function_body(source);
        assert_eq!(
            &inside[..7],
            [false, true, true, false, false, false, false]
        );
    }
}
