//! Chapter 2 demo: recursion that runs off the end of a thread's stack.
//!
//! `cargo run -p lab-02 --bin overflow -- --depth 3000` (a thread with Rust's default
//! 2 MiB stack overflows); add `--stack-kib 8192`, or `--on-main`, and it fits.

use std::io::Write;
use std::thread;

use clap::Parser;
use lab_02::overflow::recurse;

/// Recurse DEPTH calls of about 1 KiB each, on a new thread or on main.
#[derive(Parser)]
struct Args {
    /// How many calls deep to go.
    #[arg(long, default_value_t = 3000)]
    depth: u64,
    /// The new thread's stack size in KiB (`Builder::stack_size`), 16 to 1048576 (1 GiB);
    /// default: Rust's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(16..=1 << 20))]
    stack_kib: Option<u32>,
    /// Recurse on the main thread instead of a new one.
    #[arg(long)]
    on_main: bool,
}

fn main() {
    let args = Args::parse();
    let depth = args.depth;
    if args.on_main {
        println!("main: recursing {depth} calls deep");
        std::io::stdout().flush().ok(); // an overflow aborts: nothing is flushed after it
        println!("main: returned {}", recurse(depth));
        return;
    }
    let mut builder = thread::Builder::new().name("deep".to_string());
    if let Some(kib) = args.stack_kib {
        builder = builder.stack_size(kib as usize * 1024);
    }
    let deep = builder.spawn(move || {
        println!("deep: recursing {depth} calls deep");
        std::io::stdout().flush().ok();
        recurse(depth)
    });
    match deep.map(|handle| handle.join()) {
        Ok(Ok(result)) => println!("main: deep returned {result}"),
        Ok(Err(_)) => println!("main: deep panicked"),
        Err(e) => {
            eprintln!("overflow: cannot start a thread: {e}");
            std::process::exit(1);
        }
    }
}
