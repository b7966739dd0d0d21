//! Tests that need another language's toolchain (`node`, `javac`, `java`).
//!
//! The book compares Rust with Node.js (and once with Java), and those comparisons are
//! claims that tests check. On a reader's machine without `node` the check is skipped with
//! a message; in CI (where `CI` is set) or under the grader (`LABKIT_STRICT_TOOLS=1`) a
//! missing tool is a failure, so a comparison can never pass by not running.

use std::process::{Command, Stdio};

/// Whether `tool` runs here (`tool --version` succeeds). When it does not: panics if the
/// `CI` or `LABKIT_STRICT_TOOLS` environment variable is set, otherwise prints why the
/// test is skipped on stderr and returns `false`.
///
/// ```no_run
/// if !labkit::require_tool("node") {
///     return; // skipped on a machine without Node.js
/// }
/// ```
pub fn require_tool(tool: &str) -> bool {
    if tool_runs(tool) {
        return true;
    }
    if strict(|var| std::env::var_os(var)) {
        panic!(
            "`{tool}` is not on PATH, and CI (or LABKIT_STRICT_TOOLS) is set: this test \
             checks the book's comparison with {tool} and must not be skipped"
        );
    }
    eprintln!("skipped: `{tool}` is not on PATH, so this comparison was not checked");
    false
}

/// Whether a missing tool is a failure: `CI` or `LABKIT_STRICT_TOOLS` set to anything but
/// empty, `0` or `false`.
fn strict(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    ["CI", "LABKIT_STRICT_TOOLS"]
        .iter()
        .any(|var| get(var).is_some_and(|v| !v.is_empty() && v != "0" && v != "false"))
}

/// Whether `tool --version` runs and succeeds here.
pub fn tool_runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_tool_is_found() {
        assert!(tool_runs("cargo"));
        assert!(require_tool("cargo"));
    }

    #[test]
    fn ci_or_the_grader_makes_a_missing_tool_fatal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert!(strict(env(&[("CI", "true")])));
        assert!(strict(env(&[("LABKIT_STRICT_TOOLS", "1")])));
        assert!(!strict(env(&[])));
        assert!(!strict(env(&[
            ("CI", "false"),
            ("LABKIT_STRICT_TOOLS", "0")
        ])));
        assert!(!strict(env(&[("CI", "")])));
    }

    #[test]
    fn a_missing_tool_is_not_found() {
        assert!(!tool_runs("labkit-no-such-tool"));
    }
}
