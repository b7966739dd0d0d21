//! Chapter 3, the Node.js side: the event loop's order, what starves it, and the seeds'
//! server with its two fixes, run by real Node where it is installed.

mod common;

use std::thread;

use common::{NODE_DIR, Running, timeline};
use labkit::{Redactor, demo, run};

/// `node node/NAME ARGS…`, as the book shows it (from the repository root).
fn node(name: &str, args: &[&str]) -> String {
    let done = run(demo("node").arg(format!("{NODE_DIR}/{name}")).args(args)).unwrap();
    let shown = format!("node labs/lab-03-blocking/node/{name} {}", args.join(" "));
    done.transcript(shown.trim_end())
}

#[test]
fn node_runs_ticks_then_microtasks_then_the_phases_in_order() {
    if !labkit::require_tool("node") {
        return;
    }
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_phases", node("phases.js", &[]));
}

#[test]
fn node_a_long_loop_delays_every_timer_and_io_callback() {
    if !labkit::require_tool("node") {
        return;
    }
    let out = node("long-loop.js", &["100000000"]);
    // Every callback ran after the loop finished, however early it was due.
    let after = |what: &str| -> u64 {
        let line = out.lines().find(|l| l.starts_with(what)).unwrap();
        let ms = line.split("after ").nth(1).unwrap();
        ms[..ms.find("ms").unwrap()].parse().unwrap()
    };
    let done = after("loop of 100000000: done");
    assert!(after("timer for 1 ms") >= done, "{out}");
    assert!(after("fs.stat callback") >= done, "{out}");
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_long_loop", out);
}

#[test]
fn node_recursive_next_tick_and_promises_starve_timers_set_immediate_does_not() {
    if !labkit::require_tool("node") {
        return;
    }
    let out: Vec<String> = ["nextTick", "promise", "setImmediate"]
        .iter()
        .map(|kind| node("nexttick-starve.js", &[kind, "100000"]))
        .collect();
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_starve", out.join("\n"));
}

/// Bad arguments to the Node demos: one line on stderr and exit code 2, never a "loop of NaN"
/// or a chain that never ends.
#[test]
fn node_demos_refuse_bad_arguments() {
    if !labkit::require_tool("node") {
        return;
    }
    for (script, args, line) in [
        (
            "long-loop.js",
            &["abc"][..],
            "long-loop: N must be a whole number from 0 to 2^53, not abc",
        ),
        (
            "nexttick-starve.js",
            &["bogus", "10"][..],
            "nexttick-starve: the kind is nextTick, promise or setImmediate, not bogus",
        ),
        (
            "nexttick-starve.js",
            &["nextTick", "-1"][..],
            "nexttick-starve: N must be a whole number of at least 1, not -1",
        ),
    ] {
        let mut cmd = labkit::demo("node");
        cmd.arg(format!("{}/{script}", common::NODE_DIR)).args(args);
        let done = labkit::run(&mut cmd).unwrap();
        assert_eq!(done.status.code(), Some(2), "{}", done.transcript(script));
        assert_eq!(done.stderr, format!("{line}\n"));
        assert_eq!(done.stdout, "");
    }
}

/// The same race as tests/server.rs, against `node server.js MODE`.
fn race(mode: &str, n: &str, max_n: Option<&str>) -> Vec<String> {
    let mut server = Running::node(mode, max_n);
    let addr = server.addr;
    let target = format!("/compute?n={n}");
    let compute = thread::spawn(move || common::get(addr, &target));
    server.wait_for("conn=1 compute start");
    let mut log = server.history();
    log.push("[test] GET / sent".to_string());
    let seen = log.len() - 1;
    let root = common::get(addr, "/").unwrap();
    assert_eq!((root.status, root.body.as_str()), (200, "ok\n"));
    server.wait_for("conn=2 response 200 ok");
    if max_n.is_none() {
        let answer = compute.join().unwrap().unwrap();
        let n: u64 = n.parse().unwrap();
        assert_eq!(
            answer.body,
            format!("sum={}\n", lab_03::compute::formula(n))
        );
        server.logged("conn=1 response 200 sum=");
    } else {
        drop(compute); // detached: its connection ends when the server is killed
    }
    log.extend(server.history()[seen..].iter().cloned());
    log
}

fn index(log: &[String], prefix: &str) -> usize {
    log.iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix}: {log:#?}"))
}

#[test]
fn node_inline_server_answers_root_only_after_the_compute() {
    if !labkit::require_tool("node") {
        return;
    }
    let log = race("inline", "30000000", None);
    assert!(
        index(&log, "conn=1 response 200") < index(&log, "conn=2 response 200"),
        "{log:#?}"
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_timeline_inline", timeline(&log));
}

#[test]
fn node_fork_and_worker_servers_answer_root_during_the_compute() {
    if !labkit::require_tool("node") {
        return;
    }
    let fixed = |mode: &str| {
        let log = race(mode, "1000000000000000000", Some("1e18"));
        assert!(!log.iter().any(|l| l.contains("compute done")), "{log:#?}");
        timeline(&log)
    };
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_timeline_fork", fixed("fork"));
    insta::assert_snapshot!("node_timeline_worker", fixed("worker"));
}

#[test]
fn node_sums_stay_exact_past_two_to_the_53() {
    if !labkit::require_tool("node") {
        return;
    }
    // 140 million numbers add up to 9.8e15, past 2^53 (9.007e15), where a plain Number sum
    // would start to round.
    let server = Running::node("worker", None);
    let n = 140_000_000u64;
    let r = common::get(server.addr, &format!("/compute?n={n}")).unwrap();
    assert!(lab_03::compute::formula(n) > 1u128 << 53);
    assert_eq!(r.body, format!("sum={}\n", lab_03::compute::formula(n)));
}
