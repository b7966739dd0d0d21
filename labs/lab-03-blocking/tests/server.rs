//! Chapter 3: the server's modes, checked by the order in which responses complete (never
//! by how long they take), its exact sums, and its answers to bad input.

mod common;

use std::io::Write;
use std::thread;
use std::time::Duration;

use common::{Running, raw, read_all, stall, status_and_body, timeline};
use lab_03::compute::formula;

/// n for a compute that never ends while a test runs (10^18 additions: years).
const FOREVER: &str = "1000000000000000000";
const NO_LIMIT: &str = "18446744073709551615";
/// n for a compute that ends (a fraction of a second, even in a debug build).
const SHORT: u64 = 30_000_000;

/// `/compute?n=...` on one connection; once the server says it started computing, `GET /`
/// on another. Returns the event log with the test's own step marked where it happened
/// relative to the lines read so far, and the answer to `/`.
fn race(
    server: &mut Running,
    n: &str,
    compute_ends: bool,
) -> (Vec<String>, labkit::http::Response) {
    let addr = server.addr;
    let target = format!("/compute?n={n}");
    let compute = thread::spawn(move || common::get(addr, &target));
    server.wait_for("conn=1 compute start");
    let mut log = server.history();
    log.push("[test] GET / sent".to_string());
    let seen = log.len() - 1;
    let root = common::get(addr, "/").unwrap();
    server.wait_for("conn=2 response 200 ok");
    if compute_ends {
        let answer = compute.join().unwrap().unwrap();
        assert_eq!(
            answer.body,
            format!("sum={}\n", formula(n.parse().unwrap()))
        );
        server.logged("conn=1 response 200 sum=");
    } else {
        drop(compute); // detached: its connection ends when the server is killed
    }
    log.extend(server.history()[seen..].iter().cloned());
    (log, root)
}

