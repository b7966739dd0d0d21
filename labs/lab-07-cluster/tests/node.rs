//! Chapter 7, Node's side, run for real: the cluster module (round robin and `none`), and
//! a cluster by hand with `child.send('server', server)` and the "suicide" restart.

mod common;

use std::process::ExitStatus;

use common::number_after;
use labkit::lines::LineReader;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo};
use nix::sys::signal::Signal;

/// The repository root, where the book's commands are typed.
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

struct Node {
    guard: ChildGuard,
    log: LineReader,
    addr: std::net::SocketAddr,
}

fn start(script: &str, policy: Option<&str>) -> Node {
    let mut cmd = demo("node");
    cmd.current_dir(ROOT)
        .arg(format!("labs/lab-07-cluster/node/{script}"))
        .arg("2")
        .env_remove("NODE_CLUSTER_SCHED_POLICY");
    if let Some(policy) = policy {
        cmd.env("NODE_CLUSTER_SCHED_POLICY", policy);
    }
    let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
    let mut log = guard.stdout_lines();
    let ready = log.wait_for("ready ", DEFAULT_TIMEOUT).unwrap();
    let addr = format!("127.0.0.1:{}", number_after(&ready, "127.0.0.1:"))
        .parse()
        .unwrap();
    Node { guard, log, addr }
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let response = labkit::http::get(addr, path).unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    response.body
}

/// SIGTERM, then the whole log, stderr and exit status.
fn stop(node: &mut Node) -> (Vec<String>, Vec<String>, ExitStatus) {
    node.guard.signal(Signal::SIGTERM).unwrap();
    let status = node.guard.wait().unwrap();
    let mut log = node.log.history().to_vec();
    log.extend(node.log.rest(DEFAULT_TIMEOUT).unwrap());
    let stderr = node.guard.stderr_lines().rest(DEFAULT_TIMEOUT).unwrap();
    (log, stderr, status)
}

#[test]
fn node_cluster_round_robin_shares_one_port() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut node = start("cluster.js", None);
    let primary = node.guard.pid();
    let mut bodies: Vec<String> = (0..4).map(|_| get(node.addr, "/")).collect();
    bodies.sort(); // which worker came first into the free list varies
    let (mut log, stderr, status) = stop(&mut node);
    assert!(status.success() && stderr.is_empty(), "{log:?} {stderr:?}");
    let mut redactor = Redactor::new().id(primary, "PRIMARY");
    for line in log.iter().filter(|l| l.ends_with(" online")) {
        let (id, pid) = (number_after(line, "worker "), number_after(line, "pid="));
        assert_eq!(
            labkit::proc::ppid(pid).ok(),
            None,
            "worker {pid} still running"
        );
        redactor = redactor.id(pid, &format!("WORKER-{id}"));
    }
    // Round robin: two each.
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[2], bodies[3]);
    assert_ne!(bodies[1], bodies[2]);
    let n = log.len();
    log[..2].sort();
    log[4..n - 1].sort();
    let text = format!(
        "$ node labs/lab-07-cluster/node/cluster.js 2\n{}\n=> {}\n\n\
         --- the client: GET / four times (bodies sorted), then kill -TERM [PRIMARY]\n{}\n",
        log.join("\n"),
        labkit::run::outcome(status),
        bodies.join("\n")
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_cluster", redactor.apply(&text));
}

#[test]
fn node_cluster_none_lets_the_workers_accept() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut node = start("cluster.js", Some("none"));
    let primary = node.guard.pid();
    let ready = node.log.history().last().cloned().unwrap();
    assert!(ready.ends_with("workers=2 sched=none"), "{ready}");
    let bodies: Vec<String> = (0..4).map(|_| get(node.addr, "/")).collect();
    let (mut log, stderr, status) = stop(&mut node);
    assert!(status.success() && stderr.is_empty(), "{log:?} {stderr:?}");
    let mut redactor = Redactor::new().id(primary, "PRIMARY");
    let mut workers = Vec::new();
    for line in log.iter().filter(|l| l.ends_with(" online")) {
        let (id, pid) = (number_after(line, "worker "), number_after(line, "pid="));
        redactor = redactor.id(pid, &format!("WORKER-{id}"));
        workers.push(pid);
    }
    // Whoever accepted first served it: every body names one of the two workers, and
    // the counts the workers report add up to the four requests.
    for body in &bodies {
        assert!(
            workers.contains(&number_after(body, "hello from worker ")),
            "{body}"
        );
    }
    let served: u32 = log
        .iter()
        .filter(|l| l.contains("(served "))
        .map(|l| number_after(l, "(served "))
        .sum();
    assert_eq!(served, 4, "{log:?}");
    let n = log.len();
    log[..2].sort();
    log[4..n - 1].sort();
    let text = format!(
        "$ NODE_CLUSTER_SCHED_POLICY=none node labs/lab-07-cluster/node/cluster.js 2\n{}\n=> {}\n\n\
         --- the client: GET / four times, then kill -TERM [PRIMARY]; requests served in all: {served}\n",
        log.join("\n"),
        labkit::run::outcome(status),
    );
    // How the four requests fell varies from run to run (the point of this test).
    let redactor = redactor.pattern(r"\(served \d+ requests?\)", "(served [N])");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_cluster_none", redactor.apply(&text));
}

#[test]
fn node_master_sends_the_server_and_restarts_a_crashed_worker_first() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut node = start("master.js", None);
    let master = node.guard.pid();
    let crash = get(node.addr, "/crash");
    let crashed = number_after(&crash, "worker ");
    let leaving = node.log.wait_for("worker pid=", DEFAULT_TIMEOUT).unwrap();
    assert!(leaving.contains("leaving; forked pid="), "{leaving}");
    let replacement = number_after(&leaving, "forked pid=");
    // Wait for both: the old one's exit and the new one's `online` (in either order).
    for _ in 0..2 {
        node.log.wait_for("worker pid=", DEFAULT_TIMEOUT).unwrap();
    }
    let mut client = vec![format!("GET /crash -> {crash}")];
    let online: Vec<u32> = node
        .log
        .history()
        .iter()
        .filter(|l| l.ends_with(" online"))
        .map(|l| number_after(l, "pid="))
        .collect();
    let other = *online
        .iter()
        .find(|p| **p != crashed && **p != replacement)
        .unwrap();
    for _ in 0..4 {
        let pid = number_after(&get(node.addr, "/"), "hello from worker ");
        assert!(pid == other || pid == replacement, "{pid}");
        client.push("GET /      -> hello from worker [OTHER or REPLACEMENT]".into());
    }
    for pid in [other, replacement] {
        assert_eq!(labkit::proc::ppid(pid).unwrap(), master);
    }
    let (log, stderr, status) = stop(&mut node);
    let redactor = Redactor::new()
        .id(master, "MASTER")
        .id(crashed, "CRASHED")
        .id(other, "OTHER")
        .id(replacement, "REPLACEMENT");
    // Redact first, then sort the lines whose order varies: the names are stable, pids not.
    let mut log: Vec<String> = log.iter().map(|l| redactor.apply(l)).collect();
    let n = log.len();
    log[..2].sort();
    log[4..6].sort();
    log[6..n - 1].sort();
    let text = format!(
        "$ node labs/lab-07-cluster/node/master.js 2\n{}\n--- stderr\n{}\n=> {}\n\n\
         --- the client, meanwhile (kill -TERM [MASTER] after the last request)\n{}\n",
        log.join("\n"),
        stderr.join("\n"),
        labkit::run::outcome(status),
        client.join("\n")
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("node_master_suicide", redactor.apply(&text));
}
