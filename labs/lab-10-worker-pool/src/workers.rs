//! Chapter 10: Node's worker_threads said with std. A `Worker` with `workerData` is a
//! thread that owns what was moved into it; `parentPort.postMessage` is a send on a channel
//! back to the spawning thread; a `MessageChannel` is a pair of channels handed to a thread.
//! Unlike Node, the threads share one heap: a message is moved, not copied.

use std::sync::mpsc;
use std::thread;

/// What a worker answers: the input's id, its sum, and who computed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub id: &'static str,
    pub sum: u64,
    pub thread: String,
    pub is_main: bool,
}

/// Node's `isMainThread`. std gives the main thread the name `main` in its own `Thread`
/// object (in /proc the main thread keeps the program's name).
pub fn is_main_thread() -> bool {
    thread::current().name() == Some("main")
}

// ANCHOR: workers
/// Starts one thread per input (`workerData` moves in), collects one answer from each
/// (`postMessage` is a channel send), and returns them sorted by id.
pub fn sum_in_workers(inputs: Vec<(&'static str, u64)>) -> Vec<Answer> {
    let (to_main, from_workers) = mpsc::channel::<Answer>();
    let mut handles = Vec::new();
    for (i, (id, n)) in inputs.into_iter().enumerate() {
        let to_main = to_main.clone();
        let worker = thread::Builder::new().name(format!("worker-{}", i + 1));
        handles.push(
            worker
                .spawn(move || {
                    let sum = (1..=n).sum();
                    let me = thread::current().name().unwrap_or("?").to_string();
                    let answer = Answer {
                        id,
                        sum,
                        thread: me,
                        is_main: is_main_thread(),
                    };
                    to_main.send(answer).expect("main is listening");
                })
                .expect("spawn"),
        );
    }
    drop(to_main); // keep only the workers' senders: the loop below ends when they are gone
    let mut answers: Vec<Answer> = from_workers.iter().collect();
    for handle in handles {
        handle.join().expect("a worker panicked");
    }
    answers.sort_by_key(|a| a.id);
    answers
}
// ANCHOR_END: workers

// ANCHOR: channel
/// A MessageChannel: the thread gets one end of a pair of channels, pushes "pong" onto
/// the words it receives and sends them back. The Vec is moved both ways, never copied.
pub fn ping_pong(words: Vec<String>) -> Vec<String> {
    let (to_worker, worker_inbox) = mpsc::channel::<Vec<String>>();
    let (to_main, main_inbox) = mpsc::channel::<Vec<String>>();
    let worker = thread::spawn(move || {
        for mut msg in worker_inbox {
            msg.push("pong".to_string());
            to_main.send(msg).expect("main is listening");
        }
    });
    to_worker.send(words).expect("worker is listening");
    // `words` has moved: using it here is a compile error (E0382), not a stale copy.
    let reply = main_inbox.recv().expect("a reply");
    drop(to_worker); // the worker's `for` loop ends, like closing a port
    worker.join().expect("worker panicked");
    reply
}
// ANCHOR_END: channel
