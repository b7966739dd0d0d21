//! Chapter 1, exercise 01.1: the card of *another* process, read by pid from
//! `/proc/PID/stat`, the way `ps` and `top` see every process on the machine.

use std::fs;
use std::io;
use std::time::Duration;

use crate::card::{ticks_per_second, uptime_from};

/// What `ps -o pid,ppid,comm,stat,etime` would say about a process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The current parent.
    pub ppid: u32,
    /// The command name, without the parentheses (may contain spaces and `)`; a character
    /// split by the 15-byte cut shows as U+FFFD).
    pub comm: String,
    /// One letter: `R` running, `S` sleeping, `T` stopped, `Z` zombie, …
    pub state: char,
    /// The process's age when `boot_seconds` was read.
    pub age: Duration,
}

/// Parse the one line of `/proc/PID/stat`, given how long the system has been up
/// (`/proc/uptime`'s first number) and the tick rate of field 22. The line is bytes: the
/// command name in it need not be valid UTF-8 (a 15-byte cut can split a character).
pub fn parse_stat(
    stat: &[u8],
    boot_seconds: f64,
    ticks_per_second: u64,
) -> io::Result<ProcessInfo> {
    // EXERCISE: split the line into pid, "(comm)" and the fields after it (field 3 is the
    // state, 4 the ppid, 22 the start time in ticks after boot) and compute the age with
    // `uptime_from`. Work on bytes: a comm may contain spaces and ')' (find the *last*
    // ')') and may end in half a character (convert it lossily: U+FFFD). Any missing or
    // malformed field is an `InvalidData` error.
    // BEGIN SOLUTION
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("stat: {what}"));
    let open = stat.iter().position(|&b| b == b'(');
    let open = open.ok_or_else(|| bad("no '('"))?;
    let close = stat.iter().rposition(|&b| b == b')');
    let close = close.ok_or_else(|| bad("no ')'"))?;
    if close < open {
        return Err(bad("')' before '('"));
    }
    // Before '(' and after the last ')' there are only ASCII digits, letters and spaces.
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| bad("not ASCII"));
    let pid = text(&stat[..open])?
        .trim()
        .parse()
        .map_err(|_| bad("pid"))?;
    let rest = text(&stat[close + 1..])?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .copied()
            .ok_or_else(|| bad("too few fields"))
    };
    let state = field(3)?.chars().next().ok_or_else(|| bad("state"))?;
    let ppid = field(4)?.parse().map_err(|_| bad("ppid"))?;
    let starttime = field(22)?.parse().map_err(|_| bad("starttime"))?;
    Ok(ProcessInfo {
        pid,
        ppid,
        comm: String::from_utf8_lossy(&stat[open + 1..close]).into_owned(),
        state,
        age: uptime_from(boot_seconds, starttime, ticks_per_second),
    })
    // END SOLUTION
}

/// Read another process's info from `/proc/PID/stat`. A process that has ended is a
/// `NotFound` error.
pub fn peek(pid: u32) -> io::Result<ProcessInfo> {
    let stat = fs::read(format!("/proc/{pid}/stat"))?;
    let boot_seconds = fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc/uptime"))?;
    parse_stat(&stat, boot_seconds, ticks_per_second()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real line, shortened after field 22; the name contains ") (" on purpose.
    const LINE: &[u8] =
        b"4242 (a) (b c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 99000 2000 300";

    #[test]
    fn exercise_01_1_fields_after_a_tricky_comm() {
        let info = parse_stat(LINE, 1000.5, 100).unwrap();
        assert_eq!(
            info,
            ProcessInfo {
                pid: 4242,
                ppid: 17,
                comm: "a) (b c".to_string(),
                state: 'S',
                age: Duration::from_secs_f64(10.5),
            }
        );
    }

    #[test]
    fn exercise_01_1_a_comm_cut_through_a_character_is_not_utf8() {
        // "worker-cafetería" cut to 15 bytes: the last byte is the first half of 'í'.
        let mut line = b"77 (worker-cafeter\xc3) S 1 ".to_vec();
        line.extend_from_slice(b"77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0");
        let info = parse_stat(&line, 10.0, 100).unwrap();
        assert_eq!(info.comm, "worker-cafeter\u{fffd}");
        assert_eq!((info.pid, info.state, info.ppid), (77, 'S', 1));
        assert_eq!(info.age, Duration::from_secs(5));
    }

    #[test]
    fn exercise_01_1_malformed_lines_are_invalid_data() {
        for line in [
            &b""[..],
            b"4242 (x",
            b"4242 (x) S",
            b"abc (x) S 1",
            b"4242 (x) S 17 1 2",
            b"4242 (x) S \xff 1",
        ] {
            let err = parse_stat(line, 1.0, 100).unwrap_err();
            assert_eq!(
                err.kind(),
                io::ErrorKind::InvalidData,
                "{}",
                line.escape_ascii()
            );
        }
    }
}
