//! Chapter 9: two safe ways for a program to react to SIGTERM.
//!
//! A signal handler interrupts the program anywhere, even inside `malloc` or while a lock
//! is held, so it may only make async-signal-safe calls (signal-safety(7)): no allocation,
//! no `println!`, no mutex. Both patterns here move the real work out of the handler:
//!
//! - the self-pipe: a tiny handler writes one byte into a pipe, and the program reads the
//!   pipe where it is safe to do anything;
//! - `signalfd`: no handler at all. The signals are blocked, so the kernel keeps them
//!   pending, and the program reads them from a file descriptor, sender included.

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// The write end of the self-pipe, for the handler (a handler gets no other argument).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

// ANCHOR: self_pipe
extern "C" fn on_signal(signal: libc::c_int) {
    // Async-signal-safe only: one write(2) of one byte, and errno put back as it was,
    // because the code we interrupted may be about to read it.
    let saved = Errno::last_raw();
    let byte = signal as u8;
    // SAFETY: writes one byte from a live local; a full pipe just drops it (O_NONBLOCK).
    unsafe { libc::write(WAKE_FD.load(Ordering::Relaxed), (&raw const byte).cast(), 1) };
    Errno::set_raw(saved);
}

/// Install `on_signal` for `signals`; the returned pipe end becomes readable when one
/// arrives.
pub fn install_self_pipe(signals: &[Signal]) -> io::Result<io::PipeReader> {
    let (reader, writer) = io::pipe()?; // both ends close-on-exec
    fcntl(&writer, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?; // a handler must never block
    WAKE_FD.store(writer.into_raw_fd(), Ordering::Relaxed); // open for the whole run
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART, // interrupted read(2)s and friends restart instead of EINTR
        SigSet::empty(),
    );
    for &signal in signals {
        // SAFETY: the handler only makes async-signal-safe calls.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(reader)
}

/// Block until a signal has been written into the self-pipe; return it.
pub fn wait_self_pipe(reader: &mut io::PipeReader) -> io::Result<Signal> {
    let mut byte = [0u8; 1];
    reader.read_exact(&mut byte)?;
    Signal::try_from(i32::from(byte[0])).map_err(io::Error::from)
}
// ANCHOR_END: self_pipe

// ANCHOR: signalfd
/// Block `signals` and open a signalfd for them. Call it before starting any thread: the
/// mask is per thread, and a thread that does not block a signal would take it instead.
pub fn open_signalfd(signals: &[Signal]) -> io::Result<SignalFd> {
    let mut set = SigSet::empty();
    for &signal in signals {
        set.add(signal);
    }
    set.thread_block()?; // now they stay pending instead of killing us
    Ok(SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC)?)
}

/// Block until one of the signals is pending; take it. Returns the signal and the pid of
/// the process that sent it (the kernel records the sender of every signal).
pub fn wait_signalfd(fd: &SignalFd) -> io::Result<(Signal, u32)> {
    loop {
        if let Some(info) = fd.read_signal()? {
            let signal = Signal::try_from(info.ssi_signo as i32)?;
            return Ok((signal, info.ssi_pid));
        }
    }
}
// ANCHOR_END: signalfd

// ANCHOR: unblock
/// A blocked mask survives fork and exec, so every program started by a process that reads
/// its signals from a signalfd would start with SIGTERM and SIGINT blocked: deaf to
/// `kill PID` and Ctrl-C. Give `cmd`'s child an empty mask just before its exec.
pub fn unblock_in_child(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: sigprocmask is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let empty = SigSet::empty();
            nix::sys::signal::sigprocmask(
                nix::sys::signal::SigmaskHow::SIG_SETMASK,
                Some(&empty),
                None,
            )?;
            Ok(())
        })
    }
}
// ANCHOR_END: unblock

/// The raw descriptor number of a signalfd, for messages.
pub fn fd_number(fd: &SignalFd) -> i32 {
    fd.as_fd().as_raw_fd()
}
