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
    /// What a dead daemon (or something else) left in the file: `Content::Empty` if
    /// nothing.
    pub stale: Content,
}

/// What a pid file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Nothing (a new file, or a daemon that has not written its pid yet).
    Empty,
    /// A pid in the range a process can have, 1 to `i32::MAX`.
    Pid(u32),
    /// Anything else: text, 0, a negative number, or a number above `i32::MAX`. `kill`
    /// with 0 or -1 would signal a whole group or every process we may signal, so such a
    /// "pid" is never used.
    Garbage,
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
            let stale = read_content(&lock);
            let path = path.to_path_buf();
            Ok(Acquired::Locked(PidFile { lock, path, stale }))
        }
        Err((file, Errno::EWOULDBLOCK)) => Ok(Acquired::Taken(read_pid(&file))),
        Err((_, errno)) => Err(errno.into()),
    }
}
// ANCHOR_END: acquire

// ANCHOR: acquire_patiently
/// `acquire` for `start`: a lock can be held for a moment by something that is not a
/// daemon (`status` and `stop` take a shared one to look, `stop` an exclusive one to
/// remove a stale file). So a lock counts as a running daemon only when the pid in the
/// file holds the file open; otherwise try again every 5 ms, for at most `patience`.
/// After that, `Taken(None)`: locked, and no daemon to name.
pub fn acquire_patiently(path: &Path, patience: std::time::Duration) -> io::Result<Acquired> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        match acquire(path)? {
            Acquired::Taken(Some(pid)) if File::open(path).and_then(|f| holds_open(pid, &f))? => {
                return Ok(Acquired::Taken(Some(pid)));
            }
            Acquired::Taken(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Acquired::Taken(_) => return Ok(Acquired::Taken(None)),
            locked => return Ok(locked),
        }
    }
}
// ANCHOR_END: acquire_patiently

// ANCHOR: write_pid
impl PidFile {
    /// Write our pid *in place*, under the lock. Writing a temporary file and renaming it
    /// over this one would leave our lock on the old, unlinked inode: the next `start`
    /// would find a new file with a free lock.
    pub fn write_pid(&mut self, pid: u32) -> io::Result<()> {
        self.lock.set_len(0)?;
        self.lock.write_all_at(format!("{pid}\n").as_bytes(), 0)
    }

    /// Remove the file's name while we still hold the lock. The lock itself stays until
    /// `self` is dropped, or until the process exits: the daemon calls this last, so
    /// nobody can see the lock free while it still runs.
    pub fn remove(&self) -> io::Result<()> {
        std::fs::remove_file(&self.path)
    }
}
// ANCHOR_END: write_pid

/// What a pid file holds. Only 1..=i32::MAX counts as a pid.
pub fn read_content(file: &File) -> Content {
    let mut buf = [0u8; 32];
    let Ok(n) = file.read_at(&mut buf, 0) else {
        return Content::Garbage;
    };
    let Ok(text) = std::str::from_utf8(&buf[..n]) else {
        return Content::Garbage;
    };
    let text = text.trim();
    if text.is_empty() {
        return Content::Empty;
    }
    match text.parse::<i32>() {
        Ok(pid) if pid > 0 => Content::Pid(pid as u32),
        _ => Content::Garbage,
    }
}

/// The pid written in a pid file, if it holds a valid one.
pub fn read_pid(file: &File) -> Option<u32> {
    match read_content(file) {
        Content::Pid(pid) => Some(pid),
        _ => None,
    }
}

/// Whether process `pid` holds `file` open: one of the links in /proc/PID/fd leads to the
/// same inode (device and inode number). The lock says *that* someone holds the file; this
/// says the pid written in it is that someone, and not a number left by anything else.
/// Reading another user's /proc/PID/fd needs privilege: that error is returned.
pub fn holds_open(pid: u32, file: &File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    let dir = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false), // no such process
        Err(e) => return Err(e),
    };
    for entry in dir {
        // stat() follows the magic link to the open file itself, even an unlinked one.
        if let Ok(target) = std::fs::metadata(entry?.path())
            && target.dev() == meta.dev()
            && target.ino() == meta.ino()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What `status` and `stop` see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The lock is held, and the pid in the file holds the file open: a daemon runs.
    Running(u32),
    /// The lock is held but no pid is written yet: a daemon is starting.
    Starting,
    /// The lock is held, but the file holds no valid pid, or a pid that does not hold
    /// the file open: someone else holds the lock, and no pid can be trusted.
    Unknown(Content),
    /// The lock is free and the file holds the pid of a daemon that is gone.
    Stale(u32),
    /// The lock is free and the file holds no valid pid.
    Garbage,
    /// No pid file (or an empty one with a free lock).
    NotRunning,
}

// ANCHOR: probe
/// Look at the pid file without changing it: a shared lock that we cannot get means a
/// daemon holds the exclusive one. (We hold the shared lock for a moment only; a `start`
/// in that moment finds the file locked, and retries: see `acquire_patiently`.)
pub fn probe(path: &Path) -> io::Result<Probe> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Probe::NotRunning),
        Err(e) => return Err(e),
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Err((file, Errno::EWOULDBLOCK)) => Ok(match read_content(&file) {
            Content::Empty => Probe::Starting,
            Content::Pid(pid) if holds_open(pid, &file)? => Probe::Running(pid),
            other => Probe::Unknown(other),
        }),
        Err((_, errno)) => Err(errno.into()),
        Ok(lock) => Ok(match read_content(&lock) {
            Content::Empty => Probe::NotRunning,
            Content::Pid(pid) => Probe::Stale(pid),
            Content::Garbage => Probe::Garbage,
        }),
    }
}
// ANCHOR_END: probe

impl PidFile {
    /// The fd number of the locked file (the daemon keeps it open).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.lock.as_raw_fd()
    }
}
