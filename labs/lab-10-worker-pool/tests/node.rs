//! Chapter 10: the Node.js programs of the chapter, run with the installed `node`.

use std::process::{Command, Stdio};

use labkit::{Redactor, require_tool, run};

fn node(script: &str, args: &[&str]) -> labkit::run::Finished {
    let mut cmd = Command::new("node");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run(&mut cmd).unwrap()
}

#[test]
fn workers_get_worker_data_and_post_back() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/workers.js", &[]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node workers.js")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_workers",
        done.transcript("node labs/lab-10-worker-pool/node/workers.js")
    );
}

#[test]
fn a_message_channel_copies_what_it_carries() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/channel.js", &[]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node channel.js")
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_channel",
        done.transcript("node labs/lab-10-worker-pool/node/channel.js")
    );
}

#[test]
fn worker_cost_reports_json_and_refuses_bad_arguments() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/worker-cost.js", &["2", "10"]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node worker-cost.js")
    );
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(doc["start_ms"].as_array().unwrap().len(), 2, "{doc}");
    assert!(doc["round_trip_us"].as_f64().unwrap() > 0.0, "{doc}");
    for args in [&["0", "5"][..], &["x", "5"], &["2", "-1"]] {
        let done = node("node/worker-cost.js", args);
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(
            done.stderr,
            "worker-cost.js: usage: node worker-cost.js STARTS TRIPS (positive integers)\n"
        );
    }
}

#[test]
fn transfer_moves_and_shared_memory_is_shared() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/share.js", &[]);
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node share.js")
    );
    // The claims the page makes from this output, checked here as well as by the snapshot.
    assert!(
        done.stdout.contains("moved.byteLength = 0 (detached)"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("Atomics.load(shared) = 42"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("not listed in transferList"),
        "{}",
        done.stdout
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_share",
        done.transcript("node labs/lab-10-worker-pool/node/share.js")
    );
}

#[test]
fn a_hand_written_node_pool_runs_jobs_on_two_workers() {
    if !require_tool("node") {
        return;
    }
    let done = node("node/pool.js", &[]);
    assert!(done.status.success(), "{}", done.transcript("node pool.js"));
    assert!(
        done.stdout.contains("on workers with threadId 1 and 2"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("at most 2 jobs ran at once"),
        "{}",
        done.stdout
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_pool",
        done.transcript("node labs/lab-10-worker-pool/node/pool.js")
    );
}
