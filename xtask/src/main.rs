//! `cargo xtask`: the classroom tools of the Processes and Threads book.
//!
//! - `exercises --out DIR`: the student edition, solutions cut out, tests kept.
//! - `check`: every exercise region is noticed by a test, and the edition compiles.
//! - `grade [--lab NN] [--json]`: a score table per lab, with a time-out per lab.
//! - `mutate-snapshots [--lab NN]`: every line of every reviewed snapshot is checked by a
//!   test (each line changed alone must fail its test).
//! - `fuzz [--runs N]`: lab-05's cargo-fuzz target for a fixed number of runs (needs a
//!   nightly toolchain; skipped without one).
//! - `book-check [--out DIR]`: the built book opened page by page in headless Chromium.
//! - `runner [--port P]`: serve the book and run the demos it lists from its pages.
//! - `drill fork|signals --seed N [--size S] [--answer FILE] [--reveal] [--json]`: a seeded
//!   drill (Appendix D), checked against the real kernel.
//!
//! The project's layout (root, files, labs, snapshot headers, exercise regions) comes from
//! the book-tests library, which the book's checks use too.

mod book_check;
mod check;
mod demo_runner;
mod drill;
mod edition;
mod exercise_map;
mod exercises;
mod fuzz;
mod grade;
mod mutate;
mod runner;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Project tasks for the Processes and Threads book.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write the student edition: a copy of the project with every solution replaced by todo!().
    Exercises {
        /// Where to write it; must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Prove every exercise is graded: each cut region fails a test, the edition compiles.
    Check {
        /// Time-out for one lab's test run, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Write the exercise map it finds (xtask/exercise-map.json) instead of failing
        /// when the committed one differs.
        #[arg(long)]
        write_map: bool,
    },
    /// Run each lab's tests with a time-out and print a score table.
    Grade {
        /// Grade only this lab (a number like 5 or 05, or a package like lab-05).
        #[arg(long, value_name = "NN")]
        lab: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Time-out for one lab's test run, in seconds; a lab that takes longer scores zero.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Prove every snapshot line is checked: change each body line alone, expect a test to fail.
    MutateSnapshots {
        /// Only this lab's snapshots (a number like 5 or 05, or a package like lab-05).
        #[arg(long, value_name = "NN")]
        lab: Option<String>,
        /// Time-out for one test run, in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Open every page of the built book in headless Chromium and check what a reader sees.
    BookCheck {
        /// The book to check (the directory with book.toml); default: this project.
        #[arg(long, value_name = "DIR")]
        book: Option<PathBuf>,
        /// Screenshots and the built site go here; default: target/book-check.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Check the site already built in OUT/site.
        #[arg(long)]
        no_build: bool,
        /// Skip driving `cargo xtask runner` from the pages (done only for this project's book).
        #[arg(long)]
        no_runner: bool,
    },
    /// Serve the book on 127.0.0.1 and run the demos its pages list, with a live process view.
    Runner {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve this already built book (the directory with index.html).
        #[arg(long, value_name = "DIR")]
        book: Option<PathBuf>,
        /// Do not build a demo before running it (it must be built already).
        #[arg(long)]
        prebuilt: bool,
        /// Seconds a demo may run before its process group is killed.
        #[arg(long, default_value_t = 120)]
        time_limit: u64,
        /// Demos running at once, across all pages.
        #[arg(long, default_value_t = demo_runner::MAX_RUNS)]
        max_runs: usize,
    },
    /// Fuzz lab-05's channel decoders for a fixed number of runs (needs nightly).
    Fuzz {
        /// Inputs to try.
        #[arg(long, default_value_t = 20_000)]
        runs: u64,
    },
    /// A seeded drill (Appendix D): print it, reveal what Linux does, or grade an answer.
    /// Exit code 1: wrong answer; 2: malformed answer; 3: the drill itself failed.
    Drill {
        /// The family: fork or signals.
        family: String,
        /// The scenario's seed (the same seed gives the same scenario everywhere).
        #[arg(long)]
        seed: u64,
        /// The scenario's size, 1 (smallest) to 4.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=4))]
        size: u32,
        /// Grade the answer in this file.
        #[arg(long, value_name = "FILE")]
        answer: Option<PathBuf>,
        /// Run the scenario for real and show what Linux did among the allowed outcomes.
        #[arg(long)]
        reveal: bool,
        /// Print one JSON document (scenario, allowed outcomes, observed outcome, verdict).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match std::env::current_dir().and_then(|dir| book_tests::layout::find_root(&dir)) {
        Ok(root) => root,
        Err(e) => return fail(&e.to_string()),
    };
    match cli.command {
        Task::Exercises { out } => match exercises::write_edition(&root, &out) {
            Ok(edition) => {
                println!(
                    "wrote the student edition to {}: {} files, {} exercise(s) cut",
                    out.display(),
                    edition.files,
                    edition.exercises.len()
                );
                for ex in &edition.exercises {
                    // Where the stub is in the edition: earlier cuts in the file removed lines.
                    let removed: usize = edition
                        .exercises
                        .iter()
                        .filter(|e| {
                            e.region.file == ex.region.file && e.region.begin < ex.region.begin
                        })
                        .map(|e| e.region.end - e.region.begin)
                        .sum();
                    let line = ex.region.begin - removed;
                    println!(
                        "  {}  {}:{line}  {}",
                        ex.id,
                        ex.region.file.display(),
                        ex.region.task
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Task::Check { timeout, write_map } => {
            match check::check(&root, Duration::from_secs(timeout), write_map) {
                Ok(summary) => {
                    println!("{summary}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Task::Grade { lab, json, timeout } => {
            match grade::grade(&root, lab.as_deref(), Duration::from_secs(timeout)) {
                Ok(scores) if json => {
                    println!("{}", grade::to_json(&scores));
                    ExitCode::SUCCESS
                }
                Ok(scores) => {
                    print!("{}", grade::table(&scores));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Task::MutateSnapshots { lab, timeout } => {
            match mutate::mutate_snapshots(&root, lab.as_deref(), Duration::from_secs(timeout)) {
                Ok(report) => {
                    println!("{}", report.summary());
                    if report.is_clean() {
                        ExitCode::SUCCESS
                    } else {
                        eprint!("{}", report.defects());
                        ExitCode::FAILURE
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Task::BookCheck {
            book,
            out,
            no_build,
            no_runner,
        } => {
            let runner = !no_runner && book.is_none();
            let options = book_check::Options {
                runner,
                book: book.unwrap_or_else(|| root.clone()),
                out: out.unwrap_or_else(|| root.join("target/book-check")),
                no_build,
            };
            match book_check::book_check(&options) {
                Ok(report) => {
                    print!("{}", report.table());
                    let problems = report.problems();
                    println!("screenshots in {}", options.out.display());
                    if problems.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        for p in &problems {
                            eprintln!("book-check: {p}");
                        }
                        fail(&format!(
                            "{} problem(s) in the rendered book",
                            problems.len()
                        ))
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Task::Runner {
            port,
            book,
            prebuilt,
            time_limit,
            max_runs,
        } => {
            let options = demo_runner::Options {
                port,
                book,
                prebuilt,
                time_limit: Duration::from_secs(time_limit),
                max_runs,
            };
            match demo_runner::serve(&root, options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Task::Fuzz { runs } => match fuzz::fuzz(&root, runs, Duration::from_secs(1800)) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Task::Drill {
            family,
            seed,
            size,
            answer,
            reveal,
            json,
        } => {
            let options = drill::Options {
                family,
                seed,
                size,
                answer,
                reveal,
                json,
            };
            let report = drill::drill(&root, &options);
            print!("{}", report.stdout);
            eprint!("{}", report.stderr);
            ExitCode::from(report.code)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("xtask: {message}");
    ExitCode::FAILURE
}
