//! Chapter 11: the `thread-table` experiment, Node beside tokio in one run. The counts are
//! not timings, so the test runs it in a debug build and checks every cell.

use labkit::experiment::check_report;
use labkit::{Redactor, demo, require_tool, run};

const EXE: &str = env!("CARGO_BIN_EXE_thread-table");

#[test]
fn the_table_shows_what_each_phase_adds_in_node_and_in_tokio() {
    if !require_tool("node") {
        return;
    }
    // An inherited UV_THREADPOOL_SIZE must not change Node's column: the table removes it.
    let done = run(demo(EXE)
        .args(["--runs", "1"])
        .env("UV_THREADPOOL_SIZE", "8"))
    .unwrap();
    assert!(done.status.success(), "{}", done.transcript("thread-table"));
    let cell = |label: &str| -> (String, String) {
        let line = done
            .stdout_lines()
            .into_iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label:?}\n{}", done.stdout));
        let mut cells = line[label.len()..].split_whitespace().map(String::from);
        (cells.next().unwrap(), cells.next().unwrap())
    };
    for (label, node, tokio) in [
        ("idle", "+0", "+0"),
        ("read a file ", "+4", "+1"),
        ("read a file, pool of 64", "+64", "+1"),
        ("8 pool jobs at once", "+4", "+8"),
        ("8 jobs, pool capped at 4", "-", "+4"),
        ("TCP echo via 127.0.0.1", "+0", "+0"),
        ("TCP echo via localhost", "+4", "+1"),
        ("look up localhost", "+4", "+1"),
        ("dns.resolve (c-ares)", "+0", "-"),
        ("fs.watch (inotify)", "+0", "-"),
        ("fs.watchFile (polling)", "+4", "-"),
        ("crypto.pbkdf2", "+4", "-"),
        ("zlib.gzip", "+4", "-"),
        ("a 10 ms timer", "+0", "+0"),
        ("write to stdout (a pipe)", "+0", "+1"),
        ("read a file, then idle", "+4", "+0"),
    ] {
        assert_eq!(cell(label), (node.into(), tokio.into()), "{label}");
    }
    // The page shows the table; what varies by machine and Node version is redacted. The
    // machine line also says "build: debug": the test runs the debug build, as shown.
    let _guard = Redactor::new()
        .pattern(r"(?m)^machine: .*$", "[MACHINE]")
        .pattern(
            r"threads at start: node \d+",
            "threads at start: node [START]",
        )
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "thread_table",
        done.transcript("./target/debug/thread-table --runs 1")
    );
}

#[test]
fn json_output_follows_the_common_format() {
    // Without node on PATH: the tokio column alone (the table test checks Node's).
    let done = run(demo(EXE)
        .args(["--runs", "1", "--json"])
        .env("PATH", "/nonexistent"))
    .unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("thread-table --json")
    );
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "thread-table");
    let rows = doc["rows"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}\n{}", done.stdout))
    };
    let jobs = row("tokio 8 pool jobs at once");
    assert_eq!(
        (jobs["median"].as_f64(), jobs["runs"].as_u64()),
        (Some(8.0), Some(1))
    );
    assert_eq!(row("tokio idle")["threads_at_start"], 3.0);
    assert_eq!(row("tokio 8 jobs, pool capped at 4")["median"], 4.0);
    assert!(
        !rows
            .iter()
            .any(|r| r["name"].as_str().unwrap().starts_with("node ")),
        "{}",
        done.stdout
    );
    assert_eq!(doc["node"], serde_json::Value::Null);
}

#[test]
fn bad_runs_is_refused() {
    let done = run(demo(EXE).args(["--runs", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(done.stderr.contains("--runs"), "{}", done.stderr);
}
