//! `cargo xtask mutate-snapshots [--lab NN]`: proves that every reviewed snapshot line is
//! really checked by a test.
//!
//! A snapshot is a claim the book shows as expected output; a line of it that no test
//! compares could say anything. So, for each body line of each lab snapshot, alone: prefix
//! it with `MUTATED `, run the test that owns the snapshot with `CI=true`, expect it to
//! fail, and write the original back.
//!
//! It is fast because nothing is rebuilt and little is run: insta reads `.snap` files when
//! the test runs, so each lab's tests are built once; the owning test binary (named by the
//! `source:` line of insta's header) is run directly, as `cargo test` would run it (in the
//! lab's directory, with `CARGO_MANIFEST_DIR` and the workspace root set), and only the
//! `#[test]` function that names the snapshot when there is exactly one. One run without
//! any change must pass first, and must run at least one test.
//!
//! The original is written back when the [`Mutation`] guard drops (also on a panic), and
//! on SIGINT (Ctrl-C), SIGTERM or SIGHUP a thread writes it back and kills the running
//! test's process group before the task exits.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use book_tests::layout::{Lab, SnapshotHeader, select_labs};
use labkit::Finished;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::runner::{cargo_in, strict, succeeded, tail, warn_missing_tools};

/// What the mutations found.
#[derive(Debug, Default)]
pub struct Report {
    /// Lines changed, one at a time.
    pub lines: usize,
    /// Changes a test noticed (its run failed).
    pub caught: usize,
    /// `file:line` of each change no test noticed.
    pub survivors: Vec<String>,
    /// `file:line` of each change whose test run hit the time-out.
    pub timed_out: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "snapshot mutations: {} lines changed one at a time, {} caught ({:.0?})",
            self.lines, self.caught, self.elapsed
        )
    }

    pub fn is_clean(&self) -> bool {
        self.survivors.is_empty() && self.timed_out.is_empty()
    }

    /// One line per defect, for stderr.
    pub fn defects(&self) -> String {
        let mut out = String::new();
        for place in &self.survivors {
            out += &format!("{place}: no test noticed a change of this line\n");
        }
        for place in &self.timed_out {
            out += &format!("{place}: the test run timed out with this line changed\n");
        }
        out
    }
}

/// The snapshot being mutated and its original bytes. The guard's drop and the signal
/// thread both restore from here, under the lock, so exactly one of them writes.
static MUTATED: Mutex<Option<(PathBuf, Vec<u8>)>> = Mutex::new(None);

fn mutated_slot() -> MutexGuard<'static, Option<(PathBuf, Vec<u8>)>> {
    MUTATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn restore(slot: &mut Option<(PathBuf, Vec<u8>)>) {
    if let Some((path, original)) = slot.take()
        && let Err(e) = fs::write(&path, original)
    {
        eprintln!(
            "mutate-snapshots: could not restore {}: {e} (git diff shows it)",
            path.display()
        );
    }
}

/// A changed snapshot file; dropping it writes the original back.
#[derive(Debug)]
pub struct Mutation(());

impl Mutation {
    /// Write `changed` to `path`, remembering `original` for the way back.
    pub fn apply(path: &Path, original: &[u8], changed: &[u8]) -> io::Result<Mutation> {
        let mut slot = mutated_slot();
        restore(&mut slot);
        *slot = Some((path.to_path_buf(), original.to_vec()));
        if let Err(e) = fs::write(path, changed) {
            restore(&mut slot);
            return Err(e);
        }
        Ok(Mutation(()))
    }
}

impl Drop for Mutation {
    fn drop(&mut self) {
        restore(&mut mutated_slot());
    }
}

/// `text` with `MUTATED ` in front of its 1-based line `line`; every other byte kept.
pub fn mutate_line(text: &str, line: usize) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                format!("MUTATED {l}")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The write end of the pipe the signal handler writes the signal's number to.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: nix::libc::c_int) {
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe; the fd is the pipe's write end, which stays
    // open for the life of the process, and `byte` is a valid one-byte buffer.
    unsafe {
        nix::libc::write(
            SIGNAL_PIPE.load(Ordering::Relaxed),
            (&raw const byte).cast(),
            1,
        );
    }
}

