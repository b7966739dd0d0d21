//! Chapter 1 demo: a child gets a *copy* of its parent's working directory and
//! environment, and of those open files that are not marked close-on-exec. Changing them
//! changes this process and the children it starts from then on, never the parent that
//! started it: that is why a program cannot `cd` its shell.
//!
//! ```sh
//! env -i -C / GREETING=hello sh -c '"$0"; echo "shell:   cwd=$(pwd) GREETING=$GREETING"' "$PWD/target/debug/inherit"
//! ```

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;

use clap::Parser;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};

/// Change this process's cwd and GREETING, open two files, then start a child that
/// reports what it got.
#[derive(Parser)]
struct Args {
    /// The directory to change to.
    #[arg(long, default_value = "/tmp")]
    cd: String,
    /// Internal: run as the child and only report (used by the demo itself).
    #[arg(long, hide = true)]
    report: bool,
    /// Internal: the descriptors the child reports on (used by the demo itself).
    #[arg(long, hide = true, value_delimiter = ',')]
    fds: Vec<i32>,
}

fn report(who: &str) -> String {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("({e})"));
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "(unset)".to_string());
    format!("{who} cwd={cwd} GREETING={greeting}")
}

/// What descriptor `fd` refers to, or `closed`.
fn fd_target(fd: i32) -> String {
    match std::fs::read_link(format!("/proc/self/fd/{fd}")) {
        Ok(target) => format!("fd {fd} -> {}", target.display()),
        Err(_) => format!("fd {fd} closed"),
    }
}

/// GREETING as `/proc/self/environ` shows it: the block the kernel copied in at exec.
fn initial_greeting() -> String {
    let environ = std::fs::read("/proc/self/environ").unwrap_or_default();
    environ
        .split(|&b| b == 0)
        .find(|var| var.starts_with(b"GREETING="))
        .map(|var| String::from_utf8_lossy(var).into_owned())
        .unwrap_or_else(|| "no GREETING".to_string())
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("inherit: {what}: {e}");
    std::process::exit(1);
}

// ANCHOR: main
fn main() {
    let args = Args::parse();
    if args.report {
        println!("{}", report("child:  "));
        let fds: Vec<String> = args.fds.iter().map(|&fd| fd_target(fd)).collect();
        println!("child:   {}", fds.join(", "));
        return;
    }
    println!("{}", report("inherit:"));
    if let Err(e) = std::env::set_current_dir(&args.cd) {
        fail(&format!("cannot change to {:?}", args.cd), e);
    }
    // SAFETY: no other thread exists yet that could read the environment meanwhile.
    unsafe { std::env::set_var("GREETING", "changed") };
    println!("{}", report("inherit:"));
    // setenv keeps the new value in the C library's memory; the kernel's copy stays.
    println!(
        "inherit: /proc/self/environ still has {}",
        initial_greeting()
    );

    // std opens every file with O_CLOEXEC: exec closes it in the child. Clearing the
    // flag (FD_CLOEXEC) on the second file lets it cross exec.
    let private = File::open("/etc/passwd").unwrap_or_else(|e| fail("open", e));
    let shared = File::open("/etc/passwd").unwrap_or_else(|e| fail("open", e));
    fcntl(&shared, FcntlArg::F_SETFD(FdFlag::empty())).unwrap_or_else(|e| fail("fcntl", e));
    let fds = [private.as_raw_fd(), shared.as_raw_fd()];
    println!(
        "inherit: {} (close-on-exec), {} (flag cleared)",
        fd_target(fds[0]),
        fd_target(fds[1])
    );

    // The child starts with copies of our cwd, environment and inheritable descriptors.
    let me = std::env::current_exe().unwrap_or_else(|e| fail("our own executable", e));
    let status = Command::new(me)
        .arg("--report")
        .arg(format!("--fds={},{}", fds[0], fds[1]))
        .status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        fail("the child failed", format!("{status:?}"));
    }
}
// ANCHOR_END: main
