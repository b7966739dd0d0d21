//! Appendix A, the Node.js -> Rust/Linux cheat sheet (`book/appendix-cheatsheet.md`), is
//! complete and its links work.
//!
//! **What counts as "a Node API named in a chapter"** (the rule, applied mechanically to
//! every `book/NN-*.md`): an inline code span in the prose (not inside a fenced block, so
//! included listings and transcripts do not count) whose text *starts with*
//!
//! 1. `ROOT.member`, where ROOT is a Node module or an object the book's Node programs use:
//!    `child_process`, `cluster`, `worker_threads`, `process`, `net`, `fs`, `dns`,
//!    `crypto`, `zlib`, `os`, `subprocess` (a `ChildProcess`; the chapters also call it
//!    `child`, which counts as `subprocess`), `worker` (a cluster or thread worker),
//!    `parentPort`, `server` (a `net.Server`). The name is `ROOT.member`; for an event
//!    listener (`process.on('exit')`, `child.on('message', …)`) it is
//!    `ROOT.on('event')`, so each event is its own API;
//! 2. one of the `worker_threads` names used bare: `new Worker`, `workerData`,
//!    `isMainThread`, `threadId`, `parentPort`, `MessageChannel`;
//! 3. an upper-case `NODE_…` or `UV_…` name: the environment variables Node and libuv read
//!    or set (`UV_THREADPOOL_SIZE`, `NODE_CHANNEL_FD`, …) and the internal messages on the
//!    IPC channel (`NODE_HANDLE`, …).
//!
//! Not counted: file names (`cluster.js`, `process.c`) and sysctl names (`net.ipv4.…`),
//! which only look like members. Every such name must appear in the first column of the
//! cheat sheet's tables, as a code span that gives the same name under the same rule.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MEMBER_ROOTS: &[&str] = &[
    "child_process",
    "cluster",
    "worker_threads",
    "process",
    "net",
    "fs",
    "dns",
    "crypto",
    "zlib",
    "os",
    "subprocess",
    "child",
    "worker",
    "parentPort",
    "server",
];

const BARE_NAMES: &[&str] = &[
    "new Worker",
    "workerData",
    "isMainThread",
    "threadId",
    "parentPort",
    "MessageChannel",
];

/// Extensions that make `name.ext` a file name, not a member.
const FILE_EXTENSIONS: &[&str] = &["js", "cjs", "mjs", "c", "cc", "h", "rs", "md", "toml"];

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// The Node API a code span names under the rule in the module header, if any.
fn api_name(span: &str) -> Option<String> {
    let span = span.trim();
    // 3. NODE_… / UV_… names.
    if span.starts_with("NODE_") || span.starts_with("UV_") {
        let name: String = span
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let rest = &span[name.len()..];
        if rest.chars().next().is_none_or(|c| !is_ident(c)) {
            return Some(name);
        }
        return None;
    }
    // 1. ROOT.member
    for root in MEMBER_ROOTS {
        let Some(after) = span
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix('.'))
        else {
            continue;
        };
        let member: String = after.chars().take_while(|c| is_ident(*c)).collect();
        if member.is_empty() {
            continue;
        }
        let rest = &after[member.len()..];
        let whole_is_file = rest.is_empty() && FILE_EXTENSIONS.contains(&member.as_str());
        let sysctl = *root == "net" && (member == "ipv4" || member == "ipv6" || member == "core");
        if whole_is_file || sysctl {
            return None;
        }
        let root = if *root == "child" { "subprocess" } else { root };
        if member == "on" || member == "once" {
            let event = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_prefix(['\'', '"']))
                .map(|r| r.chars().take_while(|c| is_ident(*c)).collect::<String>())
                .filter(|e| !e.is_empty());
            if let Some(event) = event {
                return Some(format!("{root}.on('{event}')"));
            }
        }
        return Some(format!("{root}.{member}"));
    }
    // 2. bare worker_threads names.
    for name in BARE_NAMES {
        if let Some(rest) = span.strip_prefix(name)
            && rest.chars().next().is_none_or(|c| !is_ident(c))
        {
            return Some((*name).to_string());
        }
    }
    None
}

