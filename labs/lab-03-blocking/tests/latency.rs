//! Chapter 3: the `latency` experiment. Its figures are measured with --release (see the
//! chapter), never asserted; this test checks the report it prints with --json.

use labkit::experiment::check_report;
use labkit::{demo, run};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_latency");

#[test]
fn json_output_follows_the_common_format() {
    let done = run(demo(EXE).args([
        "--compute-ms",
        "300",
        "--requests",
        "3",
        "--calibrate-n",
        "100000",
        "--json",
    ]))
    .unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("latency --json")
    );
    let doc: Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "latency");

    let node = labkit::require_tool("node");
    let mut servers = vec![
        "rust blocking",
        "rust spawn-blocking",
        "rust pool",
        "rust process",
    ];
    if node {
        servers.extend(["node inline", "node fork", "node worker"]);
    }
    let expected: Vec<String> = servers
        .iter()
        .flat_map(|s| {
            [
                format!("{s}, /compute?n=1"),
                format!("{s}, / idle"),
                format!("{s}, / during compute"),
            ]
        })
        .collect();
    let rows = doc["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, expected);
    for row in rows {
        assert_eq!(row["unit"], "ms", "{row}");
        let during = row["name"].as_str().unwrap().ends_with("during compute");
        assert_eq!(row["remaining_median_ms"].is_number(), during, "{row}");
        if during {
            let late = row["late"].as_u64().unwrap();
            assert_eq!(row["runs"].as_u64().unwrap() + late, 3, "{row}");
        } else {
            assert_eq!(row["runs"], 3, "{row}");
        }
    }
    let goals = doc["goals"].as_array().unwrap();
    assert_eq!(goals.len(), servers.len() + usize::from(!node), "{goals:?}");
    for goal in goals.iter().filter(|g| g.get("ratio").is_some()) {
        let ratio = goal["ratio"].as_f64().unwrap();
        assert!(ratio > 0.0, "{goal}");
        assert!(goal["met"].is_boolean(), "{goal}");
    }
}

#[test]
fn bad_arguments_get_one_line() {
    let done = run(demo(EXE).args(["--requests", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(
        done.stderr,
        "latency: --requests, --compute-ms and --calibrate-n must be at least 1\n"
    );
}
