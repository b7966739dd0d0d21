//! Chapter 2: a channel between threads, Rust's `postMessage`.
//!
//! A Node.js worker talks to its parent with `parentPort.postMessage(value)`, and the
//! value is copied (structured clone) to the other side. An `mpsc` channel does the same
//! job between threads of one process, but nothing is copied: the value *moves* to the
//! receiver, and the sender can no longer touch it. When every `Sender` has been
//! dropped, the receiver's loop ends.

use std::sync::mpsc;
use std::thread;

// ANCHOR: channel
/// A worker thread sends one message per job; the calling thread receives them in order
/// until the worker is done and its `Sender` is gone.
pub fn messages_from_a_worker(jobs: Vec<u64>) -> Vec<String> {
    let (tx, rx) = mpsc::channel::<String>();
    let worker = thread::Builder::new()
        .name("squarer".to_string())
        .spawn(move || {
            for n in jobs {
                let message = format!("{n} squared is {}", n * n);
                tx.send(message).expect("the receiver is still there");
                // `message` has moved into the channel: using it here would not compile.
            }
            // The closure ends, `tx` is dropped, and the channel is closed.
        })
        .expect("cannot start a thread");
    // `iter()` blocks until the next message, and ends when the channel is closed.
    let received: Vec<String> = rx.iter().collect();
    worker.join().expect("the worker panicked");
    received
}
// ANCHOR_END: channel

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_arrive_in_order_and_the_loop_ends_when_the_sender_is_gone() {
        assert_eq!(
            messages_from_a_worker(vec![2, 3]),
            ["2 squared is 4", "3 squared is 9"]
        );
        assert!(messages_from_a_worker(vec![]).is_empty());
    }
}
