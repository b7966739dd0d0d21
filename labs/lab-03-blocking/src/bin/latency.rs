//! Chapter 3 experiment: how long `GET /` takes while a ~2 s `/compute` runs, per mode,
//! beside the same server idle; Node's three servers in the same run when `node` is on PATH.
//!
//! `cargo run --release -p lab-03 --bin latency` (add `--json` for one JSON document)
//!
//! Method: for each server (ours in each mode, on a thread of this process; Node's as a
//! child process), first a warm-up (`WARM_UP` unrecorded computes and `GET /`), then
//! `--requests` × `/compute?n=1` one after another (the cost of the hand-off), then the
//! idle run: `--requests` clients send `GET /`, one every
//! `--compute-ms` × 0.6 / `--requests`, each on its own thread and a new connection. Then a
//! calibration (n doubled until one `/compute` takes a quarter of `--compute-ms`, scaled,
//! then checked with one full-length compute and scaled again) gives the
//! `n` that takes about `--compute-ms` on that server. Then the loaded run: `/compute?n=N`
//! is sent, and once the server logs `compute start`, the same clients on the same
//! schedule, so that every one is sent while the compute runs. For each we record its
//! latency and the compute's remaining time when it was sent (the end of the `/compute`
//! response minus the send time). A blocked `/` should take about that remaining time; a
//! fixed one about its idle latency.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_03::compute::run_as_child_if_asked;
use lab_03::{Config, Mode, serve};
use labkit::ChildGuard;
use labkit::experiment::{Machine, Summary, report};
use serde_json::{Value, json};

/// Latency of GET / while /compute runs, per mode (and Node's servers).
#[derive(Parser)]
struct Args {
    /// How long the compute should take (calibrated per server).
    #[arg(long, default_value_t = 2000)]
    compute_ms: u64,
    /// GET / requests per phase (idle, during the compute).
    #[arg(long, default_value_t = 20)]
    requests: usize,
    /// n of the first calibration compute (doubled until it takes compute-ms / 4).
    #[arg(long, default_value_t = 1_000_000)]
    calibrate_n: u64,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
}

/// The share of the compute's expected time over which the requests are spread: room for
/// a calibration that is off by a third.
const WINDOW: f64 = 0.6;

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// A server under test: its address and its event log.
struct Target {
    name: String,
    blocking: bool,
    addr: SocketAddr,
    events: mpsc::Receiver<String>,
    _node: Option<ChildGuard>,
}

fn rust_target(mode: Mode) -> Fallible<Target> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, events) = mpsc::channel();
    let tx = Mutex::new(tx);
    let config = Config {
        mode,
        read_timeout: Duration::from_secs(30),
        max_connections: 256,
        max_n: u64::MAX,
        pool_workers: 2,
        pool_queue: 16,
        child_exe: std::env::current_exe()?,
    };
    let log = Arc::new(move |line: String| {
        let _ = tx.lock().unwrap().send(line);
    });
    thread::spawn(move || serve(listener, config, log));
    Ok(Target {
        name: format!("rust {mode}"),
        blocking: mode == Mode::Blocking,
        addr,
        events,
        _node: None,
    })
}

