//! Chapter 1: the process card. Everything Node's `process` object tells you about
//! itself, read here from the kernel: most of it lives in files under `/proc/self`, which
//! the kernel generates when you read them.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use nix::unistd::{SysconfVar, getgid, getpid, getppid, getuid, sysconf};

/// A snapshot of this process's attributes, like printing Node's `process`.
#[derive(Debug, Clone)]
pub struct ProcessCard {
    pub pid: u32,
    /// The *current* parent: if the parent dies, the kernel re-parents the process
    /// (chapter 9) and this number changes.
    pub ppid: u32,
    /// The kernel's name for the process (`/proc/self/comm`, at most 15 bytes). Bytes,
    /// not text: a cut through a multi-byte character leaves half of it, shown as U+FFFD.
    pub comm: String,
    pub argv: Vec<String>,
    /// The executable file, as the kernel resolved it at exec time.
    pub exe: PathBuf,
    pub cwd: PathBuf,
    pub os: &'static str,
    pub arch: &'static str,
    pub uid: u32,
    pub gid: u32,
    /// How many environment variables there are.
    pub env_count: usize,
    /// The variables the caller asked to see.
    pub env_shown: Vec<EnvVar>,
    /// The process's age, from the kernel's start time (see [`uptime`]).
    pub uptime: Duration,
    /// What file descriptors 0, 1 and 2 point to: a terminal, a pipe, `/dev/null`, a file.
    pub stdio: [String; 3],
}

/// One environment variable asked for by name; `value` is `None` when it is not set.
/// The value is bytes, like everything in the environment: it need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<OsString>,
}

/// Name what could not be read: "working directory: No such file or directory".
fn reading(what: &'static str) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

// ANCHOR: read
impl ProcessCard {
    /// Read the card of the calling process. `show_env` names the environment variables
    /// whose values the card should include.
    pub fn read(show_env: &[String]) -> io::Result<ProcessCard> {
        // Bytes, not a String: a 15-byte cut can split a character (shown as U+FFFD).
        let comm = fs::read("/proc/self/comm").map_err(reading("/proc/self/comm"))?;
        let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
        Ok(ProcessCard {
            pid: getpid().as_raw() as u32,   // Node: process.pid
            ppid: getppid().as_raw() as u32, // Node: process.ppid
            comm: String::from_utf8_lossy(comm).into_owned(),
            argv: std::env::args().collect(), // Node: process.argv0 + the rest of argv
            // Node: process.execPath
            exe: fs::read_link("/proc/self/exe").map_err(reading("/proc/self/exe"))?,
            // Node: process.cwd()
            cwd: std::env::current_dir().map_err(reading("working directory"))?,
            os: std::env::consts::OS,     // Node: process.platform
            arch: std::env::consts::ARCH, // Node: process.arch (which says x64, not x86_64)
            uid: getuid().as_raw(),
            gid: getgid().as_raw(),
            env_count: std::env::vars_os().count(),
            env_shown: show_env
                .iter()
                .map(|name| EnvVar {
                    name: name.clone(),
                    value: std::env::var_os(name), // set, even when not UTF-8
                })
                .collect(),
            // Node: process.uptime(), measured differently
            uptime: uptime().map_err(reading("/proc/self/stat, /proc/uptime"))?,
            stdio: [0, 1, 2].map(|fd| {
                fs::read_link(format!("/proc/self/fd/{fd}"))
                    .map(|target| target.display().to_string())
                    .unwrap_or_else(|_| "(closed)".to_string())
            }),
        })
    }
}
// ANCHOR_END: read

// ANCHOR: uptime
/// How long this process has existed, by the kernel's books. The kernel records each
/// process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`, usually
/// 100 ticks a second); `/proc/uptime` says how long ago the boot was. (Node's
/// `process.uptime()` is another clock: monotonic time now minus a time Node read when it
/// started.)
pub fn uptime() -> io::Result<Duration> {
    // Bytes, not a String: field 2 is comm, which need not be valid UTF-8.
    let stat = fs::read("/proc/self/stat")?;
    let since_boot = fs::read_to_string("/proc/uptime")?;
    let bad = |what| io::Error::new(io::ErrorKind::InvalidData, what);
    // The command name (field 2) may contain spaces and ')': count fields after the
    // last ')'. Everything after it is ASCII numbers and letters.
    let close = stat.iter().rposition(|&b| b == b')');
    let close = close.ok_or_else(|| bad("no ')' in stat"))?;
    let after_comm = String::from_utf8_lossy(&stat[close + 1..]);
    let starttime: u64 = after_comm
        .split_whitespace()
        .nth(22 - 3)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| bad("no starttime in stat"))?;
    let boot_seconds: f64 = since_boot
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| bad("unreadable /proc/uptime"))?;
    Ok(uptime_from(boot_seconds, starttime, ticks_per_second()?))
}

