//! `cargo xtask`: project tasks that are not a lab.
//!
//! The classroom commands (`exercises`, `check`, `grade`) arrive with the classroom issue;
//! until then this only explains itself, and refuses anything else with a clear error.

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask: project tasks for the Processes and Threads book

Usage: cargo xtask <COMMAND>

Commands:
  (none yet) the classroom commands (exercises, check, grade) are planned and not built yet

Options:
  -h, --help  Print this help
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown command {other:?} (see `cargo xtask --help`)");
            ExitCode::from(2)
        }
    }
}
