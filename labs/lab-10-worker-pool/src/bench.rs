//! Chapter 10's experiment, `examples/pool-bench.rs`: its command line, its rows, the goals'
//! verdicts, the table and the JSON report. The example does the measuring (it is an example
//! so that rayon, its comparison row, can stay a dev-dependency); this module turns the
//! samples into output, so that `tests/demos.rs` can check the report without a release run.

use clap::Parser;
use labkit::experiment::{Machine, Summary, report};
use serde_json::{Value, json};

/// The experiment's name, as the report and error lines give it.
pub const NAME: &str = "pool-bench";

/// The most tiny jobs the thread-per-job row runs. That row starts a thread per job before
/// joining any, and every unjoined thread keeps its stack mapping (and guard page) and its
/// pid-space slot: with 40 000 jobs `spawn` fails, with 100 000 glibc cannot set up a guard
/// page (`vm.max_map_count` is 65 530 by default, `kernel.pid_max` often 32 768). Above this
/// many jobs the row is left out and the table says so.
pub const THREAD_PER_JOB_MAX: u32 = 10_000;

/// Measure the pool: CPU speed-up by worker count; per-job cost against a thread per job,
/// rayon and Node's Worker.
#[derive(Parser, Debug)]
pub struct Args {
    /// CPU-bound jobs per run.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub cpu_jobs: u32,
    /// Work per CPU-bound job, in millions of xorshift steps.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub cpu_work: u32,
    /// Tiny jobs per run (above 10000 the thread-per-job row is left out).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub tiny_jobs: u32,
    /// Rounds (the table shows the median round).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Whether the thread-per-job row runs with `tiny_jobs` jobs (see [`THREAD_PER_JOB_MAX`]).
pub fn thread_per_job_runs(tiny_jobs: u32) -> bool {
    tiny_jobs <= THREAD_PER_JOB_MAX
}

/// One row of the table: a name, a unit ("ms per run" for CPU rows, "us per job" for tiny
/// jobs, anything else for Node's rows), one sample per round.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub samples: Vec<f64>,
    /// Workers (CPU rows).
    pub threads: usize,
    /// CPU rows: CPUs busy per round (CPU time over wall time).
    pub busy: Vec<f64>,
}

