//! Helpers shared by several of lab-02's test files (each test file is its own crate, so
//! they reach this module with `mod common;`).

use labkit::{demo, run};

/// Run a demo with its address space capped (`ulimit -v`, in KiB), so that starting many
/// threads, each with a 2 MiB stack, fails part-way through.
pub fn with_little_memory(exe: &str, args: &str) -> labkit::run::Finished {
    let mut cmd = demo("sh");
    cmd.args(["-c", &format!("ulimit -v 30000 && exec \"$0\" {args}"), exe]);
    run(&mut cmd).unwrap()
}
