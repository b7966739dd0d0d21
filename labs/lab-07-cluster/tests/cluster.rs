//! Chapter 7: the cluster's behaviour, from the outside: workers, round robin, restarts,
//! graceful and immediate shutdown, a kill in the middle of a burst, garbage requests.

mod common;

use std::collections::BTreeMap;

use common::{Cluster, KeepAlive, number_after, unread_by_server};
use labkit::{DEFAULT_TIMEOUT, Redactor, eventually};
use nix::sys::signal::Signal;

const SCHEDS: [&str; 3] = ["rr", "shared", "reuseport"];

#[test]
fn workers_are_distinct_children_of_the_master_in_its_process_group() {
    for sched in SCHEDS {
        let cluster = Cluster::start(sched, 3);
        let master = labkit::proc::stat(cluster.master).unwrap();
        let pids: Vec<u32> = cluster.workers.values().copied().collect();
        let mut distinct = pids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{sched}: {pids:?}");
        for pid in pids {
            let stat = labkit::proc::stat(pid).unwrap();
            assert_eq!(stat.ppid, cluster.master, "{sched}: worker {pid}'s parent");
            // The guard kills the master's group: the workers are in it.
            assert_eq!(stat.pgrp, master.pgrp, "{sched}: worker {pid}'s group");
            assert_ne!(pid, cluster.master);
            // The master blocks four signals for its signalfd; a worker inherits that mask
            // through fork and exec, and sets its own: only SIGINT stays blocked.
            let blocked = |pid| {
                let mask = labkit::proc::status(pid)
                    .unwrap()
                    .signal_mask("SigBlk")
                    .unwrap();
                labkit::proc::signal_names(mask)
            };
            assert_eq!(blocked(pid), ["SIGINT"], "{sched}: worker {pid}");
            assert_eq!(
                blocked(cluster.master),
                ["SIGINT", "SIGQUIT", "SIGTERM", "SIGCHLD"]
            );
        }
        // A worker is the same program, told apart by NODE_UNIQUE_ID.
        let exe = |pid: u32| std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(exe(cluster.workers[&1]), exe(cluster.master));
    }
}

#[test]
fn rr_hands_connections_to_every_worker_in_turn() {
    let cluster = Cluster::start("rr", 3);
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for _ in 0..6 {
        *counts.entry(cluster.hello_pid()).or_default() += 1;
    }
    let expected: BTreeMap<u32, usize> = cluster.workers.values().map(|p| (*p, 2)).collect();
    assert_eq!(counts, expected);
}

#[test]
fn every_scheduler_serves_keep_alive_connections() {
    for sched in SCHEDS {
        let cluster = Cluster::start(sched, 2);
        let mut conn = KeepAlive::connect(cluster.addr).unwrap();
        let first = conn.get("/").unwrap();
        for _ in 0..5 {
            let again = conn.get("/").unwrap();
            // One connection, one worker: the same pid every time.
            assert_eq!(
                (again.status, again.close, &again.body),
                (200, false, &first.body)
            );
        }
        let pid = number_after(&first.body, "hello from worker ");
        assert!(
            cluster.workers.values().any(|p| *p == pid),
            "{sched}: {pid}"
        );
        assert_eq!(conn.get("/nowhere").unwrap().status, 404);
    }
}

#[test]
fn a_stopped_worker_gets_one_connection_under_rr_and_no_more() {
    let cluster = Cluster::start("rr", 2);
    let (w1, w2) = (cluster.workers[&1], cluster.workers[&2]);
    let stop = |pid: u32, sig| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
    stop(w2, Signal::SIGSTOP).unwrap();
    assert_eq!(cluster.hello_pid(), w1); // worker 1 is first in the free list
    // The next connection is offered to worker 2, which cannot answer: it waits. (The
    // master accepts in the order the connections arrived, so this one comes first.)
    let mut offered = KeepAlive::connect(cluster.addr).unwrap();
    offered
        .send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    // Everything after it goes to worker 1, which answers every offer.
    for _ in 0..5 {
        assert_eq!(cluster.hello_pid(), w1);
    }
    stop(w2, Signal::SIGCONT).unwrap();
    let body = offered.read_reply().unwrap().body;
    assert_eq!(number_after(&body, "hello from worker "), w2);
}

