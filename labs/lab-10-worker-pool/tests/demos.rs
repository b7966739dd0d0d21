//! Chapter 10: the demos' transcripts as the page shows them, bad input, and the
//! experiment's report format (its timings are never asserted).

use clap::Parser;
use lab_10::bench::{
    Args, NAME, Row, THREAD_PER_JOB_MAX, json_report, table, thread_per_job_runs, tiny_row_names,
};
use labkit::experiment::{Machine, check_report};
use labkit::{Redactor, demo, run};

#[test]
fn workers_demo_mirrors_node_workers() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_workers"))).unwrap();
    assert!(done.status.success(), "{}", done.transcript("workers"));
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("workers", done.transcript("./target/debug/workers"));
}

#[test]
fn sending_a_vec_moves_its_three_word_header_not_its_buffer() {
    // What `send(words)` puts into the channel: the Vec itself, pointer + capacity + length.
    assert_eq!(
        std::mem::size_of::<Vec<String>>(),
        3 * std::mem::size_of::<usize>()
    );
    let words = vec!["ping".to_string()];
    let buffer = words.as_ptr();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(words).unwrap())
        .join()
        .unwrap();
    let received = rx.recv().unwrap();
    assert_eq!(received.as_ptr(), buffer, "the heap buffer did not move");
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
    // The experiment is an example (no CARGO_BIN_EXE_); its parser is the library's.
    let e = Args::try_parse_from(["pool-bench", "--rounds", "0"]).unwrap_err();
    assert_eq!(
        lab_10::cli::one_line(NAME, &e),
        "pool-bench: invalid value '0' for '--rounds <ROUNDS>': 0 is not in 1..=1000"
    );
}

#[test]
fn a_stdout_that_fails_gets_one_line_not_a_panic() {
    // `demo > /dev/full`: every write fails with ENOSPC.
    for (exe, name) in [
        (env!("CARGO_BIN_EXE_pool-demo"), "pool-demo"),
        (env!("CARGO_BIN_EXE_workers"), "workers"),
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let done = run(demo(exe).stdout(full)).unwrap();
        assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
        assert_eq!(
            done.stderr,
            format!("{name}: cannot write to stdout: No space left on device (os error 28)\n")
        );
    }
}

/// Rows as the example fills them, with made-up samples (timings are never asserted).
fn fake_rows(workers: usize, tiny_jobs: u32) -> Vec<Row> {
    let mut rows: Vec<Row> = (1..=workers)
        .map(|t| {
            let mut row = Row::new(format!("cpu jobs, pool of {t}"), "ms per run", t);
            row.samples = vec![100.0 / t as f64, 110.0 / t as f64];
            row.busy = vec![t as f64, t as f64];
            row
        })
        .collect();
    for (i, name) in tiny_row_names(workers, thread_per_job_runs(tiny_jobs))
        .into_iter()
        .enumerate()
    {
        let mut row = Row::new(name, "us per job", workers);
        row.samples = vec![1.0 + i as f64, 2.0 + i as f64];
        rows.push(row);
    }
    let mut node = Row::new("node Worker start-up", "ms per worker", 1);
    node.samples = vec![30.0, 31.0];
    rows.push(node);
    rows
}

#[test]
fn pool_bench_leaves_out_the_thread_per_job_row_above_its_limit() {
    assert!(thread_per_job_runs(THREAD_PER_JOB_MAX));
    assert!(!thread_per_job_runs(THREAD_PER_JOB_MAX + 1));
    let names = tiny_row_names(2, false);
    assert!(
        !names.iter().any(|n| n.contains("thread per job")),
        "{names:?}"
    );
    let args = Args::try_parse_from(["pool-bench", "--tiny-jobs", "100000"]).unwrap();
    let text = table(&args, &Machine::detect(), 2, &fake_rows(2, 100_000), false);
    assert!(!text.contains("tiny jobs, a thread per job"), "{text}");
    assert!(
        text.contains("thread per job: left out above 10000 jobs"),
        "{text}"
    );
    // The method is wrapped: no line of it is wider than 92 characters.
    let method: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("machine:"))
        .collect();
    assert!(method.len() > 3, "{text}");
    for line in method {
        assert!(line.chars().count() <= 92, "too wide: {line}");
    }
}

#[test]
fn pool_bench_json_follows_the_common_format() {
    let args = Args::try_parse_from(["pool-bench", "--rounds", "2", "--json"]).unwrap();
    let machine = Machine::detect();
    let doc = json_report(&args, &machine, 2, &fake_rows(2, args.tiny_jobs));
    check_report(&doc).unwrap_or_else(|e| panic!("{e}\n{doc:#}"));
    assert_eq!(doc["experiment"], "pool-bench");
    let names: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "cpu jobs, pool of 1");
    assert_eq!(names[1], "cpu jobs, pool of 2");
    for name in [
        "tiny jobs, our pool of 2",
        "tiny jobs, stage 4 pool of 2",
        "tiny jobs, spinning pool of 2",
        "tiny jobs, a thread per job",
        "tiny jobs, rayon pool of 2",
        "tiny jobs, rayon spawn from outside",
    ] {
        assert!(names.contains(&name), "{name} missing: {names:?}");
    }
    // The issue's two goals, and the comparison that is not one.
    let goals = doc["goals"].as_array().unwrap();
    assert_eq!(goals.len(), 2);
    // Fake CPU rows: 110 ms on one worker, 55 on two = 2.0x; ours 2 us, rayon 6 us.
    assert_eq!(goals[0]["value"], 2.0);
    assert_eq!(goals[0]["met"], true);
    assert_eq!(goals[1]["value"], 2.0 / 6.0);
    assert_eq!(goals[1]["met"], true);
    let comparisons = doc["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 1);
    assert_eq!(comparisons[0]["value"], 2.0 / 7.0);
    let text = table(&args, &machine, 2, &fake_rows(2, args.tiny_jobs), true);
    assert!(text.contains("comparison (not a goal): "), "{text}");
    assert!(
        !text.contains("goal: tiny jobs: our time per job is at most 1.5x rayon's spawn"),
        "{text}"
    );
}