impl Row {
    pub fn new(name: impl Into<String>, unit: &'static str, threads: usize) -> Row {
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

/// The rows' names, in the order the example fills them, for `workers` workers.
pub fn tiny_row_names(workers: usize, thread_per_job: bool) -> Vec<String> {
    let mut names = vec![
        format!("tiny jobs, our pool of {workers}"),
        format!("tiny jobs, stage 4 pool of {workers}"),
        format!("tiny jobs, spinning pool of {workers}"),
    ];
    if thread_per_job {
        names.push("tiny jobs, a thread per job".to_string());
    }
    names.push(format!("tiny jobs, rayon pool of {workers}"));
    names.push("tiny jobs, rayon spawn from outside".to_string());
    names
}

fn median_of(rows: &[Row], prefix: &str) -> f64 {
    rows.iter()
        .find(|r| r.name.starts_with(prefix))
        .map_or(f64::NAN, |r| r.summary().median)
}

fn method(args: &Args, machine: &Machine, workers: usize) -> String {
    let thread_row = if thread_per_job_runs(args.tiny_jobs) {
        "a std thread per job"
    } else {
        "(no thread-per-job row: more jobs than its limit of 10000 threads)"
    };
    format!(
        "{rounds} rounds, every variant once per round (interleaved); median, min and max over \
         the rounds. CPU: {jobs} jobs of {work}M xorshift steps on a fresh ThreadPool of \
         1..{n} workers (queue = jobs), timed from the first submit to the last join. Tiny: \
         {tiny} jobs (one multiply each) submitted and joined from the main thread: our \
         ThreadPool of {n} (queue 1024), stage 4's pool (the same, with a one-slot channel per \
         result), a variant of ours whose workers and joins spin (32 tries with a yield) before they \
         sleep, {thread_row}, a rayon pool of {n} (one scope, a spawn per job), the same \
         rayon pool fed from outside (ThreadPool::spawn and a one-slot channel per job). Node: \
         one `node` process per round, its own clock; Worker start-up = new Worker until its \
         first message; round trip = postMessage and the reply, averaged over {trips}. The \
         machine's {cpus} CPUs are shared with other work: expect noise. Build: {build}",
        rounds = args.rounds,
        jobs = args.cpu_jobs,
        work = args.cpu_work,
        n = workers,
        tiny = args.tiny_jobs,
        trips = args.tiny_jobs.min(2000),
        cpus = machine.cpus,
        build = machine.build(),
    )
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word gets a line
/// of its own).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The goals of the issue with their verdicts, and one comparison that is not a goal.
fn goals_and_comparisons(rows: &[Row]) -> (Value, Value) {
    let one = median_of(rows, "cpu jobs, pool of 1");
    let two = median_of(rows, "cpu jobs, pool of 2");
    let speedup_2 = one / two;
    let ours = median_of(rows, "tiny jobs, our pool");
    let vs_rayon = ours / median_of(rows, "tiny jobs, rayon pool");
    let vs_outside = ours / median_of(rows, "tiny jobs, rayon spawn from outside");
    let goals = json!([
        {"goal": "CPU-bound jobs: speed-up with 2 workers over 1 is at least 1.8x",
         "value": speedup_2, "met": speedup_2 >= 1.8},
        {"goal": "tiny jobs: our time per job is at most 1.5x rayon's",
         "value": vs_rayon, "met": vs_rayon <= 1.5},
    ]);
    let comparisons = json!([
        {"comparison": "tiny jobs: our time per job over rayon's spawn from outside",
         "value": vs_outside},
    ]);
    (goals, comparisons)
}

/// The JSON report (DESIGN §9) with `goals` and `comparisons`.
pub fn json_report(args: &Args, machine: &Machine, workers: usize, rows: &[Row]) -> Value {
    let one = median_of(rows, "cpu jobs, pool of 1");
    let rayon = median_of(rows, "tiny jobs, rayon pool");
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
    let mut doc = report(NAME, machine, &method(args, machine, workers), json_rows);
    let (goals, comparisons) = goals_and_comparisons(rows);
    doc["goals"] = goals;
    doc["comparisons"] = comparisons;
    doc
}

/// The table, method wrapped to 92 columns; `node_missing` adds a line saying why Node's rows
/// are absent.
pub fn table(
    args: &Args,
    machine: &Machine,
    workers: usize,
    rows: &[Row],
    node_missing: bool,
) -> String {
    use std::fmt::Write;
    let one = median_of(rows, "cpu jobs, pool of 1");
    let rayon = median_of(rows, "tiny jobs, rayon pool");
    let mut out = wrap(&format!("{NAME}: {}", method(args, machine, workers)), 92);
    let _ = writeln!(out);
    let _ = writeln!(out, "{machine}");
    let _ = writeln!(
        out,
        "{:<36} {:>10} {:<14} {:<17} ratio",
        "row", "median", "unit", "(min..max)"
    );
    for r in rows {
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
        let _ = writeln!(
            out,
            "{:<36} {:>10.2} {:<14} {:<17} {}",
            r.name,
            s.median,
            r.unit,
            s.range(),
            ratio
        );
    }
    let _ = writeln!(
        out,
        "ratio: speed-up over 1 worker and CPU time / wall time (cpu rows);\n       time per job over rayon's (tiny rows)"
    );
    let (goals, comparisons) = goals_and_comparisons(rows);
    for g in goals.as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "goal: {}: {:.2} -> {}",
            g["goal"].as_str().unwrap_or_default(),
            g["value"].as_f64().unwrap_or(f64::NAN),
            if g["met"] == true { "met" } else { "NOT met" }
        );
    }
    for c in comparisons.as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "comparison (not a goal): {}: {:.2}",
            c["comparison"].as_str().unwrap_or_default(),
            c["value"].as_f64().unwrap_or(f64::NAN),
        );
    }
    if !thread_per_job_runs(args.tiny_jobs) {
        let _ = writeln!(
            out,
            "thread per job: left out above {THREAD_PER_JOB_MAX} jobs (thread and mapping limits)"
        );
    }
    if node_missing {
        let _ = writeln!(
            out,
            "node: not found on PATH (or it failed), Node.js rows skipped"
        );
    }
    out
}