// ANCHOR: session
#[test]
fn a_session_crash_then_graceful_shutdown() {
    let mut cluster = Cluster::start("rr", 2);
    let mut client = Vec::new();
    for path in ["/", "/", "/", "/", "/crash"] {
        client.push(format!("GET {path:<6} -> {}", cluster.get(path)));
    }
    // The crashed worker says it is leaving; the master forks its replacement first.
    let leaving = cluster.wait_for("worker 1 pid=");
    assert!(
        leaving.ends_with("leaving (GET /crash); worker 3 forked first"),
        "{leaving}"
    );
    let mut after_crash = [cluster.wait_for("worker "), cluster.wait_for("worker ")];
    after_crash.sort(); // the replacement's `online` and the old one's exit race
    assert!(after_crash[0].starts_with("worker 1 ") && after_crash[0].ends_with("code 101"));
    assert!(after_crash[1].starts_with("worker 3 ") && after_crash[1].ends_with("online"));
    for _ in 0..2 {
        client.push(format!("GET {:<6} -> {}", "/", cluster.get("/")));
    }
    cluster.guard.signal(Signal::SIGTERM).unwrap();
    let status = cluster.guard.wait().unwrap();
    let mut log = cluster.log.history().to_vec();
    log.extend(cluster.log.rest(DEFAULT_TIMEOUT).unwrap());
    let stderr = cluster.guard.stderr_lines().rest(DEFAULT_TIMEOUT).unwrap();

    // Lines whose order varies between runs are sorted: the first `online` lines, the two
    // lines after the crash, the exits during shutdown.
    let n = log.len();
    log[..2].sort();
    log[4..6].sort();
    log[7..n - 1].sort();
    let mut redactor = Redactor::new()
        .id(cluster.master, "MASTER")
        .pattern(r"worker\.rs:\d+:\d+", "worker.rs:[LINE]");
    for line in log.iter().filter(|l| l.ends_with(" online")) {
        let id = number_after(line, "worker ");
        redactor = redactor.id(number_after(line, "pid="), &format!("WORKER-{id}"));
    }
    let text = format!(
        "$ ./target/debug/cluster --workers 2 --sched rr\n{}\n--- stderr\n{}\n=> {}\n\n\
         --- the client, meanwhile (kill -TERM [MASTER] after the last request)\n{}\n",
        log.join("\n"),
        stderr.join("\n"),
        labkit::run::outcome(status),
        client.join("\n"),
    );
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("session", redactor.apply(&text));
    assert!(status.success(), "{text}");
}
// ANCHOR_END: session

#[test]
fn a_worker_killed_with_sigkill_is_replaced_later_and_later() {
    let mut cluster = Cluster::start("rr", 2);
    let mut victim = cluster.workers[&1];
    let mut delays = Vec::new();
    for _ in 0..3 {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim as i32), Signal::SIGKILL).unwrap();
        let died = cluster.wait_for("worker ");
        assert!(
            died.contains(&format!("pid={victim} died (killed by SIGKILL)")),
            "{died}"
        );
        delays.push(number_after(&died, "replacement in "));
        let online = cluster.wait_for("worker ");
        assert!(online.ends_with(" online"), "{online}");
        let new = number_after(&online, "pid=");
        assert!(!labkit::proc::is_alive(victim), "{victim} was not reaped");
        victim = new;
    }
    // Deaths in a row: the first is replaced at once, then the delay doubles.
    assert_eq!(delays, [0, 100, 200]);
    // The master survived them all, and the replacements serve.
    assert!(labkit::proc::is_alive(cluster.master));
    let pids: Vec<u32> = (0..4).map(|_| cluster.hello_pid()).collect();
    assert!(pids.contains(&victim), "{pids:?}");
}

// ANCHOR: graceful
/// Start a request on a keep-alive connection and leave it half sent, once the worker
/// has read the half: the request is in flight.
fn request_in_flight(cluster: &Cluster) -> KeepAlive {
    let mut conn = KeepAlive::connect(cluster.addr).unwrap();
    assert_eq!(conn.get("/").unwrap().status, 200); // a worker owns this connection now
    conn.send(b"GET / HTTP/1.1\r\nHost: test\r\n").unwrap();
    let (server, client) = (cluster.addr.port(), conn.local_port());
    eventually(DEFAULT_TIMEOUT, || match unread_by_server(server, client) {
        Some(0) => Ok(()),
        other => Err(format!("unread by the server: {other:?}")),
    })
    .unwrap();
    conn
}

