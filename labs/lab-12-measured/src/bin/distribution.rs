//! Chapter 12 experiment, beyond one machine: chapter 7's cluster on two or three "hosts"
//! (network namespaces joined by veth cables) behind nginx, as root.
//!
//! ```text
//! sudo ./target/release/distribution [--hosts 3] [--seconds 5] [--runs 3] [--json]
//! ```
//!
//! It measures requests per second straight to one host and through nginx to all of
//! them, each host's share of the requests, and then kills one host halfway through a
//! run and counts the requests that failed: in flight at the kill, and sent after it.
//! Every host runs this same program in `--serve` mode, which is lab-07's cluster master
//! (from lab-07's library) with the flags of lab-07's `cluster` binary.

use std::ffi::OsString;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use lab_12::distribution::{self, KillOutcome, Load, Options, Request, Site};
use labkit::experiment::{Machine, Summary, report};
use nix::sys::signal::{SigSet, Signal};
use serde_json::{Value, json};

/// Chapter 7's cluster on several network-namespace hosts behind nginx (needs root).
#[derive(Parser, Debug)]
#[command(name = "distribution")]
struct Args {
    /// How many hosts (network namespaces, one cluster each).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=8))]
    hosts: u64,
    /// Seconds of load per row and run (the kill run lasts as long, the kill halfway).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    seconds: u64,
    /// Runs of the steady rows, interleaved (direct, nginx -> h1, nginx -> all, …).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    runs: u64,
    /// Client connections open at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=512))]
    connections: u64,
    /// Workers in each host's cluster.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
    workers: u64,
    /// Let nginx pass a failed request to the client instead of trying the next host
    /// (`proxy_next_upstream off`), to see what the retry hides.
    #[arg(long)]
    no_retry: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// (internal) be a host's cluster master: lab-07's `cluster` with these flags.
    #[arg(long, hide = true)]
    serve: bool,
    /// (internal, with --serve) the scheduler.
    #[arg(long, hide = true, value_enum, default_value = "shared")]
    sched: lab_07::Sched,
    /// (internal, with --serve) the address to listen on.
    #[arg(long, hide = true, default_value = "0.0.0.0:8080")]
    addr: SocketAddrV4,
}

fn main() {
    // A host's cluster master starts its workers from this same executable.
    lab_07::run_worker_if_asked();
    let args: Args = lab_04::cli::parse("distribution");
    if args.serve {
        let opts = lab_07::master::Options {
            workers: args.workers as usize,
            sched: args.sched,
            addr: args.addr,
            max_connections: None,
            head_timeout: None,
        };
        std::process::exit(lab_07::master::run(opts).unwrap_or_else(|e| {
            eprintln!("distribution --serve: {e}");
            1
        }));
    }
    if let Err(why) = distribution::preflight() {
        eprintln!("distribution: {why}");
        std::process::exit(2);
    }
    catch_interrupts();
    if let Err(e) = run(&args) {
        eprintln!("distribution: {e}");
        let interrupted = e.kind() == io::ErrorKind::Interrupted;
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}

/// Set when SIGINT, SIGTERM or SIGHUP arrived: the run stops, and the site is torn down
/// as usual (a process killed by the signal would leave its namespaces behind).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Block the three signals in this thread before any other starts (threads inherit the
/// mask; `Command` clears it in children), and take them in a thread of their own.
fn catch_interrupts() {
    let mut set = SigSet::empty();
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(sig);
    }
    if set.thread_block().is_ok() {
        std::thread::spawn(move || {
            while set.wait().is_ok() {
                INTERRUPTED.store(true, Ordering::SeqCst);
            }
        });
    }
}

/// Sleep for `time`, or less if interrupted (then an `Interrupted` error).
fn pause(time: Duration) -> io::Result<()> {
    let end = Instant::now() + time;
    while Instant::now() < end {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(50)));
    }
    Ok(())
}

/// Load on `addr` for `seconds`; the requests, and the seconds it really lasted.
fn load_for(addr: SocketAddr, args: &Args, seconds: f64) -> io::Result<(Vec<Request>, f64)> {
    let load = Load::start(addr, args.connections as usize);
    pause(Duration::from_secs_f64(seconds))?;
    let elapsed = load.now().as_secs_f64();
    Ok((load.finish(), elapsed))
}

fn rate(requests: &[Request], seconds: f64) -> f64 {
    requests.iter().filter(|r| r.ok()).count() as f64 / seconds
}

