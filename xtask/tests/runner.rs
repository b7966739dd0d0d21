//! `cargo xtask runner`'s security and its runs, over raw HTTP: what is refused starts
//! nothing, only the book's demos run, the token never reaches the log, and a run's process
//! group is gone when the page goes away. (book-check drives it from a real browser.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use labkit::{ChildGuard, DEFAULT_TIMEOUT, LineReader, eventually, lines::fields, proc};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A runner serving a one-page stand-in book (the allow-list still comes from the real
/// chapters), with its address, token, pid and stderr.
struct Runner {
    guard: ChildGuard,
    addr: SocketAddr,
    token: String,
    stderr: LineReader,
    _book: tempfile::TempDir,
}

impl Runner {
    fn start() -> Runner {
        Runner::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Runner {
        let book = tempfile::tempdir().unwrap();
        std::fs::write(book.path().join("index.html"), "<p>book</p>").unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.current_dir(root())
            .args(["runner", "--book"])
            .arg(book.path())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
        let stderr = guard.stderr_lines();
        let ready = guard
            .stdout_lines()
            .wait_for("runner ready", DEFAULT_TIMEOUT)
            .unwrap();
        let url = fields(&ready)["url"].to_string();
        let (base, token) = url.split_once("/#runner=").unwrap();
        Runner {
            addr: base.trim_start_matches("http://").parse().unwrap(),
            token: token.to_string(),
            guard,
            stderr,
            _book: book,
        }
    }

    /// One HTTP/1.0 request (so the answer is not chunked), the whole answer.
    fn send(&self, head: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        let request = format!(
            "{head}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let status = raw
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {raw:?}"));
        let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, body.to_string())
    }

    fn host(&self) -> String {
        format!("Host: {}", self.addr)
    }

    fn token_header(&self) -> String {
        format!("x-runner-token: {}", self.token)
    }

    /// The demos a page lists, as (id, shown).
    fn demos(&self, page: &str) -> Vec<(u64, String)> {
        let (status, body) = self.send(
            &format!(
                "GET /api/demos?page={page} HTTP/1.0\r\n{}\r\n{}",
                self.host(),
                self.token_header()
            ),
            "",
        );
        assert_eq!(status, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["demos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_u64().unwrap(),
                    d["shown"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Processes the runner started (demos, cargo): none after a refused request.
    fn children(&self) -> Vec<u32> {
        proc::children(self.guard.pid()).unwrap()
    }

    /// Stop the runner (SIGTERM) and return everything it logged.
    fn stop(mut self) -> String {
        self.guard
            .signal(nix::sys::signal::Signal::SIGTERM)
            .unwrap();
        self.guard.wait_timeout(DEFAULT_TIMEOUT).unwrap();
        self.stderr.rest(DEFAULT_TIMEOUT).unwrap().join("\n")
    }
}

#[test]
fn requests_without_the_token_or_from_another_site_are_refused_and_start_nothing() {
    let runner = Runner::start();
    let host = runner.host();
    let token = runner.token_header();
    let run = "POST /api/run HTTP/1.0";
    let cases = [
        ("no token", format!("{run}\r\n{host}")),
        (
            "wrong token",
            format!("{run}\r\n{host}\r\nx-runner-token: 00000000000000000000000000000000"),
        ),
        (
            "wrong Origin",
            format!("{run}\r\n{host}\r\n{token}\r\nOrigin: http://evil.example"),
        ),
        (
            "another port's Origin",
            format!("{run}\r\n{host}\r\n{token}\r\nOrigin: http://127.0.0.1:1"),
        ),
        (
            "wrong Host (DNS rebinding)",
            format!(
                "{run}\r\nHost: evil.example:{}\r\n{token}",
                runner.addr.port()
            ),
        ),
        ("no Host", format!("{run}\r\n{token}")),
        (
            "listing without token",
            format!("GET /api/demos?page=01-processes.html HTTP/1.0\r\n{host}"),
        ),
    ];
    for (what, head) in cases {
        let (status, body) = runner.send(&head, r#"{"id": 0}"#);
        assert_eq!(status, 403, "{what}: {body}");
    }
    assert_eq!(
        runner.children(),
        Vec::<u32>::new(),
        "a refused request started something"
    );
    let log = runner.stop();
    assert!(log.contains("403"), "refusals are logged:\n{log}");
}

#[test]
fn only_the_demos_the_book_lists_can_run() {
    let runner = Runner::start();
    let head = format!(
        "POST /api/run HTTP/1.0\r\n{}\r\n{}",
        runner.host(),
        runner.token_header()
    );
    for (body, expected) in [
        (r#"{"id": 100000}"#, 404),
        (r#"{"cmd": "sh -c id"}"#, 400),
        (r#"{"id": 0, "args": ["; id"]}"#, 400),
        (r#"{"id": "0; id"}"#, 400),
        ("not json", 400),
    ] {
        let (status, answer) = runner.send(&head, body);
        assert_eq!(status, expected, "{body}: {answer}");
    }
    assert_eq!(runner.children(), Vec::<u32>::new());
    // Every listed demo is a lab binary with a fixed argv: none names a shell or a path
    // outside target/.
    let demos = runner.demos("04-spawn.html");
    assert!(!demos.is_empty());
    for (_, shown) in &demos {
        assert!(
            shown.starts_with("./target/")
                || shown.starts_with("cargo run ")
                || shown.starts_with("env -i "),
            "{shown}"
        );
    }
    runner.stop();
}

#[test]
fn it_listens_on_loopback_only_and_never_logs_the_token() {
    let runner = Runner::start();
    // /proc/net/tcp: local address 0100007F (127.0.0.1, little-endian) at our port, LISTEN (0A).
    let port = format!("{:04X}", runner.addr.port());
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening: Vec<&str> = table
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1).is_some_and(|a| a.ends_with(&format!(":{port}"))) && f.get(3) == Some(&"0A")
        })
        .collect();
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert!(
        listening[0]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with("0100007F:")
    );
    // A request with the token and one with a wrong token: neither lands in the log.
    runner.demos("01-processes.html");
    let wrong = "ffffffffffffffffffffffffffffffff";
    runner.send(
        &format!(
            "GET /api/demos?page=x&token={wrong} HTTP/1.0\r\n{}\r\nx-runner-token: {wrong}",
            runner.host()
        ),
        "",
    );
    let token = runner.token.clone();
    let log = runner.stop();
    assert!(!log.contains(&token), "the token is in the log:\n{log}");
    assert!(
        !log.contains(wrong),
        "a token-like header or query is in the log:\n{log}"
    );
}

#[test]
fn a_demo_runs_streams_its_output_and_its_group_dies_when_the_page_goes_away() {
    let runner = Runner::start();
    let demos = runner.demos("01-processes.html");
    let (card, _) = demos
        .iter()
        .find(|(_, shown)| shown.contains("target/debug/card"))
        .expect("chapter 1 lists the card demo");
    let head = format!(
        "POST /api/run HTTP/1.0\r\n{}\r\n{}",
        runner.host(),
        runner.token_header()
    );
    let (status, body) = runner.send(&head, &format!(r#"{{"id": {card}}}"#));
    assert_eq!(status, 200, "{body}");
    let events: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(
        kinds.contains(&"start") && kinds.contains(&"procs"),
        "{kinds:?}"
    );
    let stdout: String = events
        .iter()
        .filter(|e| e["type"] == "stdout")
        .filter_map(|e| e["text"].as_str())
        .collect();
    // The page's own command: env -i -C / GREETING=hello … < /dev/null 2>&1 | cat
    for line in [
        "comm:     card",
        "cwd:      /",
        "GREETING=hello, MISSING unset",
        "stdin:    /dev/null",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    assert_eq!(
        events.last().unwrap()["outcome"],
        "exited with code 0",
        "{body}"
    );

    // A demo that runs until it is signalled: the page goes away mid-run (the connection
    // closes), and its whole process group is killed.
    let (reader, pid) = start_run(&runner, graceful(&runner));
    assert!(proc::is_alive(pid));
    drop(reader); // the page goes away
    eventually(DEFAULT_TIMEOUT, || {
        if proc::is_alive(pid) {
            Err(format!("{pid} still alive"))
        } else {
            Ok(())
        }
    })
    .unwrap();
    eventually(Duration::from_secs(10), || {
        match runner.children().as_slice() {
            [] => Ok(()),
            left => Err(format!("left running: {left:?}")),
        }
    })
    .unwrap();
    runner.stop();
}

/// The id of chapter 9's `graceful`, which runs until it is signalled.
fn graceful(runner: &Runner) -> u64 {
    runner
        .demos("09-signals.html")
        .into_iter()
        .find(|(_, shown)| shown.starts_with("./target/debug/graceful"))
        .expect("chapter 9 lists graceful without `&`")
        .0
}

/// Start a run and read its stream up to the `start` event; returns the open stream and the
/// demo's pid.
fn start_run(runner: &Runner, id: u64) -> (std::io::BufReader<TcpStream>, u32) {
    let head = format!(
        "POST /api/run HTTP/1.0\r\n{}\r\n{}",
        runner.host(),
        runner.token_header()
    );
    let mut stream = TcpStream::connect(runner.addr).unwrap();
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    let body = format!(r#"{{"id": {id}}}"#);
    write!(
        stream,
        "{head}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(stream);
    loop {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0,
            "stream ended before start"
        );
        if line.starts_with('{') {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["type"] == "start" {
                return (reader, event["pid"].as_u64().unwrap() as u32);
            }
        }
    }
}

#[test]
fn one_run_per_demo_a_global_limit_and_a_time_limit() {
    let runner = Runner::start_with(&["--max-runs", "1", "--time-limit", "3"]);
    let id = graceful(&runner);
    let (mut stream, pid) = start_run(&runner, id);
    let head = format!(
        "POST /api/run HTTP/1.0\r\n{}\r\n{}",
        runner.host(),
        runner.token_header()
    );
    // The same demo again: refused while it runs.
    let (status, _) = runner.send(&head, &format!(r#"{{"id": {id}}}"#));
    assert_eq!(status, 409);
    // Another demo: refused, the one allowed run is taken.
    let card = runner
        .demos("01-processes.html")
        .into_iter()
        .find(|(_, s)| s.contains("target/debug/card"))
        .unwrap()
        .0;
    let (status, _) = runner.send(&head, &format!(r#"{{"id": {card}}}"#));
    assert_eq!(status, 429);
    // graceful never ends by itself: the time limit ends it, and says so.
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    let last: serde_json::Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "error", "{rest}");
    assert!(
        last["message"].as_str().unwrap().contains("time limit"),
        "{rest}"
    );
    eventually(DEFAULT_TIMEOUT, || {
        if proc::is_alive(pid) {
            Err(format!("{pid} alive"))
        } else {
            Ok(())
        }
    })
    .unwrap();
    // The slot is free again.
    let (status, _) = runner.send(&head, &format!(r#"{{"id": {card}}}"#));
    assert_eq!(status, 200);
    runner.stop();
}
