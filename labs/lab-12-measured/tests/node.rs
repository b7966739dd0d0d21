//! Chapter 12: the Node.js programs the `compare` experiment runs (`node/fork-cost.js`,
//! `node/worker-cost.js`) start their children or workers, get the first message, and
//! print one positive mean time (snapshotted with the figure redacted, for the page); bad
//! input is refused with one line and code 2.

use labkit::{Redactor, demo, require_tool, run};

fn script(name: &str) -> String {
    format!("{}/node/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Run `node/NAME COUNT` as the book shows it (from the repository root), check that it
/// printed one positive mean, and snapshot its transcript with the mean redacted: the
/// output's shape, one number of microseconds and nothing else.
fn mean_us(name: &str, count: &str, snapshot: &str) -> f64 {
    let mut cmd = demo("node");
    cmd.arg(script(name)).arg(count);
    let finished = run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{}", finished.stderr);
    let out = finished.stdout.trim().to_string();
    let mean = out
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("{name}: not a number: {out:?}"));
    let text = finished.transcript(&format!("node labs/lab-12-measured/node/{name} {count}"));
    let _g = Redactor::plain_settings().bind_to_scope();
    let redacted = Redactor::new()
        .pattern(r"(?m)^\d+\.\d$", "[MEAN_US]")
        .apply(&text);
    insta::assert_snapshot!(snapshot, redacted);
    mean
}

#[test]
fn node_fork_and_worker_report_a_time_to_first_message() {
    if !require_tool("node") {
        return;
    }
    assert!(mean_us("fork-cost.js", "2", "node_fork_cost") > 0.0);
    assert!(mean_us("worker-cost.js", "2", "node_worker_cost") > 0.0);
}

#[test]
fn node_scripts_refuse_a_bad_count() {
    if !require_tool("node") {
        return;
    }
    for name in ["fork-cost.js", "worker-cost.js"] {
        let mut cmd = demo("node");
        cmd.arg(script(name)).arg("zero");
        let finished = run(&mut cmd).unwrap();
        assert_eq!(finished.status.code(), Some(2), "{name}");
        assert_eq!(
            finished.stderr.lines().count(),
            1,
            "{name}: {}",
            finished.stderr
        );
    }
}
