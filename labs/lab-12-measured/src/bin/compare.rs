//! Chapter 12 experiment: the whole comparison table, measured on this machine.
//!
//! `cargo run --release -p lab-12 --bin compare [-- --json] [--svg PATH] [--quick]`
//!
//! Sections: create + destroy (each Rust way beside its floor, the bare system calls, and
//! Node's `fork()` and `new Worker()` when `node` is on PATH), context switch (ping-pong),
//! memory per worker (`/proc/PID/smaps_rollup`), sharing a buffer, and, when the
//! `distribution` binary is next to this one and we run as root, the distribution rows.
//! Method: `--rounds` rounds. In a round, each Rust way and its floor run a batch of calls
//! interleaved one by one (A B B A A B …), and the other sections run each row once, in an
//! order that flips from round to round; the table shows the median round and the fastest
//! and slowest. `--quick` makes every batch tiny (for tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_04::cli;
use lab_12::chart::{Bar, Panel, write_svg};
use lab_12::create::{self, Program};
use lab_12::{memory, share, switch};
use labkit::experiment::{Machine, Summary, report};
use serde_json::{Value, json};

/// Measure processes against threads: creation, switching, memory, sharing.
#[derive(Parser)]
struct Args {
    /// Rounds (each row's median is over the rounds).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,
    /// Tiny batches and sizes, to check the report's shape quickly (not a measurement).
    #[arg(long)]
    quick: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Also draw the medians as an SVG bar chart into this file.
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
}

/// Batch sizes and buffer sizes of one run.
struct Sizes {
    spawns: u32,
    execs: u32,
    node_forks: u32,
    node_workers: u32,
    round_trips: u32,
    workers: usize,
    worker_mib: usize,
    share_mib: usize,
}

const FULL: Sizes = Sizes {
    spawns: 200,
    execs: 50,
    node_forks: 3,
    node_workers: 10,
    round_trips: 20_000,
    workers: 8,
    worker_mib: 16,
    share_mib: 64,
};

const QUICK: Sizes = Sizes {
    spawns: 3,
    execs: 2,
    node_forks: 1,
    node_workers: 1,
    round_trips: 50,
    workers: 2,
    worker_mib: 1,
    share_mib: 1,
};

/// A measurement that returns one sample; a memory measurement; a hand-over.
type Sample = Box<dyn Fn() -> f64>;
type MemoryRun = Box<dyn Fn() -> memory::PerWorker>;
type ShareRun = Box<dyn Fn() -> share::Handover>;

struct Row {
    section: &'static str,
    name: String,
    unit: &'static str,
    method: String,
    samples: Vec<f64>,
    /// Index of the row that is this row's floor.
    floor: Option<usize>,
    is_floor: bool,
}

impl Row {
    fn new(section: &'static str, name: &str, unit: &'static str, method: &str) -> Row {
        Row {
            section,
            name: name.to_string(),
            unit,
            method: method.to_string(),
            samples: Vec::new(),
            floor: None,
            is_floor: false,
        }
    }
}

/// `batch` calls of each of `ops`, interleaved one by one, the first op of each turn
/// rotating (A B, B A for two; A B C, B C A, C A B for three): each call runs next to
/// calls of the others, so all see the same moments of a busy machine. The mean time per
/// call of each, in microseconds.
fn interleaved_us(batch: u32, ops: &[&dyn Fn()]) -> Vec<f64> {
    let mut totals = vec![Duration::ZERO; ops.len()];
    for i in 0..batch as usize {
        for k in 0..ops.len() {
            let j = (i + k) % ops.len();
            let started = Instant::now();
            ops[j]();
            totals[j] += started.elapsed();
        }
    }
    totals
        .iter()
        .map(|d| d.as_secs_f64() * 1e6 / f64::from(batch))
        .collect()
}

