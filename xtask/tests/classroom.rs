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
    workspace_of(&[("01", lib)])
}

/// A workspace with one lab per `(NN, lib)`: `labs/lab-NN-demo`, package `lab-NN`.
fn workspace_of(labs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    let members: Vec<String> = labs
        .iter()
        .map(|(n, _)| format!("\"labs/lab-{n}-demo\""))
        .collect();
    write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    );
    for (n, lib) in labs {
        write(
            &format!("labs/lab-{n}-demo/Cargo.toml"),
            &format!("[package]\nname = \"lab-{n}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        );
        write(&format!("labs/lab-{n}-demo/src/lib.rs"), lib);
    }
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

const MAP: &str = "xtask/exercise-map.json";

/// LAB_LIB with 3 points on its exercise and a test that does not depend on it.
fn lab_with_points() -> String {
    LAB_LIB
        .replace("// EXERCISE: return", "// EXERCISE: (3 points) return")
        .replace(
            "    #[test]\n    fn doubles",
            "    #[test]\n    fn adds() {\n        assert_eq!(1 + 1, 2);\n    }\n\n    #[test]\n    fn doubles",
        )
}

#[test]
fn check_writes_the_exercise_map_and_fails_on_a_stale_one() {
    let lib = lab_with_points();
    let ws = workspace(&lib);
    let run = xtask(ws.path(), &["check", "--write-map"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("1 exercise region(s) in 1 lab(s)")
            && text(&run.stdout).contains(&format!("wrote {MAP}")),
        "{}",
        text(&run.stdout)
    );
    let written = fs::read_to_string(ws.path().join(MAP)).unwrap();
    let map: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        map,
        serde_json::json!({"exercises": [{
            "id": "01.1",
            "lab": "lab-01",
            "file": "labs/lab-01-demo/src/lib.rs",
            "line": begin_line(&lib, 0),
            "task": "return twice `x`.",
            "points": 3,
            "tests": ["src/lib.rs::tests::doubles"],
        }]})
    );

    // The map matches: the check passes and leaves it as it was.
    let run = xtask(ws.path(), &["check"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains(&format!("{MAP} is up to date")),
        "{}",
        text(&run.stdout)
    );
    assert_eq!(fs::read_to_string(ws.path().join(MAP)).unwrap(), written);

    // The student edition carries the map, and its stub does not repeat the points.
    let out = ws.path().join("edition");
    let run = xtask(ws.path(), &["exercises", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(fs::read_to_string(out.join(MAP)).unwrap(), written);
    let stub = fs::read_to_string(out.join("labs/lab-01-demo/src/lib.rs")).unwrap();
    assert!(
        stub.contains(
            "    // EXERCISE: (3 points) return twice `x`.\n    todo!(\"exercise 01.1: return twice `x`.\")\n"
        ),
        "{stub}"
    );
    fs::remove_dir_all(&out).unwrap();

    // A new test of the exercise makes the committed map stale: the check names the change.
    let more = lib.replace(
        "        assert_eq!(super::double(21), 42);\n    }\n",
        "        assert_eq!(super::double(21), 42);\n    }\n\n    #[test]\n    fn doubles_one() {\n        assert_eq!(super::double(1), 2);\n    }\n",
    );
    fs::write(ws.path().join("labs/lab-01-demo/src/lib.rs"), &more).unwrap();
    let run = xtask(ws.path(), &["check"]);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(&format!("{MAP} is out of date"))
            && stderr.contains("exercise 01.1: now also fails src/lib.rs::tests::doubles_one"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(ws.path().join(MAP)).unwrap(), written);
}

#[test]
fn check_names_a_region_no_test_notices() {
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

/// A map entry as `check` writes it.
fn map_entry(id: &str, points: u32, tests: &[&str]) -> serde_json::Value {
    let n = &id[..2];
    serde_json::json!({
        "id": id, "lab": format!("lab-{n}"), "file": format!("labs/lab-{n}-demo/src/lib.rs"),
        "line": 4, "task": "a task", "points": points, "tests": tests,
    })
}

#[test]
fn grade_reports_each_exercise_with_its_points() {
    // Lab 01: 01.1 (2 points) solved, 01.2 (1 point) answered wrongly. Lab 02 does not
    // compile. Lab 03's answer deadlocks: it waits for a message nobody sends.
    let lab_01 = format!(
        "{LAB_LIB}\npub fn triple(x: u32) -> u32 {{\n    x * 2\n}}\n\n\
         #[test]\nfn triples() {{\n    assert_eq!(triple(2), 6);\n}}\n\n\
         #[test]\nfn triples_zero() {{\n    assert_eq!(triple(0), 0);\n}}\n"
    );
    let lab_02 = LAB_LIB.replace("    x.wrapping_mul(2)\n", "    x + \"2\"\n");
    let lab_03 = LAB_LIB.replace(
        "    x.wrapping_mul(2)\n",
        "    let (_tx, rx) = std::sync::mpsc::channel::<u32>();\n    rx.recv().unwrap() + x\n",
    );
    let ws = workspace_of(&[("01", &lab_01), ("02", &lab_02), ("03", &lab_03)]);
    let map = serde_json::json!({"exercises": [
        map_entry("01.1", 2, &["src/lib.rs::tests::doubles"]),
        map_entry("01.2", 1, &["src/lib.rs::triples", "src/lib.rs::triples_zero"]),
        map_entry("02.1", 1, &["src/lib.rs::tests::doubles"]),
        map_entry("03.1", 4, &["src/lib.rs::tests::doubles"]),
    ]});
    fs::create_dir_all(ws.path().join("xtask")).unwrap();
    fs::write(ws.path().join(MAP), map.to_string()).unwrap();

    let run = xtask(ws.path(), &["grade", "--timeout", "8", "--json"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&run.stdout)).unwrap();
    let exercise = |lab: usize, k: usize| {
        let e = &report["labs"][lab]["exercises"][k];
        (
            e["id"].as_str().unwrap().to_string(),
            e["status"].as_str().unwrap().to_string(),
            e["points_solved"].as_u64().unwrap(),
            e["points"].as_u64().unwrap(),
            e["failing"].clone(),
        )
    };
    let none = serde_json::json!([]);
    assert_eq!(
        exercise(0, 0),
        ("01.1".into(), "solved".into(), 2, 2, none.clone())
    );
    assert_eq!(
        exercise(0, 1),
        (
            "01.2".into(),
            "not solved".into(),
            0,
            1,
            serde_json::json!(["src/lib.rs::triples"])
        )
    );
    assert_eq!(
        exercise(1, 0),
        ("02.1".into(), "does not compile".into(), 0, 1, none.clone())
    );
    assert_eq!(
        exercise(2, 0),
        ("03.1".into(), "timed out".into(), 0, 4, none)
    );
    let lab = |i: usize, key: &str| report["labs"][i][key].clone();
    assert_eq!(lab(0, "status"), "1 failing", "{report}");
    assert_eq!(lab(1, "status"), "does not compile", "{report}");
    assert_eq!(lab(2, "status"), "timed out after 8s", "{report}");
    let scores: Vec<f64> = (0..3).map(|i| lab(i, "score").as_f64().unwrap()).collect();
    assert_eq!(scores, [200.0 / 3.0, 0.0, 0.0]);
    assert_eq!(report["total"]["points_solved"], 2);
    assert_eq!(report["total"]["points_possible"], 8);
    assert_eq!(report["total"]["score"], 25.0);
}

#[test]
fn grade_gives_the_reference_full_marks_and_the_student_edition_none() {
    let ws = workspace(&lab_with_points());
    fs::create_dir_all(ws.path().join("xtask")).unwrap();
    let map =
        serde_json::json!({"exercises": [map_entry("01.1", 3, &["src/lib.rs::tests::doubles"])]});
    fs::write(ws.path().join(MAP), map.to_string()).unwrap();
    let run = xtask(ws.path(), &["grade"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let table = text(&run.stdout);
    assert!(
        table.contains(
            "lab-01       3/3   100%      2/2  ok\n  01.1       3/3                  solved\n"
        ),
        "{table}"
    );

    let out = ws.path().join("edition");
    let run = xtask(ws.path(), &["exercises", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let run = xtask(&out, &["grade"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let table = text(&run.stdout);
    assert!(
        table.contains("lab-01       0/3     0%      1/2  1 failing\n  01.1       0/3                  not solved: src/lib.rs::tests::doubles\n"),
        "{table}"
    );
    assert!(
        table.contains("total        0/3     0%      1/2\n"),
        "{table}"
    );
}

const SNAPSHOT: &str = "labs/lab-01-demo/tests/snapshots/answer.snap";
const SNAPSHOT_TEXT: &str = "---\nsource: labs/lab-01-demo/tests/answer.rs\n---\n42\nforty-two\n";

/// A lab whose test `answer` reads its snapshot when it runs (as insta does) and runs
/// `check(body_lines)` on the body.
fn workspace_with_snapshot(check: &str) -> tempfile::TempDir {
    let ws = workspace("pub fn answer() -> u32 {\n    42\n}\n");
    let write = |path: &str, text: &str| {
        let path = ws.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(SNAPSHOT, SNAPSHOT_TEXT);
    write(
        "labs/lab-01-demo/tests/answer.rs",
        &format!(
            "#[test]\nfn answer() {{\n    // reads the snapshot \"answer\" (so only this test runs for it)\n    \
             let dir = env!(\"CARGO_MANIFEST_DIR\");\n    \
             let text = std::fs::read_to_string(format!(\"{{dir}}/tests/snapshots/answer.snap\")).unwrap();\n    \
             let body: Vec<&str> = text.lines().skip(3).collect();\n    {check}\n}}\n"
        ),
    );
    // A test binary that does not own the snapshot: it is never run for it.
    write(
        "labs/lab-01-demo/tests/other.rs",
        "#[test]\nfn other() {\n    assert_eq!(lab_01::answer(), 42);\n}\n",
    );
    ws
}

#[test]
fn mutate_snapshots_names_a_line_no_test_checks() {
    // The test compares the first body line only: the second one survives its change.
    let ws = workspace_with_snapshot("assert_eq!(body[0], \"42\");");
    let run = xtask(ws.path(), &["mutate-snapshots", "--lab", "1"]);
    assert!(!run.status.success());
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains("snapshot mutations: 2 lines changed one at a time, 1 caught"),
        "{stdout}"
    );
    assert!(
        text(&run.stderr).contains(&format!(
            "{SNAPSHOT}:5: no test noticed a change of this line"
        )),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(
        fs::read_to_string(ws.path().join(SNAPSHOT)).unwrap(),
        SNAPSHOT_TEXT
    );

    // Both lines compared: every change is caught.
    let ws = workspace_with_snapshot("assert_eq!(body, [\"42\", \"forty-two\"]);");
    let run = xtask(ws.path(), &["mutate-snapshots"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("2 lines changed one at a time, 2 caught"),
        "{}",
        text(&run.stdout)
    );
    assert_eq!(
        fs::read_to_string(ws.path().join(SNAPSHOT)).unwrap(),
        SNAPSHOT_TEXT
    );
}

#[test]
fn mutate_snapshots_refuses_a_test_that_fails_unchanged() {
    let ws = workspace_with_snapshot("assert_eq!(body[0], \"43\");");
    let run = xtask(ws.path(), &["mutate-snapshots"]);
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("lab-01: answer-")
            && text(&run.stderr).contains("fails before any change"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn mutate_snapshots_restores_the_snapshot_on_ctrl_c() {
    use nix::sys::signal::Signal;
    use std::os::unix::process::ExitStatusExt;
    // A changed snapshot makes this test hang (as a deadlocked test would), after it wrote
    // its pid where we can read it.
    let ws = workspace_with_snapshot(
        "if body[0] != \"42\" {\n        \
         std::fs::write(format!(\"{dir}/pid.tmp\"), std::process::id().to_string()).unwrap();\n        \
         std::fs::rename(format!(\"{dir}/pid.tmp\"), format!(\"{dir}/pid\")).unwrap();\n        \
         loop { std::thread::park(); }\n    }",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["mutate-snapshots", "--timeout", "600"])
        .current_dir(ws.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut xtask = labkit::ChildGuard::spawn(&mut cmd).unwrap();
    let pid_file = ws.path().join("labs/lab-01-demo/pid");
    // The first build of the fixture takes a while: wait generously.
    let hung: u32 = labkit::eventually(std::time::Duration::from_secs(300), || {
        fs::read_to_string(&pid_file)
            .map_err(|e| e.to_string())
            .and_then(|s| s.parse().map_err(|e| format!("{e}")))
    })
    .unwrap();
    assert!(
        fs::read_to_string(ws.path().join(SNAPSHOT))
            .unwrap()
            .contains("MUTATED 42")
    );
    xtask.signal(Signal::SIGINT).unwrap();
    let status = xtask.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        fs::read_to_string(ws.path().join(SNAPSHOT)).unwrap(),
        SNAPSHOT_TEXT
    );
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        if labkit::proc::is_alive(hung) {
            Err(format!("the hung test {hung} is still running"))
        } else {
            Ok(())
        }
    })
    .unwrap();
    assert!(status.signal().is_none());
}

#[test]
fn grade_counts_a_skipped_comparison_as_failing() {
    // What labkit::require_tool does where a tool is missing: skip, unless the strict
    // variable is set. The grader sets it, so this test fails instead of passing.
    let lib = format!(
        "{LAB_LIB}\n#[test]\nfn compares_with_node() {{\n    \
         if std::env::var_os(\"LABKIT_STRICT_TOOLS\").is_none() {{\n        return;\n    }}\n    \
         panic!(\"`node` is not on PATH\");\n}}\n"
    );
    let ws = workspace(&lib);
    let run = xtask(ws.path(), &["grade", "--json"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    // Without an exercise map the lab is scored by its tests, and the grader says so.
    assert!(
        text(&run.stderr).contains("no exercise map"),
        "{}",
        text(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text(&run.stdout)).unwrap();
    assert_eq!(report["labs"][0]["status"], "1 failing", "{report}");
    assert_eq!(report["labs"][0]["passed"], 1, "{report}");
    assert_eq!(report["labs"][0]["graded_by"], "tests", "{report}");
    assert_eq!(report["labs"][0]["score"], 50.0, "{report}");
}

#[test]
fn code_that_only_resembles_a_solution_line_is_not_a_leak() {
    // `x.wrapping_mul(2)` is a solution line; a longer line containing it is other code.
    let ws = workspace(&format!(
        "{LAB_LIB}\npub fn quadruple(x: u32) -> u32 {{\n    2 * x.wrapping_mul(2)\n}}\n"
    ));
    let out = ws.path().join("edition");
    let run = xtask(ws.path(), &["exercises", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let lib = fs::read_to_string(out.join("labs/lab-01-demo/src/lib.rs")).unwrap();
    assert!(lib.contains("    2 * x.wrapping_mul(2)\n"), "{lib}");
    assert!(!lib.contains("    x.wrapping_mul(2)\n"), "{lib}");
}
