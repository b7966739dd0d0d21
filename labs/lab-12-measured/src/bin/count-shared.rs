//! Chapter 12, exercise 12.2: `count_in_children` with N children and K additions each;
//! prints the total the parent reads afterwards.

use clap::Parser;
use lab_04::cli;
use lab_12::exercises::count_in_children;

/// Let N child processes add to one shared counter; print the total.
#[derive(Parser)]
struct Args {
    /// Child processes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    children: u32,
    /// Additions per child.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    adds: u64,
}

fn main() {
    let args: Args = cli::parse("count-shared");
    let total = count_in_children(args.children as usize, args.adds);
    println!(
        "{} children x {} additions: the parent reads {total}",
        args.children, args.adds
    );
}
