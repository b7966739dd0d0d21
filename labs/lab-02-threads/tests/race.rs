//! Chapter 2: the `race` experiment. Its timings are measured with --release (see the
//! chapter), never asserted; these tests check what it reports besides time.

mod common;
use common::with_little_memory;
use labkit::experiment::check_report;
use labkit::{demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_race");

#[test]
fn the_table_reports_exact_totals_for_every_correct_counter() {
    let done =
        run(demo(EXE).args(["--threads", "2", "--increments", "500", "--runs", "1"])).unwrap();
    assert!(done.status.success(), "{}", done.transcript("race"));
    for method in [
        "Mutex",
        "AtomicU64::fetch_add",
        "sharded, padded slots",
        "sharded, packed slots",
    ] {
        let row = done
            .stdout_lines()
            .into_iter()
            .find(|l| l.starts_with(method))
            .unwrap_or_default();
        let total = row[method.len()..].split_whitespace().next();
        assert_eq!(total, Some("1000"), "{method}\n{}", done.stdout);
    }
}

#[test]
fn json_output_follows_the_common_format() {
    let done = run(demo(EXE).args([
        "--threads",
        "2",
        "--increments",
        "100",
        "--runs",
        "3",
        "--json",
    ]))
    .unwrap();
    assert!(done.status.success(), "{}", done.transcript("race --json"));
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "race");
    assert!(doc["method"].as_str().unwrap().contains("interleaved"));
    let rows = doc["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names[..5],
        [
            "Mutex",
            "AtomicU64::fetch_add",
            "racy load + store",
            "sharded, padded slots",
            "sharded, packed slots"
        ]
    );
    for row in rows {
        assert_eq!(row["runs"], 3, "{row}");
        assert_eq!(row["unit"], "ms", "{row}");
        let total = row["median_total"].as_u64().unwrap();
        if row["name"] == "racy load + store" || row["name"] == "node view[0]++" {
            assert!((2..=200).contains(&total), "{row}");
        } else {
            assert_eq!(total, 200, "{row}");
        }
    }
}

#[test]
fn bad_input_gets_one_clear_line() {
    for args in [&["--runs", "0"][..], &["--threads", "0"]] {
        let done = run(demo(EXE).args(args)).unwrap();
        assert_eq!(done.status.code(), Some(2));
        assert_eq!(
            done.stderr,
            "race: --runs must be at least 1, --threads 1 to 256\n"
        );
    }
    let done =
        run(demo(EXE).args(["--threads", "256", "--increments", "18446744073709551615"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(done.stderr, "race: --threads x --increments is too large\n");
}

#[test]
fn a_thread_that_cannot_start_is_one_line_not_a_panic() {
    let done = with_little_memory(EXE, "--threads 50 --increments 10 --runs 1");
    assert_eq!(done.status.code(), Some(1), "{}", done.transcript("race"));
    assert_eq!(done.stderr_lines().len(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("race: failed to spawn thread"),
        "{}",
        done.stderr
    );
}

#[test]
fn thread_counts_out_of_range_are_refused() {
    for threads in ["0", "257"] {
        let done = run(demo(EXE).args(["--threads", threads])).unwrap();
        assert_eq!(done.status.code(), Some(2), "{threads}");
        assert_eq!(
            done.stderr, "race: --runs must be at least 1, --threads 1 to 256\n",
            "{threads}"
        );
    }
}
