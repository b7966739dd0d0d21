//! Stage 3: the queue gets a capacity. `mpsc::sync_channel(q)` holds at most `q` jobs:
//! `execute` blocks while it is full, so a producer can run at most `q` jobs ahead of the
//! workers (back-pressure), and `try_execute` refuses at once instead. Jobs still give no
//! result and a panic still ends its worker.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// N workers, a queue of at most `capacity` waiting jobs.
#[derive(Debug)]
pub struct BoundedPool {
    sender: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl BoundedPool {
    // ANCHOR: new
    pub fn new(workers: usize, capacity: usize) -> BoundedPool {
        let (sender, receiver) = mpsc::sync_channel::<Job>(capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                thread::spawn(move || work(&receiver))
            })
            .collect();
        BoundedPool {
            sender: Some(sender),
            workers,
        }
    }
    // ANCHOR_END: new

    // ANCHOR: execute
    /// Queues `f`, waiting while the queue is full.
    pub fn execute(&self, f: impl FnOnce() + Send + 'static) {
        let _ = self.sender.as_ref().expect("running").send(Box::new(f));
    }

    /// Queues `f` if there is room; `false` (and `f` dropped) when the queue is full.
    pub fn try_execute(&self, f: impl FnOnce() + Send + 'static) -> bool {
        match self.sender.as_ref().expect("running").try_send(Box::new(f)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
    // ANCHOR_END: execute
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

impl Drop for BoundedPool {
    fn drop(&mut self) {
        drop(self.sender.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
