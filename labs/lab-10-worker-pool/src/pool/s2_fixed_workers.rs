//! Stage 2: a fixed set of workers that take jobs from one shared queue, an unbounded
//! `mpsc` channel whose receiver sits behind a `Mutex`. The number of threads is now bounded,
//! but the queue is not (`execute` never waits, so a fast producer grows it without end),
//! jobs give no result back, and a panicking job ends the worker that ran it.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

// ANCHOR: pool
/// N workers, one unbounded queue.
#[derive(Debug)]
pub struct FixedPool {
    sender: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl FixedPool {
    pub fn new(workers: usize) -> FixedPool {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                thread::spawn(move || work(&receiver))
            })
            .collect();
        FixedPool {
            sender: Some(sender),
            workers,
        }
    }

    /// Queues `f`; never waits, however long the queue already is.
    pub fn execute(&self, f: impl FnOnce() + Send + 'static) {
        let sender = self.sender.as_ref().expect("running");
        // Fails only when no worker is left to receive (all of them panicked).
        let _ = sender.send(Box::new(f));
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The guard is a temporary of this statement: the lock is released before the
        // job runs, so the other workers can take the next job meanwhile.
        let next = receiver.lock().unwrap().recv();
        match next {
            Ok(job) => job(), // a panic here unwinds out of `work`: the thread ends
            Err(_) => return, // queue closed and empty
        }
    }
}

impl Drop for FixedPool {
    fn drop(&mut self) {
        drop(self.sender.take()); // close the queue: each worker's recv fails once it is empty
        for worker in self.workers.drain(..) {
            let _ = worker.join(); // Err for a worker a job's panic ended
        }
    }
}
// ANCHOR_END: pool

impl FixedPool {
    /// Workers whose thread is still running.
    pub fn live_workers(&self) -> usize {
        self.workers.iter().filter(|w| !w.is_finished()).count()
    }
}
