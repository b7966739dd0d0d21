//! Chapter 2 experiment: the three counters measured side by side, and the same race in
//! Node.js (worker threads on a SharedArrayBuffer) when `node` is on PATH.
//!
//! `cargo run --release -p lab-02 --bin race -- --threads 4 --increments 1000000 --runs 7`
//!
//! Method: each run starts `threads` scoped threads that each add 1 `increments` times;
//! the methods take turns within every run (A/B interleaved) so that a noisy neighbour
//! slows all of them alike; the table shows medians over the runs and the time of each
//! method relative to the atomic counter of the same runtime.

use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_02::counter::{count_racy, count_with_atomic, count_with_mutex};

/// Measure the shared counter: Mutex, atomic add, racy load+store (and Node.js).
#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 4)]
    threads: usize,
    #[arg(long, default_value_t = 1_000_000)]
    increments: u64,
    #[arg(long, default_value_t = 7)]
    runs: usize,
}

/// A counting method: (threads, increments) -> the final value of the counter.
type Counter = fn(usize, u64) -> u64;

struct Row {
    method: &'static str,
    totals: Vec<u64>,
    times: Vec<Duration>,
}

fn median<T: Copy + Ord>(values: &[T]) -> T {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn print_rows(rows: &[Row], exact: u64, baseline: &str) {
    let base = rows
        .iter()
        .find(|r| r.method == baseline)
        .map(|r| median(&r.times));
    for row in rows {
        let total = median(&row.totals);
        let time = median(&row.times);
        let (fastest, slowest) = (
            row.times.iter().min().unwrap(),
            row.times.iter().max().unwrap(),
        );
        let lost = 100.0 * (exact - total.min(exact)) as f64 / exact as f64;
        let ratio = base
            .map(|b| time.as_secs_f64() / b.as_secs_f64())
            .unwrap_or(f64::NAN);
        println!(
            "{:<22} {:>12} {:>7.1}% {:>10.1} ms  {:<15} {:>8.2}x",
            row.method,
            total,
            lost,
            time.as_secs_f64() * 1e3,
            format!(
                "({:.1}..{:.1})",
                fastest.as_secs_f64() * 1e3,
                slowest.as_secs_f64() * 1e3
            ),
            ratio
        );
    }
}

/// Run the Node.js version `runs` times; `None` when node is not installed.
fn node_rows(args: &Args) -> Option<Vec<Row>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/race.mjs");
    let mut rows = vec![
        Row {
            method: "node Atomics.add",
            totals: vec![],
            times: vec![],
        },
        Row {
            method: "node view[0]++",
            totals: vec![],
            times: vec![],
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

fn main() {
    let args = Args::parse();
    if args.runs == 0 || args.threads == 0 {
        eprintln!("race: --runs and --threads must be at least 1");
        std::process::exit(2);
    }
    let exact = args.threads as u64 * args.increments;
    let methods: [(&str, Counter); 3] = [
        ("Mutex", count_with_mutex),
        ("AtomicU64::fetch_add", count_with_atomic),
        ("racy load + store", count_racy),
    ];
    let mut rows: Vec<Row> = methods
        .iter()
        .map(|(method, _)| Row {
            method,
            totals: vec![],
            times: vec![],
        })
        .collect();
    for _ in 0..args.runs {
        for ((_, count), row) in methods.iter().zip(rows.iter_mut()) {
            let started = Instant::now();
            row.totals.push(count(args.threads, args.increments));
            row.times.push(started.elapsed());
        }
    }

    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let build = if cfg!(debug_assertions) {
        "debug (use --release)"
    } else {
        "release"
    };
    println!(
        "shared counter: {} threads x {} increments = {exact} exact; {} runs, interleaved",
        args.threads, args.increments, args.runs
    );
    println!(
        "machine: {cpus} CPUs, Linux {}; build: {build}",
        kernel.trim()
    );
    println!(
        "{:<22} {:>12} {:>8} {:>13}  {:<15} {:>9}",
        "method", "median total", "lost", "median time", "(min..max)", "vs atomic"
    );
    print_rows(&rows, exact, "AtomicU64::fetch_add");
    match node_rows(&args) {
        Some(rows) => {
            print_rows(&rows, exact, "node Atomics.add");
            println!("(node times include starting its worker threads)");
        }
        None => println!("node: not found on PATH, Node.js rows skipped"),
    }
}
