//! Redaction for snapshots: replace only what truly varies, keep everything that shows
//! the behaviour.
//!
//! Two kinds of rule, applied in this order:
//!
//! 1. **Named literals** that the test knows, such as "this pid is the child, that pid is
//!    the test". Replacing a known pid by `[CHILD]` rather than by a generic `[PID]`
//!    keeps the relationship in the snapshot: a line `ppid: [TEST]` proves the child's
//!    parent is the test process.
//! 2. **Numbered patterns**, for values that vary but whose sameness matters: every
//!    distinct address gets its own number in order of first appearance, so
//!    `[HEAP-1]` seen by two threads is visibly the *same* address, and `[STACK-2]` a
//!    different one.
//! 3. **The standard set** of patterns, for whatever is left: `pid=123`, `port 4000`,
//!    `1.25ms`, `/tmp/.tmpAbC123`, `pipe:[98765]`.
//!
//! The same rules feed insta (through [`Redactor::settings`]) and plain strings (through
//! [`Redactor::apply`]), so the unit tests below check exactly what the snapshots see.
//! Numbering needs to see the whole text at once, which an insta filter cannot: with
//! numbered rules, redact with [`Redactor::apply`] and bind [`Redactor::plain_settings`].

use regex::Regex;

/// The standard patterns: `(regex, replacement)` pairs, applied after the named literals.
///
/// Conventions the labs' demos follow so that these patterns find their values:
/// `pid=N`, `ppid=N`, `tid=N` (or `pid: N` in aligned tables), `127.0.0.1:PORT`,
/// durations as a number with a unit (`12ms`, `1.5s`, `830µs`).
pub const STANDARD_FILTERS: &[(&str, &str)] = &[
    // Process and thread ids written as `key=N` or `key: N`.
    (r"\bpid(=|:[ \t]*)\d+\b", "pid$1[PID]"),
    (r"\bppid(=|:[ \t]*)\d+\b", "ppid$1[PPID]"),
    (r"\btid(=|:[ \t]*)\d+\b", "tid$1[TID]"),
    (r"\bpgid(=|:[ \t]*)\d+\b", "pgid$1[PGID]"),
    // Loopback ports (127.0.0.1:PORT or [::1]:PORT).
    (r"(127\.0\.0\.1|\[::1\]|localhost):\d+\b", "$1:[PORT]"),
    // Inode numbers the kernel shows for pipes, sockets and anonymous inodes.
    (r"\b(pipe|socket|anon_inode):\[\d+\]", "$1:[INODE]"),
    // Durations: a number followed by a time unit.
    (r"\b\d+(\.\d+)?(ns|us|µs|ms|s)\b", "[DURATION]"),
    // Temporary files and directories made by the tempfile crate.
    (r"/tmp/\.tmp[A-Za-z0-9]+", "[TEMP]"),
];

/// A list of redaction rules: named literals first, then [`STANDARD_FILTERS`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    literals: Vec<(String, String)>,
    numbered: Vec<(String, String)>,
    use_standard: bool,
}

impl Redactor {
    /// An empty redactor with the standard filters switched on.
    pub fn new() -> Self {
        Redactor {
            literals: Vec::new(),
            numbered: Vec::new(),
            use_standard: true,
        }
    }

    /// A redactor with no standard filters: only the literals you add.
    pub fn literals_only() -> Self {
        Redactor::default()
    }

    /// Replace the number `id` (a pid, a tid, an inode) wherever it stands alone, with
    /// `[NAME]`. Added before the standard filters, so a known pid keeps its name.
    ///
    /// Panics on `0`: every standalone `0` in a transcript (an exit code, `127.0.0.1`)
    /// would become `[NAME]`. A pid, pgid or sid reads as 0 when that process lives
    /// outside the reader's pid namespace (a container, `unshare --pid`); redact such a
    /// field by its place in the line with [`Redactor::pattern`] instead.
    pub fn id(mut self, id: impl std::fmt::Display, name: &str) -> Self {
        let id = id.to_string();
        assert!(
            id != "0",
            "Redactor::id(0, \"{name}\"): 0 is too common to redact by value; \
             redact the field by its position with Redactor::pattern"
        );
        let pattern = format!(r"\b{}\b", regex::escape(&id));
        self.literals.push((pattern, format!("[{name}]")));
        self
    }

    /// Replace an exact piece of text (a path, a name) with `[NAME]`.
    pub fn text(mut self, text: &str, name: &str) -> Self {
        self.literals
            .push((regex::escape(text), format!("[{name}]")));
        self
    }

    /// Replace every match of a regex (for a value one test knows varies, such as a
    /// user id) with `replacement`, which may use `$1`-style groups.
    pub fn pattern(mut self, regex: &str, replacement: &str) -> Self {
        self.literals
            .push((regex.to_string(), replacement.to_string()));
        self
    }

    /// Replace each distinct match of `regex` with `[NAME-1]`, `[NAME-2]`, … numbered in
    /// order of first appearance; the same value always gets the same number. Applied
    /// after the named literals and before the standard set; only [`Redactor::apply`]
    /// can number (see the module header).
    pub fn numbered(mut self, regex: &str, name: &str) -> Self {
        self.numbered.push((regex.to_string(), name.to_string()));
        self
    }

    /// All rules as `(regex, replacement)` pairs, in the order they are applied.
    pub fn rules(&self) -> Vec<(String, String)> {
        let mut rules = self.literals.clone();
        if self.use_standard {
            rules.extend(
                STANDARD_FILTERS
                    .iter()
                    .map(|(re, to)| (re.to_string(), to.to_string())),
            );
        }
        rules
    }

