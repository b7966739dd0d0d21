//! Chapter 12, sharing a big buffer with a worker, three ways:
//!
//! - `Arc<Vec<u8>>` to a thread: threads share one address space, so handing over the
//!   buffer is handing over a pointer (and a reference count);
//! - a copy through a pipe to a child process: every byte goes through the kernel, and
//!   the child ends up with its own copy;
//! - `memfd_create` + `mmap(MAP_SHARED)`: an anonymous in-memory file that both processes
//!   map; the same physical pages appear in both address spaces, nothing is copied.
//!
//! Each way is timed from the hand-over until the worker has read one byte of every page,
//! and the worker's memory is read from `/proc` while it still holds the data. The
//! functions that fork must run in a single-threaded program (`compare`, `isolation`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use lab_04::forking::underscore_exit;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, ftruncate, pipe};

use crate::memory::read_pages;
use crate::smaps::{self, Counters};

// ANCHOR: shared_memory
/// `len` bytes of memory that a forked child shares with its parent: an anonymous
/// in-memory file (`memfd_create`) mapped with `MAP_SHARED`. A child forked after `new`
/// inherits the mapping, and a write on either side is seen by the other: both map the
/// same pages of the file. (The fd could also be passed to an unrelated process over a
/// Unix socket, chapter 6.)
#[derive(Debug)]
pub struct SharedMemory {
    ptr: NonNull<u8>,
    len: usize,
    _file: OwnedFd, // kept open for the mapping's life (the mapping would survive a close)
}

impl SharedMemory {
    pub fn new(name: &str, len: usize) -> io::Result<SharedMemory> {
        let file = memfd_create(name, MFdFlags::MFD_CLOEXEC)?;
        ftruncate(&file, len as i64)?; // the file's size: zero-filled pages, none allocated yet
        let size = NonZeroUsize::new(len).ok_or(io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh mapping of our own file, at an address the kernel picks.
        let ptr = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &file,
                0,
            )?
        };
        Ok(SharedMemory {
            ptr: ptr.cast(),
            len,
            _file: file,
        })
    }
}
// ANCHOR_END: shared_memory

impl SharedMemory {
    /// The shared bytes. Another process may write them: callers take turns through a
    /// pipe or `waitpid`, so the two sides never touch the memory at the same time.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr maps len bytes for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The shared bytes, to write (same rule as `as_slice`).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and &mut self rules out another reference in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// A raw pointer to the first shared byte, for memory that is written while others
    /// may look at it: this is `MAP_SHARED` memory that every child forked after `new`
    /// writes too, so no `&[u8]` or `&mut [u8]` may cover it while they run. Put atomics
    /// there (`AtomicU64::from_ptr`) rather than plain values. The pointer is page aligned
    /// (`mmap` returns whole pages) and valid for `len` bytes while `self` lives.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

/// One hand-over: how long until the worker had read every page, and what the worker's
/// memory grew by meanwhile (for a thread: the whole process's).
#[derive(Debug, Clone, Copy)]
pub struct Handover {
    pub took: Duration,
    pub added_rss_kb: u64,
    pub added_private_kb: u64,
}

fn added(before: Counters, during: Counters, took: Duration) -> Handover {
    Handover {
        took,
        added_rss_kb: during.rss.saturating_sub(before.rss),
        added_private_kb: during.private().saturating_sub(before.private()),
    }
}

/// A child that says it is idle on `ready`, waits for a byte on `start`, runs `work`,
/// says so on `ready`, and waits for end of file on `hold` before it leaves: the parent
/// reads its memory while it is idle and again while it holds the data.
struct Worker {
    pid: nix::unistd::Pid,
    start: File,
    ready: File,
    hold: Option<File>,
}

impl Worker {
    fn fork<T>(work: impl FnOnce() -> T) -> Worker {
        let (start_r, start_w) = pipe().expect("pipe");
        let (ready_r, ready_w) = pipe().expect("pipe");
        let (hold_r, hold_w) = pipe().expect("pipe");
        // SAFETY: single-threaded caller; the child works and leaves with _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                drop((start_w, ready_r, hold_w));
                let mut ready = File::from(ready_w);
                ready.write_all(b"i").expect("idle");
                File::from(start_r).read_exact(&mut [0u8]).expect("start");
                let kept = work(); // what the worker holds (its copy) while measured
                ready.write_all(b"r").expect("ready");
                let _ = File::from(hold_r).read(&mut [0u8]);
                drop(kept);
                underscore_exit(0)
            }
            ForkResult::Parent { child } => {
                let mut worker = Worker {
                    pid: child,
                    start: File::from(start_w),
                    ready: File::from(ready_r),
                    hold: Some(File::from(hold_w)),
                };
                worker.wait_ready(); // idle
                worker
            }
        }
    }

    fn memory(&self) -> Counters {
        smaps::rollup(self.pid.as_raw() as u32).expect("the worker's smaps_rollup")
    }

    fn wait_ready(&mut self) {
        self.ready
            .read_exact(&mut [0u8])
            .expect("the worker is ready");
    }

    fn finish(mut self) {
        self.hold = None;
        assert_eq!(waitpid(self.pid, None), Ok(WaitStatus::Exited(self.pid, 0)));
    }
}

