//! The demo commands the book lists, as structured commands a program can start without a
//! shell: the allow-list of the local runner (`cargo xtask runner`).
//!
//! A demo is a `$ ` line in a `console` or `text` block of a chapter (with includes
//! expanded, so the transcripts that come from snapshots count) that starts one of the
//! labs' programs in a fixed form:
//!
//! ```text
//! ./target/debug/BIN ARGS…                      (or ./target/release/BIN)
//! cargo run [-q] [--release] -p lab-NN --bin BIN [-- ARGS…]
//! ```
//!
//! optionally behind `env -i [-C DIR] [NAME=VALUE…]` (an empty environment, a working
//! directory, variables), with the program also written `"$PWD/target/debug/BIN"`, and
//! with `< /dev/null` and `2>&1 | cat` (stderr and stdout into one pipe) at the end.
//! Anything else (another pipe, `&`, `;`, another redirection, `$(…)`) is not a demo: the
//! page shows no Run button for it, and the runner refuses it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::includes::{normalize, resolve};
use crate::layout::{read, rel, written_chapters};
use crate::markdown::{directives, fences};

/// How a demo's program is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// `cargo run [--release] -p PACKAGE --bin BIN`
    CargoRun {
        release: bool,
        package: String,
        bin: String,
    },
    /// `./target/debug/BIN` or `./target/release/BIN`
    Built { release: bool, bin: String },
}

/// A demo command, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemoCommand {
    pub program: Program,
    pub args: Vec<String>,
    /// `< /dev/null` was given.
    pub stdin_null: bool,
    /// `2>&1 | cat`: stderr goes where stdout goes, one pipe.
    pub merge_stderr: bool,
    /// `env -i`: start from an empty environment.
    pub clear_env: bool,
    /// `env -C DIR`.
    pub cwd: Option<String>,
    /// `env NAME=VALUE`, in order.
    pub env: Vec<(String, String)>,
    /// Written `"$PWD/target/…"`: argv[0] is the absolute path.
    pub absolute: bool,
}

impl Default for Program {
    fn default() -> Self {
        Program::Built {
            release: false,
            bin: String::new(),
        }
    }
}

impl DemoCommand {
    /// The binary's name.
    pub fn bin(&self) -> &str {
        match &self.program {
            Program::CargoRun { bin, .. } | Program::Built { bin, .. } => bin,
        }
    }

    /// Built with `--release`.
    pub fn release(&self) -> bool {
        match &self.program {
            Program::CargoRun { release, .. } | Program::Built { release, .. } => *release,
        }
    }
}

/// A demo as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// The chapter page, relative to the root: `book/01-processes.md`.
    pub page: PathBuf,
    /// The command exactly as the page shows it after `$ ` (comments removed, trimmed).
    pub shown: String,
    pub command: DemoCommand,
}

/// The suffixes a demo may end with, cut off: `2>&1 | cat` (merge) then `< /dev/null`, in
/// either order.
fn cut_suffixes(line: &str) -> (&str, bool, bool) {
    let mut line = line.trim();
    let (mut stdin_null, mut merge) = (false, false);
    loop {
        if let Some(rest) = line.strip_suffix("2>&1 | cat") {
            line = rest.trim_end();
            merge = true;
        } else if let Some(rest) = line.strip_suffix("< /dev/null") {
            line = rest.trim_end();
            stdin_null = true;
        } else {
            return (line, stdin_null, merge);
        }
    }
}

/// Split a command line into words as a POSIX shell would for the forms above: blanks
/// separate words, single and double quotes group (no expansion inside single quotes; in
/// double quotes only `\"` and `\\`). Returns `None` for anything a shell would treat
/// specially outside quotes (`|&;<>()$\`` and `*?[`) (`#~` too).
pub fn split_plain(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => w.push(c),
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        '$' | '`' => return None,
                        c => w.push(c),
                    }
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '\\' | '*' | '?' | '[' | '#'
            | '~' => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn is_lab_package(s: &str) -> bool {
    s.len() == 6 && s.starts_with("lab-") && s[4..].chars().all(|c| c.is_ascii_digit())
}

