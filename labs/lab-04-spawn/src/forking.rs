//! Chapter 4, `fork`: helpers for the demos that fork (`fork-twice`, `cow`, `exec-keeps`,
//! `fork-locked`). Those demos are single-threaded processes of their own: a test harness
//! must never fork, because it runs tests on several threads (see `fork-locked` for why).

use std::io;

// ANCHOR: underscore_exit
/// End the process at once with `_exit(2)`: no destructor, no `atexit` handler, no flush
/// of stdout's buffer. A forked child that does not `exec` must leave this way: it holds
/// a copy of the parent's buffers and handler list, and `exit` would run them a second
/// time. (nix 0.31 has no `_exit`; libc's is async-signal-safe.)
pub fn underscore_exit(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions and never returns.
    unsafe { libc::_exit(code) }
}
// ANCHOR_END: underscore_exit

/// The memory counters of `/proc/PID/smaps_rollup` that show copy-on-write, in kB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dirty {
    /// Modified pages that another process also maps (after fork: not yet copied).
    pub shared_kb: u64,
    /// Modified pages that only this process maps (its own copies).
    pub private_kb: u64,
}

// ANCHOR: smaps
/// Read `Shared_Dirty` and `Private_Dirty` from `/proc/PID/smaps_rollup` (the sums over
/// all of the process's mappings).
pub fn dirty(pid: u32) -> io::Result<Dirty> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok(parse_dirty(&text))
}
// ANCHOR_END: smaps

/// The two dirty counters of a `smaps_rollup` text (0 when a line is missing).
pub fn parse_dirty(text: &str) -> Dirty {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Dirty {
        shared_kb: field("Shared_Dirty:"),
        private_kb: field("Private_Dirty:"),
    }
}

/// The open fds of this process and what they point to, from `/proc/self/fd`, without
/// the one that listing the directory itself opens.
pub fn own_fds() -> io::Result<Vec<(u32, String)>> {
    let mut fds = Vec::new();
    let entries = std::fs::read_dir("/proc/self/fd")?;
    for entry in entries {
        let entry = entry?;
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue; // the directory's own fd, already closed
        };
        let target = target.to_string_lossy().into_owned();
        if target.starts_with("/proc/") && target.ends_with("/fd") {
            continue;
        }
        fds.push((fd, target));
    }
    fds.sort();
    Ok(fds)
}

/// The number of threads of a process (`Threads:` in `/proc/PID/status`), 0 if unknown.
pub fn threads_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The pids of this process's children, from `/proc/self/task/*/children`.
pub fn own_children() -> io::Result<Vec<u32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")? {
        let text = std::fs::read_to_string(task?.path().join("children"))?;
        children.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    children.sort();
    Ok(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_dirty_lines_of_smaps_rollup() {
        let text = "00400000-7ffd [rollup]\nRss:  2048 kB\nShared_Dirty:   12 kB\n\
                    Private_Dirty:  8200 kB\nSwap: 0 kB\n";
        assert_eq!(
            parse_dirty(text),
            Dirty {
                shared_kb: 12,
                private_kb: 8200
            }
        );
        assert_eq!(parse_dirty(""), Dirty::default());
    }
}
