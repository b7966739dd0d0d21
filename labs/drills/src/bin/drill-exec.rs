//! drill-exec: runs one drill for real and prints what Linux did, as one JSON document on
//! stdout: `{"family", "seed", "size", "outcome", "pids"}` (`pids`: every process the run
//! created, all of them killed and reaped before drill-exec exits). `cargo xtask drill`
//! runs it; so do the drills' tests. It must stay single-threaded: the scenarios fork.

use std::process::ExitCode;

use clap::Parser;
use drills::Drill;

/// Run a seeded drill under a child subreaper and report the observed outcome as JSON.
#[derive(Parser, Debug)]
#[command(name = "drill-exec")]
struct Args {
    /// The family: fork or signals.
    family: String,
    /// The scenario's seed.
    #[arg(long)]
    seed: u64,
    /// The scenario's size (1 = smallest).
    #[arg(long, default_value_t = 2)]
    size: u32,
}

fn run<D: Drill>(seed: u64, size: u32) -> ExitCode {
    let scenario = D::generate(seed, size);
    match D::execute_traced(&scenario) {
        Ok((outcome, pids)) => {
            let report = serde_json::json!({
                "family": D::NAME,
                "seed": seed,
                "size": size,
                "outcome": outcome,
                "pids": pids,
            });
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "drill-exec: {} drill, seed {seed}, size {size}: {e}",
                D::NAME
            );
            ExitCode::FAILURE
        }
    }
}

/// Runs a scenario read as JSON from stdin instead of a generated one.
fn run_given<D: Drill>() -> ExitCode {
    let scenario: D::Scenario = match serde_json::from_reader(std::io::stdin()) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("drill-exec: the scenario on stdin does not parse: {e}");
            return ExitCode::from(2);
        }
    };
    match D::execute_traced(&scenario) {
        Ok((outcome, pids)) => {
            let report = serde_json::json!({ "family": D::NAME, "outcome": outcome, "pids": pids });
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("drill-exec: {} drill, given scenario: {e}", D::NAME);
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.family.as_str() {
        "fork" => run::<drills::fork::Fork>(args.seed, args.size),
        // A hand-made fork scenario as JSON on stdin (the tests' kernel facts).
        "fork-scenario" => run_given::<drills::fork::Fork>(),
        "signals" => run::<drills::signals::Signals>(args.seed, args.size),
        // A signals puppet that re-executed itself (the scenario's `exec` step).
        drills::signals::RESUME_ARG => drills::signals::resume(),
        // A hand-made signals scenario as JSON on stdin (the tests' kernel facts).
        drills::signals::SCENARIO_ARG => drills::signals::run_stdin_scenario(),
        other => {
            eprintln!("drill-exec: unknown family `{other}` (fork, signals)");
            ExitCode::from(2)
        }
    }
}
