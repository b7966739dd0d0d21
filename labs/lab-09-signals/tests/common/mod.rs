//! Helpers shared by lab-09's test files (each test file reaches this module with
//! `mod common;`).
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Make `cmd` start its program the way a shell does, with fork and exec, instead of std's
/// usual `posix_spawn` (std uses it whenever it can, and never with a `pre_exec` closure).
/// It matters for signal masks: glibc's `posix_spawn` sets its internal signals 32 and 33
/// to SIG_IGN in every child, whatever the parent does with them, and an ignored signal
/// survives exec, so the program would show them in `SigIgn` although no shell would give
/// them to it.
///
/// It also gives the program every standard signal at its default action, as a shell at a
/// terminal does. The test runner may have inherited some ignored, and SIG_IGN survives
/// fork and exec: a script that starts `cargo test &` without job control runs it with
/// SIGINT and SIGQUIT ignored (POSIX, Shell Command Language 2.11), and `nohup` adds SIGHUP.
pub fn like_a_shell(cmd: &mut Command) -> &mut Command {
    // SAFETY: the closure only calls sigaction(2), which is async-signal-safe.
    unsafe { cmd.pre_exec(every_signal_at_its_default) }
}

/// Set every standard signal but SIGKILL and SIGSTOP (whose action cannot change) to
/// SIG_DFL. Meant for a `pre_exec` closure: it only calls sigaction(2).
pub fn every_signal_at_its_default() -> std::io::Result<()> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            // SAFETY: SIG_DFL installs no handler.
            unsafe { signal(sig, SigHandler::SigDfl) }?;
        }
    }
    Ok(())
}

/// glibc's internal signals (32 and 33) in a decoded mask, as `SIGRT32` and `SIGRT33`.
/// Even with fork and exec, a demo started from a test inherits them ignored when the test
/// runner itself was started by `posix_spawn` (cargo starts it with std's `Command`; see
/// `posix_spawn_ignores_glibc_s_internal_signals_in_every_child` in `masks.rs`), so
/// assertions and transcripts leave them out. A demo started from bash does not have them.
pub const GLIBC_INTERNAL: &str = r" ?SIGRT3[23]\b";

/// `names` without glibc's internal signals.
pub fn without_internal(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| *n != "SIGRT32" && *n != "SIGRT33")
        .cloned()
        .collect()
}