fn position(log: &[String], prefix: &str) -> usize {
    log.iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {log:#?}"))
}

#[test]
fn blocking_mode_answers_root_only_after_the_compute() {
    let mut server = Running::rust("blocking", &[]);
    let (log, root) = race(&mut server, &SHORT.to_string(), true);
    assert_eq!(root.body, "ok\n");
    assert!(
        position(&log, "conn=1 response 200 sum=") < position(&log, "conn=2 accepted"),
        "{log:#?}"
    );
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("timeline_blocking", timeline(&log));
}

/// A fixed mode: `/` is answered while the compute is still running.
fn fixed(mode: &str) -> Vec<String> {
    let mut server = Running::rust(mode, &["--max-n", NO_LIMIT]);
    let (log, root) = race(&mut server, FOREVER, false);
    assert_eq!(root.body, "ok\n");
    assert!(!log.iter().any(|l| l.contains("compute done")), "{log:#?}");
    assert!(
        position(&log, "conn=1 compute start") < position(&log, "conn=2 response 200 ok"),
        "{log:#?}"
    );
    log
}

#[test]
fn spawn_blocking_mode_answers_root_during_the_compute() {
    let log = fixed("spawn-blocking");
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("timeline_spawn_blocking", timeline(&log));
}

#[test]
fn pool_mode_answers_root_during_the_compute() {
    let log = fixed("pool");
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("timeline_pool", timeline(&log));
}

#[test]
fn process_mode_answers_root_during_the_compute_and_the_child_is_the_servers() {
    let mut server = Running::rust("process", &["--max-n", NO_LIMIT]);
    let (log, root) = race(&mut server, FOREVER, false);
    assert_eq!(root.body, "ok\n");
    let start = &log[position(&log, "conn=1 compute start")];
    let child: u32 = labkit::lines::fields(start)["pid"].parse().unwrap();
    assert_eq!(labkit::proc::children(server.pid).unwrap(), vec![child]);
    assert_eq!(labkit::proc::ppid(child).unwrap(), server.pid);
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("timeline_process", timeline(&log));
}

#[test]
fn every_mode_computes_the_exact_sum_and_reaps_its_children() {
    for mode in ["blocking", "spawn-blocking", "pool", "process"] {
        let server = Running::rust(mode, &[]);
        for n in [0u64, 1, 2, 10, 1_000_003] {
            let r = common::get(server.addr, &format!("/compute?n={n}")).unwrap();
            assert_eq!(
                (r.status, r.body),
                (200, format!("sum={}\n", formula(n))),
                "{mode}"
            );
        }
        assert_eq!(
            labkit::proc::children(server.pid).unwrap(),
            Vec::<u32>::new(),
            "{mode}"
        );
    }
}

#[test]
fn keep_alive_serves_pipelined_requests_on_one_connection() {
    let server = Running::rust("spawn-blocking", &[]);
    let answer = raw(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /compute?n=5 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<_> = answer
        .lines()
        .filter(|l| l.starts_with("HTTP/1.1"))
        .collect();
    assert_eq!(statuses, ["HTTP/1.1 200 OK"; 3], "{answer}");
    assert!(
        answer.contains("Connection: keep-alive\r\n\r\nsum=10\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("Connection: close\r\n\r\nok\n"),
        "{answer}"
    );
}

#[test]
fn bad_input_gets_a_status_and_the_server_keeps_serving() {
    let mut server = Running::rust("blocking", &["--max-n", "1000"]);
    let big_header = format!(
        "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(lab_03::MAX_HEAD)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not HTTP", b"HELLO\r\n\r\n".to_vec()),
        ("two spaces", b"GET  / HTTP/1.1\r\n\r\n".to_vec()),
        (
            "a header without a colon",
            b"GET / HTTP/1.1\r\nHost\r\n\r\n".to_vec(),
        ),
        (
            "bytes that are not UTF-8",
            b"GET /\xff HTTP/1.1\r\n\r\n".to_vec(),
        ),
        ("a head over 8 KiB", big_header.into_bytes()),
        (
            "a header field that is not UTF-8",
            b"GET / HTTP/1.1\r\nX-Name: \xff\r\n\r\n".to_vec(),
        ),
        (
            "half a head, then end of file",
            b"GET /compute?n=5 HTTP/1.1\r\nHo".to_vec(),
        ),
        (
            "a head, then end of file before its body",
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n".to_vec(),
        ),
        (
            "2 bytes of a 5-byte body, then end of file",
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhi".to_vec(),
        ),
        ("n missing", b"GET /compute HTTP/1.1\r\n\r\n".to_vec()),
        (
            "n not a number",
            b"GET /compute?n=ten HTTP/1.1\r\n\r\n".to_vec(),
        ),
        (
            "n above the limit",
            b"GET /compute?n=1001 HTTP/1.1\r\n\r\n".to_vec(),
        ),
        ("another path", b"GET /admin HTTP/1.1\r\n\r\n".to_vec()),
        (
            "another method",
            b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
        ),
        (
            "a chunked body",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
        ),
        (
            "a body over 8 KiB",
            b"GET / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n".to_vec(),
        ),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n".to_vec()),
    ];
    let mut transcript = String::new();
    for (what, bytes) in &cases {
        let answer = raw(server.addr, bytes);
        transcript += &format!("{what}:\n  {}\n", status_and_body(&answer));
    }
    let ok = common::get(server.addr, "/compute?n=1000").unwrap();
    transcript += &format!(
        "and then /compute?n=1000:\n  {} {}",
        ok.status,
        ok.body.trim()
    );
    assert!(labkit::proc::is_alive(server.pid));
    server.wait_for(&format!("conn={} response 200 sum=499500", cases.len() + 1));
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("bad_input", transcript);
}

#[test]
fn a_stalled_client_holds_only_its_own_connection() {
    let mut server = Running::rust("blocking", &[]);
    let _stalled = stall(server.addr, b"GET /compute?n=5 HTTP/1.1\r\nHo");
    server.wait_for("conn=1 accepted");
    let r = common::get(server.addr, "/").unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    server.wait_for("conn=2 response 200 ok");
    assert!(
        !server
            .history()
            .iter()
            .any(|l| l.starts_with("conn=1 ") && l != "conn=1 accepted"),
        "{:#?}",
        server.history()
    );
}

/// A head of 32 KiB is refused once about 8 KiB of it has been read, with the rest still
/// unread in the server's socket. Closed at once, that socket would send RST after its
/// answer; the server's two-step close (answer, FIN, drain the rest until the client's FIN,
/// close) keeps the connection orderly. The client here reads the answer and the server's
/// end of file, waits up to 20 ms for a reset, and only then half-closes: its `shutdown`
/// must succeed (after an RST it fails with ENOTCONN).
#[test]
fn an_error_answer_with_unread_input_behind_it_ends_with_a_clean_close() {
    use std::io::Read;
    let server = Running::rust("blocking", &[]);
    let head = format!(
        "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(4 * lab_03::MAX_HEAD)
    );
    for attempt in 0..10 {
        let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
        stream
            .set_read_timeout(Some(labkit::DEFAULT_TIMEOUT))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .unwrap_or_else(|e| panic!("attempt {attempt}: reading the answer: {e}"));
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 431 "),
            "attempt {attempt}: {answer}"
        );
        // Give a server that closes at once the time for its RST to arrive: poll with no
        // events still reports POLLERR and POLLHUP, which a reset sets, so this returns as
        // soon as one comes, or after 20 ms. The fixed server sends none: it waits for our
        // FIN however long we take.
        let fd = std::os::fd::AsFd::as_fd(&stream);
        let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::empty())];
        nix::poll::poll(&mut fds, 20u16).unwrap();
        stream
            .shutdown(std::net::Shutdown::Write)
            .unwrap_or_else(|e| panic!("attempt {attempt}: the server reset the connection: {e}"));
    }
}

