//! Chapter 2: threads as the kernel sees them.
//!
//! To Linux a thread is a *task*, scheduled on its own, that shares the address space and
//! the open files of the other tasks in its process. `/proc/self/task` has one entry per
//! task, named by its thread id; `task/TID/comm` is its name (15 bytes at most, like a
//! process name: the main thread's name *is* the process name).

use std::fs;
use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::gate::Gate;

// ANCHOR: list
/// The names of this process's threads, main thread first (its tid is the pid), then
/// the others sorted by name.
///
/// The list is exact only while no thread exits. The kernel builds the directory listing
/// by walking the live threads, and if the thread it is standing on exits mid-walk, the
/// listing ends early: threads that are alive can be missing.
pub fn thread_names() -> io::Result<Vec<String>> {
    let mut tasks = Vec::new();
    for entry in fs::read_dir("/proc/self/task")? {
        let entry = entry?;
        let tid: u32 = entry.file_name().to_string_lossy().parse().unwrap_or(0);
        match fs::read_to_string(entry.path().join("comm")) {
            Ok(name) => tasks.push((tid != std::process::id(), name.trim_end().to_string())),
            // The thread ended between read_dir and this read: it is no longer in the list.
            Err(e) if thread_is_gone(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    tasks.sort(); // `false` (the main thread) sorts first
    Ok(tasks.into_iter().map(|(_, name)| name).collect())
}
// ANCHOR_END: list

/// Whether a `/proc` read failed because the thread has ended. Its entry may vanish
/// (ENOENT), or still be listed while the task is already dead, and then reading its
/// files fails with ESRCH, "no such process" (error number 3).
fn thread_is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(3)
}

/// The thread list at three moments: before any worker exists, while every worker is
/// parked at a gate, and after all have been joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkReport {
    pub before: Vec<String>,
    pub parked: Vec<String>,
    pub after: Vec<String>,
}

// ANCHOR: park
/// Start one named thread per name, look at the thread list while they all wait at a
/// gate, call `while_parked` (the demo's `--hold` waits there), then let them go and
/// look again. If a thread cannot be started, the ones already running are let go and
/// joined, and the error is returned.
pub fn park_named_threads(names: &[&str], while_parked: impl FnOnce()) -> io::Result<ParkReport> {
    let before = thread_names()?;
    let gate = Gate::new();
    let (running, is_running) = mpsc::channel();
    let parked = thread::scope(|s| {
        let closed = gate.close(); // dropped on every way out of this closure
        for name in names {
            let (running, gate) = (running.clone(), &gate);
            thread::Builder::new()
                .name(name.to_string())
                .spawn_scoped(s, move || {
                    // A new thread sets its own name early in its life; once it runs
                    // this line, /proc shows the name.
                    running.send(()).ok();
                    gate.pass();
                })?; // on error: `closed` is dropped, the started threads pass and end
        }
        drop(running);
        is_running.iter().take(names.len()).for_each(drop); // every worker is running
        let parked = thread_names();
        while_parked();
        drop(closed);
        parked
    })?;
    let after = wait_for_thread_count(before.len(), Duration::from_secs(10))?;
    Ok(ParkReport {
        before,
        parked,
        after,
    })
}
// ANCHOR_END: park

// ANCHOR: after_join
/// The thread list once it is back to `count` threads. `join` returns as soon as the
/// finished thread has cleared its thread-id word (the kernel does this early in the
/// thread's exit), and its `/proc` entry goes away a moment later, so look until it has.
/// At the deadline this is an error that quotes the last list, never a stale answer.
pub fn wait_for_thread_count(count: usize, timeout: Duration) -> io::Result<Vec<String>> {
    let deadline = Instant::now() + timeout;
    loop {
        let names = thread_names()?;
        if names.len() <= count {
            return Ok(names);
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("still {} threads after {timeout:?}: {names:?}", names.len()),
            ));
        }
        thread::yield_now();
    }
}
// ANCHOR_END: after_join

/// One line of the thread table: what `ps -T` shows for a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    /// The thread id; the main thread's equals the pid.
    pub tid: u32,
    /// The name in `task/TID/comm` (at most 15 bytes).
    pub name: String,
    /// The state letter of `task/TID/stat`: `R` running, `S` sleeping, `D`, `T`, `Z`, ...
    pub state: char,
}

