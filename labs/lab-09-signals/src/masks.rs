//! Chapter 9: a process's signal dispositions and mask, as `/proc/PID/status` shows them.
//!
//! Four lines of `status` are bit masks, bit `n - 1` for signal `n`: `SigBlk` (blocked: a
//! signal sent now stays pending), `SigIgn` (ignored: thrown away on arrival), `SigCgt`
//! (caught: a handler runs) and `SigPnd` (pending for this thread). Each signal not in
//! `SigIgn` or `SigCgt` has its default action.

use std::io;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// The three masks of a process, decoded to signal names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masks {
    pub blocked: Vec<String>,
    pub ignored: Vec<String>,
    pub caught: Vec<String>,
}

impl Masks {
    /// Read them from `/proc/PID/status`.
    pub fn of(pid: u32) -> io::Result<Masks> {
        let status = labkit::proc::status(pid)?;
        let names = |field| status.signal_mask(field).map(labkit::proc::signal_names);
        Ok(Masks {
            blocked: names("SigBlk")?,
            ignored: names("SigIgn")?,
            caught: names("SigCgt")?,
        })
    }

    /// Three lines, `SigBlk: SIGUSR1`, with `-` for an empty mask.
    pub fn lines(&self) -> Vec<String> {
        let show = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(" ")
            }
        };
        vec![
            format!("SigBlk: {}", show(&self.blocked)),
            format!("SigIgn: {}", show(&self.ignored)),
            format!("SigCgt: {}", show(&self.caught)),
        ]
    }
}

extern "C" fn do_nothing(_: libc::c_int) {}

// ANCHOR: install
/// Block, ignore and catch the given signals in this (single-threaded) process.
pub fn install(block: &[Signal], ignore: &[Signal], catch: &[Signal]) -> nix::Result<()> {
    let mut set = SigSet::empty();
    for &s in block {
        set.add(s);
    }
    set.thread_block()?;
    let ignored = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    let handled = SigAction::new(
        SigHandler::Handler(do_nothing),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for &s in ignore {
        // SAFETY: SIG_IGN is no handler at all.
        unsafe { sigaction(s, &ignored) }?;
    }
    for &s in catch {
        // SAFETY: the handler does nothing, which is async-signal-safe.
        unsafe { sigaction(s, &handled) }?;
    }
    Ok(())
}
// ANCHOR_END: install
