//! Chapter 8 demo: `labd`, a daemon in both styles.
//!
//! `start` forks a classic daemon off (double fork, pid file under a lock, readiness over a
//! pipe); `status`, `stop` and `logs` manage it. `supervise` is the new style: it runs a
//! command in the foreground, waits for its `READY=1` and restarts it when it crashes;
//! `run` is the foreground body that a supervisor starts.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lab_08::daemonize::{self, Started};
use lab_08::supervise::{self, Policy};
use lab_08::{StateDir, control};

/// A small daemon, classic (start/status/stop/logs) and supervised (supervise/run).
#[derive(Parser)]
#[command(name = "labd")]
struct Args {
    /// The directory for the pid file, the log and the notify socket (`start` and
    /// `supervise` create it, with mode 0700).
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the daemon in the background (fork, setsid, fork); print `started pid=N`.
    Start {
        /// Time between two `pid=… ppid=…` lines in the log.
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        interval_ms: u64,
        /// Ignore SIGTERM (to see `stop` fall back to SIGKILL).
        #[arg(long)]
        ignore_term: bool,
    },
    /// Exit 0 if the daemon runs, 1 if it died and left its pid file, 3 if it is not
    /// running, 4 if the pid file is locked but names no process that holds it.
    Status,
    /// Send SIGTERM, wait until the daemon is gone; SIGKILL after the time-out.
    Stop {
        #[arg(long, default_value_t = 5000, value_name = "MS")]
        stop_timeout_ms: u64,
    },
    /// Print the daemon's log.
    Logs,
    /// Run in the foreground: the daemon's body, logging to stdout.
    Run {
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        interval_ms: u64,
        /// Send READY=1 to $NOTIFY_SOCKET once set up (systemd's notify protocol).
        #[arg(long)]
        notify: bool,
    },
    /// Run CMD in the foreground, wait for its READY=1, restart it with back-off on a crash.
    Supervise {
        /// Give up after this many restarts within the window.
        #[arg(long, default_value_t = 5)]
        max_restarts: u32,
        /// The window for --max-restarts.
        #[arg(long, default_value_t = 60_000, value_name = "MS")]
        window_ms: u64,
        /// The first restart delay; each further restart doubles it.
        #[arg(long, default_value_t = 100, value_name = "MS")]
        backoff_ms: u64,
        /// The restart delay never grows beyond this.
        #[arg(long, default_value_t = 30_000, value_name = "MS")]
        max_backoff_ms: u64,
        /// The program to supervise and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<OsString>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("labd: {message}");
            ExitCode::from(1)
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn run(args: Args) -> Result<u8, String> {
    // Only `start` and `supervise` create the state dir.
    let creates = matches!(args.command, Cmd::Start { .. } | Cmd::Supervise { .. });
    let state = if creates {
        StateDir::open(&args.state_dir)
    } else {
        StateDir::find(&args.state_dir)
    }
    .map_err(|e| format!("state dir {}: {e}", args.state_dir.display()))?;
    let ms = Duration::from_millis;
    match args.command {
        Cmd::Start {
            interval_ms,
            ignore_term,
        } => {
            let opts = daemonize::Options {
                interval: ms(interval_ms.max(1)),
                ignore_term,
            };
            match daemonize::start(&state, &opts)? {
                Started::Started(pid) => say(&format!("started pid={pid}")),
                Started::AlreadyRunning(pid) => say(&format!("already running (pid {pid})")),
            }
            Ok(0)
        }
        Cmd::Status => {
            let answer = control::status(&state).map_err(|e| e.to_string())?;
            say(&answer.line);
            Ok(answer.code)
        }
        Cmd::Stop { stop_timeout_ms } => {
            let answers = control::stop(&state, ms(stop_timeout_ms)).map_err(|e| e.to_string())?;
            for a in &answers {
                say(&a.line);
            }
            Ok(answers.last().map_or(0, |a| a.code))
        }
        Cmd::Logs => {
            print!("{}", control::logs(&state).map_err(|e| e.to_string())?);
            Ok(0)
        }
        Cmd::Run {
            interval_ms,
            notify,
        } => supervise::run_foreground(ms(interval_ms.max(1)), notify).map_err(|e| e.to_string()),
        Cmd::Supervise {
            max_restarts,
            window_ms,
            backoff_ms,
            max_backoff_ms,
            command,
        } => {
            let policy = Policy {
                max_restarts,
                window: ms(window_ms),
                backoff: ms(backoff_ms),
                max_backoff: ms(max_backoff_ms),
            };
            supervise::supervise(&state, &policy, &command).map_err(|e| e.to_string())
        }
    }
}