#[test]
fn graceful_shutdown_answers_the_request_in_flight_and_closes_idle_connections() {
    for (sched, signal) in [
        ("rr", Signal::SIGTERM),
        ("shared", Signal::SIGINT),
        ("reuseport", Signal::SIGTERM),
    ] {
        // One worker, so that both connections are on it: when the idle one is closed,
        // that worker is draining.
        let mut cluster = Cluster::start(sched, 1);
        let mut idle = KeepAlive::connect(cluster.addr).unwrap();
        assert_eq!(idle.get("/").unwrap().status, 200);
        let mut busy = request_in_flight(&cluster);
        cluster.guard.signal(signal).unwrap();
        cluster.wait_for("shutting down");
        // The idle connection is closed; the one in the middle of a request is answered.
        assert!(idle.at_eof(), "{sched}: idle connection still open");
        busy.send(b"\r\n").unwrap();
        let reply = busy.read_reply().unwrap();
        assert_eq!((reply.status, reply.close), (200, true), "{sched}");
        assert!(busy.at_eof(), "{sched}");
        let status = cluster.guard.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "{sched}: {:?}",
            cluster.log.history()
        );
        let log = cluster.log.rest(DEFAULT_TIMEOUT).unwrap();
        assert_eq!(
            log.last().map(String::as_str),
            Some("all workers gone; bye"),
            "{log:?}"
        );
        assert!(
            log.iter()
                .filter(|l| l.contains("exited with code 0"))
                .count()
                == 1,
            "{log:?}"
        );
        for pid in cluster.workers.values() {
            assert!(
                !labkit::proc::is_alive(*pid),
                "{sched}: worker {pid} left behind"
            );
        }
    }
}

// ANCHOR_END: graceful

#[test]
fn shutdown_still_hands_out_the_connections_accepted_before_the_signal() {
    let mut cluster = Cluster::start("rr", 2);
    let workers: Vec<u32> = cluster.workers.values().copied().collect();
    let signal = |pid: u32, sig| {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).unwrap()
    };
    // Stopped workers answer no offer: the master offers one connection to each and keeps
    // the third in its own backlog.
    workers.iter().for_each(|w| signal(*w, Signal::SIGSTOP));
    let mut conns: Vec<KeepAlive> = (0..3)
        .map(|_| {
            let mut conn = KeepAlive::connect(cluster.addr).unwrap();
            conn.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
            conn
        })
        .collect();
    // Wait until the master has accepted all three (a queued connection has inode 0).
    let port = cluster.addr.port();
    eventually(DEFAULT_TIMEOUT, || {
        let inodes: Vec<_> = conns
            .iter()
            .map(|c| common::server_socket_inode(port, c.local_port()))
            .collect();
        match inodes.iter().all(|i| i.is_some_and(|i| i != 0)) {
            true => Ok(()),
            false => Err(format!("server socket inodes {inodes:?}")),
        }
    })
    .unwrap();
    cluster.guard.signal(Signal::SIGTERM).unwrap();
    cluster.wait_for("shutting down");
    workers.iter().for_each(|w| signal(*w, Signal::SIGCONT));
    for conn in &mut conns {
        assert_eq!(conn.read_reply().unwrap().status, 200);
    }
    assert_eq!(cluster.guard.wait().unwrap().code(), Some(0));
}

#[test]
fn sigquit_stops_everything_at_once() {
    let mut cluster = Cluster::start("rr", 2);
    let mut busy = request_in_flight(&cluster);
    cluster.guard.signal(Signal::SIGQUIT).unwrap();
    let status = cluster.guard.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 3));
    assert_eq!(
        cluster.log.rest(DEFAULT_TIMEOUT).unwrap(),
        ["SIGQUIT: 2 workers killed; bye"]
    );
    // The request in flight is lost: its worker was killed before it could answer.
    let _ = busy.send(b"\r\n");
    assert!(busy.read_reply().is_err());
    for pid in cluster.workers.values() {
        assert!(!labkit::proc::is_alive(*pid), "worker {pid} left behind");
    }
}

// ANCHOR: chaos
#[test]
fn chaos_a_worker_killed_in_a_burst_fails_only_its_own_connections() {
    for sched in SCHEDS {
        let mut cluster = Cluster::start(sched, 2);
        // Four keep-alive connections; each learns which worker serves it.
        let mut conns: Vec<(u32, KeepAlive)> = Vec::new();
        while conns.len() < 4 {
            let mut conn = KeepAlive::connect(cluster.addr).unwrap();
            let pid = number_after(&conn.get("/").unwrap().body, "hello from worker ");
            conns.push((pid, conn));
        }
        let victim = conns[0].0;
        let start = std::sync::Barrier::new(conns.len() + 1);
        let results: Vec<(u32, usize, bool)> = std::thread::scope(|s| {
            let threads: Vec<_> = conns
                .into_iter()
                .map(|(pid, mut conn)| {
                    let start = &start;
                    s.spawn(move || {
                        start.wait();
                        // 200 requests, stopping at the first failure.
                        let ok = (0..200)
                            .take_while(|_| conn.get("/").is_ok_and(|r| r.status == 200))
                            .count();
                        (pid, ok, ok == 200)
                    })
                })
                .collect();
            start.wait();
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim as i32), Signal::SIGKILL)
                .unwrap();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for (pid, ok, all) in &results {
            // Connections on the other worker never notice; the victim's may fail.
            assert!(
                *all || *pid == victim,
                "{sched}: {pid} failed after {ok}: {results:?}"
            );
        }
        // After the replacement is online, new connections are all served.
        cluster.wait_for_containing(&format!("pid={victim} died (killed by SIGKILL)"));
        cluster.wait_for("worker 3 pid=");
        for _ in 0..10 {
            assert_ne!(cluster.hello_pid(), victim);
        }
    }
}
// ANCHOR_END: chaos

