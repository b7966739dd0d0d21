//! Chapter 4 demo: Node's `exec`, done carefully. Runs a command line with `/bin/sh -c`,
//! collects its output under `--max-buffer`, and over the limit kills the shell's whole
//! process group. Afterwards it looks for anything left of that group in `/proc`.
//!
//! `./target/debug/exec-shell --max-buffer 65536 'sleep 31.4159 & yes | head -c 2000000'`

use clap::Parser;
use lab_04::cli;
use lab_04::exec::{ExecError, NODE_MAX_BUFFER, exec_shell};

/// Run a command line through /bin/sh -c with a limit on the output it may print.
#[derive(Parser)]
struct Args {
    /// The command line, as you would type it in a shell.
    cmdline: String,
    /// Most bytes accepted on stdout, and on stderr (Node's default: 1 MiB).
    #[arg(long, default_value_t = NODE_MAX_BUFFER)]
    max_buffer: usize,
}

fn main() {
    let args: Args = cli::parse("exec-shell");
    // Become the reaper of our descendants' orphans, so that exec_shell can reap every
    // process of the group it kills, not only the shell.
    nix::sys::prctl::set_child_subreaper(true)
        .unwrap_or_else(|e| cli::fail("exec-shell", format!("prctl: {e}")));
    match exec_shell(&args.cmdline, args.max_buffer) {
        Ok(out) => {
            print!("{}", String::from_utf8_lossy(&out.stdout));
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            println!(
                "exec-shell: {} bytes on stdout, {} on stderr; {}",
                out.stdout.len(),
                out.stderr.len(),
                describe(out.status)
            );
            std::process::exit(out.status.code().unwrap_or(1));
        }
        Err(e @ ExecError::MaxBuffer { .. }) => {
            let ExecError::MaxBuffer {
                pgid,
                shell,
                ref stdout,
                ..
            } = e
            else {
                unreachable!()
            };
            println!("exec-shell: error: {e}");
            println!(
                "exec-shell: kept the first {} bytes of stdout; the shell {}",
                stdout.len(),
                describe(shell)
            );
            let left = group_members(pgid);
            if left.is_empty() {
                println!("exec-shell: processes left in group {pgid}: none");
            } else {
                println!("exec-shell: processes left in group {pgid}: {left:?}");
            }
            std::process::exit(1);
        }
        Err(e) => cli::fail("exec-shell", e),
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(9)) => "was killed by SIGKILL".to_string(),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended: {status}"),
    }
}

/// Every process whose process group is `pgid`, as `pid comm`, from `/proc/*/stat`.
fn group_members(pgid: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (comm, rest) = stat.rsplit_once(')')?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // After the comm: state, ppid, pgrp.
            let name = comm.split_once('(')?.1;
            (fields.get(2)?.parse::<u32>().ok()? == pgid)
                .then(|| format!("{pid} {name} ({})", fields[0]))
        })
        .collect()
}
