//! Chapter 7 exercises: find a cluster from the outside, in `/proc`, the way `ps` and `ss`
//! would.

use std::io;

/// The workers of the master `master_pid`: its children whose environment holds
/// `NODE_UNIQUE_ID`, as `(worker id, pid)` sorted by worker id.
pub fn workers_of(master_pid: u32) -> io::Result<Vec<(u32, u32)>> {
    // EXERCISE: 7.1 list the master's children (/proc/PID/task/*/children, or the ppid
    // field of every /proc/N/stat), read each one's /proc/N/environ (NUL-separated
    // NAME=VALUE pairs) and keep those with NODE_UNIQUE_ID; skip processes that vanish.
    // BEGIN SOLUTION
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{master_pid}/task"))? {
        let children = std::fs::read_to_string(task?.path().join("children"))?;
        for pid in children
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
        {
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue; // gone already
            };
            let id = environ
                .split(|b| *b == 0)
                .filter_map(|kv| kv.strip_prefix(b"NODE_UNIQUE_ID="))
                .find_map(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
            if let Some(id) = id {
                found.push((id, pid));
            }
        }
    }
    found.sort();
    Ok(found)
    // END SOLUTION
}

/// How many TCP sockets on 127.0.0.1 listen on `port`, from `/proc/net/tcp` (the table
/// `ss -ltn` reads): 1 for `rr` and `shared`, one per worker for `reuseport`.
pub fn listeners_on(port: u16) -> io::Result<usize> {
    // EXERCISE: 7.2 each line of /proc/net/tcp after the header has `sl local rem st …`;
    // local is HEXADDR:HEXPORT (the address in host byte order: 0100007F is 127.0.0.1),
    // st is the state in hex, 0A for LISTEN.
    // BEGIN SOLUTION
    let table = std::fs::read_to_string("/proc/net/tcp")?;
    let wanted = format!("0100007F:{port:04X}");
    Ok(table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&wanted.as_str()) && fields.get(3) == Some(&"0A")
        })
        .count())
    // END SOLUTION
}
