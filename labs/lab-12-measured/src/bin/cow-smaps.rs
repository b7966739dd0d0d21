//! Chapter 12, memory: copy-on-write seen in one mapping. The parent fills a buffer and
//! forks; the child reads the counters of the mapping that holds the buffer from
//! `/proc/PID/smaps` with its own pid before and after it writes every page, then the
//! parent reads its own.

use std::io::Write;

use clap::Parser;
use lab_04::cli;
use lab_04::forking::underscore_exit;
use lab_12::memory::{Buffer, touch};
use lab_12::smaps::{self, Counters, mib};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

/// Show what copy-on-write shares after fork, and what a write un-shares.
#[derive(Parser)]
struct Args {
    /// Size of the buffer, in MiB.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    mib: u32,
}

fn show(who: &str, c: Counters) {
    println!(
        "{who:<28} Rss {:>8}  Pss {:>8}  Shared_Dirty {:>8}  Private_Dirty {:>8}",
        mib(c.rss),
        mib(c.pss),
        mib(c.shared_dirty),
        mib(c.private_dirty)
    );
}

fn main() {
    let args: Args = cli::parse("cow-smaps");
    let bytes = args.mib as usize * 1024 * 1024;
    // ANCHOR: cow
    let mut buffer = Buffer::filled(bytes, 1); // a mapping of its own, every page written
    let at = buffer.as_mut_slice().as_ptr() as usize;
    let counters = |pid: u32| smaps::mapping(pid, at).expect("the buffer's mapping");
    println!("parent: filled a {} MiB buffer, forking", args.mib);
    show("parent, before fork", counters(std::process::id()));
    std::io::stdout().flush().expect("flush");
    // SAFETY: single-threaded; the child reads /proc, writes its memory, and _exits.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let me = std::process::id();
            show("child, buffer untouched", counters(me));
            touch(buffer.as_mut_slice(), 2); // one write per page: each page copied
            show("child, after writing it", counters(me));
            std::io::stdout().flush().expect("flush");
            underscore_exit(0)
        }
        ForkResult::Parent { child } => {
            assert_eq!(waitpid(child, None), Ok(WaitStatus::Exited(child, 0)));
            show("parent, after the child", counters(std::process::id()));
        }
    }
    // ANCHOR_END: cow
}
