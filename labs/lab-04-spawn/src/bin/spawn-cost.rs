//! Chapter 4 experiment: what it costs to start a program and wait for it, four ways:
//! std's `Command` (posix_spawn: `clone3(CLONE_VM|CLONE_VFORK)`), `Command` with a no-op
//! `pre_exec` (std falls back to fork + exec), fork + execv + waitpid by hand, and Node's
//! `spawn` (when `node` is on PATH).
//!
//! `cargo run --release -p lab-04 --bin spawn-cost -- --spawns 200 --rounds 7`
//!
//! Method: each round runs every method once, one after the other (A/B interleaved), and
//! each method starts `true` `--spawns` times in a row, waiting for each to exit; the table
//! shows the median time per spawn over the rounds, with the fastest and slowest round.
//! Node's figure comes from its own clock, inside one `node` process per round, so its
//! start-up is not counted. `--json` prints the same as one JSON document.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use lab_04::cli;
use lab_04::forking::underscore_exit;
use labkit::experiment::{Machine, Summary, report};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use serde_json::json;

/// Measure spawn + wait of `true`: posix_spawn, fork+exec, by hand, and Node.
#[derive(Parser)]
struct Args {
    /// Programs started per method and round.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    spawns: u32,
    /// Rounds (the table shows the median round).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,
    /// Fill this many MiB of memory first, here and in each node process: fork copies the
    /// page tables that map it (libuv forks too), posix_spawn (vfork-like) shares them.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=65536))]
    touch_mib: u32,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
}

struct Row {
    name: &'static str,
    /// Microseconds per spawn, one value per round.
    per_spawn_us: Vec<f64>,
}

impl Row {
    fn per_spawn(&self) -> Summary {
        Summary::of(&self.per_spawn_us).expect("every round adds a time to every row kept")
    }
}

fn null(cmd: &mut Command) -> &mut Command {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
}

fn posix_spawn(program: &PathBuf) {
    let status = null(&mut Command::new(program)).status().expect("spawn");
    assert!(status.success());
}

fn std_fork_exec(program: &PathBuf) {
    let mut cmd = Command::new(program);
    // SAFETY: the closure does nothing: it only makes std take its fork + exec path.
    unsafe { cmd.pre_exec(|| Ok(())) };
    let status = null(&mut cmd).status().expect("spawn");
    assert!(status.success());
}

// ANCHOR: by_hand
/// fork, execv, waitpid. Everything the child needs is prepared before the fork, so the
/// child only calls `execv` and, if that fails, `_exit`.
fn fork_exec_by_hand(path: &CString, argv: &[*const libc::c_char]) {
    // SAFETY: this experiment is single-threaded; the child calls only execv and _exit.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            // SAFETY: `path` and the NULL-terminated `argv` point to live C strings.
            unsafe { libc::execv(path.as_ptr(), argv.as_ptr()) };
            underscore_exit(127)
        }
        ForkResult::Parent { child } => {
            waitpid(child, None).expect("waitpid");
        }
    }
}
// ANCHOR_END: by_hand

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// One round of Node: microseconds per spawn, or None when node is missing or fails.
fn node_round(spawns: u32, program: &PathBuf, touch_mib: u32) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/spawn-cost.js");
    let out = Command::new("node")
        .arg(script)
        .arg(spawns.to_string())
        .arg(program)
        .arg(touch_mib.to_string())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let ms: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(ms * 1000.0 / f64::from(spawns))
}

/// `mib` MiB with every page written, refused up front if that is more than half of the
/// memory the kernel calls available (the fork rows would otherwise end in the OOM killer).
fn ballast(mib: u32) -> Result<Vec<u8>, String> {
    let available_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kib| kib / 1024)
        .ok_or("cannot read MemAvailable from /proc/meminfo")?;
    if u64::from(mib) > available_mib / 2 {
        return Err(format!(
            "--touch-mib {mib}: more than half of the {available_mib} MiB available"
        ));
    }
    let bytes = mib as usize * 1024 * 1024;
    let mut v = Vec::new();
    v.try_reserve_exact(bytes)
        .map_err(|e| format!("--touch-mib {mib}: {e}"))?;
    v.resize(bytes, 1u8); // every page written
    Ok(v)
}

fn main() {
    let args: Args = cli::parse("spawn-cost");
    let program =
        find_on_path("true").unwrap_or_else(|| cli::fail("spawn-cost", "no `true` on PATH"));
    let path = CString::new(program.as_os_str().as_bytes()).expect("no NUL in a path");
    let argv = [path.as_ptr(), std::ptr::null()];
    let ballast = ballast(args.touch_mib).unwrap_or_else(|e| cli::fail("spawn-cost", e));
    std::hint::black_box(&ballast);

    let mut rows = vec![
        Row {
            name: "rust Command (posix_spawn)",
            per_spawn_us: Vec::new(),
        },
        Row {
            name: "rust Command + pre_exec (fork+exec)",
            per_spawn_us: Vec::new(),
        },
        Row {
            name: "rust fork+execv+waitpid by hand",
            per_spawn_us: Vec::new(),
        },
    ];
    let mut node = Some(Row {
        name: "node spawn",
        per_spawn_us: Vec::new(),
    });
    for _ in 0..args.rounds {
        for (i, row) in rows.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..args.spawns {
                match i {
                    0 => posix_spawn(&program),
                    1 => std_fork_exec(&program),
                    _ => fork_exec_by_hand(&path, &argv),
                }
            }
            row.per_spawn_us
                .push(started.elapsed().as_secs_f64() * 1e6 / f64::from(args.spawns));
        }
        if let Some(row) = node.as_mut() {
            match node_round(args.spawns, &program, args.touch_mib) {
                Some(us) => row.per_spawn_us.push(us),
                None => node = None,
            }
        }
    }
    let node_missing = node.is_none();
    rows.extend(node);

    let machine = Machine::detect();
    let build = machine.build();
    let method = format!(
        "start {} and wait for it, {} times in a row per method and round; {} rounds, methods \
         interleaved within each round; median, min and max of the per-spawn time over the \
         rounds; node timed by its own clock inside one process per round; {} MiB of memory \
         filled first in the Rust process and in each node process; build: {build}",
        program.display(),
        args.spawns,
        args.rounds,
        args.touch_mib
    );
    let base = rows[0].per_spawn().median;
    if args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                let per_spawn = r.per_spawn();
                let mut row = per_spawn.row(r.name, "us per spawn");
                row["spawns_per_run"] = json!(args.spawns);
                row["vs_posix_spawn"] = json!(per_spawn.median / base);
                row
            })
            .collect();
        let mut doc = report("spawn-cost", &machine, &method, rows);
        doc["touch_mib"] = json!(args.touch_mib);
        println!("{doc:#}");
        return;
    }
    println!(
        "spawn + wait of {}: {} per round, {} rounds, interleaved; {} MiB filled first (rust and node)",
        program.display(),
        args.spawns,
        args.rounds,
        args.touch_mib
    );
    println!("{machine}");
    println!(
        "{:<38} {:>12}  {:<17} {:>10}",
        "method", "per spawn", "(min..max)", "vs spawn"
    );
    for r in &rows {
        let per_spawn = r.per_spawn();
        println!(
            "{:<38} {:>9.1} us  {:<17} {:>9.2}x",
            r.name,
            per_spawn.median,
            per_spawn.range(),
            per_spawn.median / base
        );
    }
    if node_missing {
        println!("node: not found on PATH (or it failed), Node.js row skipped");
    }
}
