//! Chapter 7 experiment: load on the cluster, every scheduler, keep-alive and
//! `Connection: close`, beside Node's cluster (rr and none) in the same run.
//!
//! ```text
//! cargo run --release -p lab-07 --bin loadtest [-- --seconds 2 --runs 3 --json]
//! ```
//!
//! Load comes from `wrk` when it is on PATH, from a small client of ours otherwise. For
//! each row: requests per second, p50 and p99 latency, the server's CPU time per request
//! (utime + stime of the master and its workers from /proc, before and after), and the
//! busiest worker's share of the requests (each worker reports how many it served).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::experiment::{Machine, Summary, report};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

/// Load on lab-07's cluster and on Node's, every scheduler, keep-alive and close.
#[derive(Parser, Debug)]
#[command(name = "loadtest")]
struct Args {
    /// Seconds of load per row and run.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    seconds: u64,
    /// Runs of every row, interleaved (row A, row B, …, row A, row B, …).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    runs: u64,
    /// Seconds of unmeasured load first (Node's JIT warms up; so do caches).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// Workers in each cluster.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    workers: u64,
    /// Client connections open at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1000))]
    connections: u64,
    /// Measure only the rows whose name contains this text (`rr keep-alive`, `node`).
    #[arg(long)]
    only: Option<String>,
    /// Use our own client even when wrk is installed.
    #[arg(long)]
    no_wrk: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// (internal) serve as a cluster master: `--serve rr|shared|reuseport`.
    #[arg(long, hide = true)]
    serve: Option<lab_07::Sched>,
}