/// Every thread of this process with its tid, name and state, main thread first, the
/// others by tid. A thread that ends while we read is left out.
pub fn thread_table() -> io::Result<Vec<ThreadInfo>> {
    // EXERCISE: list /proc/self/task; for each tid read `task/TID/stat` (the name is in
    // parentheses and may contain spaces and ')': split at the last ')'; the state is the
    // first field after it). Skip threads that are gone (see `thread_is_gone`).
    // BEGIN SOLUTION
    let mut table = Vec::new();
    for entry in fs::read_dir("/proc/self/task")? {
        let entry = entry?;
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = match fs::read_to_string(entry.path().join("stat")) {
            Ok(stat) => stat,
            Err(e) if thread_is_gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("stat: {stat:?}"));
        let (open, close) = (
            stat.find('(').ok_or_else(bad)?,
            stat.rfind(')').ok_or_else(bad)?,
        );
        let state = stat[close + 1..]
            .split_whitespace()
            .next()
            .and_then(|field| field.chars().next())
            .ok_or_else(bad)?;
        table.push(ThreadInfo {
            tid,
            name: stat[open + 1..close].to_string(),
            state,
        });
    }
    let pid = std::process::id();
    table.sort_by_key(|t| (t.tid != pid, t.tid));
    Ok(table)
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_a_thread_count_that_never_comes_is_an_error() {
        // This test's own thread exists, so the list never drops to zero threads.
        let err = wait_for_thread_count(0, Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    }

    #[test]
    fn the_thread_table_shows_tid_name_and_state() {
        // A named thread sleeps in `recv` until we have looked.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel::<u32>();
        let sleeper = thread::Builder::new()
            .name("odd) name".to_string())
            .spawn(move || {
                ready.send(nix::unistd::gettid().as_raw() as u32).unwrap();
                wait.recv().ok();
            })
            .unwrap();
        let sleeper_tid = is_ready.recv().unwrap();
        let me = nix::unistd::gettid().as_raw() as u32;
        // The sleeper may not be asleep yet, and other test threads may exit while we
        // list (which can cut a listing short): look until one listing shows both.
        let table = labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
            let table = thread_table().map_err(|e| e.to_string())?;
            let sleeper = table.iter().find(|t| t.tid == sleeper_tid);
            let caller = table.iter().find(|t| t.tid == me);
            let good = matches!(sleeper, Some(t) if t.name == "odd) name" && t.state == 'S')
                && matches!(caller, Some(t) if t.state == 'R');
            if good {
                Ok(table)
            } else {
                Err(format!("{table:#?}"))
            }
        });
        release.send(()).unwrap();
        sleeper.join().unwrap();
        let table = table.unwrap();
        assert_eq!(
            table[0].tid,
            std::process::id(),
            "main thread first: {table:#?}"
        );
        assert!(
            table[1..].windows(2).all(|w| w[0].tid < w[1].tid),
            "{table:#?}"
        );
    }

    #[test]
    fn rust_keeps_the_full_name_while_the_kernel_keeps_15_bytes() {
        let (rust_name, kernel_name) = thread::Builder::new()
            .name("a-thread-with-a-long-name".to_string())
            .spawn(|| {
                // /proc/thread-self is the calling thread's own directory.
                let comm = fs::read_to_string("/proc/thread-self/comm").unwrap();
                (
                    thread::current().name().map(str::to_string),
                    comm.trim_end().to_string(),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(rust_name.as_deref(), Some("a-thread-with-a-long-name"));
        assert_eq!(kernel_name, "a-thread-with-a");
    }

    #[test]
    fn thread_names_lists_the_calling_thread_by_name() {
        // The test harness runs this test on a thread named after the test (cut to 15
        // bytes), so that name is in the list.
        let me = thread::current().name().unwrap().to_string();
        let cut: String = me.bytes().take(15).map(char::from).collect();
        // Other test threads exit while we list, which can cut a listing short (see
        // `thread_names`), so one complete listing among a few attempts is what we ask.
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = thread_names().unwrap();
            if seen.contains(&cut) {
                return;
            }
        }
        panic!("{cut:?} not in any of 100 listings; the last: {seen:?}");
    }
}