/// On SIGINT, SIGTERM or SIGHUP: restore the snapshot, kill the running test's process
/// group (the runner puts it in a group of its own, so the terminal's Ctrl-C does not
/// reach it) and exit with 128 + the signal's number.
///
/// The handler only writes the signal's number to a pipe (the self-pipe trick); a thread
/// reads it and does the work. The signals are caught, not blocked: a blocked signal
/// stays blocked in the children (std does not clear the mask before exec), and the labs'
/// demos must receive the SIGTERMs their tests send. A caught signal is reset to its
/// default action in an exec'd child.
fn restore_on_signals() -> Result<(), String> {
    let (mut reader, writer) = io::pipe().map_err(|e| format!("creating a pipe: {e}"))?;
    SIGNAL_PIPE.store(writer.into_raw_fd(), Ordering::Relaxed);
    std::thread::Builder::new()
        .name("restore-on-signal".into())
        .spawn(move || {
            let mut byte = [0u8];
            if reader.read_exact(&mut byte).is_err() {
                return;
            }
            // Holding the lock until exit: the main thread cannot start another mutation.
            let mut slot = mutated_slot();
            restore(&mut slot);
            for pid in labkit::proc::children(std::process::id()).unwrap_or_default() {
                let _ = labkit::group::signal_group(pid, Signal::SIGKILL);
            }
            let name = Signal::try_from(i32::from(byte[0]))
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {}", byte[0]));
            eprintln!("mutate-snapshots: {name} received: snapshot restored, stopped");
            std::process::exit(128 + i32::from(byte[0]));
        })
        .map_err(|e| format!("starting the signal thread: {e}"))?;
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only calls write(2), which is async-signal-safe.
        unsafe { sigaction(signal, &action) }.map_err(|e| format!("catching {signal}: {e}"))?;
    }
    Ok(())
}

/// The test executables of one lab, built once: integration tests by target name, and
/// every test executable (for a snapshot whose source is not an integration test).
#[derive(Debug, Default)]
struct Executables {
    by_test: BTreeMap<String, PathBuf>,
    all: Vec<PathBuf>,
}

fn build(root: &Path, lab: &Lab) -> Result<Executables, String> {
    let package = lab.package();
    let run = cargo_in(
        root,
        None,
        &[
            "test",
            "-p",
            &package,
            "--no-run",
            "--message-format=json-render-diagnostics",
        ],
        Duration::from_secs(900),
    )
    .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !succeeded(&run) {
        return Err(format!(
            "{package}: its tests do not build:\n{}",
            tail(&run, 30)
        ));
    }
    let mut found = Executables::default();
    for line in run.stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(exe), Some(true)) =
            (msg["executable"].as_str(), msg["profile"]["test"].as_bool())
        else {
            continue;
        };
        let exe = PathBuf::from(exe);
        let is_test = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "test"));
        if is_test && let Some(name) = msg["target"]["name"].as_str() {
            found.by_test.insert(name.to_string(), exe.clone());
        }
        found.all.push(exe);
    }
    Ok(found)
}

/// Run one test executable as `cargo test` would, with `CI=true` (insta fails on a
/// mismatch instead of writing `.snap.new`).
fn run_tests(root: &Path, lab: &Lab, run: &TestRun, timeout: Duration) -> Result<Finished, String> {
    let dir = root.join(&lab.dir);
    let mut cmd = Command::new(&run.exe);
    cmd.args(&run.filter)
        .current_dir(&dir)
        .env("CI", "true")
        .env("CARGO_MANIFEST_DIR", &dir)
        .env("INSTA_WORKSPACE_ROOT", root);
    labkit::run_for(strict(&mut cmd), timeout)
        .map_err(|e| format!("cannot run {}: {e}", run.exe.display()))
}

