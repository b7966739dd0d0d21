//! The project's layout, known in one place: where the root is, which files belong to the
//! project, how labs are named (`labs/lab-NN-slug`, package `lab-NN`), which pages are
//! chapters, how an insta snapshot's header ends, and the [`Problem`] every check reports.
//!
//! The book checks of this crate and the classroom tasks of `cargo xtask` (the student
//! edition, the exercise checker, the grader, the snapshot mutations) all read the project
//! through this module, so a change of convention is made here once.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::markdown::summary_links;

/// One thing wrong with the project, shown as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path relative to the project root.
    pub file: PathBuf,
    /// 1-based line, or 0 when the problem is about the whole file.
    pub line: usize,
    pub message: String,
}

impl Problem {
    pub fn new(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// `path` relative to `root`, for messages.
pub fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Read a file, or describe why not as a problem.
pub fn read(root: &Path, path: &Path) -> Result<String, Problem> {
    fs::read_to_string(path)
        .map_err(|e| Problem::new(rel(root, path), 0, format!("cannot read: {e}")))
}

/// The workspace root: the nearest directory, from `start` upwards, whose `Cargo.toml`
/// has a `[workspace]` table.
pub fn find_root(start: &Path) -> io::Result<PathBuf> {
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

/// The project's files as they are in the working tree, relative to `root`, sorted: in a
/// git work tree the tracked files and the untracked ones git does not ignore (so
/// uncommitted work counts, and `target/`, `book/quiz/` and `*.snap.new` do not);
/// elsewhere (a fixture, the student edition) every file except `target/` and `.git/`.
pub fn project_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = match git_files(root)? {
        Some(files) => files,
        None => walk(root, Path::new(""))?,
    };
    files.sort();
    Ok(files)
}

/// `git ls-files` in a git work tree; `None` when `root` is not one or git is missing.
fn git_files(root: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    if !root.join(".git").exists() {
        return Ok(None);
    }
    let out = match Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "git ls-files failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| root.join(p).is_file()) // deleted but not yet committed
            .collect(),
    ))
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

/// The project's files under `dir` (relative) whose name ends with `.ext`, relative to
/// the root; none when the files cannot be listed.
pub fn files_with_extension(root: &Path, dir: &Path, ext: &str) -> Vec<PathBuf> {
    project_files(root)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.starts_with(dir) && f.extension().is_some_and(|e| e == ext))
        .collect()
}

/// Every page of the book (`book/**/*.md`, not the assets mdbook-quiz writes to
/// `book/quiz/`), as absolute paths, sorted.
pub fn markdown_files(root: &Path) -> Vec<PathBuf> {
    files_with_extension(root, Path::new("book"), "md")
        .into_iter()
        .filter(|f| !f.starts_with("book/quiz"))
        .map(|f| root.join(f))
        .collect()
}

/// A lab crate: directory `labs/lab-NN-slug`, package `lab-NN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    /// The two digits: `01`.
    pub number: String,
    /// Relative to the root: `labs/lab-01-processes`.
    pub dir: PathBuf,
}

impl Lab {
    /// The lab in directory `dir` (relative), if its name is `lab-NN-slug`.
    pub fn from_dir(dir: &Path) -> Option<Lab> {
        let name = dir.file_name()?.to_str()?;
        let rest = name.strip_prefix("lab-")?;
        let well_named =
            rest.len() > 3 && rest[..2].bytes().all(|b| b.is_ascii_digit()) && &rest[2..3] == "-";
        well_named.then(|| Lab {
            number: rest[..2].to_string(),
            dir: dir.to_path_buf(),
        })
    }

    /// `lab-NN`.
    pub fn package(&self) -> String {
        format!("lab-{}", self.number)
    }

    /// The directory's name: `lab-01-processes`.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }

    /// Whether `wanted` names this lab: `5`, `05`, `lab-05`.
    pub fn is_named(&self, wanted: &str) -> bool {
        wanted == self.number || wanted == self.package() || format!("{wanted:0>2}") == self.number
    }

    /// The lab's reviewed snapshots (`*.snap`), relative to the root, sorted.
    pub fn snapshots(&self, root: &Path) -> Vec<PathBuf> {
        files_with_extension(root, &self.dir, "snap")
    }

    /// The integration-test target whose source is `source` (a path relative to the
    /// root, as insta's `source:` header gives it): `tests/card.rs` and
    /// `tests/card/main.rs` are `--test card`. `None` for any other file.
    pub fn test_target(&self, source: &str) -> Option<String> {
        let in_tests = Path::new(source)
            .strip_prefix(self.dir.join("tests"))
            .ok()?;
        let parts: Vec<&str> = in_tests.iter().filter_map(|p| p.to_str()).collect();
        match parts.as_slice() {
            [file] => file.strip_suffix(".rs").map(str::to_string),
            [dir, "main.rs"] => Some(dir.to_string()),
            _ => None,
        }
    }
}

