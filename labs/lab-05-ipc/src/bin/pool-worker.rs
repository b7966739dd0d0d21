//! Chapter 5, a test helper for exercise 05.2: a worker that speaks `fork-compute --child`'s
//! protocol but answers a `{"cmd":"range"}` only when *every* worker of the pool has
//! received its range. A pool that sends the ranges one at a time, waiting for each answer
//! before sending the next, therefore gets no answer: the first worker waits for the
//! others, gives up after `WAIT`, and exits with code 3 without replying.
//!
//! It is started through a symlink in a directory that holds its settings (the exercise's
//! `sum_in_children(program, …)` only adds `--child`): `parties` (how many workers), and
//! optionally `fail-on-stop` (exit with code 3 after answering). Each worker marks its
//! arrival with a file `arrived-PID` there.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use lab_05::Channel;
use lab_05::compute::{self, Reply, sum_range};

/// How long a worker waits for the rest of the pool.
const WAIT: Duration = Duration::from_secs(10);

/// A pool worker for the exercise 05.2 test (start it through a symlink; see the source).
#[derive(Parser)]
struct Args {
    /// Run as the child (the pool passes this).
    #[arg(long)]
    child: bool,
}

/// The settings directory: the one that holds the symlink we were started through.
fn settings_dir() -> Result<PathBuf, Box<dyn Error>> {
    let argv0 = std::env::args_os().next().ok_or("no argv[0]")?;
    let dir = Path::new(&argv0)
        .parent()
        .ok_or("argv[0] has no directory")?;
    Ok(dir.to_path_buf())
}

fn arrivals(dir: &Path) -> Result<usize, Box<dyn Error>> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        if entry?.file_name().to_string_lossy().starts_with("arrived-") {
            n += 1;
        }
    }
    Ok(n)
}

/// Mark our arrival, then wait (polling the directory) until all `parties` have arrived.
fn barrier(dir: &Path, parties: usize) -> Result<(), Box<dyn Error>> {
    std::fs::write(dir.join(format!("arrived-{}", std::process::id())), b"")?;
    let deadline = Instant::now() + WAIT;
    loop {
        let arrived = arrivals(dir)?;
        if arrived >= parties {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {arrived} of {parties} workers got their range within {WAIT:?}: \
                 the ranges were not all sent before waiting for answers"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    if !args.child {
        return Err("run me as a pool's child (--child), through a symlink".into());
    }
    let dir = settings_dir()?;
    let parties: usize = std::fs::read_to_string(dir.join("parties"))?
        .trim()
        .parse()?;
    let mut channel = Channel::from_env()?;
    while let Some(cmd) = channel.recv::<compute::Command>()? {
        match cmd {
            compute::Command::Range { from, to } => {
                barrier(&dir, parties)?;
                let sum = sum_range(from, to).ok_or("the range is too long to add up")?;
                channel.send(&Reply { sum })?;
            }
            compute::Command::Start { .. } => return Err("expected a range".into()),
            compute::Command::Stop => break,
        }
    }
    if dir.join("fail-on-stop").exists() {
        return Err("failing on purpose after the answer (fail-on-stop)".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pool-worker: {e}");
            ExitCode::from(3)
        }
    }
}
