//! Chapter 4 demo: the injection lesson of `exec` versus `execFile`. In DIR, it runs
//! `cat` on a file name that contains shell syntax, once as an argument (no shell) and
//! once spliced into a command line for `sh -c`, and checks after each whether a file
//! called MARKER appeared.
//!
//! `mkdir -p /tmp/inject && ./target/debug/inject /tmp/inject`

use std::path::Path;

use clap::Parser;
use lab_04::cli;
use lab_04::exec::{exec_file, exec_shell};

/// Run `cat NAME` with and without a shell, where NAME is `x; touch MARKER`.
#[derive(Parser)]
struct Args {
    /// An empty directory to work in (MARKER is created there, or not).
    dir: std::path::PathBuf,
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("inject");
    std::env::set_current_dir(&args.dir)
        .unwrap_or_else(|e| cli::fail("inject", format!("{}: {e}", args.dir.display())));
    if Path::new("MARKER").exists() {
        cli::fail(
            "inject",
            "MARKER already exists here: use an empty directory",
        );
    }
    let name = "x; touch MARKER"; // imagine it came from a user, an upload, a URL
    println!("file name: {name:?}");

    let out = exec_file("cat", &[name]).unwrap_or_else(|e| cli::fail("inject", e));
    print!(
        "execFile-style, cat with one argument: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("  MARKER exists: {}", Path::new("MARKER").exists());

    let out = exec_shell(&format!("cat {name}"), 1024).unwrap_or_else(|e| cli::fail("inject", e));
    print!(
        "exec-style, sh -c \"cat {name}\": {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("  MARKER exists: {}", Path::new("MARKER").exists());
}
// ANCHOR_END: main
