//! Chapter 10: the finished ThreadPool: results by job id, panic isolation, back-pressure,
//! caller-runs for a job that submits to its own full pool, names, and drop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use lab_10::{JobPanicked, ThreadPool};
use labkit::DEFAULT_TIMEOUT;

fn name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Holds a pool's only worker until `open`, and tells when it has started holding.
fn hold_worker(pool: &ThreadPool) -> mpsc::Sender<()> {
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    let _ = pool.submit(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv();
    });
    started.recv().unwrap();
    gate_tx
}

#[test]
fn static_pool_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ThreadPool>();
}

#[test]
fn results_come_back_by_job_id() {
    let pool = ThreadPool::new(3, 8);
    let handles: BTreeMap<u64, _> = (0..200u64)
        .map(|id| (id, pool.submit(move || (id * id, name()))))
        .collect();
    let mut workers = BTreeSet::new();
    for (id, handle) in handles {
        let (square, worker) = handle.join().unwrap();
        assert_eq!(square, id * id, "job {id}");
        workers.insert(worker);
    }
    assert!(
        workers.is_subset(&BTreeSet::from([
            "pool-0".into(),
            "pool-1".into(),
            "pool-2".into()
        ])),
        "{workers:?}"
    );
}

#[test]
fn two_workers_run_two_jobs_at_the_same_time() {
    // Each job waits for the other at a barrier: both finish only if both run at once.
    let pool = ThreadPool::new(2, 2);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                name()
            })
        })
        .collect();
    // Join on a thread of our own so that a pool running one job at a time fails the test
    // after the time-out instead of hanging it.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let names: BTreeSet<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        tx.send(names)
    });
    let Ok(names) = rx.recv_timeout(DEFAULT_TIMEOUT) else {
        // The pool's drop would wait for the stuck job: leave it to the process's end.
        std::mem::forget(pool);
        panic!("the two jobs did not run at the same time");
    };
    assert_eq!(names, BTreeSet::from(["pool-0".into(), "pool-1".into()]));
}

#[test]
fn a_panicking_job_is_an_error_and_its_worker_keeps_serving() {
    let pool = ThreadPool::new(1, 4);
    let bad = pool.submit(|| -> u32 { panic!("job {} refuses", 3) });
    let after = pool.submit(name);
    assert_eq!(
        bad.join(),
        Err(JobPanicked {
            message: "job 3 refuses".to_string()
        })
    );
    assert_eq!(
        after.join().unwrap(),
        "pool-0",
        "the same worker, not a replacement"
    );
    // A payload that is not a string still gives an error.
    let odd = pool.submit(|| std::panic::panic_any(42u8));
    assert_eq!(
        odd.join().unwrap_err().message,
        "(a non-string panic payload)"
    );
}

#[test]
fn try_submit_refuses_when_full_and_gives_the_job_back() {
    let pool = ThreadPool::new(1, 2);
    let gate = hold_worker(&pool);
    let a = pool.try_submit(|| 'a').expect("room for one");
    let b = pool.try_submit(|| 'b').expect("room for two");
    let full = pool.try_submit(|| 'c').expect_err("no room for three");
    assert_eq!(full.to_string(), "the pool's queue is full");
    assert_eq!((full.into_inner())(), 'c', "the closure came back, unrun");
    gate.send(()).unwrap();
    assert_eq!((a.join(), b.join()), (Ok('a'), Ok('b')));
}

#[test]
fn submit_waits_while_the_queue_is_full() {
    let pool = Arc::new(ThreadPool::new(1, 1));
    let gate = hold_worker(&pool);
    let queued = pool.submit(|| 1);
    let (returned_tx, returned) = mpsc::channel();
    let producer = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || {
            let h = pool.submit(|| 2);
            returned_tx.send(()).unwrap();
            h.join()
        })
    };
    // A negative check: can only pass wrongly (a broken submit slower than 200 ms).
    assert_eq!(
        returned.recv_timeout(Duration::from_millis(200)),
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    gate.send(()).unwrap();
    returned
        .recv_timeout(DEFAULT_TIMEOUT)
        .expect("submit returned");
    assert_eq!(queued.join(), Ok(1));
    assert_eq!(producer.join().unwrap(), Ok(2));
}

