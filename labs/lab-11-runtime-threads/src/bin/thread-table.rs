//! Chapter 11 experiment: the threads each phase adds, Node.js beside tokio, measured in
//! the same run.
//!
//! `cargo run --release -p lab-11 --bin thread-table` (`-- --json` for one JSON document)
//!
//! Method: every phase runs in a fresh process, `node node/threads.cjs PHASE` (when `node`
//! is on PATH) and `thread-table --probe PHASE` (this program again: a tokio runtime with
//! 2 workers, the same phases as the `threads` demo), which count
//! their own threads in /proc/self/task before and after the phase; `--runs` times each,
//! Node and tokio interleaved. The table shows the threads at start and, per phase, the
//! threads added (the median; a spread is shown when the runs differ).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::Parser;
use labkit::experiment::{Machine, Summary, report};
use serde_json::json;

/// Count the threads Node.js and tokio add in each phase, side by side.
#[derive(Parser)]
struct Args {
    /// Runs of every probe (the table shows the median).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    runs: u32,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// (internal) Run one tokio phase in this process and print its line: the table
    /// starts itself with this for every tokio phase, so that each runs in a fresh process.
    #[arg(long, hide = true, conflicts_with = "json")]
    probe: Option<String>,
}

/// One row: what it is called, Node's phase (and environment), tokio's phase.
struct Phase {
    label: &'static str,
    node: Option<(&'static str, &'static [(&'static str, &'static str)])>,
    tokio: Option<&'static str>,
}

const fn both(label: &'static str, phase: &'static str) -> Phase {
    Phase {
        label,
        node: Some((phase, &[])),
        tokio: Some(phase),
    }
}

const fn node_only(label: &'static str, phase: &'static str) -> Phase {
    Phase {
        label,
        node: Some((phase, &[])),
        tokio: None,
    }
}

const fn tokio_only(label: &'static str, phase: &'static str) -> Phase {
    Phase {
        label,
        node: None,
        tokio: Some(phase),
    }
}

// ANCHOR: phases
const PHASES: &[Phase] = &[
    both("idle", "idle"),
    both("read a file", "read-file"),
    Phase {
        label: "read a file, pool of 64",
        node: Some(("read-file", &[("UV_THREADPOOL_SIZE", "64")])),
        tokio: Some("read-file-pool-64"),
    },
    both("8 pool jobs at once", "jobs-8"),
    tokio_only("8 jobs, pool capped at 4", "ceiling-4"),
    both("TCP echo via 127.0.0.1", "tcp-ip"),
    both("TCP echo via localhost", "tcp-localhost"),
    Phase {
        label: "look up localhost",
        node: Some(("dns-lookup", &[])),
        tokio: Some("lookup"),
    },
    node_only("dns.resolve (c-ares)", "dns-resolve"),
    node_only("fs.watch (inotify)", "fs-watch"),
    node_only("fs.watchFile (polling)", "fs-watchfile"),
    node_only("crypto.pbkdf2", "pbkdf2"),
    node_only("zlib.gzip", "gzip"),
    both("a 10 ms timer", "timer"),
    both("write to stdout (a pipe)", "stdout"),
    both("read a file, then idle", "retired"),
];
// ANCHOR_END: phases

/// The Node.js probe, found in the lab's source tree.
fn node_probe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node/threads.cjs")
}

/// The tokio probe: this program again, with `--probe PHASE`.
fn tokio_probe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("current_exe: {e}"))
}

/// Run one probe and parse its last line: (threads before, threads after).
fn probe(cmd: &mut Command, what: &str) -> Result<(usize, usize), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let done = labkit::run(cmd).map_err(|e| format!("{what}: {e}"))?;
    let last = done.stdout.lines().last().unwrap_or_default();
    match lab_11::parse_line(last) {
        Some((_, before, after)) if done.status.success() => Ok((before, after)),
        _ => Err(format!("{what}: {}", done.transcript(what))),
    }
}

/// The runs of one probe: threads at start and threads added.
#[derive(Default)]
struct Counts {
    before: Vec<f64>,
    added: Vec<f64>,
}

