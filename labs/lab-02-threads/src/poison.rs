//! Chapter 2: what a `Mutex` does when a thread panics while holding it.
//!
//! A `MutexGuard` unlocks in its `Drop`. A thread that panics unwinds its stack and
//! drops its guards on the way, so the lock is released, but the data behind it may be
//! half updated. The mutex records this: it is *poisoned*, and every later `lock()`
//! returns `Err(PoisonError)`. The data is still reachable through
//! `PoisonError::into_inner`, for a caller that knows how to check or repair it.

use std::sync::Mutex;
use std::thread;

// ANCHOR: poison
/// A thread panics halfway through a transfer while holding the lock; another panics
/// only after its guard was dropped. Report what the mutex says afterwards.
pub fn poison_and_recover() -> Vec<String> {
    let mut log = Vec::new();
    let accounts = Mutex::new([100i64, 0]); // [from, to]

    let joined = thread::scope(|s| {
        s.spawn(|| {
            {
                let mut guard = accounts.lock().unwrap();
                guard[0] -= 10;
                guard[1] += 10;
            } // the guard is dropped here: unlocked, the transfer complete
            panic!("failed after unlocking");
        })
        .join()
    });
    log.push(format!(
        "panic after the guard was dropped: join is_err={}, poisoned={}",
        joined.is_err(),
        accounts.is_poisoned()
    ));

    let joined = thread::scope(|s| {
        s.spawn(|| {
            let mut guard = accounts.lock().unwrap();
            guard[0] -= 30; // the money has left the first account...
            panic!("failed halfway through a transfer"); // ...and never arrives
        })
        .join()
    });
    log.push(format!(
        "panic while holding the guard: join is_err={}, poisoned={}",
        joined.is_err(),
        accounts.is_poisoned()
    ));

    match accounts.lock() {
        Ok(guard) => log.push(format!("lock() is Ok: {:?}", *guard)),
        Err(poisoned) => {
            let mut guard = poisoned.into_inner(); // the data, as the panic left it
            log.push(format!("lock() is Err; into_inner() gives {:?}", *guard));
            guard[1] += 30; // repair: finish the transfer
            log.push(format!("repaired to {:?}", *guard));
        }
    }
    accounts.clear_poison(); // tell later callers the data is consistent again
    log.push(format!(
        "after clear_poison: poisoned={}, lock() is_ok={}",
        accounts.is_poisoned(),
        accounts.lock().is_ok()
    ));
    log
}
// ANCHOR_END: poison

/// What [`tally`] counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The sum of every amount that was added, by finished and by crashed jobs.
    pub total: u64,
    /// How many jobs panicked.
    pub panicked: usize,
}

/// One step of a job: add an amount to the shared total, or crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Add(u64),
    Panic,
}

/// Run each job on a scoped thread of its own. A job locks the shared total once and
/// performs its steps in order while holding the lock; a `Step::Panic` panics right
/// there, with the lock held. Return the total and how many jobs panicked: a crashed job
/// must not stop the others from counting, nor make `tally` itself panic.
pub fn tally(jobs: &[Vec<Step>]) -> Tally {
    // EXERCISE: share one `Mutex<u64>` between the job threads; a job whose `lock()`
    // finds the mutex poisoned carries on with the value inside; count the jobs whose
    // `join` is an `Err`; read the final total even if the mutex is poisoned.
    // BEGIN SOLUTION
    let total = Mutex::new(0u64);
    let panicked = thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|steps| {
                let total = &total;
                s.spawn(move || {
                    let mut sum = total
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for step in steps {
                        match step {
                            Step::Add(n) => *sum += n,
                            Step::Panic => panic!("job crashed"),
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join())
            .filter(Result::is_err)
            .count()
    });
    Tally {
        total: total
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        panicked,
    }
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisoning_story_in_order() {
        assert_eq!(
            poison_and_recover(),
            [
                "panic after the guard was dropped: join is_err=true, poisoned=false",
                "panic while holding the guard: join is_err=true, poisoned=true",
                "lock() is Err; into_inner() gives [60, 10]",
                "repaired to [60, 40]",
                "after clear_poison: poisoned=false, lock() is_ok=true",
            ]
        );
    }

    #[test]
    fn a_tally_counts_through_crashed_jobs() {
        use Step::{Add, Panic};
        let jobs = vec![
            vec![Add(1), Add(2)],
            vec![Add(10), Panic, Add(1000)],
            vec![Add(5)],
            vec![Panic],
            vec![Add(200)],
        ];
        // The crashed job's 10 was added before it panicked; its 1000 never was.
        assert_eq!(
            tally(&jobs),
            Tally {
                total: 218,
                panicked: 2
            }
        );
    }

    #[test]
    fn a_tally_of_nothing_is_zero() {
        assert_eq!(
            tally(&[]),
            Tally {
                total: 0,
                panicked: 0
            }
        );
    }
}
