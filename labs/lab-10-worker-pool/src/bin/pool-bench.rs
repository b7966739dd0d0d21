//! Chapter 10 experiment: what the pool buys and what it costs.
//!
//! `cargo run --release -p lab-10 --bin pool-bench`
//!
//! 1. CPU-bound jobs on our `ThreadPool` with 1, 2, … N workers (N = available
//!    parallelism): the speed-up over one worker.
//! 2. Tiny jobs (a multiply each), per job: our pool, a thread per job (stage 1), and rayon's
//!    `scope` + `spawn` on a rayon pool of N threads.
//! 3. Node, when `node` is on PATH: a `Worker`'s start-up and one `postMessage` round trip,
//!    timed by Node's own clock.
//!
//! Rounds are interleaved (every variant once per round); the table shows the median round
//! with the fastest and slowest. `--json` prints one JSON document with the goals' verdicts.

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use lab_10::ThreadPool;
use lab_10::pool::{s1_thread_per_job, s4_results};
use labkit::experiment::{Machine, Summary, report};
use serde_json::{Value, json};

const NAME: &str = "pool-bench";

/// Measure the pool: CPU speed-up by worker count; per-job cost against a thread per job,
/// rayon and Node's Worker.
#[derive(Parser)]
struct Args {
    /// CPU-bound jobs per run.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    cpu_jobs: u32,
    /// Work per CPU-bound job, in millions of xorshift steps.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    cpu_work: u32,
    /// Tiny jobs per run.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    tiny_jobs: u32,
    /// Rounds (the table shows the median round).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
}

/// `steps` xorshift steps: CPU work the optimiser cannot skip.
fn spin(seed: u64, steps: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn tiny(i: u64) -> u64 {
    black_box(i).wrapping_mul(3)
}

/// CPU time this process has used, in seconds (utime + stime of /proc/self/stat, in clock
/// ticks of 10 ms: `sysconf(_SC_CLK_TCK)` is 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After "pid (comm)": state is fields[0], so utime (field 14) is [11], stime [12].
    (ticks(11) + ticks(12)) / 100.0
}

/// Milliseconds to run `jobs` CPU jobs on a pool of `workers`, and the CPUs kept busy
/// meanwhile (CPU time over wall time: 2.0 means both of two CPUs all the time).
fn cpu_run(workers: usize, jobs: u32, steps: u64) -> (f64, f64) {
    let pool = ThreadPool::new(workers, jobs as usize);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let handles: Vec<_> = (0..u64::from(jobs))
        .map(|i| pool.submit(move || spin(i, steps)))
        .collect();
    let total = handles
        .into_iter()
        .fold(0u64, |acc, h| acc ^ h.join().expect("no panic"));
    let wall = started.elapsed().as_secs_f64();
    let busy = (cpu_seconds() - cpu_before) / wall;
    black_box(total);
    (wall * 1e3, busy)
}

/// Microseconds per tiny job on our pool (queue of 1024), submitted and joined from main.
fn tiny_ours(workers: usize, jobs: u32) -> f64 {
    let pool = ThreadPool::new(workers, 1024);
    let started = Instant::now();
    let handles: Vec<_> = (0..u64::from(jobs))
        .map(|i| pool.submit(move || tiny(i)))
        .collect();
    let sum: u64 = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    us
}

/// The same with stage 4's pool, whose result travels through a one-slot channel per job.
fn tiny_stage4(workers: usize, jobs: u32) -> f64 {
    let pool = s4_results::ResultPool::new(workers, 1024);
    let started = Instant::now();
    let receivers: Vec<_> = (0..u64::from(jobs))
        .map(|i| pool.submit(move || tiny(i)))
        .collect();
    let sum: u64 = receivers
        .into_iter()
        .map(|rx| rx.recv().expect("a result").expect("no panic"))
        .sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    us
}

/// Microseconds per tiny job with a thread of its own each.
fn tiny_thread_per_job(jobs: u32) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..u64::from(jobs))
        .map(|i| s1_thread_per_job::submit(move || tiny(i)))
        .collect();
    let sum: u64 = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    us
}

