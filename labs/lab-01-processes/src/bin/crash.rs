//! Chapter 1 demo: an uncaught panic, and a caught one.
//!
//! ```sh
//! cargo run -p lab-01 --bin crash; echo "exit code $?"           # hook, then 101
//! cargo run -p lab-01 --bin crash -- --catch; echo "exit code $?" # hook, recovered, 0
//! ```

use clap::Parser;
use lab_01::crash::{install_panic_hook, run_catching};

/// Panic on purpose, with our own panic hook installed.
#[derive(Parser)]
struct Args {
    /// Catch the panic at a boundary and carry on instead of dying.
    #[arg(long)]
    catch: bool,
}

fn parse_port(text: &str) -> u16 {
    text.parse().expect("the port must be a number")
}

fn main() {
    let args = Args::parse();
    install_panic_hook();
    println!("main: parsing the configuration");
    if args.catch {
        match run_catching(|| parse_port("eighty")) {
            Ok(port) => println!("main: port {port}"),
            Err(message) => println!("main: recovered from a panic: {message}"),
        }
        println!("main: still running, exiting normally");
    } else {
        let port = parse_port("eighty");
        println!("main: never printed, port {port}");
    }
}
