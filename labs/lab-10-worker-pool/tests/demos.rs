//! Chapter 10: the demos' transcripts as the page shows them, bad input, and the
//! experiment's report format (its timings are never asserted).

use labkit::experiment::check_report;
use labkit::{Redactor, demo, run};

#[test]
fn workers_demo_mirrors_node_workers() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_workers"))).unwrap();
    assert!(done.status.success(), "{}", done.transcript("workers"));
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("workers", done.transcript("./target/debug/workers"));
}

#[test]
fn pool_demo_walks_through_the_pool() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_pool-demo"))).unwrap();
    assert!(done.status.success(), "{}", done.transcript("pool-demo"));
    // Which worker ran job 3 varies from run to run, and so does its tid.
    let redactor =
        Redactor::new().pattern(r"thread 'pool-[0-9]+' \([0-9]+\)", "thread 'pool-N' (TID)");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "pool_demo",
        redactor.apply(&done.transcript("./target/debug/pool-demo"))
    );
}

#[test]
fn bad_input_gets_one_line() {
    for (exe, name) in [
        (env!("CARGO_BIN_EXE_pool-demo"), "pool-demo"),
        (env!("CARGO_BIN_EXE_workers"), "workers"),
    ] {
        let done = run(demo(exe).arg("--bogus")).unwrap();
        assert_eq!(done.status.code(), Some(2), "{}", done.stderr);
        assert_eq!(
            done.stderr,
            format!("{name}: unexpected argument '--bogus' found\n")
        );
    }
    let done = run(demo(env!("CARGO_BIN_EXE_pool-bench")).args(["--rounds", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "pool-bench: invalid value '0' for '--rounds <ROUNDS>': 0 is not in 1..=1000\n"
    );
}

#[test]
fn pool_bench_json_follows_the_common_format() {
    let args = [
        "--rounds",
        "2",
        "--cpu-jobs",
        "2",
        "--cpu-work",
        "1",
        "--tiny-jobs",
        "40",
        "--json",
    ];
    let done = run(demo(env!("CARGO_BIN_EXE_pool-bench")).args(args)).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("pool-bench --json")
    );
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{}", done.stdout));
    assert_eq!(doc["experiment"], "pool-bench");
    let names: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let cpus = doc["machine"]["cpus"].as_u64().unwrap().max(2);
    assert_eq!(names[0], "cpu jobs, pool of 1");
    assert_eq!(
        names[cpus as usize - 1],
        format!("cpu jobs, pool of {cpus}")
    );
    assert!(names.contains(&"tiny jobs, a thread per job"), "{names:?}");
    assert!(
        names.contains(&"tiny jobs, stage 4 pool of 2") || cpus > 2,
        "{names:?}"
    );
    assert!(
        names.contains(&"tiny jobs, rayon spawn from outside"),
        "{names:?}"
    );
    if labkit::require_tool("node") {
        assert!(names.contains(&"node Worker start-up"), "{names:?}");
        assert!(names.contains(&"node postMessage round trip"), "{names:?}");
    }
    let goals = doc["goals"].as_array().unwrap();
    assert_eq!(goals.len(), 3);
    for g in goals {
        assert!(
            g["value"].as_f64().is_some() && g["met"].is_boolean(),
            "{g}"
        );
    }
}
