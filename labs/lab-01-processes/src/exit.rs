//! Chapter 1: how a process ends, as its parent sees it.
//!
//! The kernel keeps a few bits for every ended child until the parent collects them with
//! `wait`: either the process *exited* and passed a code (0–255), or a *signal* ended it
//! and there is no code at all. Node reports the same pair in
//! `child.on('exit', (code, signal) => …)`: one of them is always `null`.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;

// ANCHOR: describe
/// Describe an exit status the way a parent should read it.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    // EXERCISE: a process killed by a signal has no exit code. Name the signal and its
    // number, add " (core dumped)" when the kernel wrote a core file, and say what a
    // shell would put in `$?` (128 + the signal number), e.g.
    // "killed by SIGTERM (signal 15, $? = 143)".
    // BEGIN SOLUTION
    match status.signal() {
        Some(number) => {
            let name = Signal::try_from(number)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {number}"));
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!(
                "killed by {name} (signal {number}{core}, $? = {})",
                128 + number
            )
        }
        None => format!("ended in an unknown way ({status})"),
    }
    // END SOLUTION
}
// ANCHOR_END: describe

#[cfg(test)]
mod tests {
    use super::*;

    // `from_raw` takes the status word that wait(2) fills in: the exit code sits in
    // bits 8–15, a fatal signal in bits 0–6, and bit 7 says "core dumped".

    #[test]
    fn an_exit_code_is_reported_as_is() {
        assert_eq!(describe(ExitStatus::from_raw(0)), "exited with code 0");
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exited with code 3");
        assert_eq!(
            describe(ExitStatus::from_raw(101 << 8)),
            "exited with code 101"
        );
    }

    #[test]
    fn a_signal_is_named_with_the_shell_convention() {
        assert_eq!(
            describe(ExitStatus::from_raw(15)),
            "killed by SIGTERM (signal 15, $? = 143)"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(9)),
            "killed by SIGKILL (signal 9, $? = 137)"
        );
    }

    #[test]
    fn a_core_dump_is_mentioned() {
        assert_eq!(
            describe(ExitStatus::from_raw(6 | 0x80)),
            "killed by SIGABRT (signal 6, core dumped, $? = 134)"
        );
    }
}
