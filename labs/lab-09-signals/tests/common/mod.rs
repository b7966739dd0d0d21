//! Helpers shared by lab-09's test files (each test file reaches this module with
//! `mod common;`).
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Make `cmd` start its program the way a shell does, with fork and exec, instead of std's
/// usual `posix_spawn`. It matters for signal masks: glibc's `posix_spawn` leaves its
/// internal signals (32 and 33) ignored in the child, and an ignored signal survives exec,
/// so the program would show them in `SigIgn` although no shell would give them to it. A
/// `pre_exec` closure makes std fork and exec instead.
pub fn like_a_shell(cmd: &mut Command) -> &mut Command {
    // SAFETY: the closure does nothing, so it cannot break anything in the forked child.
    unsafe { cmd.pre_exec(|| Ok(())) }
}

/// glibc's internal signals (32 and 33) in a decoded mask, as `SIGRT32` and `SIGRT33`.
/// Whether a demo started from a test has them ignored depends on how the test runner was
/// started (see `posix_spawn_leaves_glibc_s_internal_signals_ignored` in `masks.rs`), so
/// assertions and transcripts leave them out. A shell-started demo does not have them.
pub const GLIBC_INTERNAL: &str = r" ?SIGRT3[23]\b";

/// `names` without glibc's internal signals.
pub fn without_internal(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| *n != "SIGRT32" && *n != "SIGRT33")
        .cloned()
        .collect()
}
