//! Lab for chapter 8, daemons: the classic double fork with a locked pid file and readiness
//! pipe, and a new-style supervisor with sd_notify readiness.
//!
//! - [`daemonize`]: `labd start`, the SysV way of daemon(7): fork, setsid, fork, umask, chdir,
//!   close inherited fds, stdio to `/dev/null` and the log, report readiness over a pipe.
//! - [`pidfile`]: the pid file held under an exclusive `flock` for the daemon's life; what
//!   `status` and `stop` learn from that lock.
//! - [`body`]: what the daemon does once it runs: a log line on an interval, SIGHUP reopens
//!   the log, SIGTERM ends it, with the signals read from a `signalfd`.
//! - [`supervise`]: `labd supervise`, the new-style way: the child stays in the foreground,
//!   says "ready" over systemd's notify protocol, and is restarted with back-off when it
//!   crashes.

pub mod body;
pub mod control;
pub mod daemonize;
pub mod pidfile;
pub mod supervise;

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The state directory: the pid file, the log, and the supervisor's notify socket live here.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Open the state directory, creating it with mode 0700 if it is missing. The path is
    /// made absolute, because the daemon changes its working directory to `/`.
    pub fn open(dir: &Path) -> io::Result<StateDir> {
        match DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let dir = dir.canonicalize()?;
        if !dir.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        Ok(StateDir { dir })
    }

    /// The state directory for `status`, `stop` and `logs`, which never create it: a
    /// missing directory holds no pid file and no log (a typo must not leave a new
    /// directory behind). Anything there that is not a directory is an error.
    pub fn find(dir: &Path) -> io::Result<StateDir> {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(StateDir {
                dir: dir.canonicalize()?,
            }),
            Ok(_) => Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(StateDir {
                dir: std::path::absolute(dir)?,
            }),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("labd.pid")
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join("labd.log")
    }

    pub fn notify_socket(&self) -> PathBuf {
        self.dir.join("notify.sock")
    }
}

/// Refuse a directory that someone else could reach into: it must be owned by `uid` and
/// have no permission bits for group or others. A notify socket in such a directory can
/// only be written by `uid` (and root), so a `READY=1` on it cannot be forged by another
/// user.
pub fn check_private_dir(dir: &Path, uid: u32) -> io::Result<()> {
    // EXERCISE: read the directory's metadata (without following a symlink at `dir`
    // itself), and return an error of kind PermissionDenied that names the problem when
    // it is not a directory owned by `uid` with mode bits 0o077 all clear.
    // BEGIN SOLUTION
    let meta = std::fs::symlink_metadata(dir)?;
    let problem = if !meta.is_dir() {
        Some("is not a directory".to_string())
    } else if meta.uid() != uid {
        Some(format!("is owned by uid {}, not {uid}", meta.uid()))
    } else if meta.mode() & 0o077 != 0 {
        Some(format!(
            "has mode {:o}: group or others have access",
            meta.mode() & 0o777
        ))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} {p}", dir.display()),
        )),
    }
    // END SOLUTION
}

/// How long `stop` waits for the lock after SIGKILL. A killed process cannot delay its
/// exit, so this only catches a process stuck in an uninterruptible sleep.
pub const STOP_AFTER_KILL: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether process `pid` could acquire a controlling terminal just by opening one: only a
/// session leader that has none can (open(2) without O_NOCTTY makes the terminal its
/// controlling terminal).
pub fn could_acquire_a_terminal(pid: u32) -> io::Result<bool> {
    // EXERCISE: read /proc/PID/stat and decide. The second field, the command name, is in
    // parentheses and may itself contain spaces and ')': split after the *last* ')'. The
    // fields after it are: state, ppid, pgrp, session, tty_nr (0: no terminal).
    // BEGIN SOLUTION
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("odd /proc/{pid}/stat"));
    let after = &stat[stat.rfind(')').ok_or_else(bad)? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let number = |i: usize| -> io::Result<i64> {
        fields.get(i).and_then(|f| f.parse().ok()).ok_or_else(bad)
    };
    let (session, tty_nr) = (number(3)?, number(4)?);
    Ok(session == i64::from(pid) && tty_nr == 0)
    // END SOLUTION
}
