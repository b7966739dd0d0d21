//! Chapter 10 demo: node/workers.js and node/channel.js redone with std threads and
//! channels. `cargo run -p lab-10 --bin workers`

use clap::Parser;

const NAME: &str = "workers";
use lab_10::workers::{is_main_thread, ping_pong, sum_in_workers};

/// Two worker threads sum 1..=n and post the answer back; then a ping-pong over a channel pair.
#[derive(Parser)]
struct Args {}

fn main() {
    let _: Args = lab_10::cli::parse(NAME);
    lab_10::cli::exit_on_stdout_error(NAME);
    let me = std::thread::current();
    println!(
        "main: is_main_thread={} name={:?} id={:?}",
        is_main_thread(),
        me.name().unwrap_or("?"),
        me.id()
    );
    for a in sum_in_workers(vec![("a", 1000), ("b", 2000)]) {
        println!(
            "main got: id={} sum={} from thread {:?} is_main_thread={}",
            a.id, a.sum, a.thread, a.is_main
        );
    }
    let reply = ping_pong(vec!["ping".to_string()]);
    println!("main: got {reply:?}");
}