#[test]
fn garbage_gets_400_and_the_worker_keeps_serving() {
    let cluster = Cluster::start("rr", 1);
    let before = cluster.hello_pid();
    for garbage in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..], // a TLS hello, roughly
        b"hello there\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
        &[b'A'; 9000],
    ] {
        let raw = labkit::http::send_raw(cluster.addr, garbage).unwrap();
        let response = labkit::http::parse_response(&raw).unwrap();
        assert_eq!(
            (response.status, response.header("connection")),
            (400, Some("close"))
        );
    }
    // A client that stalls half-way does not hold the worker up.
    let mut stalled = KeepAlive::connect(cluster.addr).unwrap();
    stalled.send(b"GET / HT").unwrap();
    assert_eq!(cluster.hello_pid(), before);
    assert!(labkit::proc::is_alive(before));
}

#[test]
fn a_stalled_request_head_times_out_so_a_shutdown_ends() {
    let mut cluster = Cluster::start_with("rr", 1, &["--head-timeout", "1"]);
    let mut conn = KeepAlive::connect(cluster.addr).unwrap();
    assert_eq!(conn.get("/").unwrap().status, 200); // a worker owns this connection now
    conn.send(b"GE").unwrap();
    let (server, client) = (cluster.addr.port(), conn.local_port());
    eventually(DEFAULT_TIMEOUT, || match unread_by_server(server, client) {
        Some(0) => Ok(()), // the worker has read "GE": a request has started
        other => Err(format!("unread by the server: {other:?}")),
    })
    .unwrap();
    cluster.guard.signal(Signal::SIGTERM).unwrap();
    cluster.wait_for("shutting down");
    // Without a time-out the worker would wait for the rest forever, and so would the drain.
    let reply = conn.read_reply().unwrap();
    assert_eq!((reply.status, reply.close), (408, true), "{reply:?}");
    assert!(conn.at_eof());
    assert_eq!(cluster.guard.wait().unwrap().code(), Some(0));
}

#[test]
fn a_full_worker_declines_and_the_master_offers_the_connection_to_another() {
    let cluster = Cluster::start_with("rr", 2, &["--max-connections", "1"]);
    let pid = |reply: common::Reply| number_after(&reply.body, "hello from worker ");
    // Offers go in id order: a to worker 1, b to worker 2; each is then full.
    let mut a = KeepAlive::connect(cluster.addr).unwrap();
    let first = pid(a.get("/").unwrap());
    let mut b = KeepAlive::connect(cluster.addr).unwrap();
    let second = pid(b.get("/").unwrap());
    assert_ne!(first, second);
    // Worker 2 gets its room back when b's thread ends (it has only its main thread left).
    drop(b);
    eventually(DEFAULT_TIMEOUT, || match labkit::proc::status(second) {
        Ok(s) if s.threads().ok() == Some(1) => Ok(()),
        other => Err(format!(
            "worker 2's threads: {:?}",
            other.map(|s| s.threads().ok())
        )),
    })
    .unwrap();
    // Worker 1 is next in turn but full: it declines, and worker 2 gets the connection.
    assert_eq!(cluster.hello_pid(), second);
    // Worker 1 still serves the connection it has.
    assert_eq!(pid(a.get("/").unwrap()), first);
}

#[test]
fn head_gets_the_headers_and_other_methods_get_405_with_allow() {
    let cluster = Cluster::start("rr", 1);
    let body = cluster.get("/");
    let head = labkit::http::send_raw(
        cluster.addr,
        b"HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", body.len())),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"), "a body after the head: {head}");
    let post = labkit::http::send_raw(
        cluster.addr,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let post = labkit::http::parse_response(&post).unwrap();
    assert_eq!(
        (post.status, post.header("allow"), post.header("connection")),
        (405, Some("GET, HEAD"), None)
    );
}

#[test]
fn bad_arguments_are_refused_by_clap() {
    for args in [
        &["--sched", "fifo"][..],
        &["--workers", "0"],
        &["--addr", "localhost"],
        &["--max-connections", "0"],
        &["--head-timeout", "0"],
    ] {
        let mut cmd = labkit::demo(env!("CARGO_BIN_EXE_cluster"));
        cmd.args(args);
        let finished = labkit::run(&mut cmd).unwrap();
        assert_eq!(finished.status.code(), Some(2), "{args:?}");
        assert!(
            finished.stderr.starts_with("error: invalid value"),
            "{}",
            finished.stderr
        );
    }
}