#[derive(Debug, Clone, Copy)]
struct Config {
    server: Server,
    keep_alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Server {
    Rust(lab_07::Sched),
    Node(&'static str),
}

impl Config {
    fn name(&self) -> String {
        let mode = if self.keep_alive {
            "keep-alive"
        } else {
            "close"
        };
        match self.server {
            Server::Rust(s) => format!("rust {} {mode}", s.name()),
            Server::Node(p) => format!("node {p} {mode}"),
        }
    }
}

/// One run of one row.
#[derive(Debug, Clone)]
struct Sample {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_req: f64,
    share_busiest: f64,
    /// Each worker's share of the requests, largest first.
    shares: Vec<f64>,
    errors: f64,
}

fn main() {
    lab_07::run_worker_if_asked();
    let args = Args::parse();
    if let Some(sched) = args.serve {
        let opts = lab_07::master::Options {
            workers: args.workers as usize,
            sched,
            addr: "127.0.0.1:0".parse().expect("a valid address"),
            max_connections: None,
            head_timeout: None,
        };
        std::process::exit(lab_07::master::run(opts).unwrap_or_else(|e| {
            eprintln!("loadtest: {e}");
            1
        }));
    }
    if let Err(e) = run(&args) {
        eprintln!("loadtest: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> io::Result<()> {
    let wrk = !args.no_wrk && tool_runs("wrk", "-v");
    let node = tool_runs("node", "--version");
    let mut configs = Vec::new();
    for keep_alive in [true, false] {
        for sched in [
            lab_07::Sched::Rr,
            lab_07::Sched::Shared,
            lab_07::Sched::Reuseport,
        ] {
            configs.push(Config {
                server: Server::Rust(sched),
                keep_alive,
            });
        }
        if node {
            for policy in ["rr", "none"] {
                configs.push(Config {
                    server: Server::Node(policy),
                    keep_alive,
                });
            }
        }
    }
    if let Some(only) = &args.only {
        configs.retain(|c| c.name().contains(only.as_str()));
        if configs.is_empty() {
            return Err(io::Error::other(format!("no row's name contains {only:?}")));
        }
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); configs.len()];
    for run in 0..args.runs {
        for (i, config) in configs.iter().enumerate() {
            if !args.json {
                eprintln!("run {}/{}: {}", run + 1, args.runs, config.name());
            }
            samples[i].push(measure(args, config, wrk)?);
        }
    }
    let machine = Machine::detect();
    let method = format!(
        "{} workers per cluster; load from {} with {} connections for {} s per row and run \
         after {} s of unmeasured warm-up, {} runs interleaved (median, min..max); keep-alive rows reuse each connection, \
         close rows send `Connection: close` and reconnect per request. Server CPU = utime + \
         stime of the master and its workers from /proc/PID/stat (clock ticks), after minus \
         before, per request. Busiest share = the largest per-worker count / all requests, \
         as the workers report on shutdown (warm-up included). The load generator runs on the same {} CPUs as \
         the server (shared with other work): figures are relative, compare ratios. Build: {}.",
        args.workers,
        if wrk {
            "wrk (1 thread)"
        } else {
            "our own client (1 thread per connection)"
        },
        args.connections,
        args.seconds,
        args.warmup,
        args.runs,
        machine.cpus,
        machine.build()
    );
    let mut rows = Vec::new();
    for (config, samples) in configs.iter().zip(&samples) {
        let field = |f: fn(&Sample) -> f64| {
            Summary::of(&samples.iter().map(f).collect::<Vec<_>>()).expect("at least one run")
        };
        let mut row = field(|s| s.rps).row(&config.name(), "req/s");
        row["p50_ms"] = json!(field(|s| s.p50_ms).median);
        row["p99_ms"] = json!(field(|s| s.p99_ms).median);
        row["cpu_us_per_req"] = json!(field(|s| s.cpu_us_per_req).median);
        row["share_busiest"] = json!(field(|s| s.share_busiest).median);
        row["share_busiest_max"] = json!(field(|s| s.share_busiest).max);
        // Each worker's share in the run whose busiest share is the median one.
        let mut by_busiest: Vec<&Sample> = samples.iter().collect();
        by_busiest.sort_by(|a, b| a.share_busiest.total_cmp(&b.share_busiest));
        row["shares"] = json!(by_busiest[by_busiest.len() / 2].shares);
        row["errors"] = json!(field(|s| s.errors).median);
        rows.push(row);
    }
    let goals = goals(&rows, args.workers);
    let mut doc = report("cluster-load", &machine, &method, rows);
    doc["goals"] = json!(goals);
    // Other work on the machine slows both sides, not always equally: say how busy it was.
    doc["loadavg_at_end"] = json!(
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    );
    if !node {
        doc["skipped"] = json!("node is not on PATH: the Node.js rows were not measured");
    }
    if args.json {
        println!("{doc:#}");
    } else {
        print_table(&doc, &machine);
    }
    Ok(())
}

/// The issue's goals, each met or not, with the ratio it rests on.
fn goals(rows: &[Value], workers: u64) -> Vec<Value> {
    let get = |name: &str, field: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r[field].as_f64())
    };
    let mut goals = Vec::new();
    for mode in ["keep-alive", "close"] {
        let (rust, node) = (format!("rust rr {mode}"), format!("node rr {mode}"));
        let ratio = |field: &str| Some(get(&rust, field)? / get(&node, field)?);
        for (what, field, limit, at_most) in [
            (
                "CPU per request <= 0.5x Node rr's",
                "cpu_us_per_req",
                0.5,
                true,
            ),
            ("req/s >= Node rr's", "median", 1.0, false),
            ("p99 <= 0.5x Node rr's", "p99_ms", 0.5, true),
        ] {
            if let Some(r) = ratio(field) {
                let met = if at_most { r <= limit } else { r >= limit };
                goals.push(
                    json!({"goal": format!("{mode}: {what}"), "ratio": r, "met": met,
                    "limit": limit}),
                );
            }
        }
        if workers == 2
            && let Some(share) = get(&format!("rust rr {mode}"), "share_busiest")
        {
            goals.push(json!({"goal": format!("{mode}: rr busiest worker <= 55%"),
                "ratio": share, "met": share <= 0.55, "limit": 0.55}));
        }
    }
    goals
}

fn print_table(doc: &Value, machine: &Machine) {
    println!("cluster-load: {machine}");
    println!("method: {}", doc["method"].as_str().unwrap_or_default());
    println!();
    println!(
        "{:<26} {:>10} {:>15} {:>8} {:>8} {:>11} {:>14} {:>13} {:>7}",
        "row",
        "req/s",
        "(min..max)",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "busiest (max)",
        "each worker",
        "errors"
    );
    for row in doc["rows"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<26} {:>10.0} {:>15} {:>8.3} {:>8.3} {:>11.1} {:>14} {:>13} {:>7.0}",
            row["name"].as_str().unwrap_or_default(),
            f("median"),
            format!("({:.0}..{:.0})", f("min"), f("max")),
            f("p50_ms"),
            f("p99_ms"),
            f("cpu_us_per_req"),
            format!(
                "{:.0}% ({:.0}%)",
                f("share_busiest") * 100.0,
                f("share_busiest_max") * 100.0
            ),
            row["shares"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| format!("{:.1}", s.as_f64().unwrap_or(f64::NAN) * 100.0))
                .collect::<Vec<_>>()
                .join("/")
                + "%",
            f("errors"),
        );
    }
    println!();
    for goal in doc["goals"].as_array().into_iter().flatten() {
        let shown = format!("{:.3}", goal["ratio"].as_f64().unwrap_or(f64::NAN));
        // A ratio shown as the limit itself can fall either side of it: say which.
        let at_limit = shown == format!("{:.3}", goal["limit"].as_f64().unwrap_or(f64::NAN));
        let verdict = match (goal["met"] == true, at_limit) {
            (true, false) => "met",
            (true, true) => "met, on the limit",
            (false, false) => "NOT met",
            (false, true) => "NOT met, just past the limit",
        };
        println!(
            "goal {:<48} {:>7}  {verdict}",
            goal["goal"].as_str().unwrap_or_default(),
            shown
        );
    }
    println!(
        "load average (1, 5, 15 min) at the end: {}",
        doc["loadavg_at_end"].as_str().unwrap_or_default()
    );
    if let Some(skipped) = doc["skipped"].as_str() {
        println!("{skipped}");
    }
}