/// One test run: an executable, and a libtest name filter when the snapshot's test
/// function is known (a substring filter, so it runs at least that test).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TestRun {
    exe: PathBuf,
    filter: Option<String>,
}

/// One snapshot to mutate: its path (relative), its body's first line, and the test runs
/// that own it.
struct Plan {
    snapshot: PathBuf,
    body_start: usize,
    runs: Vec<TestRun>,
}

fn plan(root: &Path, lab: &Lab, exes: &Executables) -> Result<Vec<Plan>, String> {
    let mut plans = Vec::new();
    for snapshot in lab.snapshots(root) {
        let text = fs::read_to_string(root.join(&snapshot))
            .map_err(|e| format!("{}: {e}", snapshot.display()))?;
        let header = SnapshotHeader::parse(&text)
            .ok_or_else(|| format!("{}: no insta header", snapshot.display()))?;
        let source = header.source.as_deref();
        let owner = source
            .and_then(|s| lab.test_target(s))
            .and_then(|t| exes.by_test.get(&t));
        let runs = match owner {
            Some(exe) => {
                let name = snapshot.file_stem().unwrap_or_default().to_string_lossy();
                let filter = source
                    .and_then(|s| fs::read_to_string(root.join(s)).ok())
                    .and_then(|code| test_asserting(&code, &name));
                vec![TestRun {
                    exe: exe.clone(),
                    filter,
                }]
            }
            None => exes
                .all
                .iter()
                .map(|exe| TestRun {
                    exe: exe.clone(),
                    filter: None,
                })
                .collect(),
        };
        plans.push(Plan {
            snapshot,
            body_start: header.body_start,
            runs,
        });
    }
    Ok(plans)
}

/// The `#[test]` function of `code` that names the snapshot `"name"`, when exactly one
/// function does: the nearest `fn` above the name, with `#[test]` among the attribute
/// lines right above it. `None` (run the whole binary) in any other case.
fn test_asserting(code: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = code.lines().collect();
    let quoted = format!("\"{name}\"");
    let mut owners = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(&quoted))
        .map(|(at, _)| {
            let (fn_line, fn_name) = lines[..=at]
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, l)| fn_name(l).map(|n| (i, n)))?;
            let is_test = lines[..fn_line]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#[") || l.starts_with("///"))
                .any(|l| l == "#[test]");
            is_test.then_some(fn_name)
        });
    let first = owners.next()??;
    owners.all(|o| o.as_ref() == Some(&first)).then_some(first)
}

