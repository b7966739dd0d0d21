//! `cargo xtask fuzz [--runs N]`: run lab-05's cargo-fuzz target (`decode`, the channel's
//! two decoders against arbitrary bytes) for a fixed number of inputs.
//!
//! cargo-fuzz needs a nightly toolchain. Without one this prints "skipped: no nightly
//! toolchain" and succeeds. Without cargo-fuzz it says so and succeeds, except under CI
//! (`CI` set), where it installs it first, at a pinned version
//! (`cargo install --locked cargo-fuzz --version 0.13.2`). The
//! build, the corpus and any failing input live under `target/fuzz`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const FUZZ_DIR: &str = "labs/lab-05-ipc/fuzz";
const TARGET: &str = "decode";
/// The cargo-fuzz that CI installs when it is missing (the one this was checked with).
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// `rustup run nightly PROGRAM`, without the variables of the cargo that runs xtask
/// (they would pin the stable toolchain).
fn nightly(program: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", "nightly", program])
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .stdin(Stdio::null());
    cmd
}

fn quietly_succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn fuzz(root: &Path, runs: u64, timeout: Duration) -> Result<String, String> {
    if !quietly_succeeds(nightly("rustc").arg("--version")) {
        return Ok("fuzz: skipped: no nightly toolchain".to_string());
    }
    if !quietly_succeeds(nightly("cargo").args(["fuzz", "--version"])) {
        if std::env::var_os("CI").is_none() {
            return Ok("fuzz: skipped: cargo-fuzz is not installed \
                       (install it with `cargo install --locked cargo-fuzz`)"
                .to_string());
        }
        eprintln!("fuzz: installing cargo-fuzz {CARGO_FUZZ_VERSION}");
        let installed = Command::new("cargo")
            .args([
                "install",
                "--locked",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ_VERSION,
            ])
            .env_remove("RUSTUP_TOOLCHAIN")
            .status()
            .map_err(|e| format!("cannot run cargo install: {e}"))?;
        if !installed.success() {
            return Err(format!(
                "cargo install --locked cargo-fuzz --version {CARGO_FUZZ_VERSION} failed: {installed}"
            ));
        }
    }
    let corpus = root.join("target/fuzz/corpus").join(TARGET);
    let artifacts = root.join("target/fuzz/artifacts").join(TARGET);
    for dir in [&corpus, &artifacts] {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!("fuzz: {FUZZ_DIR}, target {TARGET}, {runs} runs (the first build takes minutes)");
    let mut cmd = nightly("cargo");
    cmd.current_dir(root)
        .args([
            "fuzz",
            "run",
            TARGET,
            "--fuzz-dir",
            FUZZ_DIR,
            "--target-dir",
            "target/fuzz",
        ])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-runs={runs}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-max_total_time=600")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run =
        labkit::run_for(&mut cmd, timeout).map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    // cargo-fuzz makes its default artifact folder even when told to use another one.
    let default_artifacts = root.join(FUZZ_DIR).join("artifacts");
    let _ = fs::remove_dir(default_artifacts.join(TARGET));
    let _ = fs::remove_dir(default_artifacts);
    let tail = |n: usize| {
        let lines: Vec<&str> = run.stderr.lines().chain(run.stdout.lines()).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    };
    if run.timed_out {
        return Err(format!(
            "cargo fuzz did not finish within {timeout:?}:\n{}",
            tail(20)
        ));
    }
    if !run.status.success() {
        return Err(format!(
            "the fuzzer failed (a failing input is saved under {}):\n{}",
            artifacts.display(),
            tail(40)
        ));
    }
    let done = run
        .stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("Done "))
        .unwrap_or("done");
    Ok(format!(
        "fuzz: target {TARGET} of {FUZZ_DIR}: {done}; no failure"
    ))
}
