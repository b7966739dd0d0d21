//! The chapter's exercises. In the student edition the code between `BEGIN SOLUTION` and
//! `END SOLUTION` is replaced by `todo!()`; `tests/limit.rs` (11.1) and
//! `tests/log_writer.rs` (11.2) check them.

use std::fs::File;
use std::io;
use std::path::Path;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::mpsc::{Receiver, Sender};

/// Run `job(0)`, `job(1)`, … `job(jobs - 1)` as blocking jobs on the runtime `rt`, whose
/// pool may have many more threads (tokio's default ceiling is 512), but never more than
/// `limit` of them at once: a bound of this workload's own, where `max_blocking_threads`
/// would bound every user of the runtime. Call it from outside the runtime; it returns
/// once every job has ended, with the number of jobs that ran.
pub fn limit_blocking<F>(rt: &Handle, limit: usize, jobs: usize, job: F) -> io::Result<usize>
where
    F: Fn(usize) + Send + Sync + 'static,
{
    // EXERCISE: take a permit from a tokio Semaphore of `limit` permits in async code
    // (an .await, no thread held while waiting) before each spawn_blocking, move it into
    // the job, and let it go when the job ends; then wait for every job.
    // BEGIN SOLUTION
    use std::sync::Arc;
    use tokio::sync::Semaphore;

    let job = Arc::new(job);
    let permits = Arc::new(Semaphore::new(limit));
    rt.block_on(async move {
        let mut handles = Vec::with_capacity(jobs);
        for n in 0..jobs {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .map_err(io::Error::other)?;
            let job = job.clone();
            handles.push(tokio::task::spawn_blocking(move || {
                job(n);
                drop(permit);
            }));
        }
        let mut finished = 0;
        for handle in handles {
            handle.await.map_err(io::Error::other)?;
            finished += 1;
        }
        Ok(finished)
    })
    // END SOLUTION
}

/// A log writer with one thread of its own: async tasks send it lines, and no line ever
/// costs a trip through the blocking pool (as `tokio::fs` or `tokio::io::stdout` would).
/// The channel is bounded: a task that gets ahead of the writer waits in `send().await`,
/// which costs no thread either.
#[derive(Debug)]
pub struct LogWriter {
    sender: Sender<String>,
    thread: JoinHandle<io::Result<usize>>,
}

/// The name of the writer's thread, as `/proc/self/task/TID/comm` shows it.
pub const WRITER_THREAD: &str = "log-writer";

impl LogWriter {
    /// Create (or truncate) `path`, and start the writer thread, named [`WRITER_THREAD`],
    /// behind a channel that holds at most `bound` lines. May be called on a runtime
    /// thread: it must not block on anything but creating the file.
    pub fn start(path: &Path, bound: usize) -> io::Result<LogWriter> {
        // EXERCISE: the writer is a plain thread of its own (std::thread::Builder, with its
        // name), not a job of the blocking pool, and the tasks' side of the channel must
        // wait without a thread when it is full: a bounded tokio channel.
        // BEGIN SOLUTION
        let file = File::create(path)?;
        let (sender, receiver) = tokio::sync::mpsc::channel(bound);
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD.into())
            .spawn(move || write_lines(file, receiver))?;
        Ok(LogWriter { sender, thread })
        // END SOLUTION
    }

    /// A sender for one task: `send(line).await` waits while the channel is full.
    pub fn sender(&self) -> Sender<String> {
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
fn write_lines(file: File, mut receiver: Receiver<String>) -> io::Result<usize> {
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