/// The name of the function a line declares (`fn x(`, `pub fn x(`, `async fn x(`).
fn fn_name(line: &str) -> Option<String> {
    let mut words = line
        .split_whitespace()
        .skip_while(|w| ["pub", "pub(crate)", "async", "unsafe", "const"].contains(w));
    if words.next()? != "fn" {
        return None;
    }
    let name: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

pub fn mutate_snapshots(
    root: &Path,
    only: Option<&str>,
    timeout: Duration,
) -> Result<Report, String> {
    let started = Instant::now();
    restore_on_signals()?;
    let wanted = select_labs(root, only)?;
    warn_missing_tools("mutate-snapshots");
    let mut report = Report::default();
    for lab in &wanted {
        if lab.snapshots(root).is_empty() {
            continue;
        }
        eprintln!("mutate-snapshots: {}", lab.package());
        let exes = build(root, lab)?;
        let mut plans = plan(root, lab, &exes)?;

        // Without any change, every owning test run passes (otherwise a failure would
        // prove nothing about the change) and runs at least one test (otherwise the
        // filter missed: run the whole binary).
        let mut runs: Vec<TestRun> = plans.iter().flat_map(|p| p.runs.clone()).collect();
        runs.sort();
        runs.dedup();
        let mut unfiltered = Vec::new();
        for run in runs {
            let finished = run_tests(root, lab, &run, timeout)?;
            if !succeeded(&finished) {
                return Err(format!(
                    "{}: {} fails before any change, so a change proves nothing:\n{}",
                    lab.package(),
                    run.exe.file_name().unwrap_or_default().to_string_lossy(),
                    tail(&finished, 30)
                ));
            }
            if run.filter.is_some() && finished.stdout.contains("\nrunning 0 tests") {
                unfiltered.push(run);
            }
        }
        for plan in &mut plans {
            for run in &mut plan.runs {
                if unfiltered.contains(run) {
                    run.filter = None;
                }
            }
        }

        for plan in &plans {
            let path = root.join(&plan.snapshot);
            let original =
                fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let last = original.split_inclusive('\n').count();
            for line in plan.body_start..=last {
                report.lines += 1;
                let place = format!("{}:{line}", plan.snapshot.display());
                let changed = mutate_line(&original, line);
                let _mutation = Mutation::apply(&path, original.as_bytes(), changed.as_bytes())
                    .map_err(|e| format!("{place}: {e}"))?;
                let mut caught = false;
                let mut hung = false;
                for run in &plan.runs {
                    let finished = run_tests(root, lab, run, timeout)?;
                    hung |= finished.timed_out;
                    if !succeeded(&finished) {
                        caught = true;
                        break;
                    }
                }
                if hung {
                    report.timed_out.push(place);
                } else if caught {
                    report.caught += 1;
                } else {
                    report.survivors.push(place);
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_changes_and_every_other_byte_stays() {
        let text = "---\nsource: t.rs\n---\n42\n\nlast";
        assert_eq!(
            mutate_line(text, 4),
            "---\nsource: t.rs\n---\nMUTATED 42\n\nlast"
        );
        assert_eq!(
            mutate_line(text, 5),
            "---\nsource: t.rs\n---\n42\nMUTATED \nlast"
        );
        assert_eq!(
            mutate_line(text, 6),
            "---\nsource: t.rs\n---\n42\n\nMUTATED last"
        );
    }

    #[test]
    fn the_test_that_names_a_snapshot_is_found() {
        let code = "fn helper() -> String {\n    \"x\".into()\n}\n\n\
                    #[test]\n#[cfg(unix)]\nfn shows_the_card() {\n    \
                    insta::assert_snapshot!(\n        \"card\",\n        helper()\n    );\n}\n\n\
                    fn not_a_test() {\n    check(\"orphan\");\n}\n\n\
                    #[test]\nfn a() {\n    check(\"twice\");\n}\n#[test]\nfn b() {\n    check(\"twice\");\n}\n";
        assert_eq!(test_asserting(code, "card"), Some("shows_the_card".into()));
        assert_eq!(test_asserting(code, "orphan"), None, "not a #[test]");
        assert_eq!(test_asserting(code, "twice"), None, "two tests name it");
        assert_eq!(test_asserting(code, "missing"), None);
        assert_eq!(fn_name("pub async fn serve(x: u8) {"), Some("serve".into()));
        assert_eq!(fn_name("let f = 1;"), None);
    }

    #[test]
    fn the_guard_restores_the_file_also_on_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.snap");
        fs::write(&path, "original\n").unwrap();
        let caught = std::panic::catch_unwind(|| {
            let _m = Mutation::apply(&path, b"original\n", b"MUTATED original\n").unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), "MUTATED original\n");
            panic!("a test of the guard");
        });
        assert!(caught.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "original\n");
    }

    #[test]
    fn a_blocked_signal_would_stay_blocked_in_children() {
        // Why the signals are caught and not blocked: std does not clear the signal mask
        // of a child before exec, so a blocked SIGTERM would be blocked in every demo.
        std::thread::spawn(|| {
            let mut set = SigSet::empty();
            set.add(Signal::SIGINT);
            set.thread_block().unwrap();
            let out = Command::new("grep")
                .args(["^SigBlk:", "/proc/self/status"])
                .output()
                .unwrap();
            let line = String::from_utf8_lossy(&out.stdout).into_owned();
            assert_eq!(
                line.trim(),
                "SigBlk:\t0000000000000002",
                "SIGINT is bit 2: {line}"
            );
        })
        .join()
        .unwrap();
    }
}
