//! Readers for `/proc/PID/...`: how a test looks at a process from the outside.
//!
//! Everything here reads text files the kernel generates on demand. A process can vanish
//! between two reads, so every reader returns `io::Result` and a missing process shows
//! up as `ErrorKind::NotFound`.

use std::fs;
use std::io;
use std::path::PathBuf;

fn proc_path(pid: u32, rest: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{rest}"))
}

/// Whether a read under `/proc` failed because the process or thread has ended: its
/// entry vanished (ENOENT), or it is still listed while the task is already dead, and
/// then reading its files fails with ESRCH.
pub fn is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(nix::errno::Errno::ESRCH as i32)
}

/// The fields of `/proc/PID/stat` that the labs look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    /// The command name, without the parentheses (at most 15 bytes).
    pub comm: String,
    /// One letter: `R` running, `S` sleeping, `D` disk sleep, `Z` zombie, `T` stopped,
    /// `t` traced, `X` dead, `I` idle kernel thread.
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    pub session: u32,
    /// The controlling terminal (device number), 0 when the process has none: a daemon's.
    pub tty_nr: u32,
    pub num_threads: u32,
    /// Start time after boot, in clock ticks.
    pub starttime: u64,
}

impl Stat {
    /// Parse the one line of `/proc/PID/stat`.
    ///
    /// The second field is the command name in parentheses, and the name may itself
    /// contain spaces and `)`: split at the *last* `)`, then by whitespace.
    pub fn parse(line: &str) -> io::Result<Stat> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("stat: {what}"));
        let open = line.find('(').ok_or_else(|| bad("no '('"))?;
        let close = line.rfind(')').ok_or_else(|| bad("no ')'"))?;
        let pid = line[..open].trim().parse().map_err(|_| bad("pid"))?;
        let comm = line[open + 1..close].to_string();
        // Fields after the comm, numbered as in proc(5): field 3 is the state.
        let rest: Vec<&str> = line[close + 1..].split_whitespace().collect();
        let field = |n: usize| -> io::Result<&str> {
            rest.get(n - 3)
                .copied()
                .ok_or_else(|| bad("too few fields"))
        };
        let num =
            |n: usize| -> io::Result<u64> { field(n)?.parse().map_err(|_| bad("not a number")) };
        Ok(Stat {
            pid,
            comm,
            state: field(3)?.chars().next().ok_or_else(|| bad("state"))?,
            ppid: num(4)? as u32,
            pgrp: num(5)? as u32,
            session: num(6)? as u32,
            tty_nr: num(7)? as u32,
            num_threads: num(20)? as u32,
            starttime: num(22)?,
        })
    }
}

/// Read and parse `/proc/PID/stat`.
pub fn stat(pid: u32) -> io::Result<Stat> {
    Stat::parse(&fs::read_to_string(proc_path(pid, "stat"))?)
}

/// The state letter of a process (`Z` for a zombie).
pub fn state(pid: u32) -> io::Result<char> {
    Ok(stat(pid)?.state)
}

/// The parent's pid, as the kernel sees it now.
pub fn ppid(pid: u32) -> io::Result<u32> {
    Ok(stat(pid)?.ppid)
}

/// `/proc/PID/comm`: the name `ps` shows in its COMM column (at most 15 bytes).
pub fn comm(pid: u32) -> io::Result<String> {
    Ok(fs::read_to_string(proc_path(pid, "comm"))?
        .trim_end_matches('\n')
        .to_string())
}

/// `/proc/PID/cmdline`: the argument vector, split at the NUL bytes.
pub fn cmdline(pid: u32) -> io::Result<Vec<String>> {
    let raw = fs::read(proc_path(pid, "cmdline"))?;
    Ok(raw
        .split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect())
}

/// `/proc/PID/status`: the process's attributes as `Name:\tvalue` lines (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    fields: Vec<(String, String)>,
}

