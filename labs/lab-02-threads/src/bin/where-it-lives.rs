//! Chapter 2 demo: every thread's local variable is on its own stack; the shared `Vec`
//! is at one heap address for all of them.
//!
//! `cargo run -p lab-02 --bin where-it-lives -- --workers 3`

use clap::Parser;
use lab_02::memory::{Region, Sighting, layout, sightings};

/// Show where each thread's local variable and the shared data live.
#[derive(Parser)]
struct Args {
    /// How many scoped worker threads to start besides main (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    workers: u16,
}

fn describe(region: &Option<Region>) -> String {
    match region {
        Some(r) if r.name == "anonymous" => format!("{} KiB {} anonymous", r.kib(), r.perms),
        Some(r) => r.name.clone(),
        None => "unmapped".to_string(),
    }
}

fn main() {
    let args = Args::parse();
    let seen: Vec<Sighting> = match sightings(args.workers.into()) {
        Ok(seen) => seen,
        Err(e) => {
            eprintln!("where-it-lives: cannot start a thread: {e}");
            std::process::exit(1);
        }
    };
    for s in &seen {
        println!("{}:", s.thread);
        println!(
            "  local      at {:#x} in {}",
            s.local_addr,
            describe(&s.local_region)
        );
        if s.thread != "main" {
            println!("  just below it: {}", describe(&s.below_local));
        }
        println!(
            "  shared Vec at {:#x} in {}",
            s.shared_addr,
            describe(&s.shared_region)
        );
    }
    let layout = layout(&seen);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    println!(
        "one address for the shared Vec in every thread: {}",
        yes_no(layout.one_shared_address)
    );
    println!(
        "a different local address in every thread:     {}",
        yes_no(layout.own_locals)
    );
    if let Some(closest) = layout.closest_workers {
        println!(
            "closest two workers' locals are at least 2 MiB + 4 KiB apart: {}",
            yes_no(closest >= (2 << 20) + 4096)
        );
    }
}