#[test]
fn a_stalled_client_gets_408_after_the_read_timeout_and_an_idle_one_is_closed() {
    let mut server = Running::rust("blocking", &["--read-timeout-ms", "200"]);
    let mut half = stall(server.addr, b"GET / HTTP/1.1\r\nHost: x");
    let answer = read_all(&mut half);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    server.wait_for("conn=1 error 408");
    let mut idle = stall(server.addr, b"");
    assert_eq!(read_all(&mut idle), "");
    server.wait_for("conn=2 closed");
}

/// Starts `/compute?n=FOREVER` in process mode on a connection of its own; returns that
/// connection and the compute child's pid.
fn endless_child(server: &mut Running) -> (std::net::TcpStream, u32) {
    let request = format!("GET /compute?n={FOREVER} HTTP/1.1\r\nHost: x\r\n\r\n");
    let client = stall(server.addr, request.as_bytes());
    let start = server.wait_for("conn=1 compute start");
    let child: u32 = labkit::lines::fields(&start)["pid"].parse().unwrap();
    assert_eq!(labkit::proc::children(server.pid).unwrap(), vec![child]);
    (client, child)
}

fn gone(pid: u32) -> Result<(), String> {
    match labkit::proc::is_alive(pid) {
        true => Err(format!("pid {pid} still runs")),
        false => Ok(()),
    }
}

/// What /proc shows during an endless compute in each mode: the server's threads (their
/// names, from /proc/PID/task/*/comm, main thread first) and its children (their comm).
#[test]
fn proc_shows_where_each_mode_computes() {
    let mut table = String::new();
    for mode in ["blocking", "spawn-blocking", "pool", "process"] {
        let mut server = Running::rust(mode, &["--max-n", NO_LIMIT]);
        let request = format!("GET /compute?n={FOREVER} HTTP/1.1\r\nHost: x\r\n\r\n");
        let client = stall(server.addr, request.as_bytes());
        server.wait_for("conn=1 compute start");
        // spawn_blocking logs before it starts its thread: wait until the thread shows, named.
        let threads = labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
            let names: Vec<String> = labkit::proc::threads(server.pid)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|t| t.name)
                .collect();
            // A new thread carries its creator's name until it sets its own.
            let named = names.len() >= 2 && names[1..].iter().all(|n| n != "server");
            match mode == "spawn-blocking" && !named {
                true => Err(format!("no named blocking thread yet: {names:?}")),
                false => Ok(names),
            }
        })
        .unwrap();
        let children: Vec<String> = labkit::proc::children(server.pid)
            .unwrap()
            .into_iter()
            .map(|c| labkit::proc::comm(c).unwrap())
            .collect();
        table += &format!(
            "{mode:<15} threads: {:<40} children: {}\n",
            threads.join(", "),
            if children.is_empty() {
                "none".to_string()
            } else {
                children.join(", ")
            }
        );
        drop(client);
    }
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("proc_per_mode", table);
}

