//! Chapter 1 tests: a panic that leaves `main` exits with code 101 only under the default
//! `panic = "unwind"`. Under `panic = "abort"` the hook still runs, then the process
//! aborts: SIGABRT, no destructor, no 101.
//!
//! A Cargo profile applies to a whole build, so the test compiles one small standalone
//! program twice with `rustc` itself (`-C panic=unwind` and `-C panic=abort`, the flags
//! those profile settings pass) and runs both.

use std::path::Path;
use std::process::Command;

use labkit::{Redactor, demo};

const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/standalone/panic_strategy.rs");

fn compile(strategy: &str, out: &Path) {
    // Cargo sets RUSTC for build scripts only; the same toolchain's rustc is on PATH.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2024", "-C"])
        .arg(format!("panic={strategy}"))
        .arg("-o")
        .arg(out)
        .arg(PROGRAM);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "rustc failed: {finished:?}");
}

#[test]
fn unwind_runs_destructors_and_exits_101_abort_runs_only_the_hook() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for strategy in ["unwind", "abort"] {
        let exe = dir.path().join(strategy);
        compile(strategy, &exe);
        // Run inside the temporary directory: a core file, if the system writes one
        // there, goes away with it.
        let finished = labkit::run(demo(&exe).current_dir(dir.path())).unwrap();
        match strategy {
            "unwind" => assert_eq!(finished.status.code(), Some(101)),
            _ => assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&finished.status),
                Some(nix::sys::signal::Signal::SIGABRT as i32)
            ),
        }
        runs.push(finished.transcript(&format!(
            "rustc --edition 2024 -C panic={strategy} -o /tmp/{strategy} panic_strategy.rs && /tmp/{strategy}"
        )));
    }
    // Whether SIGABRT writes a core file depends on `ulimit -c` and the system's
    // core_pattern, not on the program.
    let _settings = Redactor::new()
        .pattern(r", core dumped", "")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("panic_strategy", runs.join("\n\n"));
}
