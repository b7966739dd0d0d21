//! Chapter 2: where a thread's data lives.
//!
//! All threads of a process share one address space: the same heap, the same globals,
//! the same code. Each thread gets its own stack, a separate region of that address space
//! that holds its local variables. `/proc/self/maps` lists the regions; the main thread's
//! stack is the one marked `[stack]`, the stacks of other threads are anonymous mappings
//! that the thread library (glibc) made for them, each with an inaccessible guard page
//! just below it: a thread that runs off the end of its stack touches the guard and gets
//! SIGSEGV instead of silently writing over its neighbour.

use std::fs;
use std::hint::black_box;
use std::io;
use std::sync::mpsc;
use std::thread;

use crate::gate::Gate;

/// One line of `/proc/self/maps`: an address range, its permissions (`rw-p`, `---p`)
/// and its name (`[stack]`, `[heap]`, a file, or `anonymous`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub end: usize,
    pub perms: String,
    pub name: String,
}

impl Region {
    /// The size in KiB.
    pub fn kib(&self) -> usize {
        (self.end - self.start) / 1024
    }
}

/// All regions of this process's address space, lowest address first.
pub fn regions() -> Vec<Region> {
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|line| {
            // "start-end perms offset dev inode [name]", addresses in hex.
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            Some(Region {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
                perms: fields.next()?.to_string(),
                name: fields.nth(3).unwrap_or("anonymous").to_string(),
            })
        })
        .collect()
}

/// The region of `maps` that contains `addr`, if any.
pub fn region_of(maps: &[Region], addr: usize) -> Option<Region> {
    maps.iter()
        .find(|r| (r.start..r.end).contains(&addr))
        .cloned()
}

/// The region of `maps` that ends exactly where `region` starts (for a thread stack:
/// its guard page).
pub fn region_below(maps: &[Region], region: &Region) -> Option<Region> {
    maps.iter().find(|r| r.end == region.start).cloned()
}

/// Where one thread found its own local variable and the shared data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub thread: String,
    pub local_addr: usize,
    pub local_region: Option<Region>,
    /// The region just below the local's region (a worker's guard page).
    pub below_local: Option<Region>,
    pub shared_addr: usize,
    pub shared_region: Option<Region>,
}

// ANCHOR: sightings
/// The calling thread and `workers` scoped threads each report the address of a local
/// variable of their own and of one `Vec` that the calling thread allocated. The workers
/// wait at a gate until the calling thread has read `/proc/self/maps` (once, for all of
/// them), so every stack is still there and each worker is on a stack of its own.
pub fn sightings(workers: usize) -> io::Result<Vec<Sighting>> {
    let shared: Vec<u64> = (1..=3).collect(); // on the heap; every thread borrows it
    let report = |n: usize| {
        let local = black_box(0u64); // on the stack of the thread that runs this
        (n, &local as *const u64 as usize, shared.as_ptr() as usize)
    };
    let gate = Gate::new();
    let (tx, rx) = mpsc::channel();
    let (mut seen, maps) = thread::scope(|s| {
        let closed = gate.close(); // opened on every way out, also by a failed spawn
        for n in 1..=workers {
            let (tx, report, gate) = (tx.clone(), &report, &gate);
            thread::Builder::new().spawn_scoped(s, move || {
                tx.send(report(n)).ok();
                gate.pass(); // stay alive, stack and all, until main has looked
            })?;
        }
        drop(tx);
        let mut seen = vec![report(0)]; // 0 is main
        seen.extend(rx.iter().take(workers));
        let maps = regions(); // every worker has reported and is still alive
        drop(closed);
        io::Result::Ok((seen, maps))
    })?;
    seen.sort(); // main, then worker-0, worker-1, ... whoever reported first
    Ok(seen
        .into_iter()
        .map(|(n, local_addr, shared_addr)| {
            let local_region = region_of(&maps, local_addr);
            Sighting {
                thread: if n == 0 {
                    "main".to_string()
                } else {
                    format!("worker-{}", n - 1)
                },
                local_addr,
                below_local: local_region.as_ref().and_then(|r| region_below(&maps, r)),
                local_region,
                shared_addr,
                shared_region: region_of(&maps, shared_addr),
            }
        })
        .collect())
}
// ANCHOR_END: sightings

/// What a set of sightings shows, as facts the demo prints and the tests check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Every thread saw the shared `Vec` at one and the same address.
    pub one_shared_address: bool,
    /// No two threads had their local variable at the same address.
    pub own_locals: bool,
    /// The smallest distance between two workers' locals, in bytes (`None` with fewer
    /// than two workers).
    pub closest_workers: Option<usize>,
}

/// Work out the [`Layout`] of a set of sightings.
pub fn layout(seen: &[Sighting]) -> Layout {
    let one_shared_address = seen
        .windows(2)
        .all(|w| w[0].shared_addr == w[1].shared_addr);
    let mut locals: Vec<usize> = seen.iter().map(|s| s.local_addr).collect();
    locals.sort();
    locals.dedup();
    let mut workers: Vec<usize> = seen
        .iter()
        .filter(|s| s.thread != "main")
        .map(|s| s.local_addr)
        .collect();
    workers.sort();
    Layout {
        one_shared_address,
        own_locals: locals.len() == seen.len(),
        closest_workers: workers.windows(2).map(|w| w[1] - w[0]).min(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_share_the_heap_but_not_their_stacks() {
        let seen = sightings(3).unwrap();
        assert_eq!(seen.len(), 4);
        let layout = layout(&seen);
        assert!(layout.one_shared_address, "{seen:#?}");
        assert!(layout.own_locals, "{seen:#?}");
        // Default Rust thread stacks are 2 MiB, so live stacks are at least that far apart.
        assert!(layout.closest_workers.unwrap() >= 2 << 20, "{seen:#?}");
    }

    #[test]
    fn region_of_finds_the_mapping_of_an_address() {
        // A test runs on a thread of the harness, whose allocations may come from one of
        // glibc's per-thread arenas (an anonymous mapping) rather than `[heap]`: check
        // only what holds for both.
        let on_heap = Box::new(7u64);
        let addr = &*on_heap as *const u64 as usize;
        let maps = regions();
        let region = region_of(&maps, addr).unwrap();
        assert!(region.start <= addr && addr < region.end, "{region:?}");
        assert_eq!(region.perms, "rw-p");
        assert_eq!(region_of(&maps, 0), None);
    }
}
