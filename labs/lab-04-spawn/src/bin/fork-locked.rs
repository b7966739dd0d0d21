//! Chapter 4 demo: why `fork` in a multithreaded program is dangerous. A second thread
//! holds a mutex when the main thread forks. The child gets a copy of memory, the locked
//! mutex included, but only one thread: the one that called `fork`. Nobody is left in the
//! child to unlock the mutex, so the child's `lock()` waits forever. The parent waits for
//! the child with a time-out (on a pipe that the child's exit would close), and then kills
//! it.
//!
//! `./target/debug/fork-locked --timeout-ms 500`

use std::io::Write;
use std::os::fd::AsFd;
use std::sync::{Mutex, mpsc};
use std::thread;

use clap::Parser;
use lab_04::cli;
use lab_04::forking::underscore_exit;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe, read};

static LOCK: Mutex<u64> = Mutex::new(0);

/// Fork while another thread holds a lock, and watch the child get stuck.
#[derive(Parser)]
struct Args {
    /// How long the parent waits for the child before killing it.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=60000))]
    timeout_ms: u16,
}

/// Write a message with one `write(2)`: async-signal-safe, no allocation, no lock. Only
/// such calls are safe in the child of a multithreaded process before exec or `_exit`.
fn say(msg: &[u8]) {
    let _ = nix::unistd::write(std::io::stdout(), msg);
}

// ANCHOR: main
fn main() {
    let args: Args = cli::parse("fork-locked");
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::Builder::new()
        .name("holder".into())
        .spawn(move || {
            let _guard = LOCK.lock().expect("lock");
            locked_tx.send(()).expect("send");
            let _ = release_rx.recv(); // hold the lock until main says so
        })
        .unwrap_or_else(|e| cli::fail("fork-locked", e));
    locked_rx.recv().expect("holder locked");
    let threads = lab_04::forking::threads_of(std::process::id());
    println!("parent: thread 'holder' holds the mutex; the process has {threads} threads; forking");
    std::io::stdout().flush().expect("flush");
    let (ready_r, ready_w) = pipe().unwrap_or_else(|e| cli::fail("fork-locked", e));
    // SAFETY: the child calls only async-signal-safe functions (write, close, _exit) and
    // the mutex's lock, which is the point of the demo.
    match unsafe { fork() } {
        Err(e) => cli::fail("fork-locked", format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(ready_r);
            if LOCK.try_lock().is_err() {
                say(b"child:  try_lock: the mutex is locked, and its owner was not copied\n");
            }
            say(b"child:  calling lock()\n");
            let _ = nix::unistd::write(&ready_w, b"r"); // tell the parent we got here
            let guard = LOCK.lock(); // nobody will ever unlock it in this process
            drop(guard);
            say(b"child:  got the lock (this line never appears)\n");
            underscore_exit(0)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(ready_w); // now only the child holds the write end
            let mut byte = [0u8; 1];
            let _ = read(&ready_r, &mut byte); // the child is about to call lock()
            let threads = lab_04::forking::threads_of(child.as_raw() as u32);
            println!("parent: the child has {threads} thread (only the one that called fork)");
            // The child's exit would close its end of the pipe: POLLHUP. Wait for that,
            // but no longer than the time-out.
            let mut fds = [PollFd::new(ready_r.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::from(args.timeout_ms);
            let ended = poll(&mut fds, timeout).unwrap_or_else(|e| cli::fail("fork-locked", e)) > 0;
            if !ended {
                println!(
                    "parent: child still stuck after {} ms, killed it",
                    args.timeout_ms
                );
                let _ = kill(child, Signal::SIGKILL);
            }
            let status = waitpid(child, None).unwrap_or_else(|e| cli::fail("fork-locked", e));
            match status {
                WaitStatus::Signaled(_, sig, _) => {
                    println!("parent: waitpid: the child was killed by {sig}")
                }
                other => println!("parent: waitpid: {other:?}"),
            }
            release_tx.send(()).expect("release");
            holder.join().expect("holder");
            std::process::exit(if ended { 1 } else { 0 });
        }
    }
}
// ANCHOR_END: main
