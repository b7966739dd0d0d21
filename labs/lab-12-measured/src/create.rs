//! Chapter 12, creation cost: one worker created and destroyed, each way a Rust program
//! can do it, and beside each its *floor*: the same operation made with the bare system
//! calls (or the bare C library call), so that the experiment can say how much the Rust
//! layer adds. The experiment (`compare`) times batches of these calls.
//!
//! Every function here that forks must run in a single-threaded process: a test harness
//! never calls them (it runs the `compare` binary instead).

use std::ffi::{CString, c_void};
use std::mem::MaybeUninit;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use lab_04::forking::underscore_exit;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};

unsafe extern "C" {
    /// The C library's environment, handed to `execve` and `posix_spawn` unchanged, as
    /// std's `Command` does when the environment is not modified.
    static environ: *const *const libc::c_char;
}

/// The stack size std gives a spawned thread (2 MiB unless `RUST_MIN_STACK` says
/// otherwise); the floor asks for the same, so both reuse glibc's cached stacks alike.
pub const STD_THREAD_STACK: usize = 2 << 20;

// ANCHOR: thread
/// A std thread that does nothing, spawned and joined.
pub fn thread_std() {
    std::thread::spawn(|| {})
        .join()
        .expect("the thread does not panic");
}

extern "C" fn do_nothing(_: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

/// The floor: `pthread_create` + `pthread_join` with the same stack size, nothing else.
pub fn thread_floor() {
    pthread_with(do_nothing);
}

/// One thread made and joined with the pthread calls themselves, running `start`.
fn pthread_with(start: extern "C" fn(*mut c_void) -> *mut c_void) {
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut thread: libc::pthread_t = 0;
    // SAFETY: attr is initialised by pthread_attr_init before use and destroyed after;
    // `start` is a valid start routine that ignores its argument.
    unsafe {
        assert_eq!(libc::pthread_attr_init(attr.as_mut_ptr()), 0);
        assert_eq!(
            libc::pthread_attr_setstacksize(attr.as_mut_ptr(), STD_THREAD_STACK),
            0
        );
        let rc = libc::pthread_create(&mut thread, attr.as_ptr(), start, std::ptr::null_mut());
        assert_eq!(rc, 0, "pthread_create");
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        assert_eq!(libc::pthread_join(thread, std::ptr::null_mut()), 0);
    }
}
// ANCHOR_END: thread

// ANCHOR: signal_stack
/// What std's spawned thread does besides running its closure, on Linux: it maps a small
/// guarded alternate signal stack (so that the SIGSEGV of a stack overflow can be handled
/// and reported) and removes it before it ends. `strace -f` shows the same calls for a
/// std thread: sigaltstack, mmap, mprotect, sigaltstack, then sigaltstack and munmap.
extern "C" fn with_signal_stack(_: *mut c_void) -> *mut c_void {
    const PAGE: usize = 4096;
    const SIZE: usize = 2 * PAGE; // the usable part; one guard page below it
    // SAFETY: a fresh private mapping, a guard page made inaccessible, the rest handed to
    // the kernel as this thread's signal stack, then the stack disabled and unmapped.
    unsafe {
        let mut old = MaybeUninit::<libc::stack_t>::uninit();
        libc::sigaltstack(std::ptr::null(), old.as_mut_ptr());
        let map = libc::mmap(
            std::ptr::null_mut(),
            PAGE + SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        );
        assert_ne!(map, libc::MAP_FAILED, "mmap");
        libc::mprotect(map, PAGE, libc::PROT_NONE);
        let stack = libc::stack_t {
            ss_sp: map.cast::<u8>().add(PAGE).cast(),
            ss_flags: 0,
            ss_size: SIZE,
        };
        libc::sigaltstack(&stack, std::ptr::null_mut());
        let off = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: SIZE,
        };
        libc::sigaltstack(&off, std::ptr::null_mut());
        libc::munmap(map, PAGE + SIZE);
    }
    std::ptr::null_mut()
}

/// The thread floor plus std's per-thread signal stack: shows how much of std's extra
/// cost that set-up explains.
pub fn thread_floor_altstack() {
    pthread_with(with_signal_stack);
}
// ANCHOR_END: signal_stack

