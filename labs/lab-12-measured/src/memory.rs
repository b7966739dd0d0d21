//! Chapter 12, memory per worker: start N workers, let each one get ready, then read the
//! memory counters of every process involved from `/proc/PID/smaps_rollup` while they
//! all still live, and divide what was added by N.
//!
//! - processes: the parent first fills a buffer, then forks N children that either leave
//!   their copy untouched (copy-on-write keeps one copy for all) or write every page of
//!   it (each write un-shares a page: the kernel copies it for the writer);
//! - threads: N threads that either allocate nothing or allocate and fill a buffer of
//!   the same size of their own.
//!
//! `processes` forks: call it from a single-threaded program only.

use std::fs::File;
use std::io::{Read, Write};
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::{Arc, Barrier, mpsc};

use lab_04::forking::underscore_exit;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe};

use crate::smaps::{self, Counters};

/// The page size the demos step by when they touch a buffer.
pub const PAGE: usize = 4096;

/// Write one byte in every page of `buf` (enough to make each page present and dirty).
pub fn touch(buf: &mut [u8], value: u8) {
    for i in (0..buf.len()).step_by(PAGE) {
        buf[i] = value;
    }
}

/// Read one byte of every page of `buf`, so that each page is mapped in.
pub fn read_pages(buf: &[u8]) -> u64 {
    (0..buf.len())
        .step_by(PAGE)
        .map(|i| u64::from(std::hint::black_box(buf[i])))
        .sum()
}

/// A buffer in a private anonymous mapping of its own, every page written. Made with
/// `mmap` rather than a `Vec` so that each round maps fresh pages and unmaps them after:
/// malloc may keep freed memory and hand it out again already resident, which would make
/// the next round's buffer look free.
#[derive(Debug)]
pub struct Buffer {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by the Buffer alone, like a Vec's memory.
unsafe impl Send for Buffer {}

impl Buffer {
    /// `len` (> 0) bytes, one byte of every page set to `value`.
    pub fn filled(len: usize, value: u8) -> Buffer {
        let size = NonZeroUsize::new(len).expect("a buffer of at least one byte");
        // SAFETY: a fresh private mapping at an address the kernel picks.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }
        .expect("mmap");
        let mut b = Buffer {
            ptr: ptr.cast(),
            len,
        };
        touch(b.as_mut_slice(), value);
        b
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: ptr maps len bytes, owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `filled`, unmapped once.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

/// What N workers added, per worker, in kB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerWorker {
    pub rss_kb: u64,
    pub pss_kb: u64,
}

fn per_worker(before: Counters, during: Counters, n: usize) -> PerWorker {
    let n = n.max(1) as u64;
    PerWorker {
        rss_kb: during.rss.saturating_sub(before.rss) / n,
        pss_kb: during.pss.saturating_sub(before.pss) / n,
    }
}

// ANCHOR: processes
/// N forked children of a parent that holds a filled buffer of `bytes`; each child
/// writes every page of its copy when `write` is set. The sum of the counters of the
/// parent and all children, while all children wait, minus the parent's alone before.
pub fn processes(n: usize, bytes: usize, write: bool) -> PerWorker {
    let me = std::process::id();
    let mut buffer = Buffer::filled(bytes, 1); // every page written: the parent's own
    let before = smaps::rollup(me).expect("smaps_rollup");
    let (ready_r, ready_w) = pipe().expect("pipe");
    let (go_r, go_w) = pipe().expect("pipe");
    let mut children = Vec::new();
    for _ in 0..n {
        // SAFETY: single-threaded caller; the child touches its memory, writes a byte,
        // waits for end of file on `go` and leaves with _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                drop(go_w); // else the end of file we wait for never comes
                if write {
                    touch(buffer.as_mut_slice(), 2);
                }
                File::from(ready_w).write_all(b"r").expect("ready");
                let _ = File::from(go_r).read(&mut [0u8]); // 0 bytes: the parent let go
                underscore_exit(0)
            }
            ForkResult::Parent { child } => children.push(child),
        }
    }
    drop(ready_w);
    let mut ready = vec![0u8; n];
    File::from(ready_r)
        .read_exact(&mut ready)
        .expect("every child ready");
    let mut during = smaps::rollup(me).expect("smaps_rollup");
    for child in &children {
        during = during + smaps::rollup(child.as_raw() as u32).expect("child's smaps_rollup");
    }
    drop(go_w);
    for child in children {
        assert_eq!(waitpid(child, None), Ok(WaitStatus::Exited(child, 0)));
    }
    std::hint::black_box(&buffer);
    per_worker(before, during, n)
}
// ANCHOR_END: processes

// ANCHOR: threads
/// N threads of this process, each holding a filled buffer of `bytes` of its own (0: none).
pub fn threads(n: usize, bytes: usize) -> PerWorker {
    let me = std::process::id();
    let before = smaps::rollup(me).expect("smaps_rollup");
    let hold = Arc::new(Barrier::new(n + 1));
    let (ready_tx, ready_rx) = mpsc::channel();
    let workers: Vec<_> = (0..n)
        .map(|_| {
            let hold = Arc::clone(&hold);
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                let own = (bytes > 0).then(|| Buffer::filled(bytes, 2));
                ready.send(()).expect("ready");
                hold.wait(); // keep `own` alive until the main thread has measured
                std::hint::black_box(own);
            })
        })
        .collect();
    for _ in 0..n {
        ready_rx.recv().expect("every thread ready");
    }
    let during = smaps::rollup(me).expect("smaps_rollup");
    hold.wait();
    for w in workers {
        w.join().expect("worker");
    }
    per_worker(before, during, n)
}
// ANCHOR_END: threads

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_and_reading_visit_every_page() {
        let mut buf = vec![0u8; 3 * PAGE + 1];
        touch(&mut buf, 3);
        assert_eq!(read_pages(&buf), 4 * 3);
        assert_eq!(buf[PAGE], 3);
        assert_eq!(buf[1], 0);
        let mut b = Buffer::filled(2 * PAGE, 5);
        assert_eq!(read_pages(b.as_mut_slice()), 10);
    }

    // Threads only here; the process figures come from the `compare` binary.
    #[test]
    fn threads_with_buffers_add_at_least_their_buffers() {
        // Other tests run in this process at the same time and may free memory meanwhile:
        // a wide margin below the 32 MiB each thread adds.
        let w = threads(2, 32 << 20);
        assert!(w.rss_kb >= 24 * 1024, "{w:?}");
    }
}
