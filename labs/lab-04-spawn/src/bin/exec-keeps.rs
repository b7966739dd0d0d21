//! Chapter 4 demo: what `exec` keeps and what it drops. The parent opens two files, one
//! with close-on-exec (`O_CLOEXEC`, the default for every file Rust opens) and one
//! without, then forks. The child prints its pid and its open fds, and execs this same
//! program with `--after-exec`, which prints the pid and the fds again: same pid, and the
//! close-on-exec fd is gone.
//!
//! `./target/debug/exec-keeps`

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use clap::Parser;
use lab_04::cli;
use lab_04::forking::{own_fds, underscore_exit};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid};

/// Fork, then exec: the pid stays, close-on-exec fds go.
#[derive(Parser)]
struct Args {
    /// (Used by the demo itself:) print the pid and fds after the exec.
    #[arg(long, hide = true)]
    after_exec: bool,
    /// (Used by the demo itself:) the fds to show besides 0, 1 and 2.
    #[arg(long, hide = true, value_delimiter = ',')]
    show: Vec<u32>,
}

/// The open fds among 0, 1, 2 and `ours`: whatever else the shell left open (some
/// shells and terminals leak a few) would only get in the way.
fn fds_line(ours: &[u32]) -> String {
    let fds = own_fds().unwrap_or_else(|e| cli::fail("exec-keeps", e));
    fds.iter()
        .filter(|(fd, _)| *fd <= 2 || ours.contains(fd))
        .map(|(fd, target)| format!("{fd}={target}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("exec-keeps");
    if args.after_exec {
        println!(
            "after exec:  pid={} fds: {}",
            getpid(),
            fds_line(&args.show)
        );
        return;
    }
    let open = |path| std::fs::File::open(path).unwrap_or_else(|e| cli::fail("exec-keeps", e));
    let closed_on_exec = open("/dev/zero"); // std opens every file with O_CLOEXEC
    let kept = open("/dev/null");
    fcntl(&kept, FcntlArg::F_SETFD(FdFlag::empty())) // clear FD_CLOEXEC on this one
        .unwrap_or_else(|e| cli::fail("exec-keeps", e));
    let ours = [kept.as_raw_fd() as u32, closed_on_exec.as_raw_fd() as u32];
    println!(
        "parent: pid={}; fd {} without close-on-exec, fd {} with it",
        getpid(),
        ours[0],
        ours[1]
    );
    std::io::stdout().flush().expect("flush");
    // SAFETY: single-threaded process.
    match unsafe { fork() } {
        Err(e) => cli::fail("exec-keeps", format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            println!("before exec: pid={} fds: {}", getpid(), fds_line(&ours));
            std::io::stdout().flush().expect("flush");
            let exe = std::env::current_exe().expect("current_exe");
            let show = format!("{},{}", ours[0], ours[1]);
            let err = Command::new(exe)
                .args(["--after-exec", "--show", &show])
                .exec(); // returns only on failure
            eprintln!("exec-keeps: exec failed: {err}");
            underscore_exit(127)
        }
        Ok(ForkResult::Parent { child }) => {
            let status = waitpid(child, None).unwrap_or_else(|e| cli::fail("exec-keeps", e));
            let code = match status {
                WaitStatus::Exited(_, code) => code,
                _ => 1,
            };
            println!("parent: fork returned {child}; the child exited with code {code}");
            drop((kept, closed_on_exec));
        }
    }
}
// ANCHOR_END: main
