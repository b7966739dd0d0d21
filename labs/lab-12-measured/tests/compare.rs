//! Chapter 12: the `compare` experiment's report has the shape of DESIGN §9 and every row
//! the chapter talks about; never its figures (run `--release` for those).

use labkit::experiment::check_report;
use labkit::{demo, require_tool, run};

const ROWS: &[&str] = &[
    "thread: std::thread::spawn + join",
    "floor: pthread_create + pthread_join",
    "floor + the signal stack std sets up per thread",
    "fork: nix fork + _exit + waitpid",
    "floor: raw clone(SIGCHLD) + exit_group + wait4",
    "spawn: Command::status (posix_spawn)",
    "floor: libc posix_spawn + wait4",
    "fork+exec: Command + pre_exec",
    "floor: raw clone + execve + wait4",
    "switch: 2 processes, pipes",
    "switch: 2 threads, pipes",
    "switch: 2 threads, Mutex + Condvar",
    "switch: 2 processes, pipes, one CPU",
    "switch: 2 threads, pipes, one CPU",
    "switch: 2 threads, Mutex + Condvar, one CPU",
    "memory: process, parent's buffer untouched: RSS",
    "memory: process, parent's buffer untouched: PSS",
    "memory: process, parent's buffer written: RSS",
    "memory: process, parent's buffer written: PSS",
    "memory: thread, no buffer: RSS",
    "memory: thread, no buffer: PSS",
    "memory: thread, own buffer written: RSS",
    "memory: thread, own buffer written: PSS",
    "share: Arc<Vec<u8>> to a thread: time",
    "share: copy through a pipe to a child: time",
    "share: memfd + mmap with a child: time",
    "share: copy through a pipe to a child: worker's added private",
    "share: memfd + mmap with a child: worker's added RSS",
];

const NODE_ROWS: &[&str] = &[
    "node: child_process.fork() to first message",
    "node: new Worker() to first message",
];

#[test]
fn the_quick_report_has_every_row_and_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("chart.svg");
    let mut cmd = demo(env!("CARGO_BIN_EXE_compare"));
    cmd.args(["--quick", "--json", "--svg"]).arg(&svg);
    let finished = run(&mut cmd).unwrap();
    let stderr = finished.stderr.clone();
    assert!(finished.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&finished.stdout).unwrap();
    assert_eq!(check_report(&doc), Ok(()));
    assert_eq!(doc["experiment"], "compare");
    let names: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let mut expected = ROWS.to_vec();
    if require_tool("node") {
        expected.extend(NODE_ROWS);
    }
    for name in expected {
        assert!(names.contains(&name), "no row {name:?} in {names:?}");
    }
    // Each Rust way names its floor and its ratio; four goals, one per pair.
    let row = |n: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(row(ROWS[0])["floor"], ROWS[1]);
    assert!(row(ROWS[0])["ratio_to_floor"].is_f64());
    assert!(row(ROWS[0])["ratio_min"].is_f64());
    assert!(row(ROWS[1])["ratio_to_floor"].is_null());
    assert_eq!(
        row(ROWS[2])["floor"],
        ROWS[1],
        "the second floor is compared with the first"
    );
    assert_eq!(doc["goals"].as_array().unwrap().len(), 4);
    assert_eq!(doc["distribution"], "skipped: --quick");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.starts_with("<svg"),
        "{}",
        &chart[..chart.len().min(200)]
    );
    assert!(chart.contains("pthread_create"), "the chart names its bars");
}

#[test]
fn bad_input_gets_one_line() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_compare"));
    cmd.arg("--rounds=0");
    let finished = run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(2));
    assert_eq!(finished.stderr.clone().lines().count(), 1);
}
