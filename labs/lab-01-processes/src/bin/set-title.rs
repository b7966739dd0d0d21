//! Chapter 1 demo: rename this process with `prctl(PR_SET_NAME)`, like
//! `process.title = …` in Node, then wait so that you can look at it from outside:
//!
//! ```sh
//! (exec -a 'my-app: worker' ./target/debug/set-title worker-cafetería)
//! # in another terminal:
//! od -c /proc/PID/comm; tr '\0' '|' < /proc/PID/cmdline; ps -o pid,comm,args -p PID
//! ```
//!
//! It exits when its standard input reaches end of file (Ctrl-D) or gets a line.

use std::io::BufRead;

use clap::Parser;
use lab_01::title::{expected_comm, set_title};

/// Set this process's kernel name (comm) and wait for a line on stdin.
#[derive(Parser)]
struct Args {
    /// The new name; the kernel keeps its first 15 bytes.
    title: String,
}

/// `/proc/self/comm`; a character the 15-byte cut split shows as U+FFFD.
fn comm() -> String {
    let bytes = std::fs::read("/proc/self/comm").unwrap_or_default();
    // Only the newline the kernel adds: a title may itself end in spaces.
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn main() {
    let args = Args::parse();
    println!("comm before: {}", comm());
    if let Err(e) = set_title(&args.title) {
        eprintln!("set-title: cannot set the title {:?}: {e}", args.title);
        std::process::exit(1);
    }
    println!("comm after:  {}", comm());
    let bytes = args.title.len();
    println!(
        "asked for:   {} ({bytes} byte{}, kernel keeps {:?})",
        args.title,
        if bytes == 1 { "" } else { "s" },
        expected_comm(&args.title)
    );
    println!(
        "argv[0]:     {}",
        std::env::args().next().unwrap_or_default()
    );
    println!("ready pid={} (press Enter to exit)", std::process::id());
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}