/// Microseconds per tiny job on a rayon pool: one `scope`, a `spawn` per job, each job
/// writing its own slot.
fn tiny_rayon(pool: &rayon::ThreadPool, jobs: u32) -> f64 {
    let mut results = vec![0u64; jobs as usize];
    let started = Instant::now();
    pool.scope(|s| {
        for (i, slot) in results.iter_mut().enumerate() {
            s.spawn(move |_| *slot = tiny(i as u64));
        }
    });
    let sum: u64 = results.iter().sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    us
}

/// Microseconds per tiny job submitted to a rayon pool from outside it, the way our pool is
/// used: `ThreadPool::spawn` per job and a one-slot channel for its result.
fn tiny_rayon_spawn(pool: &rayon::ThreadPool, jobs: u32) -> f64 {
    let started = Instant::now();
    let results: Vec<_> = (0..u64::from(jobs))
        .map(|i| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            pool.spawn(move || {
                let _ = tx.send(tiny(i));
            });
            rx
        })
        .collect();
    let sum: u64 = results
        .into_iter()
        .map(|rx| rx.recv().expect("a result"))
        .sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    us
}

/// One Node run: worker start-up times (ms) and the round trip (µs); None without node.
fn node_run(starts: u32, trips: u32) -> Option<(Vec<f64>, f64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/worker-cost.js");
    let out = Command::new("node")
        .arg(script)
        .arg(starts.to_string())
        .arg(trips.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let doc: Value = serde_json::from_slice(&out.stdout).ok()?;
    let starts = doc["start_ms"]
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    Some((starts, doc["round_trip_us"].as_f64()?))
}

struct Row {
    name: String,
    unit: &'static str,
    samples: Vec<f64>,
    threads: usize,
    /// CPU rows: CPUs busy per round.
    busy: Vec<f64>,
}

impl Row {
    fn new(name: impl Into<String>, unit: &'static str, threads: usize) -> Row {
        Row {
            name: name.into(),
            unit,
            samples: Vec::new(),
            threads,
            busy: Vec::new(),
        }
    }
    fn summary(&self) -> Summary {
        Summary::of(&self.samples).expect("every round adds a sample to every row kept")
    }
}

fn main() {
    let args: Args = lab_10::cli::parse(NAME);
    let machine = Machine::detect();
    let n = machine.cpus.max(2);
    let steps = u64::from(args.cpu_work) * 1_000_000;

    let mut cpu: Vec<Row> = (1..=n)
        .map(|t| Row::new(format!("cpu jobs, pool of {t}"), "ms per run", t))
        .collect();
    let mut tiny_rows = vec![
        Row::new(format!("tiny jobs, our pool of {n}"), "us per job", n),
        Row::new(format!("tiny jobs, stage 4 pool of {n}"), "us per job", n),
        Row::new("tiny jobs, a thread per job", "us per job", 0),
        Row::new(format!("tiny jobs, rayon pool of {n}"), "us per job", n),
        Row::new("tiny jobs, rayon spawn from outside", "us per job", n),
    ];
    let rayon_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("a rayon pool");
    let mut node_start = Some(Row::new("node Worker start-up", "ms per worker", 1));
    let mut node_trip = Some(Row::new("node postMessage round trip", "us per trip", 1));

    for _ in 0..args.rounds {
        for row in cpu.iter_mut() {
            let (ms, busy) = cpu_run(row.threads, args.cpu_jobs, steps);
            row.samples.push(ms);
            row.busy.push(busy);
        }
        let jobs = args.tiny_jobs;
        let samples = [
            tiny_ours(n, jobs),
            tiny_stage4(n, jobs),
            tiny_thread_per_job(jobs),
            tiny_rayon(&rayon_pool, jobs),
            tiny_rayon_spawn(&rayon_pool, jobs),
        ];
        for (row, us) in tiny_rows.iter_mut().zip(samples) {
            row.samples.push(us);
        }
        if node_start.is_some() {
            match node_run(1, args.tiny_jobs.min(2000)) {
                Some((starts, trip)) => {
                    if let (Some(s), Some(t)) = (node_start.as_mut(), node_trip.as_mut()) {
                        s.samples.extend(starts);
                        t.samples.push(trip);
                    }
                }
                None => {
                    node_start = None;
                    node_trip = None;
                }
            }
        }
    }
    let node_missing = node_start.is_none();

    let one = cpu[0].summary().median;
    let two = cpu[1].summary().median;
    let speedup_2 = one / two;
    let ours = tiny_rows[0].summary().median;
    let rayon = tiny_rows[3].summary().median;
    let vs_rayon = ours / rayon;
    let vs_rayon_outside = ours / tiny_rows[4].summary().median;
    let goals = json!([
        {"goal": "CPU-bound jobs: speed-up with 2 workers over 1 is at least 1.8x",
         "value": speedup_2, "met": speedup_2 >= 1.8},
        {"goal": "tiny jobs: our time per job is at most 1.5x rayon's",
         "value": vs_rayon, "met": vs_rayon <= 1.5},
        {"goal": "tiny jobs: our time per job is at most 1.5x rayon's spawn from outside",
         "value": vs_rayon_outside, "met": vs_rayon_outside <= 1.5},
    ]);
    let method = format!(
        "{rounds} rounds, every variant once per round (interleaved); median, min and max over \
         the rounds. CPU: {jobs} jobs of {work}M xorshift steps on a fresh ThreadPool of 1..{n} \
         workers (queue = jobs), timed from the first submit to the last join. Tiny: {tiny} jobs \
         (one multiply each) submitted and joined from the main thread: our ThreadPool of {n} \
         (queue 1024), stage 4's pool (the same, with a one-slot channel per result), a std \
         thread per job, a rayon pool of {n} (one scope, a spawn per job), the same rayon pool fed from \
         outside (ThreadPool::spawn and a one-slot channel per job). \
         Node: one `node` process per round, its own clock; Worker start-up = new Worker until \
         its first message; round trip = postMessage and the reply, averaged over {trips}. The \
         machine's {cpus} CPUs are shared with other work: expect noise. Build: {build}",
        rounds = args.rounds,
        jobs = args.cpu_jobs,
        work = args.cpu_work,
        tiny = args.tiny_jobs,
        trips = args.tiny_jobs.min(2000),
        cpus = machine.cpus,
        build = machine.build(),
    );
    let mut rows: Vec<Row> = cpu;
    rows.extend(tiny_rows);
    rows.extend(node_start);
    rows.extend(node_trip);

    if args.json {
        let json_rows = rows
            .iter()
            .map(|r| {
                let s = r.summary();
                let mut row = s.row(&r.name, r.unit);
                if r.unit == "ms per run" {
                    row["workers"] = json!(r.threads);
                    row["speedup_vs_1"] = json!(one / s.median);
                    row["cpus_busy_median"] = json!(Summary::of(&r.busy).map(|b| b.median));
                }
                if r.unit == "us per job" {
                    row["vs_rayon"] = json!(s.median / rayon);
                }
                row
            })
            .collect();
        let mut doc = report(NAME, &machine, &method, json_rows);
        doc["goals"] = goals;
        println!("{doc:#}");
        return;
    }
    println!("pool-bench: {method}");
    println!("{machine}");
    println!(
        "{:<36} {:>10} {:<14} {:<17} ratio",
        "row", "median", "unit", "(min..max)"
    );
    for r in &rows {
        let s = r.summary();
        let ratio = match r.unit {
            "ms per run" => format!(
                "{:.2}x, {:.1} CPUs busy",
                one / s.median,
                Summary::of(&r.busy).map_or(0.0, |b| b.median)
            ),
            "us per job" => format!("{:.2}x", s.median / rayon),
            _ => String::new(),
        };
        println!(
            "{:<36} {:>10.2} {:<14} {:<17} {}",
            r.name,
            s.median,
            r.unit,
            s.range(),
            ratio
        );
    }
    println!(
        "ratio: speed-up over 1 worker and CPU time / wall time (cpu rows); time per job over rayon's (tiny rows)"
    );
    for g in goals.as_array().expect("an array") {
        println!(
            "goal: {}: {:.2} -> {}",
            g["goal"].as_str().unwrap_or_default(),
            g["value"].as_f64().unwrap_or_default(),
            if g["met"] == true { "met" } else { "NOT met" }
        );
    }
    if node_missing {
        println!("node: not found on PATH (or it failed), Node.js rows skipped");
    }
}
