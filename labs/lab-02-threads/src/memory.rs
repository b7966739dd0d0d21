//! Chapter 2: where a thread's data lives.
//!
//! All threads of a process share one address space: the same heap, the same globals,
//! the same code. Each thread gets its own stack, a separate region of that address space
//! that holds its local variables. `/proc/self/maps` lists the regions; the main thread's
//! stack is the one marked `[stack]`, the stacks of other threads are anonymous mappings
//! that the thread library made for them.

use std::fs;
use std::hint::black_box;
use std::thread;

/// Where one thread found its own local variable and the shared data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub thread: String,
    pub local_addr: usize,
    pub local_region: String,
    pub shared_addr: usize,
    pub shared_region: String,
}

/// The name `/proc/self/maps` gives the region that contains `addr`: `[stack]`,
/// `[heap]`, a file path, or `anonymous` when the region has no name.
pub fn region_of(addr: usize) -> String {
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    for line in maps.lines() {
        // "start-end perms offset dev inode [name]", addresses in hex.
        let mut fields = line.split_whitespace();
        let Some((start, end)) = fields.next().and_then(|r| r.split_once('-')) else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        if (start..end).contains(&addr) {
            return fields.nth(4).unwrap_or("anonymous").to_string();
        }
    }
    "unmapped".to_string()
}

// ANCHOR: sightings
/// The calling thread and `workers` scoped threads each report the address of a local
/// variable of their own and of one `Vec` that the calling thread allocated.
pub fn sightings(workers: usize) -> Vec<Sighting> {
    let shared: Vec<u64> = (1..=3).collect(); // on the heap; every thread borrows it
    let look = |name: String| {
        let local = black_box(0u64); // on the stack of the thread that runs this
        let local_addr = &local as *const u64 as usize;
        let shared_addr = shared.as_ptr() as usize;
        Sighting {
            thread: name,
            local_addr,
            local_region: region_of(local_addr),
            shared_addr,
            shared_region: region_of(shared_addr),
        }
    };
    let mut seen = vec![look("main".to_string())];
    thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|i| s.spawn(move || look(format!("worker-{i}"))))
            .collect();
        seen.extend(handles.into_iter().map(|h| h.join().unwrap()));
    });
    seen
}
// ANCHOR_END: sightings

/// Two facts about a set of sightings: every thread saw the shared data at one address,
/// and no two threads had their local variable at the same address.
pub fn shared_heap_own_stacks(seen: &[Sighting]) -> (bool, bool) {
    let one_shared_address = seen
        .windows(2)
        .all(|w| w[0].shared_addr == w[1].shared_addr);
    let mut locals: Vec<usize> = seen.iter().map(|s| s.local_addr).collect();
    locals.sort();
    locals.dedup();
    (one_shared_address, locals.len() == seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_share_the_heap_but_not_their_stacks() {
        let seen = sightings(3);
        assert_eq!(seen.len(), 4);
        assert_eq!(shared_heap_own_stacks(&seen), (true, true), "{seen:#?}");
    }

    #[test]
    fn region_of_names_what_it_can() {
        let on_heap = Box::new(7u64);
        assert_eq!(region_of(&*on_heap as *const u64 as usize), "[heap]");
        assert_eq!(region_of(0), "unmapped");
    }
}
