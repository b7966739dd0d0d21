//! Chapter 12, reliability: what one worker's crash does to the others.
//!
//! `crash-worker MODE`, where MODE is one of
//! - `thread-panic`: a thread panics; `join` returns the panic as an `Err`, main goes on;
//! - `thread-panic-abort`: the same panic with a panic hook that aborts after printing
//!   the message, which is what a build with `panic = "abort"` does: the whole process
//!   dies of SIGABRT;
//! - `thread-segfault`: a thread gets SIGSEGV: the whole process dies;
//! - `child-segfault`, `child-abort`: a forked child dies of SIGSEGV or SIGABRT; the
//!   parent reaps it and goes on serving.
//!
//! The demo sets its core-file limit to 0 first, so a crash leaves no `core` file.

use std::io::Write;

use clap::{Parser, ValueEnum};
use lab_04::cli;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, Signal, raise, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    ThreadPanic,
    ThreadPanicAbort,
    ThreadSegfault,
    ChildSegfault,
    ChildAbort,
}

/// Crash one worker (a thread or a child process) and show who survives.
#[derive(Parser)]
struct Args {
    #[arg(value_enum)]
    mode: Mode,
}

// ANCHOR: segfault
/// Die of SIGSEGV. A write through a bad pointer would make the CPU fault and the kernel
/// send SIGSEGV to the faulting thread; `raise` sends the same signal to the calling
/// thread without undefined behaviour in the Rust program. Its default action, in either
/// case, ends the whole process, every thread of it. std installs a SIGSEGV handler (to
/// report stack overflows); for any other fault it restores the default action and
/// returns, so that the faulting access runs again and kills. A raised signal does not
/// come again, so we restore the default ourselves first.
fn segfault() -> ! {
    // SAFETY: SIG_DFL installs no Rust code as a handler.
    unsafe { signal(Signal::SIGSEGV, SigHandler::SigDfl) }.expect("signal");
    raise(Signal::SIGSEGV).expect("raise");
    unreachable!("SIGSEGV's default action ends the process")
}
// ANCHOR_END: segfault

// ANCHOR: threads
fn worker_thread(mode: Mode) {
    if let Mode::ThreadPanicAbort = mode {
        // What `panic = "abort"` does: print the message, then abort the process.
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            print(info);
            std::process::abort();
        }));
    }
    println!("main: starting a worker thread, then waiting for it");
    let worker = std::thread::spawn(move || match mode {
        Mode::ThreadSegfault => segfault(),
        _ => panic!("worker: cannot go on"),
    });
    match worker.join() {
        Ok(()) => println!("main: the worker returned"),
        Err(payload) => {
            let message = payload.downcast_ref::<&str>().copied().unwrap_or("?");
            println!("main: join gave Err({message:?}); main goes on serving");
        }
    }
}
// ANCHOR_END: threads

// ANCHOR: child
fn worker_child(mode: Mode) {
    std::io::stdout().flush().expect("flush"); // the child must not print our buffer again
    // SAFETY: single-threaded here; the child only dies.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => match mode {
            Mode::ChildSegfault => segfault(),
            _ => std::process::abort(),
        },
        ForkResult::Parent { child } => {
            println!("main: started worker process {child}");
            match waitpid(child, None).expect("waitpid") {
                WaitStatus::Signaled(pid, signal, _) => {
                    println!("main: worker {pid} was killed by {signal}; main goes on serving")
                }
                other => println!("main: worker ended: {other:?}"),
            }
        }
    }
}
// ANCHOR_END: child

fn main() {
    let args: Args = cli::parse("crash-worker");
    setrlimit(Resource::RLIMIT_CORE, 0, 0).unwrap_or_else(|e| cli::fail("crash-worker", e));
    match args.mode {
        Mode::ThreadPanic | Mode::ThreadPanicAbort | Mode::ThreadSegfault => {
            worker_thread(args.mode)
        }
        Mode::ChildSegfault | Mode::ChildAbort => worker_child(args.mode),
    }
    println!("main: still here, exiting normally");
}
