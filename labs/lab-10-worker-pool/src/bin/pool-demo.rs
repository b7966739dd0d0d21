//! Chapter 10 demo: the finished `ThreadPool` step by step: its named threads, results by
//! job id, a panicking job, back-pressure (`try_submit` refused), a job that submits to its
//! own full pool, and the threads gone after drop. Gates (channels) order every step, so the
//! output is the same on every run. `cargo run -p lab-10 --bin pool-demo`

use std::sync::Arc;
use std::sync::mpsc;

use clap::Parser;

const NAME: &str = "pool-demo";
use lab_10::ThreadPool;

/// Walk through the finished pool: names, results, a panic, back-pressure, drop.
#[derive(Parser)]
struct Args {}

fn thread_names() -> String {
    let threads = labkit::proc::threads(std::process::id()).expect("read /proc/self/task");
    let names: Vec<String> = threads.into_iter().map(|t| t.name).collect();
    names.join(" ")
}

/// The thread list once only the main thread is left. `join` returns as soon as the kernel
/// clears the thread's tid word, which it does while the thread is still exiting: for a
/// moment after `join` (and so after the pool's drop) `/proc/self/task` may still list it.
fn names_when_alone() -> String {
    labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        let names = thread_names();
        if names.contains(' ') {
            Err(format!("still listed: {names}"))
        } else {
            Ok(names)
        }
    })
    .expect("the pool's threads are gone")
}

fn current_name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

fn main() {
    let _: Args = lab_10::cli::parse(NAME);
    lab_10::cli::exit_on_stdout_error(NAME);
    println!("threads: {}", thread_names());

    // ANCHOR: results
    let pool = ThreadPool::new(2, 4);
    println!(
        "pool of {} workers: threads: {}",
        pool.workers(),
        thread_names()
    );
    let handles: Vec<_> = (0..6u64)
        .map(|id| {
            pool.submit(move || {
                if id == 3 {
                    panic!("job {id} refuses");
                }
                id * id
            })
        })
        .collect();
    for (id, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(square) => println!("job {id}: {square}"),
            Err(e) => println!("job {id}: {e}"),
        }
    }
    // ANCHOR_END: results
    drop(pool);
    println!("after drop: threads: {}", names_when_alone());

    // Back-pressure: one worker held by a gate, one job waiting in a queue of one.
    let pool = ThreadPool::new(1, 1);
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    let first = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        "first"
    });
    started.recv().unwrap(); // the worker holds the first job: the queue is empty
    let second = pool.submit(|| "second"); // fills the queue
    match pool.try_submit(|| "third") {
        Ok(_) => println!("try_submit: queued (unexpected)"),
        Err(full) => {
            println!("try_submit: {full}");
            println!(
                "the job came back; run here it gives {:?}",
                full.into_inner()()
            );
        }
    }
    gate_tx.send(()).unwrap();
    println!("{} {}", first.join().unwrap(), second.join().unwrap());
    drop(pool);

    // A job that submits to its own full pool runs the inner job itself (caller-runs).
    let pool = Arc::new(ThreadPool::new(1, 1));
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    let inner_pool = Arc::clone(&pool);
    let outer = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap(); // wait until the queue is full
        let inner = inner_pool.submit(|| format!("inner ran on {}", current_name()));
        inner.join().unwrap()
    });
    started.recv().unwrap();
    let filler = pool.submit(|| "filler ran after");
    gate_tx.send(()).unwrap();
    println!("{}; {}", outer.join().unwrap(), filler.join().unwrap());
    drop(pool);
    println!("after drop: threads: {}", names_when_alone());
}
