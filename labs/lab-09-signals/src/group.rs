//! Chapter 9: process groups seen from `/proc`.
//!
//! Every process belongs to one process group (field 5 of `/proc/PID/stat`) inside one
//! session (field 6). `killpg(pgid, sig)`, `kill -- -PGID` in a shell, reaches every
//! member of the group at once; the terminal sends Ctrl-C's SIGINT to its foreground group.

use std::io;

/// The pids in process group `pgid`, lowest first, zombies included (they are members
/// until reaped), read from `/proc`: what `ps -o pid= -g PGID` or `pgrep -g PGID` print.
pub fn group_members(pgid: u32) -> io::Result<Vec<u32>> {
    // EXERCISE: list /proc, keep the entries that are numbers, read each one's stat with
    // `labkit::proc::stat`, and keep those whose `pgrp` is `pgid`. A process may exit
    // between the listing and the read: skip it (`labkit::proc::is_gone`) instead of failing.
    // BEGIN SOLUTION
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
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