/// The inline code spans of a Markdown text outside fenced blocks, with their line numbers.
fn inline_spans(text: &str) -> Vec<(usize, String)> {
    let mut spans = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ch = trimmed.chars().next().unwrap_or(' ');
        if ch == '`' || ch == '~' {
            let run = trimmed.chars().take_while(|c| *c == ch).count();
            if run >= 3 {
                match fence {
                    Some((open, n))
                        if open == ch && run >= n && trimmed[run..].trim().is_empty() =>
                    {
                        fence = None
                    }
                    Some(_) => {}
                    None => fence = Some((ch, run)),
                }
                continue;
            }
        }
        if fence.is_some() {
            continue;
        }
        let bytes: Vec<char> = line.chars().collect();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] != '`' {
                at += 1;
                continue;
            }
            let run = bytes[at..].iter().take_while(|c| **c == '`').count();
            let start = at + run;
            // The closing run has the same length.
            let mut end = start;
            let mut found = None;
            while end < bytes.len() {
                if bytes[end] == '`' {
                    let close = bytes[end..].iter().take_while(|c| **c == '`').count();
                    if close == run {
                        found = Some(end);
                        break;
                    }
                    end += close;
                } else {
                    end += 1;
                }
            }
            match found {
                Some(end) => {
                    spans.push((i + 1, bytes[start..end].iter().collect()));
                    at = end + run;
                }
                None => at = start,
            }
        }
    }
    spans
}

/// Every Node API the chapters name: name -> the first place (file:line) it is named.
fn named_in_chapters(book: &Path) -> BTreeMap<String, String> {
    let mut named = BTreeMap::new();
    for path in chapter_files(book) {
        let text = fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (line, span) in inline_spans(&text) {
            if let Some(name) = api_name(&span) {
                named
                    .entry(name)
                    .or_insert_with(|| format!("{file}:{line}"));
            }
        }
    }
    named
}

/// `book/NN-slug.md`, sorted.
fn chapter_files(book: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(book)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            let b = name.as_bytes();
            name.ends_with(".md")
                && b.len() > 3
                && b[0].is_ascii_digit()
                && b[1].is_ascii_digit()
                && b[2] == b'-'
        })
        .collect();
    files.sort();
    files
}

/// The table rows of the cheat sheet: (line, cells).
fn table_rows(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with('|'))
        .filter(|(_, l)| !l.contains("---|") && !l.contains("|---"))
        .map(|(i, l)| {
            let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
            (i + 1, split_cells(inner))
        })
        .collect()
}

/// A table row's cells: split at `|`, but not at `\|` (GFM's escaped pipe, also inside code).
fn split_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().unwrap().push('|');
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// The Node APIs the cheat sheet's first column names.
fn named_in_table(text: &str) -> BTreeSet<String> {
    table_rows(text)
        .iter()
        .filter_map(|(_, cells)| cells.first())
        .flat_map(|cell| inline_spans(cell))
        .filter_map(|(_, span)| api_name(&span))
        .collect()
}

/// The targets of Markdown links `](target)` in a text.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push((i + 1, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    targets
}

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("book")
}

fn cheatsheet() -> String {
    fs::read_to_string(book_dir().join("appendix-cheatsheet.md")).unwrap()
}

