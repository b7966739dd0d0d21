//! Stage 5, the finished pool: a fixed set of named workers, a bounded queue with
//! back-pressure, a handle per job that carries its result or its panic, a worker that
//! survives a panicking job, caller-runs when a worker submits to its own full queue, and a
//! `Drop` that finishes the queued jobs and joins every worker.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Every pool gets a distinct id, so a worker can tell its own pool from another one.
static NEXT_POOL_ID: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// The id of the pool whose worker runs on this thread (0: not a pool worker).
    static CURRENT_POOL: Cell<usize> = const { Cell::new(0) };
}

// ANCHOR: struct
/// A fixed-size pool of worker threads fed by a bounded queue.
#[derive(Debug)]
pub struct ThreadPool {
    id: usize,
    sender: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

/// The handle of one submitted job: `join` waits for its result.
#[derive(Debug)]
pub struct JobHandle<T> {
    slot: Arc<Slot<T>>,
}

/// `try_submit`'s error when the queue is full: it gives the job back.
pub struct Full<F>(pub F);

/// A job panicked; `message` is its panic payload when that was a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPanicked {
    pub message: String,
}
// ANCHOR_END: struct

impl<F> fmt::Debug for Full<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<F> fmt::Display for Full<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pool's queue is full")
    }
}

impl<F> std::error::Error for Full<F> {}

impl<F> Full<F> {
    /// The job that did not fit.
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl fmt::Display for JobPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job panicked: {}", self.message)
    }
}

impl std::error::Error for JobPanicked {}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_string()
    }
}

// ANCHOR: slot
/// Where a job's outcome waits for its handle: a one-shot slot, lighter than stage 4's
/// one-slot channel (a `Mutex` and a `Condvar` in one allocation, shared by the two sides).
#[derive(Debug)]
struct Slot<T> {
    outcome: Mutex<Option<Result<T, JobPanicked>>>,
    filled: Condvar,
}

impl<T> Slot<T> {
    fn fill(&self, outcome: Result<T, JobPanicked>) {
        *self.outcome.lock().expect("no panic under this lock") = Some(outcome);
        self.filled.notify_one();
    }
}

impl<T> JobHandle<T> {
    /// Waits for the job to finish: its value, or `JobPanicked` if it panicked.
    pub fn join(self) -> Result<T, JobPanicked> {
        let mut outcome = self.slot.outcome.lock().expect("no panic under this lock");
        loop {
            if let Some(outcome) = outcome.take() {
                return outcome;
            }
            outcome = self
                .slot
                .filled
                .wait(outcome)
                .expect("no panic under this lock");
        }
    }
}
// ANCHOR_END: slot

/// The job's side of the slot. If the job is dropped without having run (it never is while
/// the pool works as designed), its handle gets an error instead of waiting forever.
struct Promise<T>(Option<Arc<Slot<T>>>);

impl<T> Promise<T> {
    fn keep(mut self, outcome: Result<T, JobPanicked>) {
        if let Some(slot) = self.0.take() {
            slot.fill(outcome);
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.fill(Err(JobPanicked {
                message: "the job was dropped before it finished".to_string(),
            }));
        }
    }
}

