//! The workspace as the classroom tools see it: its root, its files, its labs and their
//! exercise regions.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::regions::{self, MarkerError, Region};

/// The workspace root: the nearest directory, from the current one upwards, whose
/// `Cargo.toml` has a `[workspace]` table.
pub fn find_root() -> io::Result<PathBuf> {
    let start = std::env::current_dir()?;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if fs::read_to_string(&manifest).is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        {
            return Ok(dir.to_path_buf());
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no workspace Cargo.toml above {}", start.display()),
    ))
}

/// The project's files as they are in the working tree, relative to `root`: in a git work
/// tree the tracked files and the untracked ones git does not ignore (so uncommitted work
/// is included and `target/` is not); elsewhere every file except `target/` and `.git/`
/// (the student edition is not a repository).
pub fn project_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = if root.join(".git").exists() {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "git ls-files failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| root.join(p).is_file()) // deleted but not yet committed
            .collect()
    } else {
        walk(root, Path::new(""))?
    };
    files.sort();
    Ok(files)
}

fn walk(root: &Path, rel: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        let path = rel.join(&name);
        if entry.file_type()?.is_dir() {
            if rel.as_os_str().is_empty() && (name == "target" || name == ".git") {
                continue;
            }
            files.extend(walk(root, &path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// A lab crate: `labs/lab-NN-topic`, package `lab-NN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    pub number: String,
    pub dir: PathBuf,
}

impl Lab {
    pub fn package(&self) -> String {
        format!("lab-{}", self.number)
    }
}

/// The labs of the workspace, by number.
pub fn labs(root: &Path) -> io::Result<Vec<Lab>> {
    let mut labs = Vec::new();
    for entry in fs::read_dir(root.join("labs"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("lab-") else {
            continue;
        };
        if rest.len() > 3 && rest[..2].bytes().all(|b| b.is_ascii_digit()) && &rest[2..3] == "-" {
            labs.push(Lab {
                number: rest[..2].to_string(),
                dir: PathBuf::from("labs").join(&name),
            });
        }
    }
    labs.sort_by(|a, b| a.number.cmp(&b.number));
    Ok(labs)
}

/// An exercise: its region and its id `NN.k` (k counts the lab's regions in file order).
#[derive(Debug, Clone)]
pub struct Exercise {
    pub lab: Lab,
    pub id: String,
    pub region: Region,
}

/// Every exercise of every lab, or every malformed marker. `files` are relative paths;
/// regions are looked for in the labs' `.rs` files.
pub fn exercises(root: &Path, files: &[PathBuf]) -> Result<Vec<Exercise>, Vec<MarkerError>> {
    let labs = labs(root).map_err(|e| {
        vec![MarkerError {
            file: "labs".into(),
            line: 0,
            message: e.to_string(),
        }]
    })?;
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for lab in labs {
        let mut k = 0;
        for file in files
            .iter()
            .filter(|f| f.starts_with(&lab.dir) && f.extension().is_some_and(|e| e == "rs"))
        {
            let Ok(source) = fs::read_to_string(root.join(file)) else {
                continue;
            };
            match regions::parse(file, &source) {
                Ok(regions) => {
                    for region in regions {
                        k += 1;
                        found.push(Exercise {
                            lab: lab.clone(),
                            id: format!("{}.{k}", lab.number),
                            region,
                        });
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// Copy `files` from `from` to `to`, keeping permissions (`.ci/run` stays executable).
pub fn copy_files(from: &Path, to: &Path, files: &[PathBuf]) -> io::Result<()> {
    for file in files {
        let target = to.join(file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from.join(file), &target)?;
    }
    Ok(())
}

/// Write `source` with the given exercises cut out into `to/file` (relative).
pub fn write_cut(root: &Path, to: &Path, file: &Path, exercises: &[&Exercise]) -> io::Result<()> {
    let source = fs::read_to_string(root.join(file))?;
    let cuts: Vec<_> = exercises
        .iter()
        .map(|e| (e.region.clone(), e.id.clone()))
        .collect();
    fs::write(to.join(file), regions::cut(&source, &cuts))
}

/// The project's files and its exercises, with any malformed markers as one message.
pub fn load(root: &Path) -> Result<(Vec<PathBuf>, Vec<Exercise>), String> {
    let files = project_files(root).map_err(|e| format!("cannot list the project's files: {e}"))?;
    let exercises = exercises(root, &files).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok((files, exercises))
}

/// The files that hold at least one region, each once.
pub fn cut_files(exercises: &[Exercise]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = exercises.iter().map(|e| e.region.file.clone()).collect();
    files.dedup();
    files
}

/// Write every file that holds regions into `to`, with all its regions cut.
pub fn write_all_cuts(root: &Path, to: &Path, exercises: &[Exercise]) -> io::Result<()> {
    for file in cut_files(exercises) {
        let in_file: Vec<&Exercise> = exercises.iter().filter(|e| e.region.file == file).collect();
        write_cut(root, to, &file, &in_file)?;
    }
    Ok(())
}