/// Every directory `labs/lab-*` (relative), well named or not, sorted.
pub fn lab_dirs(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(root.join("labs"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("lab-") && entry.file_type()?.is_dir() {
            dirs.push(PathBuf::from("labs").join(name));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The labs (`labs/lab-NN-slug`), by number.
pub fn labs(root: &Path) -> io::Result<Vec<Lab>> {
    Ok(lab_dirs(root)?
        .iter()
        .filter_map(|d| Lab::from_dir(d))
        .collect())
}

/// The labs a task works on: all of them, or the one `only` names (`5`, `05`, `lab-05`);
/// an error when there is none.
pub fn select_labs(root: &Path, only: Option<&str>) -> Result<Vec<Lab>, String> {
    let wanted: Vec<Lab> = labs(root)
        .map_err(|e| format!("cannot list the labs: {e}"))?
        .into_iter()
        .filter(|l| only.is_none_or(|n| l.is_named(n)))
        .collect();
    if wanted.is_empty() {
        return Err(format!("no lab {:?} in this workspace", only.unwrap_or("")));
    }
    Ok(wanted)
}

/// The header of an insta snapshot: `---`, `source: …` (and more fields), `---`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The 1-based line where the body starts (the line after the second `---`).
    pub body_start: usize,
    /// The test file that asserted the snapshot, relative to the workspace root.
    pub source: Option<String>,
}

impl SnapshotHeader {
    /// The header of `text`, or `None` when it does not start with insta's `---` header.
    pub fn parse(text: &str) -> Option<SnapshotHeader> {
        let mut lines = text.lines().enumerate();
        if lines.next()?.1 != "---" {
            return None;
        }
        let mut source = None;
        for (i, line) in lines {
            if line == "---" {
                return Some(SnapshotHeader {
                    body_start: i + 2,
                    source,
                });
            }
            if let Some(value) = line.strip_prefix("source: ") {
                source = Some(value.trim().trim_matches('"').to_string());
            }
        }
        None
    }
}

/// A chapter linked from SUMMARY.md whose file is named `NN-slug.md`.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub number: String,
    /// Absolute.
    pub path: PathBuf,
}

impl Chapter {
    /// The lab package of this chapter: `lab-NN`.
    pub fn package(&self) -> String {
        format!("lab-{}", self.number)
    }
}

/// The written chapters, in SUMMARY order.
pub fn written_chapters(root: &Path) -> Vec<Chapter> {
    let Ok(summary) = fs::read_to_string(root.join("book/SUMMARY.md")) else {
        return Vec::new();
    };
    summary_links(&summary)
        .into_iter()
        .filter_map(|(_, _, target)| {
            let name = Path::new(&target).file_name()?.to_str()?.to_string();
            let bytes = name.as_bytes();
            let numbered = bytes.len() > 3
                && bytes[0].is_ascii_digit()
                && bytes[1].is_ascii_digit()
                && bytes[2] == b'-';
            numbered.then(|| Chapter {
                number: name[..2].to_string(),
                path: root.join("book").join(&target),
            })
        })
        .collect()
}

/// Parse a TOML file into a generic value.
pub fn toml_file(root: &Path, path: &Path) -> Result<toml::Value, Problem> {
    let text = read(root, path)?;
    toml::from_str(&text)
        .map_err(|e| Problem::new(rel(root, path), 0, format!("not valid TOML: {e}")))
}

/// Whether `member_dir` (relative, like `labs/lab-01-x`) is a member of the root
/// workspace, by exact path or by a `dir/*` glob.
pub fn is_workspace_member(root: &Path, member_dir: &str) -> Result<bool, Problem> {
    let manifest = toml_file(root, &root.join("Cargo.toml"))?;
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    Ok(members.iter().filter_map(|m| m.as_str()).any(|m| {
        let m = m.trim_end_matches('/');
        match m.strip_suffix("/*") {
            Some(parent) => Path::new(member_dir).parent() == Some(Path::new(parent)),
            None => m == member_dir,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_bodies_start_after_the_second_dashes() {
        let header = SnapshotHeader::parse("---\nsource: labs/a/tests/t.rs\n---\nbody\n");
        assert_eq!(
            header,
            Some(SnapshotHeader {
                body_start: 4,
                source: Some("labs/a/tests/t.rs".into())
            })
        );
        let longer = SnapshotHeader::parse("---\nsource: a.rs\nexpression: x\n---\nbody\n");
        assert_eq!(longer.unwrap().body_start, 5);
        assert_eq!(SnapshotHeader::parse("no header\n---\n---\n"), None);
        assert_eq!(SnapshotHeader::parse("---\nsource: a.rs\n"), None);
    }

    #[test]
    fn labs_are_named_lab_nn_slug() {
        let lab = Lab::from_dir(Path::new("labs/lab-05-ipc")).unwrap();
        assert_eq!(
            (lab.number.as_str(), lab.package()),
            ("05", "lab-05".into())
        );
        assert_eq!(lab.name(), "lab-05-ipc");
        for wanted in ["5", "05", "lab-05"] {
            assert!(lab.is_named(wanted), "{wanted}");
        }
        assert!(!lab.is_named("50"));
        for bad in [
            "labs/lab-5-ipc",
            "labs/lab-05",
            "labs/lab-ab-x",
            "labs/labkit",
        ] {
            assert_eq!(Lab::from_dir(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn a_snapshot_source_names_its_test_target() {
        let lab = Lab::from_dir(Path::new("labs/lab-01-demo")).unwrap();
        let target = |s: &str| lab.test_target(s);
        assert_eq!(
            target("labs/lab-01-demo/tests/card.rs"),
            Some("card".into())
        );
        assert_eq!(
            target("labs/lab-01-demo/tests/big/main.rs"),
            Some("big".into())
        );
        assert_eq!(target("labs/lab-01-demo/src/lib.rs"), None);
        assert_eq!(target("labs/lab-02-other/tests/card.rs"), None);
    }
}
