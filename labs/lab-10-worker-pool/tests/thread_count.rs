//! Chapter 10: a pool's threads are tasks of this process, listed in /proc/self/task under
//! their names while the pool lives, and gone after drop. This file holds one test only, so
//! no other test's threads come and go while it counts.

use lab_10::ThreadPool;
use labkit::{DEFAULT_TIMEOUT, eventually, proc};

fn names() -> Vec<String> {
    let mut names: Vec<String> = proc::threads(std::process::id())
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    names
}

#[test]
fn the_pools_threads_are_listed_by_name_and_gone_after_drop() {
    let before = names();
    assert!(!before.iter().any(|n| n.starts_with("pool-")), "{before:?}");
    let pool = ThreadPool::new(4, 8);
    // `new` returns once every worker runs under its name.
    let during = names();
    let pool_names: Vec<&String> = during.iter().filter(|n| n.starts_with("pool-")).collect();
    assert_eq!(pool_names, ["pool-0", "pool-1", "pool-2", "pool-3"]);
    assert_eq!(during.len(), before.len() + 4);
    let handles: Vec<_> = (0..20).map(|i| pool.submit(move || i)).collect();
    assert_eq!(
        handles.into_iter().map(|h| h.join().unwrap()).sum::<i32>(),
        190
    );
    drop(pool);
    // `join` returned for every worker, but the kernel may list a thread for a moment after
    // it cleared its tid (which is what join waits for): wait until the list is back.
    eventually(DEFAULT_TIMEOUT, || {
        let now = names();
        if now == before {
            Ok(())
        } else {
            Err(format!("threads {now:?}, before {before:?}"))
        }
    })
    .unwrap();
}