    /// Apply the rules to a string: the literals, the numbered patterns, then the
    /// standard set, exactly as the insta settings would (which cannot number).
    pub fn apply(&self, text: &str) -> String {
        let replace = |acc: String, (re, to): &(String, String)| {
            Regex::new(re)
                .expect("redaction patterns are valid regexes")
                .replace_all(&acc, to.as_str())
                .into_owned()
        };
        let text = self.literals.iter().fold(text.to_string(), replace);
        let text = self.numbered.iter().fold(text, |acc, (re, name)| {
            let re = Regex::new(re).expect("redaction patterns are valid regexes");
            let mut seen: Vec<String> = Vec::new();
            re.replace_all(&acc, |caps: &regex::Captures<'_>| {
                let value = caps[0].to_string();
                let n = match seen.iter().position(|v| *v == value) {
                    Some(i) => i + 1,
                    None => {
                        seen.push(value);
                        seen.len()
                    }
                };
                format!("[{name}-{n}]")
            })
            .into_owned()
        });
        if !self.use_standard {
            return text;
        }
        STANDARD_FILTERS
            .iter()
            .map(|(re, to)| (re.to_string(), to.to_string()))
            .collect::<Vec<_>>()
            .iter()
            .fold(text, replace)
    }

    /// insta settings with these rules as filters, the expression omitted from the
    /// snapshot header (the book shows only the body), and snapshots stored in the
    /// calling test crate's `tests/snapshots` folder.
    ///
    /// Use it as `let _guard = redactor.settings().bind_to_scope();`.
    ///
    /// Panics if the redactor has numbered rules: insta filters cannot number, so such a
    /// text must go through [`Redactor::apply`] first.
    pub fn settings(&self) -> insta::Settings {
        assert!(
            self.numbered.is_empty(),
            "numbered rules need Redactor::apply before the snapshot (with plain_settings)"
        );
        let mut settings = Redactor::plain_settings();
        for (re, to) in self.rules() {
            settings.add_filter(&re, to);
        }
        settings
    }

    /// insta settings with no filters, for a text already redacted with
    /// [`Redactor::apply`]: the expression omitted from the header, no module prefix.
    pub fn plain_settings() -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.set_omit_expression(true);
        settings.set_prepend_module_to_snapshot(false);
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_filters_hide_ids_ports_inodes_durations_and_temp_paths() {
        let text = "pid=4242 ppid: 1 tid=77\n\
                    listening on 127.0.0.1:38211\n\
                    stdout -> pipe:[123456], fd 4 -> socket:[99]\n\
                    took 12ms, then 1.5s, then 830µs\n\
                    wrote /tmp/.tmpAbC123/out.txt";
        assert_eq!(
            Redactor::new().apply(text),
            "pid=[PID] ppid: [PPID] tid=[TID]\n\
             listening on 127.0.0.1:[PORT]\n\
             stdout -> pipe:[INODE], fd 4 -> socket:[INODE]\n\
             took [DURATION], then [DURATION], then [DURATION]\n\
             wrote [TEMP]/out.txt"
        );
    }

    #[test]
    fn named_ids_win_over_the_standard_set_and_keep_relationships() {
        let text = "pid=500 ppid=42\nchild 500 exited";
        let redacted = Redactor::new().id(500, "CHILD").id(42, "TEST").apply(text);
        assert_eq!(redacted, "pid=[CHILD] ppid=[TEST]\nchild [CHILD] exited");
    }

    #[test]
    fn ids_are_replaced_only_as_whole_numbers() {
        let redacted = Redactor::literals_only().id(12, "X").apply("12 123 412 12");
        assert_eq!(redacted, "[X] 123 412 [X]");
    }

    #[test]
    #[should_panic(expected = "too common")]
    fn an_id_of_zero_is_refused() {
        // A session led from outside our pid namespace reads as 0.
        Redactor::new().id(0, "SID");
    }

    #[test]
    fn text_literals_are_not_regexes() {
        let redacted = Redactor::literals_only()
            .text("/a/b.c(1)", "EXE")
            .apply("run /a/b.c(1) not /a/bxc(1)");
        assert_eq!(redacted, "run [EXE] not /a/bxc(1)");
    }

    #[test]
    fn patterns_may_use_groups() {
        let redacted = Redactor::literals_only()
            .pattern(r"uid=(\d+)", "uid=[UID]")
            .apply("uid=1000 gid=1000");
        assert_eq!(redacted, "uid=[UID] gid=1000");
    }

    #[test]
    fn numbered_patterns_keep_sameness_visible() {
        let text = "t1 heap 0x5a00 stack 0x7f10\nt2 heap 0x5a00 stack 0x7f20\nt3 stack 0x7f10";
        let redacted = Redactor::new()
            .numbered(r"0x5a[0-9a-f]+", "HEAP")
            .numbered(r"0x7f[0-9a-f]+", "STACK")
            .apply(text);
        assert_eq!(
            redacted,
            "t1 heap [HEAP-1] stack [STACK-1]\nt2 heap [HEAP-1] stack [STACK-2]\nt3 stack [STACK-1]"
        );
    }

    #[test]
    #[should_panic(expected = "numbered rules need Redactor::apply")]
    fn settings_refuse_numbered_rules() {
        let _ = Redactor::new().numbered("x", "X").settings();
    }

    #[test]
    fn plain_text_is_left_alone() {
        let text = "exited with code 101\nthreads: 5";
        assert_eq!(Redactor::new().apply(text), text);
    }

    #[test]
    fn insta_settings_apply_the_same_rules() {
        let redactor = Redactor::new().id(7, "CHILD");
        let _guard = redactor.settings().bind_to_scope();
        insta::assert_snapshot!("redact_settings", "child 7 said pid=7 on 127.0.0.1:80");
    }
}
