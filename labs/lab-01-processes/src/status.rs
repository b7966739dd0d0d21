//! Chapter 1: how a process ends, as its parent sees it.
//!
//! The kernel keeps a few bits for every ended child until the parent collects them with
//! `wait`: either the process *exited* and passed a code (0–255), or a *signal* ended it
//! and there is no code at all. Node reports the same pair in
//! `child.on('exit', (code, signal) => …)`: one of them is always `null`.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

// ANCHOR: describe
/// Describe an exit status the way a parent should read it.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
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
            // A shell's `$?` squeezes both cases into one number: 128 + the signal.
            format!(
                "killed by {name} (signal {number}{core}, $? = {})",
                128 + number
            )
        }
        None => format!("ended in an unknown way ({status})"),
    }
}
// ANCHOR_END: describe

/// Describe what `waitpid` reported about a child, including the two events that are not
/// an end: a child *stopped* by a signal (Ctrl-Z, SIGSTOP; reported with `WUNTRACED`)
/// and a stopped child that *continued* (SIGCONT; reported with `WCONTINUED`).
///
/// Wordings: `exited with code 3`, `killed by SIGKILL (signal 9, $? = 137)` (with
/// `, core dumped` after the number when a core was written), `stopped by SIGSTOP (signal
/// 19, still alive)`, `continued`, and `still running` for `StillAlive`. Anything else
/// (ptrace events) is `traced: ` followed by the status in `{:?}` form.
pub fn describe_wait(status: WaitStatus) -> String {
    match status {
        // The two ends read exactly like `describe`.
        WaitStatus::Exited(_, code) => describe(ExitStatus::from_raw((code & 0xff) << 8)),
        WaitStatus::Signaled(_, signal, core) => describe(ExitStatus::from_raw(
            signal as i32 | if core { 0x80 } else { 0 },
        )),
        other => describe_event(other),
    }
}

/// The statuses that are not an end: stopped, continued, still running, traced.
fn describe_event(status: WaitStatus) -> String {
    // EXERCISE: turn the other WaitStatus variants into the wordings of `describe_wait`'s
    // documentation: a stopped child names its signal and is still alive; a continued
    // child is `continued`; `StillAlive` (from WNOHANG) is `still running`; the rest are
    // ptrace events.
    // BEGIN SOLUTION
    match status {
        WaitStatus::Stopped(_, signal) => format!(
            "stopped by {} (signal {}, still alive)",
            signal.as_str(),
            signal as i32
        ),
        WaitStatus::Continued(_) => "continued".to_string(),
        WaitStatus::StillAlive => "still running".to_string(),
        other => format!("traced: {other:?}"),
    }
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::Pid;

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

    #[test]
    fn describe_wait_reads_ends_like_describe() {
        let pid = Pid::from_raw(42);
        assert_eq!(
            describe_wait(WaitStatus::Exited(pid, 3)),
            "exited with code 3"
        );
        assert_eq!(
            describe_wait(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            "killed by SIGKILL (signal 9, $? = 137)"
        );
        assert_eq!(
            describe_wait(WaitStatus::Signaled(pid, Signal::SIGABRT, true)),
            "killed by SIGABRT (signal 6, core dumped, $? = 134)"
        );
    }

    #[test]
    fn exercise_01_2_stopped_and_continued_children_are_alive() {
        let pid = Pid::from_raw(42);
        assert_eq!(
            describe_wait(WaitStatus::Stopped(pid, Signal::SIGTSTP)),
            "stopped by SIGTSTP (signal 20, still alive)"
        );
        assert_eq!(describe_wait(WaitStatus::Continued(pid)), "continued");
        assert_eq!(describe_wait(WaitStatus::StillAlive), "still running");
    }
}