fn node_target(mode: &str) -> Fallible<Target> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/server.js");
    let mut cmd = Command::new("node");
    cmd.args([script, mode, "0", "1e18"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut guard = ChildGuard::spawn(&mut cmd)?;
    let stdout = guard.take_stdout().ok_or("no stdout")?;
    let (tx, events) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = wait_event(&events, "ready ")?;
    let addr = labkit::lines::fields(&ready)
        .get("addr")
        .ok_or("no addr= in the ready line")?
        .parse()?;
    Ok(Target {
        name: format!("node {mode}"),
        blocking: mode == "inline",
        addr,
        events,
        _node: Some(guard),
    })
}

fn wait_event(events: &mpsc::Receiver<String>, prefix: &str) -> Fallible<String> {
    loop {
        let line = events.recv_timeout(labkit::DEFAULT_TIMEOUT)?;
        if line.starts_with(prefix) {
            return Ok(line);
        }
    }
}

/// `GET path` on a new connection; the body, and when the response was complete.
fn get(addr: SocketAddr, path: &str) -> Fallible<(String, Instant)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let done = Instant::now();
    let response = labkit::http::parse_response(&raw)?;
    if response.status != 200 {
        return Err(format!("{path}: {} {}", response.status, response.body).into());
    }
    Ok((response.body, done))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Measured {
    name: String,
    blocking: bool,
    idle: Vec<f64>,
    loaded: Vec<f64>,
    remaining: Vec<f64>,
    n: u64,
    compute_ms: f64,
    late: usize,
    handoff: Vec<f64>,
}

/// `requests` clients, the i-th sending `GET /` at `start + i × spacing` on its own thread
/// and connection: (send time, completion time) of each.
fn schedule(
    addr: SocketAddr,
    requests: usize,
    spacing: Duration,
) -> Vec<thread::JoinHandle<Result<(Instant, Instant), String>>> {
    let start = Instant::now();
    (0..requests)
        .map(|i| {
            let at = start + spacing * i as u32;
            thread::spawn(move || {
                thread::sleep(at.saturating_duration_since(Instant::now()));
                let sent = Instant::now();
                let (_, done) = get(addr, "/").map_err(|e| e.to_string())?;
                Ok((sent, done))
            })
        })
        .collect()
}

fn joined(
    clients: Vec<thread::JoinHandle<Result<(Instant, Instant), String>>>,
) -> Fallible<Vec<(Instant, Instant)>> {
    let mut times = Vec::new();
    for client in clients {
        times.push(client.join().map_err(|_| "a client panicked")??);
    }
    Ok(times)
}

/// The n that takes about `compute_ms` on this server: double n until one compute takes
/// at least a quarter of that (so the start-up of a child or a worker, and a JIT's warm-up,
/// are a small part of it), then scale.
fn calibrate(addr: SocketAddr, args: &Args) -> Fallible<u64> {
    let target = args.compute_ms as f64 / 1000.0;
    let timed = |n: u64| -> Fallible<f64> {
        let started = Instant::now();
        get(addr, &format!("/compute?n={n}"))?;
        Ok(started.elapsed().as_secs_f64().max(1e-6))
    };
    let mut n = args.calibrate_n;
    let estimate = loop {
        let took = timed(n)?;
        if took * 4.0 >= target || n > u64::MAX / 4 {
            break (n as f64 * target / took) as u64;
        }
        n *= 2;
    };
    // Check the estimate with one full-length compute and scale once more: a JIT that got
    // faster meanwhile, or a busy CPU during the short runs, no longer throws it off by half.
    let took = timed(estimate.max(1))?;
    Ok((estimate.max(1) as f64 * target / took) as u64)
}

/// Warm the server up before anything is measured: a few computes (Node's JIT compiles the
/// loop after some runs) and a few `GET /`, none of them recorded.
fn warm_up(addr: SocketAddr, args: &Args) -> Fallible<()> {
    for _ in 0..WARM_UP {
        get(addr, &format!("/compute?n={}", args.calibrate_n))?;
        get(addr, "/")?;
    }
    Ok(())
}

/// Unrecorded requests of each kind before a server is measured.
const WARM_UP: usize = 5;

fn measure(target: Target, args: &Args) -> Fallible<Measured> {
    let addr = target.addr;
    let spacing =
        Duration::from_secs_f64(args.compute_ms as f64 * WINDOW / 1000.0 / args.requests as f64);
    warm_up(addr, args)?;
    // The cost of moving the work at all: /compute?n=1, one after another.
    let mut handoff = Vec::new();
    for _ in 0..args.requests {
        let started = Instant::now();
        get(addr, "/compute?n=1")?;
        handoff.push(ms(started.elapsed()));
    }
    let idle: Vec<f64> = joined(schedule(addr, args.requests, spacing))?
        .into_iter()
        .map(|(sent, done)| ms(done - sent))
        .collect();
    let n = calibrate(addr, args)?;
    while target.events.try_recv().is_ok() {}

    let compute_sent = Instant::now();
    let compute =
        thread::spawn(move || get(addr, &format!("/compute?n={n}")).map_err(|e| e.to_string()));
    while !wait_event(&target.events, "conn=")?.contains("compute start") {}
    let clients = schedule(addr, args.requests, spacing);
    let (_, compute_done) = compute
        .join()
        .map_err(|_| "the compute client panicked")??;
    let mut loaded = Vec::new();
    let mut remaining = Vec::new();
    let mut late = 0;
    for (sent, done) in joined(clients)? {
        if sent >= compute_done {
            late += 1; // sent after the compute ended: not a sample of "during"
            continue;
        }
        loaded.push(ms(done - sent));
        remaining.push(ms(compute_done - sent));
    }
    Ok(Measured {
        name: target.name,
        blocking: target.blocking,
        idle,
        loaded,
        remaining,
        n,
        compute_ms: ms(compute_done - compute_sent),
        late,
        handoff,
    })
}

fn main() {
    run_as_child_if_asked();
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("latency: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Fallible<()> {
    if args.requests == 0 || args.compute_ms == 0 || args.calibrate_n == 0 {
        return Err("--requests, --compute-ms and --calibrate-n must be at least 1".into());
    }
    let machine = Machine::detect();
    let node = labkit::tools::tool_runs("node");
    let mut results = Vec::new();
    for mode in [
        Mode::Blocking,
        Mode::SpawnBlocking,
        Mode::Pool,
        Mode::Process,
    ] {
        results.push(measure(rust_target(mode)?, args)?);
    }
    if node {
        for mode in ["inline", "fork", "worker"] {
            results.push(measure(node_target(mode)?, args)?);
        }
    }
    let method = format!(
        "per server: {k} unrecorded /compute and GET / to warm it up; then {r} /compute?n=1 one \
         after another (the cost of sending the work elsewhere and back); then {r} GET / on an idle server, one every {c}x{w}/{r} ms, each from its own \
         thread on a new connection; then /compute?n=N with N calibrated to ~{c} ms, and once \
         the server logs `compute start`, the same {r} GET / on the same schedule; remaining \
         = end of the /compute response - send time; a request sent after the compute ended \
         is not counted (`late`; `runs/late` shows both counts). Calibration doubles n until \
         one compute takes {c}/4 ms, scales, then checks with one full compute and scales \
         again. Rust servers run on a thread of this process, Node's as child processes; {b} \
         build; one run; the compute keeps one of this machine's {cpus} CPUs busy, so the \
         server's thread, the clients and anything else running share {rest}",
        r = args.requests,
        w = WINDOW,
        c = args.compute_ms,
        b = machine.build(),
        k = WARM_UP,
        cpus = machine.cpus,
        rest = match machine.cpus {
            1 => "no CPU of their own: expect the fixed rows to suffer too".to_string(),
            2 => "the other one".to_string(),
            c => format!("the other {}", c - 1),
        },
    );
    let mut rows = Vec::new();
    let mut goals = Vec::new();
    for m in &results {
        let idle = Summary::of(&m.idle).ok_or("no samples")?;
        let loaded = Summary::of(&m.loaded)
            .ok_or_else(|| format!("{}: every request was sent after the compute ended", m.name))?;
        let remaining = Summary::of(&m.remaining).ok_or("no samples")?;
        let handoff = Summary::of(&m.handoff).ok_or("no samples")?;
        rows.push(handoff.row(&format!("{}, /compute?n=1", m.name), "ms"));
        rows.push(idle.row(&format!("{}, / idle", m.name), "ms"));
        let mut row = loaded.row(&format!("{}, / during compute", m.name), "ms");
        row["remaining_median_ms"] = json!(remaining.median);
        row["compute_n"] = json!(m.n);
        row["compute_ms"] = json!(m.compute_ms);
        row["late"] = json!(m.late);
        rows.push(row);
        if m.blocking {
            let ratio = loaded.median / remaining.median.max(1e-9);
            goals.push(json!({
                "goal": format!("{}: / during compute ≈ the compute's remaining time (median ratio 0.8..1.25)", m.name),
                "ratio": ratio,
                "met": (0.8..=1.25).contains(&ratio),
            }));
        } else {
            let ratio = loaded.median / idle.median.max(1e-9);
            goals.push(json!({
                "goal": format!("{}: / during compute ≤ 2x idle (median)", m.name),
                "ratio": ratio,
                "met": ratio <= 2.0,
            }));
        }
    }
    if !node {
        goals.push(json!({"goal": "node servers", "skipped": "skipped (node not found on PATH)"}));
    }
    let mut doc = report("latency", &machine, &method, rows);
    doc["goals"] = Value::Array(goals);
    if args.json {
        println!("{doc:#}");
        return Ok(());
    }
    println!("latency of GET / while /compute runs");
    println!("{machine}");
    println!("method: {method}");
    println!();
    println!(
        "{:<40} {:>10} {:>18} {:>13} {:>11} {:>12}",
        "server, phase", "median ms", "(min..max)", "remaining ms", "compute ms", "runs/late"
    );
    for row in doc["rows"].as_array().unwrap() {
        let remaining = row["remaining_median_ms"]
            .as_f64()
            .map_or(String::new(), |r| format!("{r:.1}"));
        let compute = row["compute_ms"]
            .as_f64()
            .map_or(String::new(), |c| format!("{c:.0}"));
        let counted = match (row["runs"].as_u64(), row["late"].as_u64()) {
            (Some(d), Some(l)) => format!("{d}/{l}"),
            _ => String::new(),
        };
        println!(
            "{:<40} {:>10.2} {:>18} {:>13} {:>11} {:>12}",
            row["name"].as_str().unwrap_or(""),
            row["median"].as_f64().unwrap_or(0.0),
            format!(
                "({:.2}..{:.2})",
                row["min"].as_f64().unwrap_or(0.0),
                row["max"].as_f64().unwrap_or(0.0)
            ),
            remaining,
            compute,
            counted
        );
    }
    println!();
    for goal in doc["goals"].as_array().unwrap() {
        match goal.get("ratio").and_then(Value::as_f64) {
            Some(ratio) => println!(
                "{} {}: ratio {ratio:.2}",
                if goal["met"] == true {
                    "met    "
                } else {
                    "NOT met"
                },
                goal["goal"].as_str().unwrap_or("")
            ),
            None => println!("{}", goal["skipped"].as_str().unwrap_or("")),
        }
    }
    Ok(())
}