#[test]
fn a_job_submitting_to_its_own_full_pool_runs_it_inline_instead_of_deadlocking() {
    let pool = Arc::new(ThreadPool::new(1, 1));
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    let inner_pool = Arc::clone(&pool);
    let outer = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        // The queue is full and the only worker is us: a blocking send would never return.
        inner_pool.submit(|| format!("inner on {}", name())).join()
    });
    started.recv().unwrap();
    let filler = pool.submit(|| "filler");
    gate_tx.send(()).unwrap();
    // Wait on a thread of our own so that a deadlock fails the test instead of hanging it.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(outer.join()));
    let inner = rx.recv_timeout(DEFAULT_TIMEOUT).expect("no deadlock");
    assert_eq!(inner, Ok(Ok("inner on pool-0".to_string())));
    assert_eq!(filler.join(), Ok("filler"));
}

#[test]
fn a_thread_outside_the_pool_still_waits_on_a_full_queue() {
    // Caller-runs is only for the pool's own workers: a worker of ANOTHER pool waits.
    let a = Arc::new(ThreadPool::new(1, 1));
    let b = ThreadPool::new(1, 1);
    let gate = hold_worker(&a);
    let _queued = a.submit(|| ());
    let (returned_tx, returned) = mpsc::channel();
    let a2 = Arc::clone(&a);
    let from_b = b.submit(move || {
        let h = a2.submit(name);
        returned_tx.send(()).unwrap();
        h.join()
    });
    assert_eq!(
        returned.recv_timeout(Duration::from_millis(200)),
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    gate.send(()).unwrap();
    assert_eq!(
        from_b.join().unwrap(),
        Ok("pool-0".to_string()),
        "ran on a's worker"
    );
}

#[test]
fn a_job_holding_the_last_arc_drops_the_pool_on_its_worker() {
    let pool = Arc::new(ThreadPool::new(2, 2));
    let (gate_tx, gate) = mpsc::channel::<()>();
    let mine = Arc::clone(&pool);
    let handle = pool.submit(move || {
        gate.recv().unwrap();
        drop(mine); // the last Arc: ThreadPool::drop runs here, on a worker
        name()
    });
    drop(pool);
    gate_tx.send(()).unwrap();
    // Drop on the worker joined the other worker and skipped itself instead of panicking.
    let worker = handle.join().expect("the job returned");
    assert!(worker.starts_with("pool-"), "{worker}");
}

#[test]
fn drop_finishes_every_queued_job_first() {
    let done = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPool::new(2, 100);
    for _ in 0..100 {
        let done = Arc::clone(&done);
        let _ = pool.submit(move || done.fetch_add(1, Ordering::SeqCst));
    }
    drop(pool);
    assert_eq!(done.load(Ordering::SeqCst), 100);
}

#[test]
fn a_queue_of_zero_hands_each_job_to_a_free_worker() {
    let pool = ThreadPool::new(2, 0);
    let handles: Vec<_> = (0..10).map(|i| pool.submit(move || i + 1)).collect();
    let sum: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 55);
    let gate = {
        let pool1 = ThreadPool::new(1, 0);
        let gate = hold_worker(&pool1);
        assert!(pool1.try_submit(|| ()).is_err(), "no worker free, no queue");
        gate.send(()).unwrap();
        pool1
    };
    drop(gate);
}

#[test]
#[should_panic(expected = "a pool needs at least one worker")]
fn a_pool_without_workers_is_refused() {
    let _ = ThreadPool::new(0, 1);
}

#[test]
fn a_thread_local_left_by_a_panicking_job_is_still_there_for_the_next_job() {
    std::thread_local! {
        static HALF_DONE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    let pool = ThreadPool::new(1, 2);
    let first = pool.submit(|| {
        HALF_DONE.with(|c| c.set(7));
        panic!("the job panics halfway");
    });
    assert!(first.join().is_err());
    // Same worker (the only one), same thread-local, left as the panicking job set it.
    let seen = pool.submit(|| HALF_DONE.with(|c| c.get())).join().unwrap();
    assert_eq!(seen, 7);
}