/// Parse one shown command (without the `$ `), or `None` when it is not a demo.
pub fn parse_command(shown: &str) -> Option<DemoCommand> {
    let (line, stdin_null, merge_stderr) = cut_suffixes(shown);
    // The one shell expansion a demo may use: `"$PWD/target/…"`, the built binary by its
    // absolute path. It is rewritten before splitting; any other `$` is refused.
    let absolute = line.contains("\"$PWD/target/");
    let line = line.replace("\"$PWD/target/", "\"./target/");
    let words = split_plain(&line)?;
    let mut cmd = DemoCommand {
        stdin_null,
        merge_stderr,
        absolute,
        ..DemoCommand::default()
    };
    let mut words = words.as_slice();
    if words.first().map(String::as_str) == Some("env") {
        words = &words[1..];
        loop {
            match words.first().map(String::as_str) {
                Some("-i") => cmd.clear_env = true,
                Some("-C") => {
                    cmd.cwd = Some(words.get(1)?.clone());
                    words = &words[1..];
                }
                Some(w) if is_assignment(w) => {
                    let (name, value) = w.split_once('=')?;
                    cmd.env.push((name.to_string(), value.to_string()));
                }
                _ => break,
            }
            words = &words[1..];
        }
    }
    let (first, rest) = words.split_first()?;
    if absolute && !first.starts_with("./target/") {
        return None;
    }
    let built = |release: bool, bin: &str| Program::Built {
        release,
        bin: bin.to_string(),
    };
    let (program, args) = if let Some(bin) = first.strip_prefix("./target/debug/") {
        (built(false, bin), rest.to_vec())
    } else if let Some(bin) = first.strip_prefix("./target/release/") {
        (built(true, bin), rest.to_vec())
    } else if first == "cargo" && rest.first().map(String::as_str) == Some("run") && !absolute {
        let mut release = false;
        let mut package = None;
        let mut bin = None;
        let mut it = rest[1..].iter();
        let mut args = Vec::new();
        while let Some(w) = it.next() {
            match w.as_str() {
                "-q" | "--quiet" => {}
                "--release" => release = true,
                "-p" | "--package" => package = Some(it.next()?.clone()),
                "--bin" => bin = Some(it.next()?.clone()),
                "--" => {
                    args = it.cloned().collect();
                    break;
                }
                _ => return None,
            }
        }
        let (package, bin) = (package?, bin?);
        if !is_lab_package(&package) {
            return None;
        }
        (
            Program::CargoRun {
                release,
                package,
                bin,
            },
            args,
        )
    } else {
        return None;
    };
    let bin = match &program {
        Program::CargoRun { bin, .. } | Program::Built { bin, .. } => bin,
    };
    if !is_name(bin) {
        return None;
    }
    cmd.program = program;
    cmd.args = args;
    Some(cmd)
}