fn tool_runs(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A server under test: its master process and its log.
struct Running {
    child: Child,
    log: BufReader<ChildStdout>,
    addr: SocketAddr,
}

fn start(args: &Args, server: Server) -> io::Result<Running> {
    let mut cmd = match server {
        Server::Rust(sched) => {
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.args([
                "--serve",
                sched.name(),
                "--workers",
                &args.workers.to_string(),
            ]);
            cmd
        }
        Server::Node(policy) => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("node/cluster.js");
            let mut cmd = Command::new("node");
            cmd.arg(script)
                .arg(args.workers.to_string())
                .env("NODE_CLUSTER_SCHED_POLICY", policy);
            cmd
        }
    };
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn()?;
    let mut log = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    loop {
        line.clear();
        if log.read_line(&mut line)? == 0 {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!("{server:?} ended before `ready`")));
        }
        if let Some(at) = line.find("addr=") {
            let addr = line[at + 5..].split_whitespace().next().unwrap_or_default();
            let addr = addr.parse().map_err(io::Error::other)?;
            return Ok(Running { child, log, addr });
        }
    }
}

/// CPU time (utime + stime, in microseconds) of `pid` and all its children.
fn tree_cpu_us(pid: u32) -> u64 {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    let mut pids = vec![pid];
    if let Ok(children) = labkit::proc::children(pid) {
        pids.extend(children);
    }
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces): state is field 3,
            // utime field 14, stime field 15.
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum::<u64>()
        * 1_000_000
        / ticks
}

