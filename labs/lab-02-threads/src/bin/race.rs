//! Chapter 2 experiment: the counters measured side by side, and the same race in
//! Node.js (worker threads on a SharedArrayBuffer) when `node` is on PATH.
//!
//! `cargo run --release -p lab-02 --bin race -- --threads 4 --increments 1000000 --runs 7`
//!
//! Method: each run starts `threads` scoped threads that each add 1 `increments` times;
//! the methods take turns within every run (A/B interleaved) so that a noisy neighbour
//! slows all of them alike; the table shows medians over the runs, the fastest and the
//! slowest run, the context switches of the whole process during a run (from
//! `getrusage`: voluntary = a thread went to sleep, e.g. on a futex; involuntary = the
//! scheduler preempted it), and the time relative to the atomic counter of the same
//! runtime. `--json` prints the same as one JSON document.

use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_02::counter::{
    count_racy, count_sharded, count_sharded_unpadded, count_with_atomic, count_with_mutex,
};
use lab_02::join::panic_message;
use labkit::experiment::{Machine, Summary, median, report};
use nix::libc::c_long;
use nix::sys::resource::{UsageWho, getrusage};
use serde_json::json;

/// Measure the shared counter: Mutex, atomic add, racy load+store, sharded (and Node.js).
#[derive(Parser)]
struct Args {
    /// Threads that count at the same time.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Increments per thread.
    #[arg(long, default_value_t = 1_000_000)]
    increments: u64,
    /// Runs per method (the table shows the median).
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
}

/// A counting method: (threads, increments) -> the final value of the counter.
type Counter = fn(usize, u64) -> u64;

#[derive(Default)]
struct Row {
    method: &'static str,
    totals: Vec<u64>,
    times: Vec<Duration>,
    /// Context switches of the process during each run; empty for Node.
    switches: Vec<Switches>,
}

/// Context switches counted by `getrusage`: voluntary (a thread went to sleep) and
/// involuntary (the scheduler preempted it).
#[derive(Clone, Copy, Default)]
struct Switches {
    voluntary: c_long,
    involuntary: c_long,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Row {
    /// Wall time per run, in milliseconds.
    fn time(&self) -> Summary {
        let times: Vec<f64> = self.times.iter().map(|&d| ms(d)).collect();
        Summary::of(&times).expect("every run adds a time to every row")
    }

    /// The median final value of the counter.
    fn total(&self) -> u64 {
        median(&self.totals).expect("every run adds a total to every row")
    }
}

fn lost_percent(row: &Row, exact: u64) -> f64 {
    let total = row.total();
    100.0 * (exact - total.min(exact)) as f64 / exact.max(1) as f64
}

fn ratio(row: &Row, base: Option<&Row>) -> Option<f64> {
    base.map(|b| row.time().median / b.time().median)
}

/// The median of each kind of context switch over a row's runs.
fn switches(row: &Row) -> Option<Switches> {
    let voluntary: Vec<c_long> = row.switches.iter().map(|s| s.voluntary).collect();
    let involuntary: Vec<c_long> = row.switches.iter().map(|s| s.involuntary).collect();
    Some(Switches {
        voluntary: median(&voluntary)?,
        involuntary: median(&involuntary)?,
    })
}

fn print_rows(rows: &[Row], exact: u64, baseline: &str) {
    let base = rows.iter().find(|r| r.method == baseline);
    for row in rows {
        let time = row.time();
        let switches = match switches(row) {
            Some(s) => format!("{}/{}", s.voluntary, s.involuntary),
            None => "-".to_string(),
        };
        println!(
            "{:<24} {:>12} {:>6.1}% {:>9.1} ms  {:<15} {:>13} {:>8.2}x",
            row.method,
            row.total(),
            lost_percent(row, exact),
            time.median,
            time.range(),
            switches,
            ratio(row, base).unwrap_or(f64::NAN),
        );
    }
}

fn json_rows(rows: &[Row], exact: u64, baseline: &str) -> Vec<serde_json::Value> {
    let base = rows.iter().find(|r| r.method == baseline);
    rows.iter()
        .map(|row| {
            let mut value = row.time().row(row.method, "ms");
            value["median_total"] = json!(row.total());
            value["exact_total"] = json!(exact);
            value["lost_percent"] = json!(lost_percent(row, exact));
            value["vs_baseline"] = json!(ratio(row, base));
            value["baseline"] = json!(baseline);
            if let Some(s) = switches(row) {
                value["voluntary_switches"] = json!(s.voluntary);
                value["involuntary_switches"] = json!(s.involuntary);
            }
            value
        })
        .collect()
}

/// Run the Node.js version `runs` times; `None` when node is not installed.
fn node_rows(args: &Args) -> Option<Vec<Row>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/race.mjs");
    let mut rows = vec![
        Row {
            method: "node Atomics.add",
            ..Row::default()
        },
        Row {
            method: "node view[0]++",
            ..Row::default()
        },
    ];
    for _ in 0..args.runs {
        let output = Command::new("node")
            .arg(script)
            .arg(args.threads.to_string())
            .arg(args.increments.to_string())
            .output()
            .ok()?;
        if !output.status.success() {
            eprintln!(
                "race: node failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        for (line, row) in String::from_utf8_lossy(&output.stdout)
            .lines()
            .zip(rows.iter_mut())
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(total), Some(ms)) = (
                fields.get(1).and_then(|t| t.parse().ok()),
                fields.get(2).and_then(|m| m.parse::<f64>().ok()),
            ) else {
                eprintln!("race: unexpected line from node: {line:?}");
                return None;
            };
            row.totals.push(total);
            row.times.push(Duration::from_secs_f64(ms / 1e3));
        }
    }
    Some(rows)
}

