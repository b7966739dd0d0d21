//! Chapter 8: the pid file, held under an exclusive `flock(2)` for the daemon's whole life.
//!
//! The number in the file says *which* process; the lock says whether it is *alive*. A
//! lock belongs to the open file description and the kernel drops it when the last fd for
//! it is closed, which happens at the latest when the process dies, however it dies
//! (SIGKILL included). So "can I take the lock?" is a race-free liveness test, where
//! "does the pid in the file exist?" is not: pids are reused.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The pid file, locked by us.
#[derive(Debug)]
pub struct PidFile {
    lock: Flock<File>,
    path: PathBuf,
    /// The pid a dead daemon left in the file, if any.
    pub stale: Option<u32>,
}

/// What `acquire` found.
#[derive(Debug)]
pub enum Acquired {
    /// We hold the lock now.
    Locked(PidFile),
    /// Another process holds it; the pid it wrote, if it has written one yet.
    Taken(Option<u32>),
}

// ANCHOR: acquire
/// Open (or create) the pid file and try to take its lock, without waiting.
pub fn acquire(path: &Path) -> io::Result<Acquired> {
    // No truncate: if another daemon holds the lock, its pid must survive our open.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(path)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => {
            let stale = read_pid(&lock);
            let path = path.to_path_buf();
            Ok(Acquired::Locked(PidFile { lock, path, stale }))
        }
        Err((file, Errno::EWOULDBLOCK)) => Ok(Acquired::Taken(read_pid(&file))),
        Err((_, errno)) => Err(errno.into()),
    }
}
// ANCHOR_END: acquire

// ANCHOR: write_pid
impl PidFile {
    /// Write our pid *in place*, under the lock. Writing a temporary file and renaming it
    /// over this one would leave our lock on the old, unlinked inode: the next `start`
    /// would find a new file with a free lock.
    pub fn write_pid(&mut self, pid: u32) -> io::Result<()> {
        self.lock.set_len(0)?;
        self.lock.write_all_at(format!("{pid}\n").as_bytes(), 0)
    }

    /// Remove the file while we still hold the lock, then let the lock go.
    pub fn remove(self) -> io::Result<()> {
        std::fs::remove_file(&self.path)
    }
}
// ANCHOR_END: write_pid

/// The pid written in a pid file, if it holds one.
pub fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
}

/// What `status` and `stop` see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The lock is held: a daemon runs, with this pid.
    Running(u32),
    /// The lock is held but no pid is written yet: a daemon is starting.
    Starting,
    /// The lock is free and the file holds the pid of a daemon that is gone.
    Stale(u32),
    /// No pid file (or an empty one with a free lock).
    NotRunning,
}

// ANCHOR: probe
/// Look at the pid file without changing it: a shared lock that we cannot get means a
/// daemon holds the exclusive one. (We hold the shared lock for a moment only; a `start`
/// in that moment would see the file as taken.)
pub fn probe(path: &Path) -> io::Result<Probe> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Probe::NotRunning),
        Err(e) => return Err(e),
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Err((file, Errno::EWOULDBLOCK)) => {
            Ok(read_pid(&file).map_or(Probe::Starting, Probe::Running))
        }
        Err((_, errno)) => Err(errno.into()),
        Ok(lock) => Ok(read_pid(&lock).map_or(Probe::NotRunning, Probe::Stale)),
    }
}
// ANCHOR_END: probe

/// Wait until nobody holds the lock on `file` (the daemon's fds are closed, so it has
/// exited or is exiting), polling every 10 ms, for at most `timeout`. Returns whether the
/// lock came free. `flock` itself has no time-out: a blocking lock could wait forever.
pub fn wait_unlocked(file: File, timeout: std::time::Duration) -> io::Result<bool> {
    let deadline = std::time::Instant::now() + timeout;
    let mut file = file;
    loop {
        match Flock::lock(file, FlockArg::LockSharedNonblock) {
            Ok(_lock) => return Ok(true),
            Err((f, Errno::EWOULDBLOCK)) => file = f,
            Err((_, errno)) => return Err(errno.into()),
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

impl PidFile {
    /// The fd number of the locked file (the daemon keeps it open).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.lock.as_raw_fd()
    }
}
