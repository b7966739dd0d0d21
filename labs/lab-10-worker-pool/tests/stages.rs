//! Chapter 10: each stage of the pool does what the chapter says it does, and fails the way
//! the chapter says it fails. Gates (channels) order every step; nothing sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use lab_10::pool::{s1_thread_per_job, s2_fixed_workers, s3_bounded_queue, s4_results};
use labkit::{DEFAULT_TIMEOUT, eventually};

#[test]
fn s1_a_thread_per_job_gives_results_and_contains_panics() {
    let ok = s1_thread_per_job::submit(|| 6 * 7);
    let bad = s1_thread_per_job::submit(|| -> u32 { panic!("stage 1 job panics") });
    assert_eq!(ok.join().unwrap(), 42);
    let payload = bad.join().unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stage 1 job panics"));
}

#[test]
fn s1_runs_every_job_at_once_on_its_own_thread() {
    // Eight jobs that each wait for the other seven: they can only all finish if all eight
    // run at the same time, which a thread per job allows (and a pool of 2 would not).
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            s1_thread_per_job::submit(move || {
                barrier.wait();
                std::thread::current().id()
            })
        })
        .collect();
    let mut ids: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ids.sort_by_key(|id| format!("{id:?}"));
    ids.dedup();
    assert_eq!(ids.len(), 8, "eight jobs, eight threads");
}

#[test]
fn s2_execute_never_waits_so_the_queue_grows_without_bound() {
    let pool = s2_fixed_workers::FixedPool::new(1);
    let (gate_tx, gate) = mpsc::channel::<()>();
    pool.execute(move || gate.recv().unwrap());
    // The only worker is held; 10 000 more jobs are queued and `execute` returns each time.
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..10_000 {
        let done = Arc::clone(&done);
        pool.execute(move || {
            done.fetch_add(1, Ordering::Relaxed);
        });
    }
    assert_eq!(
        done.load(Ordering::Relaxed),
        0,
        "none ran: all 10 000 are waiting in memory"
    );
    gate_tx.send(()).unwrap();
    drop(pool); // drop finishes the queue
    assert_eq!(done.load(Ordering::Relaxed), 10_000);
}

#[test]
fn s2_a_panicking_job_kills_its_worker() {
    let pool = s2_fixed_workers::FixedPool::new(1);
    assert_eq!(pool.live_workers(), 1);
    pool.execute(|| panic!("stage 2 job panics"));
    eventually(DEFAULT_TIMEOUT, || match pool.live_workers() {
        0 => Ok(()),
        n => Err(format!("{n} worker(s) still running")),
    })
    .unwrap();
    // A job submitted now is dropped, never run: nobody is left to take it, so its
    // sender is dropped with it and recv sees the channel closed.
    let (tx, rx) = mpsc::channel();
    pool.execute(move || tx.send(()).unwrap());
    assert!(rx.recv().is_err(), "the job was dropped, never run");
}

#[test]
fn s3_the_queue_refuses_when_full_and_execute_waits() {
    let pool = Arc::new(s3_bounded_queue::BoundedPool::new(1, 2));
    let (started_tx, started) = mpsc::channel();
    let (gate_tx, gate) = mpsc::channel::<()>();
    pool.execute(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
    });
    started.recv().unwrap();
    assert!(pool.try_execute(|| ()));
    assert!(pool.try_execute(|| ()));
    assert!(!pool.try_execute(|| ()), "a third waiting job does not fit");

    // A producer thread's `execute` now waits for room.
    let (returned_tx, returned) = mpsc::channel();
    let producer = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || {
            pool.execute(|| ());
            returned_tx.send(()).unwrap();
        })
    };
    // Not returned while the worker is held (a negative check: it can only pass wrongly
    // when a broken `execute` is slower than this wait, never fail wrongly).
    assert_eq!(
        returned.recv_timeout(Duration::from_millis(200)),
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    gate_tx.send(()).unwrap();
    returned
        .recv_timeout(DEFAULT_TIMEOUT)
        .expect("execute returned once there was room");
    producer.join().unwrap();
}

#[test]
fn s4_each_job_has_a_result_and_a_panic_spares_the_worker() {
    let pool = s4_results::ResultPool::new(1, 4);
    let bad = pool.submit(|| -> u32 { panic!("stage 4 job panics") });
    let good = pool.submit(|| 7u32);
    let payload = bad.recv().unwrap().unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stage 4 job panics"));
    assert_eq!(
        good.recv().unwrap().unwrap(),
        7,
        "the same worker ran the next job"
    );
    assert_eq!(pool.live_workers(), 1);
}
