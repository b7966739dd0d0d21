//! Just enough Markdown parsing for the checks: code fences, mdBook's `{{#…}}` directives,
//! and SUMMARY links.

/// A code fence: where it opens and its info string (the language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub line: usize,
    pub info: String,
}

/// The code fences of a Markdown text, in order. A fence opens with 3 or more backticks or
/// tildes (indented by at most 3 spaces) and closes with at least as many of the same
/// character and nothing else; lines inside a fence are never fences themselves.
pub fn fences(text: &str) -> Vec<Fence> {
    let mut found = Vec::new();
    let mut open: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent > 3 {
            continue;
        }
        let rest = &line[indent..];
        let Some(ch) = rest.chars().next().filter(|c| *c == '`' || *c == '~') else {
            continue;
        };
        let run = rest.chars().take_while(|c| *c == ch).count();
        if run < 3 {
            continue;
        }
        let after = rest[run..].trim();
        match open {
            Some((open_ch, open_run)) => {
                if ch == open_ch && run >= open_run && after.is_empty() {
                    open = None;
                }
            }
            None => {
                found.push(Fence {
                    line: i + 1,
                    info: after.to_string(),
                });
                open = Some((ch, run));
            }
        }
    }
    found
}

/// What part of a file an include takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Whole,
    Anchor(String),
    /// 1-based, inclusive; `None` means from the start / to the end.
    Lines(Option<usize>, Option<usize>),
}

/// One `{{#name args}}` directive, as mdBook's links preprocessor reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub line: usize,
    /// `include`, `rustdoc_include`, `quiz`, `playground`, …
    pub name: String,
    pub args: String,
}

impl Directive {
    /// For an include: the path and the selector after it (`path:anchor`, `path:4:`).
    pub fn include_target(&self) -> (String, Selector) {
        let mut parts = self.args.splitn(2, ':');
        let path = parts.next().unwrap_or_default().to_string();
        let selector = match parts.next() {
            None => Selector::Whole,
            Some(sel) => {
                let pieces: Vec<&str> = sel.split(':').collect();
                let number = |s: &str| s.trim().parse::<usize>().ok();
                let all_numeric = pieces
                    .iter()
                    .all(|p| p.trim().is_empty() || number(p).is_some());
                match (all_numeric, pieces.as_slice()) {
                    (true, [one]) => Selector::Lines(number(one), number(one)),
                    (true, [start, end]) => Selector::Lines(number(start), number(end)),
                    _ => Selector::Anchor(sel.trim().to_string()),
                }
            }
        };
        (path, selector)
    }
}

/// The `{{#…}}` directives of a text. An escaped directive (`\{{#include …}}`) is left
/// alone by mdBook and skipped here too.
pub fn directives(text: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(pos) = line[from..].find("{{") {
            let start = from + pos;
            from = start + 2;
            if line[..start].ends_with('\\') {
                continue;
            }
            let inner = line[start + 2..].trim_start();
            let Some(body) = inner.strip_prefix('#') else {
                continue;
            };
            let Some(end) = body.find("}}") else {
                continue;
            };
            let body = body[..end].trim();
            let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
            found.push(Directive {
                line: i + 1,
                name: name.to_string(),
                args: args.trim().to_string(),
            });
        }
    }
    found
}

/// The `[title](target)` links of SUMMARY.md, with their line numbers; drafts have an
/// empty target.
pub fn summary_links(text: &str) -> Vec<(usize, String, String)> {
    let mut links = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(open) = line.find('[') else { continue };
        let Some(close) = line[open..].find("](").map(|c| open + c) else {
            continue;
        };
        let Some(end) = line[close + 2..].find(')').map(|e| close + 2 + e) else {
            continue;
        };
        links.push((
            i + 1,
            line[open + 1..close].to_string(),
            line[close + 2..end].trim().to_string(),
        ));
    }
    links
}

/// Whether `line` carries the marker `ANCHOR: name` (or `ANCHOR_END: name` when `end`),
/// with the name matched exactly, as mdBook does.
pub fn is_anchor_line(line: &str, name: &str, end: bool) -> bool {
    let marker = if end { "ANCHOR_END:" } else { "ANCHOR:" };
    let Some(pos) = line.find(marker) else {
        return false;
    };
    let found: String = line[pos + marker.len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    found == name
}

/// Whether a line is any anchor marker (mdBook drops these from included text).
pub fn is_any_anchor_line(line: &str) -> bool {
    line.contains("ANCHOR:") || line.contains("ANCHOR_END:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_pair_up_and_inner_fences_do_not_count() {
        let text = "````md\n```\nnot a fence\n```\n````\n~~~\nx\n~~~\n```rust\n```\n";
        let found = fences(text);
        assert_eq!(
            found,
            [
                Fence {
                    line: 1,
                    info: "md".into()
                },
                Fence {
                    line: 6,
                    info: "".into()
                },
                Fence {
                    line: 9,
                    info: "rust".into()
                },
            ]
        );
    }

    #[test]
    fn a_closing_fence_needs_the_same_character_and_length() {
        let found = fences("```text\n~~~\n``\n```\n```\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1].line, 5);
    }

    #[test]
    fn indented_code_is_not_a_fence() {
        assert!(fences("    ```\n").is_empty());
        assert_eq!(fences("   ```sh\n```").len(), 1);
    }

    #[test]
    fn directives_are_found_with_spaces_and_escapes() {
        let text =
            "a {{#include ../x.rs:main}} b\n\\{{#include skipped.rs}}\n{{ #quiz ../q.toml }}";
        let found = directives(text);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].line, found[0].name.as_str()), (1, "include"));
        assert_eq!(
            found[0].include_target(),
            ("../x.rs".into(), Selector::Anchor("main".into()))
        );
        assert_eq!(
            (
                found[1].line,
                found[1].name.as_str(),
                found[1].args.as_str()
            ),
            (3, "quiz", "../q.toml")
        );
    }

    #[test]
    fn include_selectors() {
        let target = |args: &str| {
            Directive {
                line: 1,
                name: "include".into(),
                args: args.into(),
            }
            .include_target()
            .1
        };
        assert_eq!(target("a.rs"), Selector::Whole);
        assert_eq!(target("a.snap:4:"), Selector::Lines(Some(4), None));
        assert_eq!(target("a.rs:2:10"), Selector::Lines(Some(2), Some(10)));
        assert_eq!(target("a.rs::10"), Selector::Lines(None, Some(10)));
        assert_eq!(target("a.rs:7"), Selector::Lines(Some(7), Some(7)));
        assert_eq!(target("a.rs:send"), Selector::Anchor("send".into()));
    }

    #[test]
    fn anchor_names_match_exactly() {
        assert!(is_anchor_line("// ANCHOR: send", "send", false));
        assert!(!is_anchor_line("// ANCHOR: send", "sen", false));
        assert!(!is_anchor_line("// ANCHOR: sender", "send", false));
        assert!(is_anchor_line("// ANCHOR_END: send", "send", true));
        assert!(!is_anchor_line("// ANCHOR_END: send", "send", false));
    }

    #[test]
    fn summary_links_include_drafts() {
        let links = summary_links("# Summary\n[Intro](introduction.md)\n- [Later]()\n");
        assert_eq!(
            links,
            [
                (2, "Intro".into(), "introduction.md".into()),
                (3, "Later".into(), "".into()),
            ]
        );
    }
}