// ANCHOR: new
impl ThreadPool {
    /// Starts `workers` threads named `pool-0`, `pool-1`, … that take jobs from a queue
    /// holding at most `queue_capacity` waiting jobs (0: a hand-off, `submit` waits for a
    /// free worker). Panics if `workers` is 0 or a thread cannot be spawned.
    pub fn new(workers: usize, queue_capacity: usize) -> ThreadPool {
        assert!(workers > 0, "a pool needs at least one worker");
        let id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::sync_channel::<Job>(queue_capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        let (ready_tx, ready) = mpsc::channel::<()>();
        let workers: Vec<_> = (0..workers)
            .map(|n| {
                let receiver = Arc::clone(&receiver);
                let ready_tx = ready_tx.clone();
                thread::Builder::new()
                    .name(format!("pool-{n}"))
                    .spawn(move || {
                        let _ = ready_tx.send(()); // std named this thread before running us
                        drop(ready_tx);
                        worker_loop(id, &receiver)
                    })
                    .expect("spawn a pool worker")
            })
            .collect();
        // Return only once every worker runs under its name, so that /proc shows them all.
        for _ in &workers {
            ready.recv().expect("a worker started");
        }
        ThreadPool {
            id,
            sender: Some(sender),
            workers,
        }
    }
    // ANCHOR_END: new

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    // ANCHOR: wrap
    /// Wraps `f` so that its result (or its panic) goes to the returned handle.
    fn wrap<F, T>(f: F) -> (Job, JobHandle<T>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Slot {
            outcome: Mutex::new(None),
            filled: Condvar::new(),
        });
        let promise = Promise(Some(Arc::clone(&slot)));
        let job: Job = Box::new(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| JobPanicked {
                message: panic_message(payload.as_ref()),
            });
            promise.keep(outcome); // fine when the handle was dropped: nobody reads it
        });
        (job, JobHandle { slot })
    }
    // ANCHOR_END: wrap

    // ANCHOR: submit
    /// Queues `f` and returns its handle. Blocks while the queue is full (back-pressure),
    /// except on a worker of this same pool: there it runs `f` at once on the calling
    /// thread (caller-runs), because waiting for a queue that only workers drain could wait
    /// forever.
    pub fn submit<F, T>(&self, f: F) -> JobHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = Self::wrap(f);
        let sender = self.sender.as_ref().expect("the pool is running");
        match sender.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) if CURRENT_POOL.get() == self.id => job(),
            Err(TrySendError::Full(job)) => {
                sender
                    .send(job)
                    .expect("the workers outlive the pool's sender");
            }
            Err(TrySendError::Disconnected(_)) => unreachable!("the workers hold the receiver"),
        }
        handle
    }
    // ANCHOR_END: submit

    // ANCHOR: try_submit
    /// Queues `f` if there is room, or gives it back in `Full` without waiting.
    pub fn try_submit<F, T>(&self, f: F) -> Result<JobHandle<T>, Full<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let sender = self.sender.as_ref().expect("the pool is running");
        // Keep `f` reachable until the queue accepts the job: wrap it in an Option that the
        // job takes from, so a refused job can hand `f` back.
        let parked = Arc::new(Mutex::new(Some(f)));
        let taker = Arc::clone(&parked);
        let (job, handle) = Self::wrap(move || {
            let f = taker
                .lock()
                .expect("parked")
                .take()
                .expect("the job runs once");
            f()
        });
        match sender.try_send(job) {
            Ok(()) => Ok(handle),
            Err(TrySendError::Full(job)) => {
                drop(job); // drops `taker`, leaving `parked` the only owner
                let f = parked.lock().expect("parked").take().expect("not taken");
                Err(Full(f))
            }
            Err(TrySendError::Disconnected(_)) => unreachable!("the workers hold the receiver"),
        }
    }
    // ANCHOR_END: try_submit
}

// ANCHOR: worker
fn worker_loop(pool_id: usize, receiver: &Mutex<Receiver<Job>>) {
    CURRENT_POOL.set(pool_id);
    loop {
        // Hold the lock only while taking a job, never while running it.
        let next = receiver.lock().expect("no job runs under the lock").recv();
        match next {
            Ok(job) => job(), // the job catches its own panic (see `wrap`)
            Err(_) => return, // the sender is gone and the queue is empty: shut down
        }
    }
}
// ANCHOR_END: worker

// ANCHOR: drop
impl Drop for ThreadPool {
    /// Closes the queue, lets the workers finish every queued job, and joins them all.
    fn drop(&mut self) {
        drop(self.sender.take());
        let me = thread::current().id();
        for worker in self.workers.drain(..) {
            // A job that held the last `Arc<ThreadPool>` drops the pool on a worker. A thread
            // cannot join itself (pthread_join fails with EDEADLK and std panics), so that
            // worker is left to drain the queue and end on its own.
            if worker.thread().id() == me {
                continue;
            }
            // Jobs catch their own panics, so a worker does not panic and join succeeds.
            let _ = worker.join();
        }
    }
}
// ANCHOR_END: drop