// ANCHOR: arc
/// Hand an `Arc<Vec<u8>>` to a thread that reads every page.
pub fn arc_to_thread(data: &Arc<Vec<u8>>) -> Handover {
    let (give, take) = mpsc::channel::<Arc<Vec<u8>>>();
    let (ready_tx, ready_rx) = mpsc::channel();
    let hold = Arc::new(Barrier::new(2));
    let held = Arc::clone(&hold);
    let worker = std::thread::spawn(move || {
        let data = take.recv().expect("the data");
        ready_tx.send(read_pages(&data)).expect("ready");
        held.wait();
    });
    let before = smaps::rollup(std::process::id()).expect("smaps_rollup");
    let started = Instant::now();
    give.send(Arc::clone(data)).expect("send"); // a pointer and a count, not the bytes
    ready_rx.recv().expect("the worker is ready");
    let took = started.elapsed();
    let during = smaps::rollup(std::process::id()).expect("smaps_rollup");
    hold.wait();
    worker.join().expect("worker");
    added(before, during, took)
}
// ANCHOR_END: arc

// ANCHOR: pipe
/// Copy `bytes` bytes through a pipe to a child that reads them into its own buffer.
/// The data is made after the fork, so the child has no copy-on-write view of it.
pub fn pipe_to_child(bytes: usize) -> Handover {
    let (data_r, data_w) = pipe().expect("pipe");
    let mut worker = Worker::fork(move || {
        let mut copy = vec![0u8; bytes];
        File::from(data_r).read_exact(&mut copy).expect("the data");
        std::hint::black_box(read_pages(&copy));
        copy
    });
    let data = vec![1u8; bytes];
    let before = worker.memory();
    let started = Instant::now();
    worker.start.write_all(b"s").expect("start");
    File::from(data_w).write_all(&data).expect("write"); // every byte, through the kernel
    worker.wait_ready();
    let took = started.elapsed();
    let during = worker.memory();
    worker.finish();
    added(before, during, took)
}
// ANCHOR_END: pipe

// ANCHOR: memfd
/// Share `bytes` bytes with a child through a memfd mapping: fill them, tell the child to
/// start, and the child reads every page where the parent wrote it.
pub fn memfd_with_child(bytes: usize) -> Handover {
    let mut shared = SharedMemory::new("lab12-share", bytes).expect("memfd");
    let view = shared.as_slice().as_ptr() as usize;
    let mut worker = Worker::fork(move || {
        // SAFETY: the child's copy of the parent's mapping, same address, still mapped;
        // the parent does not write while the child reads (it waits for `ready`).
        let data = unsafe { std::slice::from_raw_parts(view as *const u8, bytes) };
        std::hint::black_box(read_pages(data));
    });
    shared.as_mut_slice().fill(1);
    let before = worker.memory();
    let started = Instant::now();
    worker.start.write_all(b"s").expect("start");
    worker.wait_ready();
    let took = started.elapsed();
    let during = worker.memory();
    worker.finish();
    added(before, during, took)
}
// ANCHOR_END: memfd

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_memory_reads_back_what_was_written() {
        let mut m = SharedMemory::new("lab12-test", 8192).unwrap();
        assert!(m.as_slice().iter().all(|&b| b == 0));
        m.as_mut_slice()[4096] = 9;
        assert_eq!(m.as_slice()[4096], 9);
        assert!(SharedMemory::new("lab12-test", 0).is_err());
        assert_eq!(
            m.as_mut_ptr() as usize % 4096,
            0,
            "mmap gives page-aligned memory"
        );
    }

    #[test]
    fn an_arc_handover_reads_every_page() {
        let data = Arc::new(vec![1u8; 1 << 20]);
        let h = arc_to_thread(&data);
        assert_eq!(
            Arc::strong_count(&data),
            1,
            "the thread's clone was dropped"
        );
        assert!(h.took > Duration::ZERO);
    }
}
