//! Stage 4: each job gets a handle to its result. The pool wraps the caller's closure in
//! one that runs it under `catch_unwind` and sends the outcome, value or panic, down a
//! one-slot channel of its own; the worker survives the panic and takes the next job.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// N workers, a bounded queue, a result per job.
#[derive(Debug)]
pub struct ResultPool {
    sender: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl ResultPool {
    pub fn new(workers: usize, capacity: usize) -> ResultPool {
        let (sender, receiver) = mpsc::sync_channel::<Job>(capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                thread::spawn(move || work(&receiver))
            })
            .collect();
        ResultPool {
            sender: Some(sender),
            workers,
        }
    }

    // ANCHOR: submit
    /// Queues `f` (waiting while the queue is full); the receiver gets `Ok(value)`, or
    /// `Err(payload)` if `f` panicked.
    pub fn submit<F, T>(&self, f: F) -> Receiver<thread::Result<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = move || {
            // AssertUnwindSafe: after a panic nobody sees `f`'s state again, only the payload.
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
        };
        let _ = self.sender.as_ref().expect("running").send(Box::new(job));
        rx
    }
    // ANCHOR_END: submit

    /// Workers whose thread is still running.
    pub fn live_workers(&self) -> usize {
        self.workers.iter().filter(|w| !w.is_finished()).count()
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let next = receiver.lock().unwrap().recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

impl Drop for ResultPool {
    fn drop(&mut self) {
        drop(self.sender.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
