//! `cargo xtask drill FAMILY --seed N [--size S] [--answer FILE] [--reveal] [--json]`: the
//! seeded drills of Appendix D (the `drills` crate).
//!
//! - no flag: the scenario, the question and the answer format (`Drill::render`), and
//!   nothing is run; the same seed prints the same bytes on every machine.
//! - `--reveal`: runs the scenario for real (the `drill-exec` binary, built here with
//!   cargo) and prints which of the outcomes the model allows Linux produced.
//! - `--answer FILE`: grades a student's answer against every allowed outcome, with a diff
//!   against the closest one when it is wrong; it runs the scenario too, to check the model.
//! - `--json`: one JSON document (scenario, allowed outcomes, observed outcome, verdict) for
//!   grading scripts; it always runs the scenario, except for a malformed answer: then the
//!   document has the scenario, the allowed outcomes and the error, and nothing is run.
//!
//! An answer file must be a regular file of at most 64 KiB in UTF-8; anything else is
//! malformed.
//!
//! Exit codes: 0 shown, revealed or correct; 1 a wrong answer; 2 a malformed answer file or
//! an unknown family; 3 the drill itself failed (build, run, or a run the model does not
//! allow, which is a bug in the model or the executor).

use std::path::{Path, PathBuf};
use std::time::Duration;

use drills::Drill;
use drills::check::{reveal_text, verdict, verdict_text};
use serde_json::{Value, json};

pub const WRONG: u8 = 1;
pub const MALFORMED: u8 = 2;
pub const BROKEN: u8 = 3;

#[derive(Debug, Clone)]
pub struct Options {
    pub family: String,
    pub seed: u64,
    pub size: u32,
    pub answer: Option<PathBuf>,
    pub reveal: bool,
    pub json: bool,
}

/// What the command prints and its exit code.
#[derive(Debug, Default)]
pub struct Report {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Report {
    fn failed(code: u8, message: String) -> Report {
        Report {
            stdout: String::new(),
            stderr: format!("xtask: {message}\n"),
            code,
        }
    }
}

/// Runs one drill command. The family dispatch is a plain `match`, one arm per family.
pub fn drill(root: &Path, options: &Options) -> Report {
    match options.family.as_str() {
        "fork" => run_family::<drills::fork::Fork>(root, options),
        "signals" => run_family::<drills::signals::Signals>(root, options),
        other => Report::failed(
            MALFORMED,
            format!("unknown drill family `{other}` (fork, signals)"),
        ),
    }
}

/// Builds `drill-exec` and returns where cargo put it (cargo says so in its JSON messages,
/// which honours `CARGO_TARGET_DIR` and `build.target-dir`).
fn build_executor(root: &Path) -> Result<PathBuf, String> {
    let mut cmd = labkit::demo(std::env::var("CARGO").unwrap_or("cargo".into()));
    cmd.current_dir(root).args([
        "build",
        "-q",
        "-p",
        "drills",
        "--bin",
        "drill-exec",
        "--message-format=json-render-diagnostics",
    ]);
    let run = labkit::run_for(&mut cmd, Duration::from_secs(900))
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "cargo build -p drills --bin drill-exec failed ({}):\n{}",
            labkit::run::outcome(run.status),
            run.stderr
        ));
    }
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "drill-exec")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built drill-exec but did not say where".to_string())
}

/// Runs the scenario for real: `drill-exec FAMILY --seed N --size S`.
fn observe<D: Drill>(root: &Path, seed: u64, size: u32) -> Result<D::Outcome, String> {
    let exe = build_executor(root)?;
    let mut cmd = labkit::demo(&exe);
    cmd.args([
        D::NAME,
        "--seed",
        &seed.to_string(),
        "--size",
        &size.to_string(),
    ]);
    let run = labkit::run(&mut cmd).map_err(|e| format!("cannot run drill-exec: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "drill-exec failed ({}): {}",
            labkit::run::outcome(run.status),
            run.stderr.trim()
        ));
    }
    let report: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("drill-exec printed no JSON ({e}): {}", run.stdout))?;
    serde_json::from_value(report["outcome"].clone())
        .map_err(|e| format!("drill-exec's outcome does not parse: {e}"))
}