fn measure(args: &Args, config: &Config, wrk: bool) -> io::Result<Sample> {
    let mut server = start(args, config.server)?;
    let pid = server.child.id();
    let load = |seconds: u64| {
        if wrk {
            run_wrk(args, seconds, server.addr, config.keep_alive)
        } else {
            run_client(args, seconds, server.addr, config.keep_alive)
        }
    };
    if args.warmup > 0 {
        load(args.warmup)?;
    }
    let cpu_before = tree_cpu_us(pid);
    let load = load(args.seconds);
    let cpu_after = tree_cpu_us(pid);
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).map_err(io::Error::from)?;
    let mut rest = String::new();
    server.log.read_to_string(&mut rest)?;
    server.child.wait()?;
    let load = load?;
    let served: Vec<u64> = rest
        .lines()
        .filter_map(|l| {
            let at = l.find("(served ")? + 8;
            l[at..].split_whitespace().next()?.parse().ok()
        })
        .collect();
    let total: u64 = served.iter().sum();
    let busiest = served.iter().max().copied().unwrap_or(0);
    let mut shares: Vec<f64> = served
        .iter()
        .map(|n| *n as f64 / total.max(1) as f64)
        .collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    Ok(Sample {
        rps: load.requests as f64 / load.seconds,
        p50_ms: load.p50_ms,
        p99_ms: load.p99_ms,
        cpu_us_per_req: (cpu_after - cpu_before) as f64 / load.requests.max(1) as f64,
        share_busiest: if total > 0 {
            busiest as f64 / total as f64
        } else {
            f64::NAN
        },
        shares,
        errors: load.errors as f64,
    })
}

struct Load {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn run_wrk(args: &Args, seconds: u64, addr: SocketAddr, keep_alive: bool) -> io::Result<Load> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{}", args.connections)])
        .arg(format!("-d{seconds}s"))
        .arg("--latency");
    if !keep_alive {
        cmd.args(["-H", "Connection: close"]);
    }
    let out = cmd
        .arg(format!("http://{addr}/"))
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let bad = || io::Error::other(format!("cannot read wrk's output:\n{text}"));
    let latency = |pct: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.trim_start().starts_with(pct))?;
        parse_duration_ms(line.split_whitespace().nth(1)?)
    };
    // "  123456 requests in 2.00s, 10.00MB read"
    let summary = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .ok_or_else(bad)?;
    let mut words = summary.split_whitespace();
    let requests: u64 = words.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let seconds = words
        .nth(2)
        .and_then(|d| parse_duration_ms(d.trim_end_matches(',')))
        .ok_or_else(bad)?
        / 1000.0;
    let errors = text
        .lines()
        .find(|l| l.contains("Socket errors:"))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(Load {
        requests,
        seconds,
        p50_ms: latency("50%").ok_or_else(bad)?,
        p99_ms: latency("99%").ok_or_else(bad)?,
        errors,
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.00s`, `1.5m`.
fn parse_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// Our own client: one thread per connection, each sending requests back to back.
fn run_client(args: &Args, seconds: u64, addr: SocketAddr, keep_alive: bool) -> io::Result<Load> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..args.connections)
        .map(|_| {
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut conn: Option<TcpStream> = None;
                let request: &[u8] = if keep_alive {
                    b"GET / HTTP/1.1\r\nHost: load\r\n\r\n"
                } else {
                    b"GET / HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n"
                };
                let mut buf = [0u8; 512];
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let result = (|| -> io::Result<()> {
                        let stream = match conn.take() {
                            Some(s) => s,
                            None => TcpStream::connect(addr)?,
                        };
                        let mut stream = stream;
                        stream.write_all(request)?;
                        // Our servers and Node's answer with a short head and a short body:
                        // read until the body's length is in.
                        let mut got = Vec::new();
                        loop {
                            let n = stream.read(&mut buf)?;
                            if n == 0 {
                                return Err(io::ErrorKind::UnexpectedEof.into());
                            }
                            got.extend_from_slice(&buf[..n]);
                            if complete(&got) {
                                break;
                            }
                        }
                        if keep_alive {
                            conn = Some(stream);
                        }
                        Ok(())
                    })();
                    match result {
                        Ok(()) => latencies.push(t.elapsed().as_micros() as u64),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t
            .join()
            .map_err(|_| io::Error::other("a client thread panicked"))?;
        all.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)));
    Ok(Load {
        requests: all.len() as u64,
        seconds,
        p50_ms: pct(0.50).map_or(f64::NAN, |us| *us as f64 / 1000.0),
        p99_ms: pct(0.99).map_or(f64::NAN, |us| *us as f64 / 1000.0),
        errors,
    })
}

/// Whether `got` holds a whole response (head plus `Content-Length` bytes of body).
fn complete(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    got.len() >= end + 4 + len
}
