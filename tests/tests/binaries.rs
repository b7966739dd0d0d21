//! Every binary and example in the workspace has a name of its own.
//!
//! Cargo puts every package's binaries in the same `target/debug/`, so two packages with a
//! `src/bin/crash.rs` each write `target/debug/crash`, and whichever was built last wins:
//! a test's `CARGO_BIN_EXE_crash` may then run the other lab's program (cargo only warns
//! about the collision). The book's commands (`./target/debug/NAME`) would be ambiguous too.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The names cargo gives the targets found in `dir` (`NAME.rs` or `NAME/main.rs`).
fn target_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rs") {
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        } else if path.join("main.rs").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}

#[test]
fn no_two_packages_build_a_binary_or_example_of_the_same_name() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut packages: Vec<PathBuf> = vec![root.join("xtask"), root.join("tests")];
    for entry in fs::read_dir(root.join("labs")).unwrap().flatten() {
        if entry.path().join("Cargo.toml").is_file() {
            packages.push(entry.path());
        }
    }
    for kind in ["src/bin", "examples"] {
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for package in &packages {
            for name in target_names(&package.join(kind)) {
                let dir = package.file_name().unwrap().to_string_lossy().into_owned();
                owners.entry(name).or_default().push(dir);
            }
        }
        let clashes: Vec<String> = owners
            .into_iter()
            .filter(|(_, dirs)| dirs.len() > 1)
            .map(|(name, dirs)| format!("{kind}/{name} in {}", dirs.join(", ")))
            .collect();
        assert!(
            clashes.is_empty(),
            "same target name in two packages: {clashes:?}"
        );
    }
}
