//! Chapter 4: the `spawn-cost` experiment. Its timings are measured with --release (see
//! the chapter), never asserted; these tests check its output format and bad input.

use labkit::experiment::check_report;
use labkit::{demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_spawn-cost");

#[test]
fn json_output_follows_the_common_format() {
    let done = run(demo(EXE).args(["--spawns", "3", "--rounds", "2", "--json"])).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("spawn-cost --json")
    );
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "spawn-cost");
    assert!(doc["method"].as_str().unwrap().contains("interleaved"));
    let rows = doc["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names[..3],
        [
            "rust Command (posix_spawn)",
            "rust Command + pre_exec (fork+exec)",
            "rust fork+execv+waitpid by hand"
        ]
    );
    if labkit::require_tool("node") {
        assert_eq!(names.get(3), Some(&"node spawn"), "{names:?}");
    }
    for row in rows {
        assert_eq!(row["runs"], 2, "{row}");
        assert_eq!(row["unit"], "us per spawn");
    }
}

#[test]
fn bad_input_gets_one_line() {
    let done = run(demo(EXE).args(["--rounds", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "spawn-cost: invalid value '0' for '--rounds <ROUNDS>': 0 is not in 1..=1000\n"
    );
    // More memory than the machine can give: refused in one line, before any allocation.
    let done = run(demo(EXE).args(["--touch-mib", "65536"])).unwrap();
    assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr
            .starts_with("spawn-cost: --touch-mib 65536: more than half of the "),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}