impl Status {
    /// Parse the text of a `status` file. Lines without a colon are skipped.
    pub fn parse(text: &str) -> Status {
        Status {
            fields: text
                .lines()
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.to_string(), value.trim().to_string()))
                .collect(),
        }
    }

    /// The value of a field, such as `State` (`S (sleeping)`) or `Threads`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str, radix: u32) -> io::Result<u64> {
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("status: {name}: {what}"),
            )
        };
        let value = self.get(name).ok_or_else(|| bad("missing"))?;
        let digits = value.split_whitespace().next().unwrap_or("");
        u64::from_str_radix(digits, radix).map_err(|_| bad("not a number"))
    }

    /// `Threads:`: how many threads the process has.
    pub fn threads(&self) -> io::Result<u64> {
        self.number("Threads", 10)
    }

    /// `VmRSS:` in KiB: memory resident in RAM now. `None` for a process with no memory
    /// of its own (a zombie, a kernel thread).
    pub fn vm_rss_kib(&self) -> Option<u64> {
        self.number("VmRSS", 10).ok()
    }

    /// A signal mask: `SigCgt` (caught by a handler), `SigIgn` (ignored), `SigBlk`
    /// (blocked by this thread), `SigPnd` (pending for this thread), `ShdPnd` (pending
    /// for the process). Bit N-1 stands for signal N.
    pub fn signal_mask(&self, name: &str) -> io::Result<u64> {
        self.number(name, 16)
    }
}

/// Read `/proc/PID/status` (the main thread's view for per-thread fields such as
/// `SigBlk`; `/proc/PID/task/TID/status` has each thread's).
pub fn status(pid: u32) -> io::Result<Status> {
    Ok(Status::parse(&fs::read_to_string(proc_path(
        pid, "status",
    ))?))
}

/// Read `/proc/PID/task/TID/status`: one thread's view (its own blocked and pending
/// signals).
pub fn thread_status(pid: u32, tid: u32) -> io::Result<Status> {
    Ok(Status::parse(&fs::read_to_string(proc_path(
        pid,
        &format!("task/{tid}/status"),
    ))?))
}

/// The signals in a mask from `status`, by name (`SIGPIPE`), lowest number first;
/// real-time signals as `SIGRT32` and up (glibc keeps 32 and 33 for itself).
pub fn signal_names(mask: u64) -> Vec<String> {
    (1..=64i32)
        .filter(|n| mask & (1u64 << (n - 1)) != 0)
        .map(|n| match nix::sys::signal::Signal::try_from(n) {
            Ok(signal) => signal.as_str().to_string(),
            Err(_) => format!("SIGRT{n}"),
        })
        .collect()
}

/// One thread of a process: its thread id and its name from `task/TID/comm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub tid: u32,
    pub name: String,
}

