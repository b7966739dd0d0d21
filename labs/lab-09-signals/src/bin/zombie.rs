//! Chapter 9 demo: a zombie, made visible and then reaped.
//!
//! The child exits at once. The parent waits until it is dead *without reaping it*
//! (`waitid` with `WNOWAIT`), shows its state letter `Z` from `/proc`, prints `ready`, and
//! reaps it only after a line (or end of file) on stdin, so that a test can look first.
//! With `--no-zombies ignore` or `--no-zombies nocldwait`, the parent first sets SIGCHLD to
//! SIG_IGN or sets `SA_NOCLDWAIT`: the kernel then reaps children itself, nothing is left
//! to wait for. The child then lives until stdin ends, and the parent's `waitid` blocks
//! until it has died, then fails with ECHILD (wait(2)).
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
    /// Exit code of the child, 0 to 255.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(0..=255))]
    code: i32,
    /// Let the child die of this signal instead of exiting: one whose default action ends
    /// the process (not STOP, TSTP, TTIN, TTOU, CONT, CHLD, URG, WINCH). The child sets it
    /// back to the default first (std ignores SIGPIPE) and makes itself non-dumpable, so
    /// SIGQUIT or SIGABRT write no core file, whatever the host's core_pattern says.
    #[arg(long, value_parser = fatal_signal)]
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

/// A signal whose default action ends the process. A stop signal would leave the child
/// stopped (and `waitid(WEXITED)` waiting for ever), and one whose default is to do nothing
/// would not end it at all.
fn fatal_signal(text: &str) -> Result<Signal, String> {
    use Signal::*;
    let signal = cli::signal(text)?;
    match signal {
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Err(format!(
            "{signal} stops a process instead of ending it; choose one that ends it, like TERM"
        )),
        SIGCONT | SIGCHLD | SIGURG | SIGWINCH => Err(format!(
            "{signal}'s default action is to do nothing; choose one that ends a process, like TERM"
        )),
        _ => Ok(signal),
    }
}

/// In the child: no core file, then the signal's default action.
fn die_by(signal: Signal) -> ! {
    // Not dumpable: the kernel writes no core, even when core_pattern pipes the dump to a
    // program (systemd-coredump, apport), which RLIMIT_CORE = 0 would not stop.
    let _ = nix::sys::prctl::set_dumpable(false);
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: no handler function; the inherited disposition (SIG_IGN for SIGPIPE, which
    // std set in the parent) goes back to the default.
    let _ = unsafe { sigaction(signal, &default) };
    let _ = nix::sys::signal::raise(signal);
    underscore_exit(127) // only if the signal did not end us
}

/// In the child, with SIGCHLD ignored in the parent: live until stdin ends, so that the
/// parent's wait has a live child to block on.
fn live_until_stdin_ends() -> ! {
    let mut buf = [0u8; 64];
    while matches!(nix::unistd::read(std::io::stdin(), &mut buf), Ok(n) if n > 0) {}
    underscore_exit(0)
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
        Ok(ForkResult::Child) => match (args.die_by, args.no_zombies) {
            (Some(signal), _) => die_by(signal),
            (None, Some(_)) => live_until_stdin_ends(),
            (None, None) => underscore_exit(args.code),
        },
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => cli::fail("zombie", format!("fork: {e}")),
    };
    match (args.die_by, args.no_zombies) {
        (Some(s), _) => println!("forked child={child}; the child dies at once of {s}"),
        (None, Some(_)) => println!("forked child={child}; the child lives until stdin ends"),
        (None, None) => println!(
            "forked child={child}; the child exits at once with code {}",
            args.code
        ),
    }
    if args.no_zombies.is_some() {
        // No zombie will ever be left, yet waitid waits: it returns ECHILD only once the
        // last child has died (wait(2)).
        println!("waitid blocks while the child lives, although it will leave no zombie");
        println!("ready child={child}");
        flush();
    } else {
        // Wait until the child is dead, but leave it as it is (WNOWAIT): a zombie.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        waitid(Id::Pid(child), flags).unwrap_or_else(|e| cli::fail("zombie", e));
        println!(
            "child {child} has exited, not reaped yet: /proc/{child}: {}",
            state_of(child)
        );
        println!("ready child={child}");
        flush();
        let _ = std::io::stdin().lock().read_line(&mut String::new());
    }

    match waitid(Id::Pid(child), WaitPidFlag::WEXITED) {
        Ok(status) => println!("reaped: {status:?}"),
        Err(Errno::ECHILD) => println!("waitid: ECHILD, no such child to wait for"),
        Err(e) => cli::fail("zombie", e),
    }
    println!("after the wait: /proc/{child}: {}", state_of(child));
}
// ANCHOR_END: main
