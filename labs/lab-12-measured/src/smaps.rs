//! Chapter 12, memory: the counters of `/proc/PID/smaps_rollup` (the sums over all of a
//! process's mappings) and of one mapping in `/proc/PID/smaps`, in kB as the kernel prints
//! them.
//!
//! `Rss` counts every page a process has in RAM, shared or not, so adding the RSS of N
//! processes counts a shared page N times. `Pss` (proportional set size) divides each
//! page by the number of processes that map it: the PSS of all processes adds up to the
//! memory really in use. `Shared_*` and `Private_*` split RSS by whether another process
//! maps the page too; `Dirty` pages were written (after a fork, by either side before it).

use std::io;

// ANCHOR: counters
/// The memory counters of one process (or one mapping), in kB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub rss: u64,
    pub pss: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
}

impl Counters {
    /// Pages that only this process maps: `Private_Clean + Private_Dirty`.
    pub fn private(&self) -> u64 {
        self.private_clean + self.private_dirty
    }
}

/// The counters of `/proc/PID/smaps_rollup`: the whole process.
pub fn rollup(pid: u32) -> io::Result<Counters> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok(parse(&text))
}
// ANCHOR_END: counters

impl std::ops::Add for Counters {
    type Output = Counters;
    fn add(self, o: Counters) -> Counters {
        Counters {
            rss: self.rss + o.rss,
            pss: self.pss + o.pss,
            shared_clean: self.shared_clean + o.shared_clean,
            shared_dirty: self.shared_dirty + o.shared_dirty,
            private_clean: self.private_clean + o.private_clean,
            private_dirty: self.private_dirty + o.private_dirty,
        }
    }
}

/// The counters in a `smaps_rollup` text, or in one mapping's block of `smaps` (a counter
/// whose line is missing is 0).
pub fn parse(text: &str) -> Counters {
    let mut c = Counters::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let Some(kb) = rest
            .trim()
            .strip_suffix("kB")
            .and_then(|n| n.trim().parse::<u64>().ok())
        else {
            continue;
        };
        match key {
            "Rss" => c.rss = kb,
            "Pss" => c.pss = kb,
            "Shared_Clean" => c.shared_clean = kb,
            "Shared_Dirty" => c.shared_dirty = kb,
            "Private_Clean" => c.private_clean = kb,
            "Private_Dirty" => c.private_dirty = kb,
            _ => {}
        }
    }
    c
}

/// The counters of the one mapping of process `pid` that contains address `addr`, from
/// `/proc/PID/smaps` (each mapping is a header line `start-end perms …` and its counters).
pub fn mapping(pid: u32, addr: usize) -> io::Result<Counters> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    mapping_in(&text, addr).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no mapping of process {pid} contains {addr:#x}"),
        )
    })
}

/// The block of the mapping containing `addr` in an `smaps` text, parsed.
pub fn mapping_in(text: &str, addr: usize) -> Option<Counters> {
    let mut block: Option<String> = None;
    for line in text.lines() {
        let range = line
            .split_whitespace()
            .next()
            .and_then(|r| r.split_once('-'))
            .and_then(|(a, b)| {
                Some((
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                ))
            });
        if let Some((start, end)) = range {
            if block.is_some() {
                break; // the next mapping's header: our block is complete
            }
            if (start..end).contains(&addr) {
                block = Some(String::new());
            }
        } else if let Some(b) = block.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    block.map(|b| parse(&b))
}

/// kB as MiB with one decimal, the way the demos print memory.
pub fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
Rss:                   8 kB
Pss:                   8 kB
Private_Dirty:         8 kB
7f0000000000-7f0001001000 rw-p 00000000 00:00 0
Size:              16388 kB
Rss:               16388 kB
Pss:                8194 kB
Shared_Clean:          0 kB
Shared_Dirty:      16388 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
VmFlags: rd wr mr mw me ac
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  12 kB
Private_Dirty:        12 kB
";

    #[test]
    fn parses_a_rollup() {
        let text = "55d0c0000000-7ffc00021000 ---p 00000000 00:00 0  [rollup]\n\
                    Rss: 2048 kB\nPss: 1024 kB\nPss_Anon: 512 kB\nShared_Clean: 1000 kB\n\
                    Shared_Dirty: 24 kB\nPrivate_Clean: 4 kB\nPrivate_Dirty: 1020 kB\n";
        let c = parse(text);
        assert_eq!(
            c,
            Counters {
                rss: 2048,
                pss: 1024,
                shared_clean: 1000,
                shared_dirty: 24,
                private_clean: 4,
                private_dirty: 1020
            }
        );
        assert_eq!(c.private(), 1024);
        assert_eq!(parse(""), Counters::default());
    }

    #[test]
    fn finds_the_mapping_that_holds_an_address() {
        let c = mapping_in(SMAPS, 0x7f0000800000).unwrap();
        assert_eq!((c.rss, c.pss, c.shared_dirty), (16388, 8194, 16388));
        assert_eq!(mapping_in(SMAPS, 0x7ffc00000010).unwrap().private_dirty, 12);
        assert_eq!(mapping_in(SMAPS, 0x1000), None);
        assert_eq!(mib(16388), "16.0 MiB");
    }

    #[test]
    fn this_process_has_a_rollup() {
        let c = rollup(std::process::id()).unwrap();
        assert!(c.rss > 0 && c.pss > 0 && c.pss <= c.rss, "{c:?}");
        let v = vec![7u8; 4 << 20];
        let m = mapping(std::process::id(), v.as_ptr() as usize + 100).unwrap();
        assert!(m.rss >= 4096, "{m:?}");
    }
}
