//! The chapter's exercises. In the student edition the code between `BEGIN SOLUTION` and
//! `END SOLUTION` is replaced by `todo!()`; `tests/exercises.rs` checks them.

use std::fs::File;
use std::io;
use std::path::Path;
use std::thread::JoinHandle;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// What [`saturate_pool`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saturation {
    /// Threads named `rt-blocking-*` while the pool was as full as it can get.
    pub blocking_threads: usize,
    /// Jobs that ran to the end.
    pub finished: usize,
}

/// Give a runtime whose blocking pool may hold `cap` threads (`crate::runtime(cap, …)`)
/// `jobs` blocking jobs, count the blocking threads at the moment the pool is full, then
/// let every job finish.
pub fn saturate_pool(cap: usize, jobs: usize) -> io::Result<Saturation> {
    // EXERCISE: only min(cap, jobs) jobs can run at once, the others wait in the pool's
    // queue. Hold exactly the ones that run (a barrier sized for them and this thread),
    // count the `rt-blocking-*` threads while they are held, release them, and make sure
    // that the queued jobs, which start later, do not wait at a barrier nobody will reach.
    // BEGIN SOLUTION
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    let rt = crate::runtime(cap, crate::DEFAULT_KEEP_ALIVE)?;
    let running = cap.min(jobs);
    let all_running = Arc::new(Barrier::new(running + 1));
    let counted = Arc::new(Barrier::new(running + 1));
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..jobs)
        .map(|_| {
            let (all_running, counted) = (all_running.clone(), counted.clone());
            let started = started.clone();
            rt.spawn_blocking(move || {
                if started.fetch_add(1, Ordering::SeqCst) < running {
                    all_running.wait();
                    counted.wait();
                }
            })
        })
        .collect();
    all_running.wait();
    let names = crate::settled_names();
    counted.wait();
    let mut finished = 0;
    for handle in handles {
        rt.block_on(handle).map_err(io::Error::other)?;
        finished += 1;
    }
    let blocking_threads = names?
        .iter()
        .filter(|n| n.starts_with("rt-blocking-"))
        .count();
    Ok(Saturation {
        blocking_threads,
        finished,
    })
    // END SOLUTION
}

/// A log writer with one thread of its own: async tasks send it lines, and no line ever
/// costs a trip through the blocking pool (as `tokio::fs` or `tokio::io::stdout` would).
#[derive(Debug)]
pub struct LogWriter {
    sender: UnboundedSender<String>,
    thread: JoinHandle<io::Result<usize>>,
}

/// The name of the writer's thread, as `/proc/self/task/TID/comm` shows it.
pub const WRITER_THREAD: &str = "log-writer";

impl LogWriter {
    /// Create (or truncate) `path` and start the writer thread.
    pub fn start(path: &Path) -> io::Result<LogWriter> {
        let file = File::create(path)?;
        let (sender, receiver) = unbounded_channel();
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD.into())
            .spawn(move || write_lines(file, receiver))?;
        Ok(LogWriter { sender, thread })
    }

    /// A sender for one task; `send` never blocks and needs no `.await`.
    pub fn sender(&self) -> UnboundedSender<String> {
        self.sender.clone()
    }

    /// Close the channel (once every task has dropped its sender), wait for the writer to
    /// write what is left, and return how many lines it wrote.
    pub fn finish(self) -> io::Result<usize> {
        drop(self.sender);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the writer thread panicked"))?
    }
}

/// The writer thread's body: write every line received, one per line, until every sender
/// is gone; flush and return the count.
fn write_lines(file: File, mut receiver: UnboundedReceiver<String>) -> io::Result<usize> {
    // EXERCISE: this is a plain thread, not a runtime thread: wait for lines with the
    // channel's blocking receive, write each one with a newline through a buffer, and
    // flush before returning how many lines were written.
    // BEGIN SOLUTION
    use std::io::{BufWriter, Write};

    let mut out = BufWriter::new(file);
    let mut lines = 0;
    while let Some(line) = receiver.blocking_recv() {
        writeln!(out, "{line}")?;
        lines += 1;
    }
    out.flush()?;
    Ok(lines)
    // END SOLUTION
}