/// The age of a process that started `starttime` clock ticks after boot, when the system
/// has been up `boot_seconds` seconds. Both values are rounded down (to a tick, to 10 ms),
/// so the result can be off by about one tick, and never goes below zero.
pub fn uptime_from(boot_seconds: f64, starttime: u64, ticks_per_second: u64) -> Duration {
    let started = starttime as f64 / ticks_per_second as f64;
    Duration::from_secs_f64((boot_seconds - started).max(0.0))
}

/// `sysconf(_SC_CLK_TCK)`: the unit of the times in `/proc/PID/stat`.
pub fn ticks_per_second() -> io::Result<u64> {
    Ok(sysconf(SysconfVar::CLK_TCK)?.unwrap_or(100) as u64)
}
// ANCHOR_END: uptime

impl fmt::Display for ProcessCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_shown: Vec<String> = self
            .env_shown
            .iter()
            .map(
                |var| match var.value.as_ref().map(|v| v.to_str().ok_or(v)) {
                    Some(Ok(value)) => format!("{}={value}", var.name),
                    Some(Err(bytes)) => {
                        format!("{}={} (set, not UTF-8)", var.name, bytes.to_string_lossy())
                    }
                    None => format!("{} unset", var.name),
                },
            )
            .collect();
        writeln!(f, "pid:      {}", self.pid)?;
        writeln!(f, "ppid:     {}", self.ppid)?;
        writeln!(f, "comm:     {}", self.comm)?;
        writeln!(f, "argv:     {:?}", self.argv)?;
        writeln!(f, "exe:      {}", self.exe.display())?;
        writeln!(f, "cwd:      {}", self.cwd.display())?;
        writeln!(f, "platform: {} ({})", self.os, self.arch)?;
        writeln!(f, "user:     uid={} gid={}", self.uid, self.gid)?;
        writeln!(
            f,
            "env:      {} in total; {}",
            self.env_count,
            env_shown.join(", ")
        )?;
        writeln!(f, "uptime:   {:.2}s", self.uptime.as_secs_f64())?;
        writeln!(f, "stdin:    {}", self.stdio[0])?;
        writeln!(f, "stdout:   {}", self.stdio[1])?;
        write!(f, "stderr:   {}", self.stdio[2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_subtracts_the_start_time_from_the_system_uptime() {
        // Up 1000.5 s; started 99 000 ticks (990 s at 100 Hz) after boot: 10.5 s old.
        let age = uptime_from(1000.5, 99_000, 100);
        assert!((age.as_secs_f64() - 10.5).abs() < 1e-9, "{age:?}");
        // Another tick rate: 2 500 ticks at 250 Hz is 10 s after boot.
        assert_eq!(uptime_from(12.0, 2_500, 250), Duration::from_secs(2));
    }

    #[test]
    fn uptime_is_never_negative() {
        // Rounding can make the start look later than "now": that is age zero.
        assert_eq!(uptime_from(9.99, 1_000, 100), Duration::ZERO);
    }

    #[test]
    fn the_card_of_the_test_process_is_consistent() {
        let card = ProcessCard::read(&["PATH".to_string()]).unwrap();
        assert_eq!(card.pid, std::process::id());
        assert_eq!(card.exe, std::env::current_exe().unwrap());
        assert!(card.comm.len() <= 15);
        assert!(card.env_count >= 1);
        assert_eq!(card.env_shown[0].value, std::env::var_os("PATH"));
    }
}
