//! Chapter 1 demo: print this process's card, like `console.log(process.pid, …)`.
//!
//! `cargo run -p lab-01 --bin card -- --env HOME --env LANG`

use clap::Parser;
use lab_01::card::ProcessCard;

/// Print this process's attributes, read from the kernel.
#[derive(Parser)]
struct Args {
    /// Also show the value of this environment variable (repeatable).
    #[arg(long = "env", value_name = "NAME")]
    env: Vec<String>,
}

fn main() {
    let args = Args::parse();
    match ProcessCard::read(&args.env) {
        Ok(card) => println!("{card}"),
        Err(e) => {
            eprintln!("card: cannot read the process card: {e}");
            std::process::exit(1);
        }
    }
}