/// One Node.js batch: the script prints its mean time in microseconds.
fn node_batch(script: &str, count: u32) -> Option<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("node")
        .join(script);
    let out = Command::new("node")
        .arg(path)
        .arg(count.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Run `rows.len()` measurements once each, in forward order on even rounds and in
/// reverse order on odd ones.
fn interleaved(round: u32, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

fn main() {
    let args: Args = cli::parse("compare");
    let sizes = if args.quick { QUICK } else { FULL };
    let rounds = if args.quick { 3 } else { args.rounds };
    let truth =
        create::find_on_path("true").unwrap_or_else(|| cli::fail("compare", "no `true` on PATH"));
    let node = create::find_on_path("node").is_some();

    let mut rows: Vec<Row> = Vec::new();
    let add = |rows: &mut Vec<Row>, row: Row| {
        rows.push(row);
        rows.len() - 1
    };

    // --- create + destroy: (Rust way, floor) pairs ---
    type Op = Box<dyn Fn()>;
    let mut pairs: Vec<(u32, Vec<(usize, Op)>)> = Vec::new();
    {
        let c = "create + destroy";
        // A Rust way `a` and its floor `b`, and optionally a second floor that explains
        // part of the difference, all interleaved call by call.
        let mut pair =
            |rust: Row, floor: Row, batch: u32, a: Op, b: Op, also: Option<(Row, Op)>| {
                let f = add(&mut rows, floor);
                rows[f].is_floor = true;
                let mut group = vec![(f, b)];
                if let Some((row, op)) = also {
                    let x = add(&mut rows, row);
                    rows[x].is_floor = true;
                    rows[x].floor = Some(f);
                    group.push((x, op));
                }
                let r = add(&mut rows, rust);
                rows[r].floor = Some(f);
                group.insert(0, (r, a));
                pairs.push((batch, group));
            };
        pair(
            Row::new(
                c,
                "thread: std::thread::spawn + join",
                "us",
                "a thread that returns at once, std",
            ),
            Row::new(
                c,
                "floor: pthread_create + pthread_join",
                "us",
                "libc, same 2 MiB stack as std",
            ),
            sizes.spawns,
            Box::new(create::thread_std),
            Box::new(create::thread_floor),
            Some((
                Row::new(
                    c,
                    "floor + the signal stack std sets up per thread",
                    "us",
                    "pthread_create; the thread maps a guarded sigaltstack and unmaps it",
                ),
                Box::new(create::thread_floor_altstack),
            )),
        );
        pair(
            Row::new(
                c,
                "fork: nix fork + _exit + waitpid",
                "us",
                "glibc fork wrapper via nix",
            ),
            Row::new(
                c,
                "floor: raw clone(SIGCHLD) + exit_group + wait4",
                "us",
                "raw system calls",
            ),
            sizes.spawns,
            Box::new(create::fork_exit_nix),
            Box::new(create::fork_exit_floor),
            None,
        );
        // Prepared once (path and argv as C strings), shared by the four closures.
        let program = Rc::new(Program::new(&truth));
        let (p1, p2, p3, p4) = (
            Rc::clone(&program),
            Rc::clone(&program),
            Rc::clone(&program),
            program,
        );
        pair(
            Row::new(
                c,
                "spawn: Command::status (posix_spawn)",
                "us",
                "runs `true`, std Command",
            ),
            Row::new(
                c,
                "floor: libc posix_spawn + wait4",
                "us",
                "runs `true`, glibc posix_spawn",
            ),
            sizes.execs,
            Box::new(move || create::command_spawn(&p1)),
            Box::new(move || create::posix_spawn_floor(&p2)),
            None,
        );
        pair(
            Row::new(
                c,
                "fork+exec: Command + pre_exec",
                "us",
                "runs `true`, std's fork+exec path",
            ),
            Row::new(
                c,
                "floor: raw clone + execve + wait4",
                "us",
                "runs `true`, raw system calls",
            ),
            sizes.execs,
            Box::new(move || create::command_fork_exec(&p3)),
            Box::new(move || create::fork_exec_floor(&p4)),
            None,
        );
    }
    let node_fork = node.then(|| {
        add(
            &mut rows,
            Row::new(
                "create + destroy",
                "node: child_process.fork() to first message",
                "us",
                "node, its own clock",
            ),
        )
    });
    let node_worker = node.then(|| {
        add(
            &mut rows,
            Row::new(
                "create + destroy",
                "node: new Worker() to first message",
                "us",
                "node, its own clock",
            ),
        )
    });

    // --- context switch ---
    let s = "context switch";
    let rt = sizes.round_trips;
    let switches: Vec<(usize, Sample)> = {
        let us = move |d: std::time::Duration| d.as_secs_f64() * 1e6 / f64::from(rt);
        let list: Vec<(&str, &str, Sample)> = vec![
            (
                "switch: 2 processes, pipes",
                "1 byte each way",
                Box::new(move || us(switch::processes(rt))),
            ),
            (
                "switch: 2 threads, pipes",
                "1 byte each way",
                Box::new(move || us(switch::threads_pipe(rt))),
            ),
            (
                "switch: 2 threads, Mutex + Condvar",
                "a turn counter, futex",
                Box::new(move || us(switch::threads_condvar(rt))),
            ),
            (
                "switch: 2 processes, pipes, one CPU",
                "both pinned to one CPU",
                Box::new(move || us(switch::pinned(|| switch::processes(rt)))),
            ),
            (
                "switch: 2 threads, pipes, one CPU",
                "both pinned to one CPU",
                Box::new(move || us(switch::pinned(|| switch::threads_pipe(rt)))),
            ),
            (
                "switch: 2 threads, Mutex + Condvar, one CPU",
                "both pinned to one CPU",
                Box::new(move || us(switch::pinned(|| switch::threads_condvar(rt)))),
            ),
        ];
        list.into_iter()
            .map(|(name, method, f)| {
                (
                    add(&mut rows, Row::new(s, name, "us per round trip", method)),
                    f,
                )
            })
            .collect()
    };

    // --- memory per worker ---
    let m = "memory per worker";
    let (n, bytes) = (sizes.workers, sizes.worker_mib << 20);
    let mem_kinds: Vec<(&str, MemoryRun)> = vec![
        (
            "process, parent's buffer untouched",
            Box::new(move || memory::processes(n, bytes, false)),
        ),
        (
            "process, parent's buffer written",
            Box::new(move || memory::processes(n, bytes, true)),
        ),
        ("thread, no buffer", Box::new(move || memory::threads(n, 0))),
        (
            "thread, own buffer written",
            Box::new(move || memory::threads(n, bytes)),
        ),
    ];
    let mem_rows: Vec<(usize, usize)> = mem_kinds
        .iter()
        .map(|(kind, _)| {
            let method = format!(
                "{n} workers, {} MiB buffer, counters summed over all processes",
                sizes.worker_mib
            );
            (
                add(
                    &mut rows,
                    Row::new(
                        m,
                        &format!("memory: {kind}: RSS"),
                        "KiB per worker",
                        &method,
                    ),
                ),
                add(
                    &mut rows,
                    Row::new(
                        m,
                        &format!("memory: {kind}: PSS"),
                        "KiB per worker",
                        &method,
                    ),
                ),
            )
        })
        .collect();

    // --- sharing ---
    let sh = "sharing a buffer";
    let sbytes = sizes.share_mib << 20;
    // Each buffer is made for one hand-over and freed after it: a bigger process would
    // make every fork in the other sections slower (fork copies the page tables).
    let share_kinds: Vec<(&str, ShareRun)> = {
        vec![
            (
                "share: Arc<Vec<u8>> to a thread",
                Box::new(move || share::arc_to_thread(&Arc::new(vec![1u8; sbytes]))),
            ),
            (
                "share: copy through a pipe to a child",
                Box::new(move || share::pipe_to_child(sbytes)),
            ),
            (
                "share: memfd + mmap with a child",
                Box::new(move || share::memfd_with_child(sbytes)),
            ),
        ]
    };
    let share_rows: Vec<(usize, usize, usize)> = share_kinds
        .iter()
        .map(|(kind, _)| {
            let method = format!(
                "{} MiB, from hand-over until the worker read every page",
                sizes.share_mib
            );
            let mem = format!(
                "{} MiB, the worker's counters while it holds the data",
                sizes.share_mib
            );
            (
                add(
                    &mut rows,
                    Row::new(sh, &format!("{kind}: time"), "ms", &method),
                ),
                add(
                    &mut rows,
                    Row::new(sh, &format!("{kind}: worker's added RSS"), "MiB", &mem),
                ),
                add(
                    &mut rows,
                    Row::new(sh, &format!("{kind}: worker's added private"), "MiB", &mem),
                ),
            )
        })
        .collect();

    // --- the rounds ---
    let mib = |kb: u64| kb as f64 / 1024.0;
    for round in 0..rounds {
        for (batch, group) in &pairs {
            let ops: Vec<&dyn Fn()> = group.iter().map(|(_, op)| op.as_ref()).collect();
            for ((i, _), us) in group.iter().zip(interleaved_us(*batch, &ops)) {
                rows[*i].samples.push(us);
            }
        }
        if let Some(i) = node_fork
            && let Some(us) = node_batch("fork-cost.js", sizes.node_forks)
        {
            rows[i].samples.push(us);
        }
        if let Some(i) = node_worker
            && let Some(us) = node_batch("worker-cost.js", sizes.node_workers)
        {
            rows[i].samples.push(us);
        }
        for k in interleaved(round, switches.len()) {
            let (i, f) = &switches[k];
            let v = f();
            rows[*i].samples.push(v);
        }
        for k in interleaved(round, mem_kinds.len()) {
            let w = (mem_kinds[k].1)();
            rows[mem_rows[k].0].samples.push(w.rss_kb as f64);
            rows[mem_rows[k].1].samples.push(w.pss_kb as f64);
        }
        for k in interleaved(round, share_kinds.len()) {
            let h = (share_kinds[k].1)();
            let (t, rss, private) = share_rows[k];
            rows[t].samples.push(h.took.as_secs_f64() * 1e3);
            rows[rss].samples.push(mib(h.added_rss_kb));
            rows[private].samples.push(mib(h.added_private_kb));
        }
    }
    let mut notes = Vec::new();
    if !node {
        notes.push("node: not found on PATH, Node.js rows skipped".to_string());
    }
    rows.retain(|r| {
        if r.samples.is_empty() {
            notes.push(format!("{}: node failed, row skipped", r.name));
        }
        !r.samples.is_empty()
    });

    // --- distribution (the other part of the chapter), as its own section ---
    let distribution = distribution_rows(args.quick);

    // --- report ---
    let machine = Machine::detect();
    let method = format!(
        "{rounds} rounds; in a round each Rust way and its floor alternate call by call (A B B \
         A ...), the other rows run once each in an order that flips every round; median, \
         min and max over the rounds. Batches: {} thread or fork, {} exec of {}, {} node fork, {} node Worker, {} ping-pong round trips; {} \
         workers of {} MiB; {} MiB shared; build: {}",
        sizes.spawns,
        sizes.execs,
        truth.display(),
        sizes.node_forks,
        sizes.node_workers,
        sizes.round_trips,
        sizes.workers,
        sizes.worker_mib,
        sizes.share_mib,
        machine.build()
    );
    let summaries: Vec<Summary> = rows
        .iter()
        .map(|r| Summary::of(&r.samples).unwrap())
        .collect();
    // A row and its floor ran call by call in the same rounds, so each round gives one
    // ratio in which that round's disturbances mostly cancel: the ratio reported is the
    // median of those per-round ratios, with their smallest and largest.
    let ratios: Vec<Option<Summary>> = rows
        .iter()
        .map(|r| {
            let f = r.floor?;
            let per_round: Vec<f64> = r
                .samples
                .iter()
                .zip(&rows[f].samples)
                .map(|(a, b)| a / b)
                .collect();
            Summary::of(&per_round)
        })
        .collect();
    let ratio = |i: usize| -> Option<f64> { ratios[i].map(|s| s.median) };
    // `floor` indices were taken before `retain`, which can only drop node rows; those
    // come after every row of a pair, so the indices still hold.
    let mut json_rows: Vec<Value> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut row = summaries[i].row(&r.name, r.unit);
        row["section"] = json!(r.section);
        row["method"] = json!(r.method);
        row["floor"] = json!(r.floor.map(|f| rows[f].name.clone()));
        row["ratio_to_floor"] = json!(ratio(i));
        row["ratio_min"] = json!(ratios[i].map(|s| s.min));
        row["ratio_max"] = json!(ratios[i].map(|s| s.max));
        json_rows.push(row);
    }
    let (dist_status, dist_rows) = match &distribution {
        Ok(doc) => (
            "ran".to_string(),
            doc["rows"].as_array().cloned().unwrap_or_default(),
        ),
        Err(why) => (format!("skipped: {why}"), Vec::new()),
    };
    for mut row in dist_rows.iter().cloned() {
        row["section"] = json!("distribution");
        json_rows.push(row);
    }
    let goals: Vec<Value> = (0..rows.len())
        .filter(|&i| !rows[i].is_floor)
        .filter_map(|i| {
            ratio(i).map(
                |x| json!({"row": rows[i].name, "ratio_to_floor": x, "goal": 1.2, "met": x <= 1.2}),
            )
        })
        .collect();

    if let Some(path) = &args.svg {
        let mut panels: Vec<Panel> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let title = r.section.to_string();
            let unit = r.unit.to_string();
            let key = format!("{title} {unit}");
            let bar = Bar {
                name: r.name.clone(),
                value: summaries[i].median,
                unit: unit.clone(),
                floor: r.is_floor,
            };
            match panels
                .iter_mut()
                .find(|p| format!("{} {}", p.title, p.bars[0].unit) == key)
            {
                Some(p) => p.bars.push(bar),
                None => panels.push(Panel {
                    title,
                    log: r.section == "create + destroy",
                    bars: vec![bar],
                }),
            }
        }
        let subtitle =
            format!("{machine}; median of {rounds} rounds; grey: the floor (bare system calls)");
        if let Err(e) = write_svg(path, "Processes vs threads, measured", &subtitle, &panels) {
            cli::fail("compare", format!("{}: {e}", path.display()));
        }
    }

    if args.json {
        let mut doc = report("compare", &machine, &method, json_rows);
        doc["goals"] = json!(goals);
        doc["distribution"] = json!(dist_status);
        doc["notes"] = json!(notes);
        println!("{doc:#}");
        return;
    }
    println!(
        "processes vs threads, measured ({rounds} rounds{})",
        if args.quick {
            ", --quick: not a measurement"
        } else {
            ""
        }
    );
    println!("{machine}");
    println!("method: {method}");
    let mut section = "";
    for (i, r) in rows.iter().enumerate() {
        if r.section != section {
            section = r.section;
            println!("\n== {section}");
            println!(
                "{:<62} {:>10} {:<22} {:>9} {:<14} unit",
                "row", "median", "(min..max)", "vs floor", "(min..max)"
            );
        }
        let s = &summaries[i];
        let vs = ratio(i).map_or(String::new(), |x| format!("{x:.2}x"));
        let spread = ratios[i].map_or(String::new(), |s| format!("({:.2}..{:.2})", s.min, s.max));
        println!(
            "{:<62} {:>10.1} {:<22} {:>9} {:<14} {}",
            r.name,
            s.median,
            s.range(),
            vs,
            spread,
            r.unit
        );
    }
    println!("\n== goal: each Rust way within 1.2x of its floor");
    for g in &goals {
        println!(
            "{:<62} {:>6.2}x  {}",
            g["row"].as_str().unwrap_or(""),
            g["ratio_to_floor"].as_f64().unwrap_or(f64::NAN),
            if g["met"] == true { "met" } else { "NOT met" }
        );
    }
    println!("\n== distribution");
    match &distribution {
        Ok(_) => {
            for row in &dist_rows {
                println!(
                    "{:<62} {:>10.1} ({:.1}..{:.1})  {}",
                    row["name"].as_str().unwrap_or("?"),
                    row["median"].as_f64().unwrap_or(f64::NAN),
                    row["min"].as_f64().unwrap_or(f64::NAN),
                    row["max"].as_f64().unwrap_or(f64::NAN),
                    row["unit"].as_str().unwrap_or("")
                );
            }
        }
        Err(why) => println!("skipped: {why}"),
    }
    for note in notes {
        println!("{note}");
    }
}

/// The rows of the `distribution` experiment (run as a program: it needs root and
/// nginx), or why they were skipped.
fn distribution_rows(quick: bool) -> Result<Value, String> {
    if quick {
        return Err("--quick".to_string());
    }
    let exe = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("distribution");
    if !exe.is_file() {
        return Err(format!("{} not built", exe.display()));
    }
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (network namespaces)".to_string());
    }
    let out = Command::new(&exe)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("distribution failed: {}", err.trim()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("distribution's JSON: {e}"))
}
