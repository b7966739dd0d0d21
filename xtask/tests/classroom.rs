//! The classroom tools on small fixture workspaces: one lab with one function to write,
//! built with the real `cargo` in a temporary directory.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const LAB_LIB: &str = r#"
pub fn double(x: u32) -> u32 {
    // EXERCISE: return twice `x`.
    // BEGIN SOLUTION
    x.wrapping_mul(2)
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    #[test]
    fn doubles() {
        assert_eq!(super::double(21), 42);
    }
}
"#;

/// A workspace with one lab, `labs/lab-01-demo` (package `lab-01`), with `lib` as its
/// library source.
fn workspace(lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"labs/lab-01-demo\"]\n",
    );
    write(
        "labs/lab-01-demo/Cargo.toml",
        "[package]\nname = \"lab-01\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write("labs/lab-01-demo/src/lib.rs", lib);
    write("README.md", "Run `cargo test --workspace`.\n");
    dir
}

fn xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The 1-based line of the `n`th (0-based) `BEGIN SOLUTION` marker.
fn begin_line(source: &str, n: usize) -> usize {
    let mut begins = source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "// BEGIN SOLUTION");
    begins.nth(n).unwrap().0 + 1
}

#[test]
fn the_student_edition_has_stubs_and_no_solution() {
    let ws = workspace(LAB_LIB);
    let out = ws.path().join("edition");
    let run = xtask(ws.path(), &["exercises", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report = text(&run.stdout);
    assert!(
        report.contains("01.1  labs/lab-01-demo/src/lib.rs:4  return twice `x`."),
        "{report}"
    );
    let lib = fs::read_to_string(out.join("labs/lab-01-demo/src/lib.rs")).unwrap();
    assert!(
        lib.contains(
            "    // EXERCISE: return twice `x`.\n    todo!(\"exercise 01.1: return twice `x`.\")\n}"
        ),
        "{lib}"
    );
    for file in ["Cargo.toml", "README.md", "labs/lab-01-demo/Cargo.toml"] {
        assert!(out.join(file).is_file(), "{file} was not copied");
    }
    // No solution text anywhere in the edition.
    let mut stack = vec![out.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                let content = fs::read_to_string(entry.path()).unwrap_or_default();
                assert!(
                    !content.contains("wrapping_mul"),
                    "{:?} leaks the solution",
                    entry.path()
                );
            }
        }
    }
    // A second run refuses to write into the now non-empty directory.
    let again = xtask(ws.path(), &["exercises", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("it is not empty"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn malformed_markers_are_reported_with_file_and_line() {
    let broken = LAB_LIB.replace("    // END SOLUTION\n", "");
    let ws = workspace(&broken);
    let run = xtask(ws.path(), &["check"]);
    assert!(!run.status.success());
    assert_eq!(
        text(&run.stderr).trim(),
        "xtask: labs/lab-01-demo/src/lib.rs:4: BEGIN SOLUTION without an END SOLUTION"
    );
}

#[test]
fn check_passes_when_every_region_is_tested_and_names_one_that_is_not() {
    let ws = workspace(LAB_LIB);
    let run = xtask(ws.path(), &["check"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("1 exercise region(s) in 1 lab(s)"),
        "{}",
        text(&run.stdout)
    );

    // A second exercise that no test calls: the check must fail and say where it is.
    let untested = format!(
        "{LAB_LIB}\npub fn triple(x: u32) -> u32 {{\n    // EXERCISE: return three times `x`.\n    // BEGIN SOLUTION\n    x * 3\n    // END SOLUTION\n}}\n"
    );
    let ws = workspace(&untested);
    let run = xtask(ws.path(), &["check"]);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    let place = format!("labs/lab-01-demo/src/lib.rs:{}", begin_line(&untested, 1));
    assert!(
        stderr.contains(&format!("{place}: exercise 01.2 is not graded")),
        "{stderr}"
    );
}

#[test]
fn grade_scores_a_deadlocked_lab_zero_instead_of_hanging() {
    // This "solution" deadlocks: it waits for a message nobody sends.
    let deadlock = LAB_LIB.replace(
        "    x.wrapping_mul(2)\n",
        "    let (_tx, rx) = std::sync::mpsc::channel::<u32>();\n    rx.recv().unwrap() + x\n",
    );
    let ws = workspace(&deadlock);
    let run = xtask(ws.path(), &["grade", "--timeout", "3", "--json"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&run.stdout)).unwrap();
    assert_eq!(
        report["labs"][0]["status"], "timed out after 3s",
        "{report}"
    );
    assert_eq!(report["labs"][0]["score"], 0.0);

    // With the real solution: full marks.
    let ws = workspace(LAB_LIB);
    let run = xtask(ws.path(), &["grade"]);
    let table = text(&run.stdout);
    assert!(
        table.contains("lab-01        1       1       0    100%  ok"),
        "{table}"
    );
}