// ANCHOR: fork_exit
/// fork (nix, which calls glibc's `fork`), `_exit(0)` in the child, `waitpid`.
pub fn fork_exit_nix() {
    // SAFETY: the caller is single-threaded; the child only calls `_exit`.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => underscore_exit(0),
        ForkResult::Parent { child } => {
            waitpid(child, None).expect("waitpid");
        }
    }
}

/// The floor: the raw `clone(SIGCHLD)` system call, without glibc's `fork` wrapper (which
/// adds `CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID`, takes malloc's and stdio's locks
/// around the call and runs the `atfork` handlers), then `exit_group` and `wait4`.
pub fn fork_exit_floor() {
    // SAFETY: clone with no CLONE_VM gives the child a copy of our memory, on a copy of
    // our stack; the child makes one raw system call and never returns into Rust code.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: exit_group ends the child; nothing after it runs.
        unsafe { libc::syscall(libc::SYS_exit_group, 0) };
    }
    assert!(pid > 0, "clone failed");
    wait4(pid as libc::pid_t);
}
// ANCHOR_END: fork_exit

/// `wait4(pid)` by hand, asserting the child exited with 0.
fn wait4(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `status` is a valid int for the kernel to fill.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, std::ptr::null_mut()) };
    assert_eq!(rc, pid, "wait4");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
}

/// A program to start, prepared once: its path as a C string and a NULL-terminated argv.
#[derive(Debug)]
pub struct Program {
    pub path: std::path::PathBuf,
    c_path: CString,
    argv: [*const libc::c_char; 2],
}

impl Program {
    pub fn new(path: &Path) -> Program {
        use std::os::unix::ffi::OsStrExt;
        let c_path = CString::new(path.as_os_str().as_bytes()).expect("no NUL in a path");
        let argv = [c_path.as_ptr(), std::ptr::null()];
        Program {
            path: path.to_path_buf(),
            c_path,
            argv,
        }
    }
}

// ANCHOR: spawn
/// std's `Command` with nothing changed: std uses `posix_spawn` (a `CLONE_VM|CLONE_VFORK`
/// child that execs at once).
pub fn command_spawn(program: &Program) {
    let status = Command::new(&program.path).status().expect("spawn");
    assert!(status.success());
}

/// The floor: glibc's `posix_spawn` with no attributes and no file actions, then `wait4`.
pub fn posix_spawn_floor(program: &Program) {
    let mut pid: libc::pid_t = 0;
    // SAFETY: path and argv are NUL-terminated and live; environ is the C library's.
    let rc = unsafe {
        libc::posix_spawn(
            &mut pid,
            program.c_path.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            program.argv.as_ptr().cast(),
            environ.cast(),
        )
    };
    assert_eq!(rc, 0, "posix_spawn");
    wait4(pid);
}

/// `Command` with an empty `pre_exec` closure: std must run code in the child between
/// fork and exec, so it takes its fork + exec path instead of posix_spawn.
pub fn command_fork_exec(program: &Program) {
    let mut cmd = Command::new(&program.path);
    // SAFETY: the closure does nothing; it only makes std fork.
    unsafe { cmd.pre_exec(|| Ok(())) };
    let status = cmd.status().expect("spawn");
    assert!(status.success());
}

/// The floor: raw `clone(SIGCHLD)`, raw `execve` in the child, `wait4`.
pub fn fork_exec_floor(program: &Program) {
    // SAFETY: as in fork_exit_floor; the child makes only raw system calls on memory
    // prepared before the clone.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: path and argv are valid C strings prepared before the clone.
        unsafe {
            libc::syscall(
                libc::SYS_execve,
                program.c_path.as_ptr(),
                program.argv.as_ptr(),
                environ,
            );
            libc::syscall(libc::SYS_exit_group, 127);
        }
    }
    assert!(pid > 0, "clone failed");
    wait4(pid as libc::pid_t);
}
// ANCHOR_END: spawn

/// `name` found in the directories of `PATH`.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Threads only: the test harness must not fork.
    #[test]
    fn both_thread_ways_run_and_join() {
        thread_std();
        thread_floor();
        thread_floor_altstack();
    }
}
