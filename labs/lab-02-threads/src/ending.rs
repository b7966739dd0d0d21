//! Chapter 2: how threads end when the process ends.
//!
//! A Node.js process waits for its running workers before it exits. A Rust process does
//! not: when `main` returns, Rust's runtime calls the C library's `exit`, which ends with
//! the `exit_group` system call, and that ends every thread of the process, finished or
//! not. `std::process::exit` called on *any* thread does the same. Dropping a
//! `JoinHandle` does not stop its thread: it only gives up the right to join it (the
//! thread is *detached*).

use std::io;
use std::sync::mpsc;
use std::thread;

use crate::thread_list::thread_names;

// ANCHOR: detach
/// Start a worker that never finishes, wait until it runs, and drop its `JoinHandle`.
/// Returns the thread list afterwards: the worker is still in it.
pub fn detach_an_endless_worker() -> io::Result<Vec<String>> {
    let (running, is_running) = mpsc::channel();
    let handle = thread::Builder::new()
        .name("endless".to_string())
        .spawn(move || {
            running.send(()).ok();
            loop {
                thread::park(); // nobody will unpark it: it waits for ever
            }
        })?;
    is_running.recv().map_err(io::Error::other)?;
    drop(handle); // detaches the thread; it keeps running
    thread_names()
}
// ANCHOR_END: detach

// ANCHOR: exit
/// A worker calls `std::process::exit` while main waits in `join`. The whole process
/// ends with the worker's code; `join` never returns.
pub fn exit_from_a_worker(code: i32) -> io::Result<()> {
    println!("main: starting `quitter` and waiting in join");
    let handle = thread::Builder::new()
        .name("quitter".to_string())
        .spawn(move || {
            println!("quitter: calling std::process::exit({code})");
            std::process::exit(code);
        })?;
    let joined = handle.join();
    println!("main: join returned {joined:?}"); // never printed
    Ok(())
}
// ANCHOR_END: exit