/// A client that hangs up while its compute runs in a child: the server notices the end of
/// file, drops the compute (kill_on_drop) and the child is killed and reaped.
#[test]
fn process_mode_kills_the_child_when_its_client_hangs_up() {
    let mut server = Running::rust("process", &["--max-n", NO_LIMIT]);
    let (client, child) = endless_child(&mut server);
    drop(client);
    server.wait_for("conn=1 client gone during the compute");
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || gone(child)).unwrap();
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        match labkit::proc::children(server.pid).unwrap() {
            c if c.is_empty() => Ok(()),
            c => Err(format!("children left: {c:?}")),
        }
    })
    .unwrap();
}

/// A server killed with SIGKILL runs no drop code; its compute child dies anyway, because it
/// asked the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG).
#[test]
fn process_mode_child_dies_with_a_killed_server() {
    let mut server = Running::rust("process", &["--max-n", NO_LIMIT]);
    let (_client, child) = endless_child(&mut server);
    let pid = nix::unistd::Pid::from_raw(server.pid as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || gone(child)).unwrap();
}

/// The time-out bounds the whole request, not each read: a client that sends one byte every
/// 50 ms (each read well within the 500 ms) still gets its 408, while it is still sending.
#[test]
fn a_client_that_drips_its_request_gets_408_at_the_deadline() {
    let mut server = Running::rust("blocking", &["--read-timeout-ms", "500"]);
    let mut reader = stall(server.addr, b"GET / HTTP/1.1\r\nX-Slow: ");
    let mut writer = reader.try_clone().unwrap();
    // 400 bytes at 50 ms: 20 s of dripping if nobody stops it (a per-read time-out doesn't).
    let dripper = thread::spawn(move || {
        for sent in 0..400 {
            if writer.write_all(b"a").is_err() {
                return Some(sent); // the server closed the connection
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    });
    let answer = read_all(&mut reader);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    server.wait_for("conn=1 error 408");
    drop(reader);
    let stopped_after = dripper.join().unwrap();
    assert!(
        stopped_after.is_some(),
        "the client dripped all its bytes before the server gave up"
    );
}

/// With `--max-connections 1`, a second client is not even accepted while the first holds
/// the only slot; it is served once the first one's time-out ends it.
#[test]
fn the_connection_cap_holds_the_next_client_in_the_accept_queue() {
    let mut server = Running::rust(
        "blocking",
        &["--max-connections", "1", "--read-timeout-ms", "300"],
    );
    let _first = stall(server.addr, b"GET / HTTP/1.1\r\nHo");
    server.wait_for("conn=1 accepted");
    let r = common::get(server.addr, "/").unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    server.wait_for("conn=2 response 200 ok");
    let log = server.history();
    assert!(
        position(&log, "conn=1 error 408") < position(&log, "conn=2 accepted"),
        "{log:#?}"
    );
}

/// Out-of-range settings are refused by clap before the server says `ready` (a pool of 10^8
/// threads or a queue of 2^64 slots used to abort the server after it said `ready`).
#[test]
fn out_of_range_settings_are_refused_before_ready() {
    for (flag, value) in [
        ("--pool-workers", "100000000"),
        ("--pool-workers", "0"),
        ("--pool-queue", "18446744073709551615"),
        ("--max-connections", "0"),
        ("--read-timeout-ms", "0"),
    ] {
        let done = labkit::run(labkit::demo(common::SERVER).args([
            "--mode",
            "pool",
            "--addr",
            "127.0.0.1:0",
            flag,
            value,
        ]))
        .unwrap();
        assert_eq!(done.status.code(), Some(2), "{}", done.transcript("server"));
        assert_eq!(done.stdout, "", "{flag} {value}");
        assert!(
            done.stderr
                .starts_with(&format!("error: invalid value '{value}' for '{flag} <")),
            "{}",
            done.stderr
        );
    }
}

#[test]
fn an_address_in_use_gets_one_line_and_exit_code_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let done =
        labkit::run(labkit::demo(common::SERVER).args(["--mode", "blocking", "--addr", &addr]))
            .unwrap();
    assert_eq!(done.status.code(), Some(1), "{}", done.transcript("server"));
    assert_eq!(
        done.stderr,
        format!("server: cannot listen on {addr}: Address already in use (os error 98)\n")
    );
    assert_eq!(done.stdout, "");
}