/// The largest answer file read: a real answer is a few hundred bytes.
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Reads an answer file: a regular file of at most [`MAX_ANSWER_BYTES`], in UTF-8. The file is
/// opened with `O_NONBLOCK`, so that opening a FIFO nobody writes to returns at once instead
/// of blocking, and is then checked to be a regular file (on the open fd, so the check and the
/// read are about the same file); on a regular file `O_NONBLOCK` changes nothing.
fn read_answer(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file (an answer is a text file of at most {} KiB)",
            MAX_ANSWER_BYTES / 1024
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_ANSWER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_ANSWER_BYTES {
        return Err(format!(
            "{shown}: larger than {} KiB: an answer is a few lines of text",
            MAX_ANSWER_BYTES / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8 text"))
}

fn run_family<D: Drill>(root: &Path, options: &Options) -> Report {
    let Options {
        seed, size, json, ..
    } = *options;
    let scenario = D::generate(seed, size);

    // A malformed answer is the student's to fix: say so before running anything.
    let answer = match &options.answer {
        None => None,
        Some(path) => {
            let parsed = read_answer(path).and_then(|text| {
                D::parse_answer(&scenario, &text).map_err(|e| format!("{}: {e}", path.display()))
            });
            match parsed {
                Ok(answer) => Some(answer),
                Err(e) if json => {
                    let mut report = Report::failed(MALFORMED, e.clone());
                    report.stdout = format!(
                        "{:#}\n",
                        json!({
                            "family": D::NAME, "seed": seed, "size": size,
                            "scenario": scenario,
                            "allowed": D::allowed(&scenario),
                            "verdict": { "correct": false, "malformed": e },
                        })
                    );
                    return report;
                }
                Err(e) => return Report::failed(MALFORMED, e),
            }
        }
    };
    if answer.is_none() && !options.reveal && !json {
        return Report {
            stdout: D::render(&scenario),
            ..Report::default()
        };
    }

    let allowed = D::allowed(&scenario);
    let observed = match observe::<D>(root, seed, size) {
        Ok(observed) => observed,
        Err(e) => return Report::failed(BROKEN, e),
    };
    let reveal = reveal_text::<D>(&allowed, &observed);
    let verdict = answer.as_ref().map(|a| verdict::<D>(&allowed, a));
    let mut report = Report::default();
    if let Err(mismatch) = &reveal {
        report.stderr = format!("xtask: {mismatch}");
        report.code = BROKEN;
    } else if verdict.as_ref().is_some_and(|v| !v.correct) {
        report.code = WRONG;
    }

    if json {
        let document = json!({
            "family": D::NAME,
            "seed": seed,
            "size": size,
            "scenario": scenario,
            "allowed": allowed,
            "observed": observed,
            "observed_allowed": reveal.is_ok(),
            "observed_index": allowed.iter().position(|o| *o == observed).map(|k| k + 1),
            "answer": answer,
            "verdict": verdict.as_ref().map(|v| json!({
                "correct": v.correct,
                "closest": v.closest + 1,
                "changed": v.changed,
                "diff": v.diff.iter().map(|l| format!("{} {}", l.tag, l.text)).collect::<Vec<_>>(),
            })),
        });
        report.stdout = format!("{document:#}\n");
        return report;
    }
    if let Some(v) = &verdict {
        report.stdout.push_str(&verdict_text(v, allowed.len()));
    }
    if options.reveal
        && let Ok(text) = &reveal
    {
        if !report.stdout.is_empty() {
            report.stdout.push('\n');
        }
        report.stdout.push_str(text);
    }
    report
}