/// `NAME=VALUE` with a shell variable name.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A page's Markdown with its `{{#include}}`s replaced by what they include (one level,
/// as the book uses them); an include that cannot be read is left out.
pub fn expanded(page: &Path) -> String {
    let Ok(text) = fs::read_to_string(page) else {
        return String::new();
    };
    let dir = page.parent().unwrap_or(Path::new("."));
    let includes: Vec<_> = directives(&text)
        .into_iter()
        .filter(|d| d.name == "include")
        .collect();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        match includes.iter().find(|d| d.line == i + 1) {
            Some(d) => {
                let (path, selector) = d.include_target();
                if let Ok(body) = fs::read_to_string(normalize(&dir.join(path)))
                    && let Ok(body) = resolve(&body, &selector)
                {
                    out.push_str(&body);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The `$ ` lines of a text's `console` and `text` blocks, comments cut.
pub fn shown_commands(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let opens = fences(text);
    for fence in opens
        .iter()
        .filter(|f| f.info == "console" || f.info == "text")
    {
        for line in lines.iter().skip(fence.line) {
            if line.trim_start().starts_with("```") {
                break;
            }
            if let Some(cmd) = line.strip_prefix("$ ") {
                // A trailing comment, as in `cargo test -p lab-01   # check chapter 1`.
                let cmd = match cmd.find(" #") {
                    Some(at) => &cmd[..at],
                    None => cmd,
                };
                found.push(cmd.trim().to_string());
            }
        }
    }
    found
}

/// Every demo of every written chapter, in book order, without repeats per page.
pub fn demos(root: &Path) -> Vec<Demo> {
    let mut all: Vec<Demo> = Vec::new();
    for chapter in written_chapters(root) {
        if read(root, &chapter.path).is_err() {
            continue;
        }
        let page = rel(root, &chapter.path);
        for shown in shown_commands(&expanded(&chapter.path)) {
            let Some(command) = parse_command(&shown) else {
                continue;
            };
            if all.iter().any(|d| d.page == page && d.shown == shown) {
                continue;
            }
            all.push(Demo {
                page: page.clone(),
                shown,
                command,
            });
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &DemoCommand) -> Vec<&str> {
        cmd.args.iter().map(String::as_str).collect()
    }

    #[test]
    fn built_binaries_and_cargo_run_are_demos() {
        let c = parse_command("./target/debug/zombie --die-by QUIT < /dev/null").unwrap();
        assert_eq!(c.bin(), "zombie");
        assert!(!c.release());
        assert!(c.stdin_null);
        assert_eq!(args(&c), ["--die-by", "QUIT"]);

        let c = parse_command("cargo run -q -p lab-01 --bin exit-paths -- --how panic").unwrap();
        assert_eq!(
            c.program,
            Program::CargoRun {
                release: false,
                package: "lab-01".into(),
                bin: "exit-paths".into()
            }
        );
        assert_eq!(args(&c), ["--how", "panic"]);
        assert!(
            parse_command("cargo run --release -p lab-05 --bin throughput")
                .unwrap()
                .release()
        );
    }

    #[test]
    fn a_prepared_environment_is_part_of_the_demo() {
        let c = parse_command(
            "env -i -C / GREETING=hello \"$PWD/target/debug/card\" --env GREETING < /dev/null 2>&1 | cat",
        )
        .unwrap();
        assert_eq!(c.bin(), "card");
        assert!(c.clear_env && c.stdin_null && c.merge_stderr && c.absolute);
        assert_eq!(c.cwd.as_deref(), Some("/"));
        assert_eq!(c.env, [("GREETING".to_string(), "hello".to_string())]);
        assert_eq!(args(&c), ["--env", "GREETING"]);
    }

    #[test]
    fn quoted_arguments_stay_one_word_and_are_never_run_by_a_shell() {
        let c =
            parse_command("./target/debug/exec-shell 'echo out; echo err >&2; exit 3'").unwrap();
        assert_eq!(args(&c), ["echo out; echo err >&2; exit 3"]);
    }

    #[test]
    fn anything_a_shell_would_interpret_is_not_a_demo() {
        for line in [
            "./target/debug/exec-keeps < /dev/null 2> /dev/null | cat",
            "./target/debug/group --escape &",
            "./target/debug/card; rm -rf /",
            "./target/debug/card $(id)",
            "./target/debug/card `id`",
            "./target/debug/card > /tmp/x",
            "./target/debug/card \"$HOME\"",
            "./target/debug/../../bin/sh",
            "./target/debug/Card",
            "cargo run -p lab-01 --bin card --features x",
            "cargo run -p serde --bin card",
            "cargo test -p lab-01",
            "TITLE=x ./target/debug/card",
            "env -u HOME ./target/debug/card",
            "env -i \"$HOME/target/debug/card\"",
            "env -i \"$PWD/bin/sh\"",
            "./target/debug/card 2>&1 | less",
            "/tmp/worker-cafetería",
            "./target/debug/card 'unterminated",
            "./target/debug/card *",
        ] {
            assert_eq!(parse_command(line), None, "{line}");
        }
    }

    #[test]
    fn commands_come_from_console_and_text_blocks_with_comments_cut() {
        let text = "intro\n```console\n$ cargo run -p lab-01 --bin card   # a demo\n```\n\
                    ```rust\n$ not a command\n```\n```text\n$ ./target/debug/cow\nout\n```\n";
        assert_eq!(
            shown_commands(text),
            ["cargo run -p lab-01 --bin card", "./target/debug/cow"]
        );
    }
}
