//! Chapter 1 demo: which cleanup runs on each way out of a process.
//!
//! ```sh
//! for how in return exit underscore-exit panic signal; do
//!   cargo run -q -p lab-01 --bin exit-paths -- --how $how; echo "exit code $?"
//! done
//! ```

use clap::{Parser, ValueEnum};
use lab_01::exit_paths::{Cleanup, register_atexit_handler, underscore_exit};
use nix::sys::signal::{Signal, raise};

#[derive(Clone, Copy, ValueEnum)]
enum How {
    /// Return from main: destructors run, then exit(3) with code 0.
    Return,
    /// std::process::exit(3): no destructor; stdout flushed, atexit handlers run.
    Exit,
    /// _exit(4): no destructor, no atexit handler, buffered output lost.
    UnderscoreExit,
    /// Panic: the hook, then the stack unwinds (destructors run), exit code 101.
    Panic,
    /// Send ourselves SIGTERM with its default action: the kernel ends the process.
    Signal,
}

/// End the process one of several ways, with a cleanup guard on main's stack.
#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    how: How,
}

// ANCHOR: main
fn main() {
    let args = Args::parse();
    register_atexit_handler();
    let _cleanup = Cleanup("ran (main's stack was unwound)");
    println!("main: working");
    match args.how {
        How::Return => {}
        How::Exit => {
            print!("main: no newline yet, so this waits in stdout's buffer");
            std::process::exit(3);
        }
        How::UnderscoreExit => {
            print!("main: no newline yet, so this waits in stdout's buffer");
            underscore_exit(4);
        }
        How::Panic => panic!("something went wrong"),
        How::Signal => {
            // Default action of SIGTERM: the kernel ends the process right here.
            raise(Signal::SIGTERM).expect("raise SIGTERM");
            unreachable!("SIGTERM's default action ends the process");
        }
    }
}
// ANCHOR_END: main
