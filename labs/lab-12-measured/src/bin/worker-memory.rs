//! Chapter 12, memory and sharing, once and without a clock: what forked workers that
//! leave their parent's buffer alone add (RSS and PSS, per worker), and what a worker's
//! memory grows by when it gets a buffer copied through a pipe or mapped from a memfd.
//! The `compare` experiment times the same functions; this program only prints the
//! memory figures, for the tests that pin them.

use clap::Parser;
use lab_04::cli;
use lab_12::{memory, share};

/// Print the memory of forked workers and of a worker given a buffer two ways.
#[derive(Parser)]
struct Args {
    /// Size of the buffer, in MiB.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    mib: u32,
    /// Forked workers for the first line.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    workers: u32,
}

fn main() {
    let args: Args = cli::parse("worker-memory");
    let bytes = args.mib as usize * 1024 * 1024;
    let (n, mib) = (args.workers, args.mib);
    // Forks happen inside these functions; every line is printed (and stdout, a
    // LineWriter, flushed) before the next one forks.
    let forked = memory::processes(n as usize, bytes, false);
    println!(
        "{n} forked workers, the parent's {mib} MiB untouched: RSS {} KiB, PSS {} KiB per worker",
        forked.rss_kb, forked.pss_kb
    );
    let pipe = share::pipe_to_child(bytes);
    println!(
        "{mib} MiB copied through a pipe: the worker's RSS grew by {} KiB, its private memory by {} KiB",
        pipe.added_rss_kb, pipe.added_private_kb
    );
    let memfd = share::memfd_with_child(bytes);
    println!(
        "{mib} MiB mapped from a memfd: the worker's RSS grew by {} KiB, its private memory by {} KiB",
        memfd.added_rss_kb, memfd.added_private_kb
    );
}
