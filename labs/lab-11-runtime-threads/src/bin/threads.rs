//! Count this process's threads before and after one phase of a tokio runtime (2 workers),
//! from /proc/self/task, and print one line: `PHASE: BEFORE -> AFTER threads (+ADDED): NAMES`.
//!
//! `./target/debug/threads read-file`; `--list` prints the phases.

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
    #[arg(long)]
    list: bool,
    /// Build a runtime without thread_name_fn, run one blocking job, print the names.
    #[arg(long, conflicts_with_all = ["phase", "list"])]
    default_names: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for (name, what) in PHASES {
            println!("{name:<18} {what}");
        }
        return ExitCode::SUCCESS;
    }
    if args.default_names {
        return match lab_11::default_names() {
            Ok(names) => {
                println!("default names: {}", lab_11::fold_names(&names));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("threads: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let phase = args.phase.unwrap_or_default();
    if !PHASES.iter().any(|(name, _)| *name == phase) {
        eprintln!("threads: unknown phase {phase:?} (see --list)");
        return ExitCode::from(2);
    }
    match run_phase(&phase) {
        Ok(report) => {
            println!("{}", report.line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("threads: {phase}: {e}");
            ExitCode::FAILURE
        }
    }
}
