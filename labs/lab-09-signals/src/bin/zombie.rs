//! Chapter 9 demo: a zombie, made visible and then reaped.
//!
//! The child exits at once. The parent waits until it is dead *without reaping it*
//! (`waitid` with `WNOWAIT`), shows its state letter `Z` from `/proc`, prints `ready`, and
//! reaps it only after a line (or end of file) on stdin, so that a test can look first.
//! With `--no-zombies ignore` or `--no-zombies nocldwait`, the parent first sets SIGCHLD to
//! SIG_IGN or sets `SA_NOCLDWAIT`: the kernel then reaps children itself, nothing is left
//! to wait for, and `waitpid` fails with ECHILD.
//!
//! `./target/debug/zombie < /dev/null`; `./target/debug/zombie --no-zombies ignore < /dev/null`

use std::io::{BufRead, Write};

use clap::{Parser, ValueEnum};
use lab_09::{cli, underscore_exit};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{ForkResult, Pid, fork};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NoZombies {
    /// `signal(SIGCHLD, SIG_IGN)`.
    Ignore,
    /// A default SIGCHLD action with the `SA_NOCLDWAIT` flag.
    Nocldwait,
}

/// Make a zombie, show it, reap it.
#[derive(Parser)]
struct Args {
    /// Exit code of the child.
    #[arg(long, default_value_t = 3)]
    code: i32,
    /// Let the child die of this signal instead of exiting (with no core file: its
    /// RLIMIT_CORE is set to 0 first, so SIGQUIT or SIGABRT write nothing to disk).
    #[arg(long, value_parser = cli::signal)]
    die_by: Option<Signal>,
    /// Ask the kernel not to keep zombies of this process at all.
    #[arg(long, value_enum)]
    no_zombies: Option<NoZombies>,
}

fn state_of(pid: Pid) -> String {
    match labkit::proc::state(pid.as_raw() as u32) {
        Ok(state) => format!("state {state}"),
        Err(e) if labkit::proc::is_gone(&e) => "no such process".to_string(),
        Err(e) => cli::fail("zombie", e),
    }
}

fn flush() {
    std::io::stdout()
        .flush()
        .unwrap_or_else(|e| cli::fail("zombie", e));
}

/// In the child: no core file, then the signal's default action.
fn die_by(signal: Signal) -> ! {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain system call with a valid pointer.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    let _ = nix::sys::signal::raise(signal);
    underscore_exit(127) // only if the signal did not end us (it was ignored or caught)
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("zombie");
    if let Some(how) = args.no_zombies {
        let (handler, flags) = match how {
            NoZombies::Ignore => (SigHandler::SigIgn, SaFlags::empty()),
            NoZombies::Nocldwait => (SigHandler::SigDfl, SaFlags::SA_NOCLDWAIT),
        };
        let action = SigAction::new(handler, flags, SigSet::empty());
        // SAFETY: no handler function is installed.
        unsafe { sigaction(Signal::SIGCHLD, &action) }.unwrap_or_else(|e| cli::fail("zombie", e));
    }
    flush();
    // SAFETY: single-threaded; the child only calls _exit.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => match args.die_by {
            None => underscore_exit(args.code),
            Some(signal) => die_by(signal),
        },
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => cli::fail("zombie", format!("fork: {e}")),
    };
    match args.die_by {
        None => println!(
            "forked child={child}; the child exits at once with code {}",
            args.code
        ),
        Some(s) => println!("forked child={child}; the child dies at once of {s}"),
    }
    if args.no_zombies.is_none() {
        // Wait until the child is dead, but leave it as it is (WNOWAIT): a zombie.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        waitid(Id::Pid(child), flags).unwrap_or_else(|e| cli::fail("zombie", e));
        println!(
            "child {child} has exited, not reaped yet: /proc/{child}: {}",
            state_of(child)
        );
    }
    println!("ready child={child}");
    flush();
    let _ = std::io::stdin().lock().read_line(&mut String::new());

    match waitid(Id::Pid(child), WaitPidFlag::WEXITED) {
        Ok(status) => println!("reaped: {status:?}"),
        Err(Errno::ECHILD) => println!("waitid: ECHILD, no such child to wait for"),
        Err(e) => cli::fail("zombie", e),
    }
    println!("after the wait: /proc/{child}: {}", state_of(child));
}
// ANCHOR_END: main