fn run(args: &Args) -> io::Result<()> {
    let opts = Options {
        hosts: args.hosts as usize,
        workers: args.workers as usize,
        server: vec![
            std::env::current_exe()?.into_os_string(),
            OsString::from("--serve"),
        ],
        retry: !args.no_retry,
    };
    let say = |line: &str| {
        if !args.json {
            eprintln!("{line}");
        }
    };
    let mut site = Site::start(&opts)?;
    say(&format!(
        "built: {} behind nginx at {}",
        site.hosts()
            .iter()
            .map(|h| format!("{} ({})", h.netns, h.endpoint()))
            .collect::<Vec<_>>()
            .join(", "),
        site.addr()
    ));
    let n = site.hosts().len();
    let direct = SocketAddr::V4(site.hosts()[0].endpoint());
    let seconds = args.seconds as f64;
    let one_host = site.nginx_for(&[0])?;
    let (mut direct_rps, mut one_rps, mut nginx_rps) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = 0;
    let mut shares: Vec<Vec<f64>> = vec![Vec::new(); n];
    for run in 1..=args.runs {
        say(&format!("run {run}/{}: direct -> h1", args.runs));
        let (requests, took) = load_for(direct, args, seconds)?;
        direct_rps.push(rate(&requests, took));
        failed += requests.iter().filter(|r| !r.ok()).count();
        say(&format!("run {run}/{}: nginx -> h1", args.runs));
        let (requests, took) = load_for(one_host.addr(), args, seconds)?;
        one_rps.push(rate(&requests, took));
        failed += requests.iter().filter(|r| !r.ok()).count();
        say(&format!("run {run}/{}: nginx -> {n} hosts", args.runs));
        let (requests, took) = load_for(site.addr(), args, seconds)?;
        nginx_rps.push(rate(&requests, took));
        failed += requests.iter().filter(|r| !r.ok()).count();
        let served = site.served_per_host(&requests);
        let total: u64 = served.iter().sum();
        for (h, count) in served.iter().enumerate() {
            shares[h].push(100.0 * *count as f64 / total.max(1) as f64);
        }
    }

    drop(one_host);

    // The kill run: load through nginx, the last host killed halfway.
    let victim = n - 1;
    say(&format!(
        "kill run: nginx -> {n} hosts, h{} killed after {:.1} s",
        victim + 1,
        seconds / 2.0
    ));
    let dead = site.hosts()[victim].workers().to_vec();
    let load = Load::start(site.addr(), args.connections as usize);
    pause(Duration::from_secs_f64(seconds / 2.0))?;
    let began = load.now();
    site.kill_host(victim);
    let over = load.now();
    pause(Duration::from_secs_f64(seconds / 2.0))?;
    let end = load.now();
    let requests = load.finish();
    let kill = KillOutcome::of(&requests, began, over, &dead);
    let after: Vec<Request> = requests
        .iter()
        .filter(|r| r.start >= over)
        .copied()
        .collect();
    let after_rps = rate(&after, (end - over).as_secs_f64());
    let retried = site.retried().len();
    // What nginx noted about the hosts: each kind of line once, with how often, without
    // the timestamp, process ids and connection number that vary.
    let mut noted: Vec<(String, u64)> = Vec::new();
    for line in site
        .nginx_error_log()
        .lines()
        .filter(|l| l.contains("upstream"))
    {
        let text = line.split_once(": ").map_or(line, |(_, rest)| rest);
        let text = text
            .split_once(' ')
            .filter(|(n, _)| n.starts_with('*'))
            .map_or(text, |(_, rest)| rest);
        match noted.iter_mut().find(|(t, _)| t == text) {
            Some((_, count)) => *count += 1,
            None => noted.push((text.to_string(), 1)),
        }
    }
    let names = site.netns_names();
    drop(site);
    let left: Vec<String> = distribution::host::ip(&["netns", "list"])?
        .lines()
        .filter(|l| names.iter().any(|n| l.split_whitespace().next() == Some(n)))
        .map(str::to_string)
        .collect();

    let machine = Machine::detect();
    let method = format!(
        "{n} hosts, each a network namespace with a veth cable to the root namespace and \
         chapter 7's cluster inside ({} worker(s), shared listener, port 8080); nginx {} in \
         the root namespace (worker_processes auto, keep-alive to the hosts, \
         proxy_next_upstream {}, max_fails=1 fail_timeout=10s). Load: our own client, {} \
         keep-alive connections (1 thread each) to 127.0.0.1, {} s per row and run, {} runs \
         interleaved (median, min..max); `direct` bypasses nginx and loads h1 alone; \
         `nginx -> h1` is a second nginx, configured alike, in front of h1 only. Share = the \
         host's part of the successful requests, told by the worker pid in each answer. \
         Kill run: one run of {} s through nginx; h{} killed (SIGSTOP, \
         SIGKILL to its workers and master, reaped) halfway; `in flight` = sent before the \
         kill was over and answered after it began; `after` = sent after every process of \
         the host was reaped. Everything (clients, nginx, hosts) shares the same {} CPUs: \
         compare ratios. Build: {}.",
        args.workers,
        distribution::nginx::version().unwrap_or_default(),
        if args.no_retry {
            "off"
        } else {
            "error timeout"
        },
        args.connections,
        args.seconds,
        args.runs,
        args.seconds,
        victim + 1,
        machine.cpus,
        machine.build()
    );
    let one = |v: f64| Summary::of(&[v]).expect("one sample");
    let many = |v: &[f64]| Summary::of(v).expect("at least one run");
    let mut rows = vec![
        many(&direct_rps).row("direct -> h1 req/s", "req/s"),
        many(&one_rps).row("nginx -> h1 req/s", "req/s"),
        many(&nginx_rps).row(&format!("nginx -> {n} hosts req/s"), "req/s"),
    ];
    for (h, s) in shares.iter().enumerate() {
        rows.push(many(s).row(&format!("nginx -> {n} hosts: h{} share", h + 1), "%"));
    }
    rows.push(one(after_rps).row(
        &format!("nginx -> {} hosts after h{} died req/s", n - 1, victim + 1),
        "req/s",
    ));
    for (name, value) in [
        ("failed before the kill", kill.failed_before),
        ("failed in flight at the kill", kill.failed_in_flight),
        ("failed after the kill", kill.failed_after),
        (
            "answered by the dead host after",
            kill.answered_by_dead_host,
        ),
        ("retried by nginx on another host", retried as u64),
    ] {
        rows.push(one(value as f64).row(name, "requests"));
    }
    let mut doc = report("distribution", &machine, &method, rows);
    let every_host_served = shares.iter().all(|s| s.iter().all(|p| *p > 0.0));
    doc["goals"] = json!([
        {"goal": "every host served requests through nginx", "met": every_host_served},
        {"goal": "no failed request after the kill", "met": kill.failed_after == 0},
        {"goal": "no failed request in the steady runs", "met": failed == 0},
        {"goal": "no namespace left behind", "met": left.is_empty()},
    ]);
    doc["requests_after_kill"] = json!(kill.ok_after + kill.failed_after);
    doc["namespaces"] = json!(names);
    doc["nginx_error_log"] = json!(
        noted
            .iter()
            .map(|(line, count)| json!({"line": line, "count": count}))
            .collect::<Vec<_>>()
    );
    if args.json {
        println!("{doc:#}");
    } else {
        print_table(&doc, &machine);
    }
    Ok(())
}

fn print_table(doc: &Value, machine: &Machine) {
    println!("distribution: {machine}");
    println!("method: {}", doc["method"].as_str().unwrap_or_default());
    println!();
    println!(
        "{:<42} {:>10} {:>17} {:>9}",
        "row", "median", "(min..max)", "unit"
    );
    for row in doc["rows"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        let digits = if row["unit"] == "%" { 1 } else { 0 };
        println!(
            "{:<42} {:>10.digits$} {:>17} {:>9}",
            row["name"].as_str().unwrap_or_default(),
            f("median"),
            format!("({:.digits$}..{:.digits$})", f("min"), f("max")),
            row["unit"].as_str().unwrap_or_default(),
        );
    }
    println!();
    for goal in doc["goals"].as_array().into_iter().flatten() {
        let verdict = if goal["met"] == true {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "goal {:<48} {verdict}",
            goal["goal"].as_str().unwrap_or_default()
        );
    }
    println!();
    for noted in doc["nginx_error_log"].as_array().into_iter().flatten() {
        println!(
            "nginx error log, {} x: {}",
            noted["count"],
            noted["line"].as_str().unwrap_or_default()
        );
    }
}