impl Counts {
    fn push(&mut self, (before, after): (usize, usize)) {
        self.before.push(before as f64);
        self.added.push(after.saturating_sub(before) as f64);
    }

    /// `+4`, or `+4 (+3..+5)` when the runs differ; `-` when there are none.
    fn cell(&self) -> String {
        match Summary::of(&self.added) {
            None => "-".into(),
            Some(s) if s.min == s.max => format!("+{}", s.median),
            Some(s) => format!("+{} (+{}..+{})", s.median, s.min, s.max),
        }
    }
}

fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(phase) = &args.probe {
        let line = lab_11::run_phase(phase).map(|report| report.line() + "\n");
        return match line.and_then(|line| {
            let mut out = std::io::stdout().lock();
            out.write_all(line.as_bytes())?;
            out.flush()
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("thread-table: {phase}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match measure(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("thread-table: {e}");
            ExitCode::FAILURE
        }
    }
}

fn measure(args: &Args) -> Result<(), String> {
    let machine = Machine::detect();
    let tokio_exe = tokio_probe()?;
    let node = node_version();
    let mut rows: Vec<(Counts, Counts)> = PHASES.iter().map(|_| Default::default()).collect();
    for _ in 0..args.runs {
        for (phase, (node_counts, tokio_counts)) in PHASES.iter().zip(rows.iter_mut()) {
            if let (Some((name, env)), Some(_)) = (phase.node, &node) {
                let mut cmd = Command::new("node");
                // The environment that starts the table must not size Node's pool.
                cmd.arg(node_probe())
                    .arg(name)
                    .env_remove("UV_THREADPOOL_SIZE")
                    .envs(env.iter().copied());
                node_counts.push(probe(&mut cmd, &format!("node threads.cjs {name}"))?);
            }
            if let Some(name) = phase.tokio {
                let mut cmd = Command::new(&tokio_exe);
                cmd.args(["--probe", name]);
                tokio_counts.push(probe(&mut cmd, &format!("thread-table --probe {name}"))?);
            }
        }
    }
    let at_start = |counts: &Counts| Summary::of(&counts.before).map(|s| s.median);
    let method = format!(
        "each phase in a fresh process (node threads.cjs PHASE; thread-table --probe PHASE: tokio, {} workers), \
         threads counted in /proc/self/task before and after it; {} runs, interleaved; build: {}",
        lab_11::WORKERS,
        args.runs,
        machine.build()
    );
    if args.json {
        let mut out = Vec::new();
        for (phase, (node_counts, tokio_counts)) in PHASES.iter().zip(&rows) {
            for (runtime, counts) in [("node", node_counts), ("tokio", tokio_counts)] {
                if let Some(s) = Summary::of(&counts.added) {
                    let mut row = s.row(&format!("{runtime} {}", phase.label), "threads added");
                    row["threads_at_start"] = json!(at_start(counts));
                    out.push(row);
                }
            }
        }
        let mut doc = report("thread-table", &machine, &method, out);
        doc["node"] = json!(node);
        println!("{doc:#}");
        return Ok(());
    }
    println!(
        "threads added per phase, Node.js beside tokio ({} workers); runs: {}, interleaved",
        lab_11::WORKERS,
        args.runs
    );
    println!(
        "method: each phase in a fresh process, which counts its own threads in \
         /proc/self/task before and after it"
    );
    println!(
        "{machine}; node: {}",
        node.as_deref()
            .unwrap_or("not on PATH (its column is skipped)")
    );
    let (node_start, tokio_start) = (at_start(&rows[0].0), at_start(&rows[0].1));
    let show = |n: Option<f64>| n.map_or("-".to_string(), |n| n.to_string());
    println!(
        "threads at start: node {}, tokio {} (main + {} workers)",
        show(node_start),
        show(tokio_start),
        lab_11::WORKERS
    );
    println!("{:<28} {:>8} {:>8}", "phase", "node", "tokio");
    for (phase, (node_counts, tokio_counts)) in PHASES.iter().zip(&rows) {
        println!(
            "{:<28} {:>8} {:>8}",
            phase.label,
            node_counts.cell(),
            tokio_counts.cell()
        );
    }
    Ok(())
}
