//! Chapter 4 demo: copy-on-write after `fork`, seen in `/proc/PID/smaps_rollup`. The
//! parent fills a buffer and forks; the child reads its own memory counters right after
//! the fork and again after writing to every byte of the buffer. The raw numbers vary
//! from run to run; the demo prints them, and checks the relations that must hold.
//!
//! `./target/debug/cow --mib 8`

use std::hint::black_box;
use std::io::Write;

use clap::Parser;
use lab_04::cli;
use lab_04::forking::{Dirty, dirty, underscore_exit};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid};

/// Fork with a filled buffer, then write it in the child, and watch the dirty pages.
#[derive(Parser)]
struct Args {
    /// Size of the buffer, in MiB.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    mib: u16,
}

fn show(who: &str, when: &str, d: Dirty) {
    println!(
        "{who} {when}: Shared_Dirty {} kB, Private_Dirty {} kB",
        d.shared_kb, d.private_kb
    );
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("cow");
    let kb = u64::from(args.mib) * 1024;
    let mut buffer = vec![b'a'; kb as usize * 1024]; // every page written: dirty, private
    black_box(&mut buffer);
    let me = getpid().as_raw() as u32;
    println!("parent: filled {kb} kB with 'a'");
    let before = dirty(me).unwrap_or_else(|e| cli::fail("cow", e));
    show("parent", "before fork", before);
    std::io::stdout().flush().expect("flush");
    // SAFETY: single-threaded process.
    match unsafe { fork() } {
        Err(e) => cli::fail("cow", format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            let child = getpid().as_raw() as u32;
            let at_fork = dirty(child).expect("smaps_rollup");
            show("child ", "after fork ", at_fork);
            buffer.fill(b'b'); // each first write to a shared page copies it
            black_box(&mut buffer);
            let after = dirty(child).expect("smaps_rollup");
            show("child ", "after write", after);
            let shared = at_fork.shared_kb >= kb * 9 / 10;
            let grew = after.private_kb >= at_fork.private_kb + kb * 9 / 10;
            let fell = at_fork.shared_kb >= after.shared_kb + kb * 9 / 10;
            println!(
                "child:  right after fork the buffer was shared (Shared_Dirty >= 90% of {kb} kB): {}",
                yes(shared)
            );
            println!(
                "child:  writing it grew Private_Dirty by >= 90% of {kb} kB: {}",
                yes(grew)
            );
            println!(
                "child:  and Shared_Dirty fell by >= 90% of {kb} kB: {}",
                yes(fell)
            );
            std::io::stdout().flush().expect("flush");
            underscore_exit(if shared && grew && fell { 0 } else { 1 })
        }
        Ok(ForkResult::Parent { child }) => {
            let status = waitpid(child, None).unwrap_or_else(|e| cli::fail("cow", e));
            let untouched = buffer.iter().all(|&b| b == b'a');
            println!(
                "parent: the child's writes left my copy untouched (still all 'a'): {}",
                yes(untouched)
            );
            let code = match status {
                WaitStatus::Exited(_, code) => code,
                _ => 1,
            };
            std::process::exit(if untouched { code } else { 1 });
        }
    }
}
// ANCHOR_END: main
