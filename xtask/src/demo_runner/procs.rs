//! The live view: a demo's processes and threads, sampled from `/proc` a few times a second.

use std::collections::BTreeSet;

use labkit::proc;
use serde_json::{Value, json};

/// One process as the page draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcView {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    /// `R`, `S`, `Z`, …
    pub state: char,
    pub comm: String,
    pub threads: Vec<String>,
    pub fds: usize,
    pub starttime: u64,
}

impl ProcView {
    fn read(pid: u32) -> Option<ProcView> {
        let stat = proc::stat(pid).ok()?;
        // A zombie has no threads or fds left to list; the reads fail or come back empty.
        let threads = proc::threads(pid)
            .map(|ts| ts.into_iter().map(|t| t.name).collect())
            .unwrap_or_default();
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
        Some(ProcView {
            pid,
            ppid: stat.ppid,
            pgid: stat.pgrp,
            sid: stat.session,
            state: stat.state,
            comm: stat.comm,
            threads,
            fds,
            starttime: stat.starttime,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "pid": self.pid, "ppid": self.ppid, "pgid": self.pgid, "sid": self.sid,
            "state": self.state.to_string(), "comm": self.comm,
            "threads": self.threads, "fds": self.fds,
        })
    }
}

/// Every pid in `/proc` with its parent, group and state (one read of each `stat`).
fn all_stats() -> Vec<proc::Stat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| proc::stat(pid).ok())
        .collect()
}

/// The demo's processes: its group `pgid` (the leader's children stay in it unless they
/// leave), every descendant of those, and `adopted`: orphans re-parented to the runner
/// (it is a subreaper) while this demo ran, such as a daemon after its double fork.
pub fn sample(pgid: u32, adopted: &BTreeSet<u32>) -> Vec<ProcView> {
    let stats = all_stats();
    let mut members: BTreeSet<u32> = stats
        .iter()
        .filter(|s| s.pgrp == pgid || adopted.contains(&s.pid))
        .map(|s| s.pid)
        .collect();
    // Add descendants until nothing new turns up.
    loop {
        let more: Vec<u32> = stats
            .iter()
            .filter(|s| members.contains(&s.ppid) && !members.contains(&s.pid))
            .map(|s| s.pid)
            .collect();
        if more.is_empty() {
            break;
        }
        members.extend(more);
    }
    members.into_iter().filter_map(ProcView::read).collect()
}

/// The runner's children that it did not start itself: orphans re-parented to it.
pub fn adopted_by(runner: u32, own: &BTreeSet<u32>) -> Vec<ProcView> {
    all_stats()
        .into_iter()
        .filter(|s| s.ppid == runner && !own.contains(&s.pid))
        .filter_map(|s| ProcView::read(s.pid))
        .collect()
}