/// The threads of a process, from `/proc/PID/task`: the main thread first (its tid is
/// the pid), then the others by tid. (Not simply by tid: ids wrap around at `pid_max`,
/// so a thread started later can have a smaller tid than the main thread.)
///
/// Exact only while none of its threads exits: if the thread the kernel is listing exits
/// mid-walk, the listing ends early. Read it while the threads are parked.
pub fn threads(pid: u32) -> io::Result<Vec<Thread>> {
    let mut threads = Vec::new();
    for entry in fs::read_dir(proc_path(pid, "task"))? {
        let tid: u32 = match entry?.file_name().to_str().and_then(|s| s.parse().ok()) {
            Some(tid) => tid,
            None => continue,
        };
        // A thread may exit between read_dir and this read: skip it, it is gone.
        match fs::read_to_string(proc_path(pid, &format!("task/{tid}/comm"))) {
            Ok(name) => threads.push(Thread {
                tid,
                name: name.trim_end().to_string(),
            }),
            Err(e) if is_gone(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    threads.sort_by_key(|t| (t.tid != pid, t.tid));
    Ok(threads)
}

/// The open file descriptors of a process and what each points to, sorted by number:
/// `(0, "/dev/null")`, `(1, "pipe:[12345]")`, `(3, "socket:[67890]")`.
pub fn fds(pid: u32) -> io::Result<Vec<(u32, String)>> {
    let mut fds = Vec::new();
    for entry in fs::read_dir(proc_path(pid, "fd"))? {
        let entry = entry?;
        let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        match fs::read_link(entry.path()) {
            Ok(target) => fds.push((fd, target.to_string_lossy().into_owned())),
            // The fd was closed (or the process ended) between read_dir and read_link.
            Err(e) if is_gone(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    fds.sort();
    Ok(fds)
}

/// The pids whose parent is `pid`, found by scanning every `/proc/N/stat`, sorted.
///
/// (`/proc/PID/task/TID/children` would be quicker but needs a kernel option and lists
/// children per thread.)
pub fn children(pid: u32) -> io::Result<Vec<u32>> {
    let mut kids = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Some(n) = entry?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // Processes come and go while we scan: a vanished one is simply not a child.
        if let Ok(s) = stat(n)
            && s.ppid == pid
        {
            kids.push(n);
        }
    }
    kids.sort();
    Ok(kids)
}

/// Whether `/proc/PID` exists and the process is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    matches!(state(pid), Ok(s) if s != 'Z' && s != 'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parse_handles_names_with_spaces_and_parentheses() {
        let line = "4242 (my (odd) name) S 1 4242 4242 34816 -1 4194560 100 0 0 0 \
                    1 2 0 0 20 0 3 0 987654 1000 200 0 0";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(
            stat,
            Stat {
                pid: 4242,
                comm: "my (odd) name".into(),
                state: 'S',
                ppid: 1,
                pgrp: 4242,
                session: 4242,
                tty_nr: 34816,
                num_threads: 3,
                starttime: 987654,
            }
        );
    }

    #[test]
    fn stat_parse_rejects_garbage() {
        assert!(Stat::parse("not a stat line").is_err());
        assert!(Stat::parse("1 (x) S 2").is_err());
    }

    #[test]
    fn readers_see_this_process() {
        let me = std::process::id();
        let stat = stat(me).unwrap();
        assert_eq!(stat.pid, me);
        // The stat of a process is its main thread's: libtest's main thread waits (S)
        // while this test runs on another thread.
        assert!(matches!(stat.state, 'R' | 'S'), "state {}", stat.state);
        assert_eq!(stat.ppid, nix::unistd::getppid().as_raw() as u32);
        assert!(!comm(me).unwrap().is_empty());
        assert!(comm(me).unwrap().len() <= 15);
        assert_eq!(
            threads(me).unwrap()[0].tid,
            me,
            "main thread's tid is the pid"
        );
        assert!(cmdline(me).unwrap()[0].contains("labkit"));
        let fds = fds(me).unwrap();
        assert!(fds.iter().any(|(fd, _)| *fd == 0));
        assert!(is_alive(me));
    }

    #[test]
    fn children_lists_a_spawned_child() {
        let mut child = crate::ChildGuard::spawn(
            std::process::Command::new("cat").stdin(std::process::Stdio::piped()),
        )
        .unwrap();
        assert!(children(std::process::id()).unwrap().contains(&child.pid()));
        drop(child.take_stdin());
    }

    #[test]
    fn missing_process_is_not_found() {
        // pid_max is at most 2^22, so this pid cannot exist.
        let err = stat(u32::MAX - 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!is_alive(u32::MAX - 1));
    }

    #[test]
    fn status_parse_reads_counts_sizes_and_masks() {
        let text = "Name:\tworker\nState:\tS (sleeping)\nThreads:\t5\nVmRSS:\t    2048 kB\n\
                    SigIgn:\t0000000000001000\nSigCgt:\t0000000180000440\n";
        let status = Status::parse(text);
        assert_eq!(status.get("State"), Some("S (sleeping)"));
        assert_eq!(status.threads().unwrap(), 5);
        assert_eq!(status.vm_rss_kib(), Some(2048));
        let ignored = status.signal_mask("SigIgn").unwrap();
        assert_eq!(signal_names(ignored), ["SIGPIPE"]);
        let caught = status.signal_mask("SigCgt").unwrap();
        assert_eq!(
            signal_names(caught),
            ["SIGBUS", "SIGSEGV", "SIGRT32", "SIGRT33"]
        );
        assert!(
            status.signal_mask("SigBlk").is_err(),
            "a missing field is an error"
        );
        assert_eq!(Status::parse("VmRSS:\n").vm_rss_kib(), None);
    }

    #[test]
    fn status_of_this_process_shows_what_std_did_before_main() {
        // Rust's std ignores SIGPIPE before main and catches SIGSEGV and SIGBUS for its
        // stack-overflow message; libtest does not change either.
        let status = status(std::process::id()).unwrap();
        let ignored = signal_names(status.signal_mask("SigIgn").unwrap());
        assert!(ignored.contains(&"SIGPIPE".to_string()), "{ignored:?}");
        let caught = signal_names(status.signal_mask("SigCgt").unwrap());
        for name in ["SIGSEGV", "SIGBUS"] {
            assert!(caught.contains(&name.to_string()), "{caught:?}");
        }
        assert!(
            status.threads().unwrap() >= 2,
            "libtest runs tests on threads"
        );
        assert!(status.vm_rss_kib().unwrap() > 0);
        let me = std::process::id();
        assert!(thread_status(me, me).unwrap().get("SigBlk").is_some());
    }
}
