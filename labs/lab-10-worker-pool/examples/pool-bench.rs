//! Chapter 10 experiment: what the pool buys and what it costs.
//!
//! `cargo run --release -p lab-10 --example pool-bench`
//!
//! 1. CPU-bound jobs on our `ThreadPool` with 1, 2, … N workers (N = available
//!    parallelism): the speed-up over one worker.
//! 2. Tiny jobs (a multiply each), per job: our pool, stage 4's pool, a spin-before-park
//!    variant of our pool, a thread per job
//!    (stage 1, up to `THREAD_PER_JOB_MAX` jobs), and rayon's `scope` + `spawn` on a rayon
//!    pool of N threads, and the same rayon pool fed from outside.
//! 3. Node, when `node` is on PATH: a `Worker`'s start-up and one `postMessage` round trip,
//!    timed by Node's own clock.
//!
//! Rounds are interleaved (every variant once per round); the table shows the median round
//! with the fastest and slowest. `--json` prints one JSON document with the goals' verdicts.
//! It is an example, not a binary, so that rayon stays a dev-dependency of lab-10; the
//! table and the report are built by `lab_10::bench`, which the tests check.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use lab_10::ThreadPool;
use lab_10::bench::{Args, NAME, Row, json_report, table, thread_per_job_runs, tiny_row_names};
use lab_10::pool::{s1_thread_per_job, s4_results};
use labkit::experiment::Machine;
use serde_json::Value;

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

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How many times a spinning worker (or joiner) tries again, yielding in between, before it
/// sleeps: rayon-core's sleep module uses 32 rounds.
const SPINS: u32 = 32;

/// `recv` that first polls the queue `SPINS` times, yielding the CPU in between.
fn spin_recv(rx: &Receiver<Job>) -> Option<Job> {
    for _ in 0..SPINS {
        match rx.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    rx.recv().ok()
}

/// A result slot whose `join` also spins before it sleeps on the condvar.
#[derive(Default)]
struct SpinSlot {
    value: Mutex<Option<u64>>,
    ready: Condvar,
    done: AtomicBool,
}

impl SpinSlot {
    fn fill(&self, v: u64) {
        *self.value.lock().expect("no panic under the lock") = Some(v);
        self.done.store(true, Ordering::Release);
        self.ready.notify_one();
    }
    fn join(&self) -> u64 {
        for _ in 0..SPINS {
            if self.done.load(Ordering::Acquire) {
                break;
            }
            std::thread::yield_now();
        }
        let mut value = self.value.lock().expect("no panic under the lock");
        loop {
            if let Some(v) = value.take() {
                return v;
            }
            value = self.ready.wait(value).expect("no panic under the lock");
        }
    }
}

/// Microseconds per tiny job on a variant of our pool whose workers spin before they sleep
/// (the same queue of 1024 under a Mutex, a slot per result): spin-before-park, as rayon does.
fn tiny_spinning(workers: usize, jobs: u32) -> f64 {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(1024);
    let rx = Arc::new(Mutex::new(rx));
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let rx = Arc::clone(&rx);
            std::thread::spawn(move || {
                loop {
                    let next = spin_recv(&rx.lock().expect("no panic under the lock"));
                    match next {
                        Some(job) => job(),
                        None => return,
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let slots: Vec<Arc<SpinSlot>> = (0..u64::from(jobs))
        .map(|i| {
            let slot = Arc::new(SpinSlot::default());
            let filled = Arc::clone(&slot);
            tx.send(Box::new(move || filled.fill(tiny(i))))
                .expect("workers running");
            slot
        })
        .collect();
    let sum: u64 = slots.iter().map(|s| s.join()).sum();
    let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(jobs);
    black_box(sum);
    drop(tx);
    for t in threads {
        t.join().expect("a worker ends");
    }
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

fn main() {
    let args: Args = lab_10::cli::parse(NAME);
    let machine = Machine::detect();
    let n = machine.cpus.max(2);
    let steps = u64::from(args.cpu_work) * 1_000_000;
    let with_threads = thread_per_job_runs(args.tiny_jobs);

    let mut cpu: Vec<Row> = (1..=n)
        .map(|t| Row::new(format!("cpu jobs, pool of {t}"), "ms per run", t))
        .collect();
    let mut tiny_rows: Vec<Row> = tiny_row_names(n, with_threads)
        .into_iter()
        .map(|name| Row::new(name, "us per job", n))
        .collect();
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
        let mut samples = vec![
            tiny_ours(n, jobs),
            tiny_stage4(n, jobs),
            tiny_spinning(n, jobs),
        ];
        if with_threads {
            samples.push(tiny_thread_per_job(jobs));
        }
        samples.push(tiny_rayon(&rayon_pool, jobs));
        samples.push(tiny_rayon_spawn(&rayon_pool, jobs));
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
    let mut rows: Vec<Row> = cpu;
    rows.extend(tiny_rows);
    rows.extend(node_start);
    rows.extend(node_trip);

    let text = if args.json {
        format!("{:#}\n", json_report(&args, &machine, n, &rows))
    } else {
        table(&args, &machine, n, &rows, node_missing)
    };
    // A closed pipe or a full disk ends the program with one line, not a panic.
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        eprintln!("{NAME}: cannot write the report: {e}");
        std::process::exit(1);
    }
}
