//! Count this process's threads before and after one phase of a tokio runtime (2 workers),
//! from /proc/self/task, and print one line: `PHASE: BEFORE -> AFTER threads (+ADDED): NAMES`.
//!
//! `./target/debug/threads read-file`; `--list` prints the phases.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use lab_11::{PHASES, run_phase};

/// Count a tokio runtime's threads before and after one phase.
#[derive(Parser)]
struct Args {
    /// The phase to run (see --list).
    #[arg(required_unless_present_any = ["list", "default_names"])]
    phase: Option<String>,
    /// Print the phases and what each does.
    #[arg(long, conflicts_with = "phase")]
    list: bool,
    /// Build a runtime without thread_name_fn, run one blocking job, print the names.
    #[arg(long, conflicts_with_all = ["phase", "list"])]
    default_names: bool,
}

/// Write `text` to stdout and flush: a closed or full stdout is an error, not a panic.
fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn run(args: Args) -> Result<(), String> {
    if args.list {
        let list: String = PHASES
            .iter()
            .map(|(name, what)| format!("{name:<18} {what}\n"))
            .collect();
        return print(&list).map_err(|e| format!("stdout: {e}"));
    }
    if args.default_names {
        let names = lab_11::default_names().map_err(|e| e.to_string())?;
        let line = format!("default names: {}\n", lab_11::fold_names(&names));
        return print(&line).map_err(|e| format!("stdout: {e}"));
    }
    let phase = args.phase.unwrap_or_default();
    let report = run_phase(&phase).map_err(|e| format!("{phase}: {e}"))?;
    print(&format!("{}\n", report.line())).map_err(|e| format!("stdout: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(phase) = &args.phase
        && !PHASES.iter().any(|(name, _)| name == phase)
    {
        eprintln!("threads: unknown phase {phase:?} (see --list)");
        return ExitCode::from(2);
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("threads: {e}");
            ExitCode::FAILURE
        }
    }
}