#[test]
fn every_node_api_a_chapter_names_is_in_the_cheat_sheet() {
    let named = named_in_chapters(&book_dir());
    assert!(
        named.len() > 40,
        "the rule found only {} names in the chapters: {named:?}",
        named.len()
    );
    let table = named_in_table(&cheatsheet());
    let missing: Vec<String> = named
        .iter()
        .filter(|(name, _)| !table.contains(*name))
        .map(|(name, at)| format!("{name} (named at {at})"))
        .collect();
    assert!(
        missing.is_empty(),
        "{} Node API(s) named in the chapters are missing from book/appendix-cheatsheet.md:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn every_row_has_four_filled_cells_and_a_chapter_link() {
    let text = cheatsheet();
    let rows = table_rows(&text);
    assert!(rows.len() > 40, "only {} table rows", rows.len());
    for (line, cells) in rows {
        if cells.first().is_some_and(|c| c == "Node.js") {
            continue; // a header row
        }
        assert_eq!(cells.len(), 4, "line {line}: {cells:?}");
        assert!(
            cells.iter().all(|c| !c.is_empty()),
            "line {line}: an empty cell: {cells:?}"
        );
        assert!(
            cells[1].contains(".md"),
            "line {line}: the chapter column has no link: {cells:?}"
        );
    }
}

/// The local links of `text` whose page is not a file in `book`: `file:line: target`.
fn broken_links(book: &Path, text: &str) -> Vec<String> {
    link_targets(text)
        .into_iter()
        .filter(|(_, t)| !t.starts_with("http"))
        .filter(|(_, t)| !book.join(t.split('#').next().unwrap()).is_file())
        .map(|(line, t)| format!("appendix-cheatsheet.md:{line}: link to a missing page {t}"))
        .collect()
}

#[test]
fn every_chapter_link_in_the_cheat_sheet_points_to_an_existing_chapter() {
    let text = cheatsheet();
    let local = link_targets(&text)
        .into_iter()
        .filter(|(_, t)| !t.starts_with("http"))
        .count();
    assert!(local > 40, "only {local} local links");
    let broken = broken_links(&book_dir(), &text);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_link_to_a_missing_chapter_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("01-demo.md"), "# Demo\n").unwrap();
    let text = "| `process.pid` | [ch. 1](01-demo.md#x), [ch. 2](02-gone.md) | a | b |\n";
    assert_eq!(
        broken_links(dir.path(), text),
        ["appendix-cheatsheet.md:1: link to a missing page 02-gone.md"]
    );
}

// The rule itself, on small texts: it finds what it says and skips what it says.

#[test]
fn the_rule_finds_members_events_bare_names_and_node_variables() {
    let text = "Call `child_process.fork()` then `child.on('message', f)` and \
                `process.on(\"SIGTERM\")`; set `UV_THREADPOOL_SIZE=8`; `new Worker(file)` \
                gets `workerData`; `parentPort.postMessage(x)`; ``subprocess.send()``.\n";
    let names: Vec<String> = inline_spans(text)
        .into_iter()
        .filter_map(|(_, s)| api_name(&s))
        .collect();
    assert_eq!(
        names,
        [
            "child_process.fork",
            "subprocess.on('message')",
            "process.on('SIGTERM')",
            "UV_THREADPOOL_SIZE",
            "new Worker",
            "workerData",
            "parentPort.postMessage",
            "subprocess.send",
        ]
    );
}

#[test]
fn the_rule_skips_fences_file_names_sysctls_and_commands() {
    let text = "See `cluster.js`, `src/unix/process.c`, `net.ipv4.tcp_migrate_req`,\n\
                `node -p \"process.pid\"`, `[NODE_ARCH]`.\n\
                ```js\nconst x = `process.pid`;\n```\n";
    let names: Vec<String> = inline_spans(text)
        .into_iter()
        .filter_map(|(_, s)| api_name(&s))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_missing_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("01-demo.md"),
        "Node's `process.ppid` and `cluster.fork()`.\n",
    )
    .unwrap();
    let named = named_in_chapters(dir.path());
    let table = named_in_table(
        "| Node.js | chapter | Rust | system call |\n|---|---|---|---|\n\
         | `process.ppid` | [ch. 1](01-demo.md) | `std::os::unix::process::parent_id()` | `getppid` |\n",
    );
    let missing: Vec<&String> = named.keys().filter(|n| !table.contains(*n)).collect();
    assert_eq!(missing, ["cluster.fork"]);
}
