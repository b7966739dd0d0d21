//! Chapter 1 demo: which cleanup runs on each way out of a process.
//!
//! ```sh
//! for how in return exit panic signal; do
//!   cargo run -q -p lab-01 --bin exit-paths -- --how $how; echo "exit code $?"
//! done
//! ```

use clap::{Parser, ValueEnum};
use lab_01::crash::Cleanup;
use nix::sys::signal::{Signal, raise};

#[derive(Clone, Copy, ValueEnum)]
enum How {
    /// Return from main: destructors run, exit code 0.
    Return,
    /// Call std::process::exit(3): no destructor runs.
    Exit,
    /// Panic: the stack unwinds (destructors run), exit code 101.
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
    let _cleanup = Cleanup("ran (main's stack was unwound)");
    println!("main: working");
    match args.how {
        How::Return => {}
        How::Exit => std::process::exit(3),
        How::Panic => panic!("something went wrong"),
        How::Signal => {
            // Default action of SIGTERM: the kernel ends the process right here.
            raise(Signal::SIGTERM).expect("raise SIGTERM");
            unreachable!("SIGTERM's default action ends the process");
        }
    }
}
// ANCHOR_END: main
