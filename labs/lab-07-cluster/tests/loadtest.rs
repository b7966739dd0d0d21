//! Chapter 7: the `loadtest` experiment. Its figures are measured with --release (see the
//! chapter), never asserted; this test checks the report it prints with --json, on two
//! rows and our own client, so that it runs in a few seconds.

use labkit::experiment::check_report;
use labkit::{demo, run};
use serde_json::Value;

#[test]
fn json_output_follows_the_common_format() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_loadtest"));
    cmd.args([
        "--seconds",
        "1",
        "--warmup",
        "0",
        "--runs",
        "1",
        "--connections",
        "4",
        "--no-wrk",
        "--only",
        "rr keep-alive",
        "--json",
    ]);
    let done = run(&mut cmd).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("loadtest --json")
    );
    let doc: Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "cluster-load");
    let names: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let node = labkit::require_tool("node");
    let expected: &[&str] = if node {
        &["rust rr keep-alive", "node rr keep-alive"]
    } else {
        &["rust rr keep-alive"]
    };
    assert_eq!(names, expected);
    let rust = &doc["rows"][0];
    for field in ["p50_ms", "p99_ms", "cpu_us_per_req", "share_busiest"] {
        assert!(
            rust[field].as_f64().is_some_and(|v| v >= 0.0),
            "{field}: {rust}"
        );
    }
    // Every request was served by one of the 2 workers: the busiest did at least half.
    assert!(rust["share_busiest"].as_f64().unwrap() >= 0.5);
    // Each worker's share, largest first, adding up to all of them.
    let shares: Vec<f64> = rust["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    assert_eq!(shares.len(), 2, "{rust}");
    assert!(shares[0] >= shares[1], "{shares:?}");
    assert!(
        (shares.iter().sum::<f64>() - 1.0).abs() < 1e-9,
        "{shares:?}"
    );
    if node {
        assert_eq!(
            doc["goals"].as_array().unwrap().len(),
            4,
            "{:#}",
            doc["goals"]
        );
    }
}

#[test]
fn a_filter_that_matches_no_row_is_an_error() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_loadtest"));
    cmd.args(["--only", "nothing like this"]);
    let done = run(&mut cmd).unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(
        done.stderr,
        "loadtest: no row's name contains \"nothing like this\"\n"
    );
}
