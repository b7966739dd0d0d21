//! Chapter 9: process groups seen from `/proc`.
//!
//! Every process belongs to one process group (field 5 of `/proc/PID/stat`) inside one
//! session (field 6). `killpg(pgid, sig)`, `kill -- -PGID` in a shell, reaches every
//! member of the group at once; the terminal sends Ctrl-C's SIGINT to its foreground group.

use std::io;

/// The pids in process group `pgid`, lowest first, zombies included (they are members
/// until reaped), read from `/proc`: what `ps -o pid= -g PGID` or `pgrep -g PGID` print.
pub fn group_members(pgid: u32) -> io::Result<Vec<u32>> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        if let Some(pid) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
            pids.push(pid);
        }
    }
    // Between this listing and the reads below, processes come and go.
    members_of(pgid, pids)
}

/// The pids among `candidates` that are in process group `pgid`, lowest first. A candidate
/// that no longer exists (it exited, or exited while we looked) is left out, not an error.
pub fn members_of(pgid: u32, candidates: impl IntoIterator<Item = u32>) -> io::Result<Vec<u32>> {
    // EXERCISE: keep the candidates whose process group is `pgid`. Processes vanish at any
    // moment; one that is gone is simply not a member.
    // BEGIN SOLUTION
    let mut members = Vec::new();
    for pid in candidates {
        match labkit::proc::stat(pid) {
            Ok(stat) if stat.pgrp == pgid => members.push(pid),
            Ok(_) => {}
            Err(e) if labkit::proc::is_gone(&e) => {}
            Err(e) => return Err(e),
        }
    }
    members.sort_unstable();
    Ok(members)
    // END SOLUTION
}
