//! Chapter 2 demo: a worker posts messages to main over an `mpsc` channel.
//!
//! `cargo run -p lab-02 --bin channel`

use clap::Parser;
use lab_02::channel::messages_from_a_worker;

/// Receive one message per job from a worker thread, until it hangs up.
#[derive(Parser)]
struct Args {}

fn main() {
    Args::parse();
    for message in messages_from_a_worker(vec![2, 3, 4]) {
        println!("main received: {message}");
    }
    println!("main: the channel is closed, the worker dropped its Sender");
}
