//! Chapter 5: the `throughput` experiment. Its rates are measured with --release (see the
//! chapter), never asserted; this test checks the report it prints with --json. (Its
//! refusal of sizes out of range is checked in channel.rs.)

use labkit::experiment::check_report;
use labkit::{demo, run};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_throughput");

#[test]
fn json_output_follows_the_common_format() {
    let done = run(demo(EXE).args([
        "--messages",
        "20",
        "--batch",
        "5",
        "--roundtrips",
        "5",
        "--bulk-mib",
        "1",
        "--runs",
        "2",
        "--json",
    ]))
    .unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("throughput --json")
    );
    let doc: Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "throughput");
    assert!(doc["method"].as_str().unwrap().contains("interleaved"));

    let node = labkit::require_tool("node");
    let rows = doc["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let mut expected = vec![
        "rust json-lines one write per message",
        "rust json-lines batched",
        "rust length-prefixed one write per message",
        "node process.send",
        "node process.send, parent's send loop only",
        "rust json-lines round trip",
        "node process.send round trip",
        "raw pipe copy loop",
        "raw socketpair copy loop",
        "rust length-prefixed bulk, 1 MiB frames",
        "rust json-lines decode only, one thread",
    ];
    if !node {
        expected.retain(|name| !name.starts_with("node"));
    }
    assert_eq!(names, expected);
    for row in rows {
        assert_eq!(row["runs"], 2, "{row}");
        let name = row["name"].as_str().unwrap();
        let unit = if name.ends_with("round trip") {
            "µs"
        } else if name.contains("bulk") || name.contains("copy loop") {
            "MB/s"
        } else {
            "msg/s"
        };
        assert_eq!(row["unit"], unit, "{row}");
    }

    // The goals: a ratio of two medians each, or why there is none.
    let goals = doc["goals"].as_array().unwrap();
    assert_eq!(goals.len(), 3, "{goals:?}");
    for goal in goals {
        assert!(
            goal["goal"].is_string() && goal["needed"].is_number(),
            "{goal}"
        );
        let needs_node = goal["goal"].as_str().unwrap().contains("node");
        if needs_node && !node {
            assert_eq!(
                goal["skipped"], "skipped (node not found on PATH)",
                "{goal}"
            );
        } else {
            let (ratio, needed) = (goal["ratio"].as_f64(), goal["needed"].as_f64());
            assert!(ratio.is_some_and(|r| r > 0.0), "{goal}");
            assert_eq!(goal["met"], ratio >= needed, "{goal}");
        }
    }
}
