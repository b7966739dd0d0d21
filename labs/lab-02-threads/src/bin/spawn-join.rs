//! Chapter 2 demo: a thread's result comes back through `join`; a thread's panic comes
//! back as an `Err`, and the process carries on.
//!
//! `cargo run -p lab-02 --bin spawn-join`

use clap::Parser;
use lab_02::join::{join_a_panicking_thread, sum_on_a_thread};

/// Join a thread that returns a value, then one that panics.
#[derive(Parser)]
struct Args {}

fn main() {
    Args::parse();
    let sum = sum_on_a_thread((1..=100).collect());
    println!("main: the summing thread returned {sum}");
    match join_a_panicking_thread("life") {
        Ok(answer) => println!("main: the checker returned {answer}"),
        Err(message) => println!("main: join returned Err, the panic said: {message}"),
    }
    println!("main: still running, exiting normally");
}