/// Run one counter. The counters start their threads with `Scope::spawn`, which panics
/// when a thread cannot be started (too many threads, no memory for a stack); make that
/// one line on stderr and exit 1, not a panic message and a backtrace hint.
fn run_counter(count: Counter, threads: usize, increments: u64) -> u64 {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the message is printed below, once
    let result = std::panic::catch_unwind(|| count(threads, increments));
    std::panic::set_hook(default_hook);
    result.unwrap_or_else(|payload| {
        eprintln!("race: {}", panic_message(&*payload));
        std::process::exit(1);
    })
}

fn context_switches() -> Switches {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => Switches {
            voluntary: usage.voluntary_context_switches(),
            involuntary: usage.involuntary_context_switches(),
        },
        Err(_) => Switches::default(),
    }
}

fn main() {
    let args = Args::parse();
    if args.runs == 0 || !(1..=256).contains(&args.threads) {
        eprintln!("race: --runs must be at least 1, --threads 1 to 256");
        std::process::exit(2);
    }
    let Some(exact) = (args.threads as u64).checked_mul(args.increments) else {
        eprintln!("race: --threads x --increments is too large");
        std::process::exit(2);
    };
    let methods: [(&str, Counter); 5] = [
        ("Mutex", count_with_mutex),
        ("AtomicU64::fetch_add", count_with_atomic),
        ("racy load + store", count_racy),
        ("sharded, padded slots", count_sharded),
        ("sharded, packed slots", count_sharded_unpadded),
    ];
    let mut rows: Vec<Row> = methods
        .iter()
        .map(|(method, _)| Row {
            method,
            ..Row::default()
        })
        .collect();
    for _ in 0..args.runs {
        for ((_, count), row) in methods.iter().zip(rows.iter_mut()) {
            let before = context_switches();
            let started = Instant::now();
            row.totals
                .push(run_counter(*count, args.threads, args.increments));
            row.times.push(started.elapsed());
            let after = context_switches();
            row.switches.push(Switches {
                voluntary: after.voluntary - before.voluntary,
                involuntary: after.involuntary - before.involuntary,
            });
        }
    }
    let node = node_rows(&args);

    let machine = Machine::detect();
    let build = machine.build();
    let method = format!(
        "{} threads x {} increments = {exact} exact; {} runs per method, methods interleaved \
         within each run; median, min and max wall time per run; context switches of the \
         process per run (getrusage, median); build: {build}",
        args.threads, args.increments, args.runs
    );
    if args.json {
        let mut all = json_rows(&rows, exact, "AtomicU64::fetch_add");
        if let Some(node) = &node {
            all.extend(json_rows(node, exact, "node Atomics.add"));
        }
        println!("{:#}", report("race", &machine, &method, all));
        return;
    }
    println!(
        "shared counter: {} threads x {} increments = {exact} exact; {} runs, interleaved",
        args.threads, args.increments, args.runs
    );
    println!("{machine}");
    println!(
        "{:<24} {:>12} {:>7} {:>12}  {:<15} {:>13} {:>9}",
        "method",
        "median total",
        "lost",
        "median time",
        "(min..max)",
        "ctx sw vol/inv",
        "vs atomic"
    );
    print_rows(&rows, exact, "AtomicU64::fetch_add");
    match node {
        Some(rows) => {
            print_rows(&rows, exact, "node Atomics.add");
            println!(
                "(node times include starting its worker threads; its ratio is to node Atomics.add)"
            );
        }
        None => println!("node: not found on PATH, Node.js rows skipped"),
    }
}
