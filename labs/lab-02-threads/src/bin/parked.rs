//! Chapter 2 demo: named threads parked at a gate, seen in `/proc/self/task`.
//!
//! `cargo run -p lab-02 --bin parked -- --workers 3`
//! `cargo run -p lab-02 --bin parked -- --hold` keeps them parked until you press Enter,
//! so that you can look at them from another terminal (`ps -T -p PID`).

use std::io::{BufRead, Write};

use clap::Parser;
use lab_02::thread_list::park_named_threads;

/// Start named threads, list the process's threads while they wait, then again after.
#[derive(Parser)]
struct Args {
    /// How many numbered workers to start (besides one with a long name).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(0..=1000))]
    workers: u16,
    /// While the threads are parked, print `ready pid=N` and wait for a line (Enter) or
    /// the end of stdin before letting them go.
    #[arg(long)]
    hold: bool,
}

fn show(moment: &str, names: &[String]) {
    println!("{moment}: {} thread(s)", names.len());
    for name in names {
        println!("  {name}");
    }
}

fn main() {
    let args = Args::parse();
    let mut names: Vec<String> = (0..args.workers).map(|i| format!("worker-{i}")).collect();
    // Longer than the kernel's 15 bytes: Rust keeps the full name, /proc shows the cut.
    names.push("a-thread-with-a-long-name".to_string());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let hold = || {
        if args.hold {
            println!(
                "ready pid={}: threads parked; press Enter to let them go",
                std::process::id()
            );
            std::io::stdout().flush().ok();
            std::io::stdin().lock().read_line(&mut String::new()).ok();
        }
    };
    match park_named_threads(&names, hold) {
        Ok(report) => {
            show("before spawning", &report.before);
            show("while parked at the gate", &report.parked);
            show("after join", &report.after);
        }
        Err(e) => {
            eprintln!("parked: cannot start the threads or read /proc: {e}");
            std::process::exit(1);
        }
    }
}
