//! Reading the project: its Markdown pages, manifests and written chapters.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Problem;
use crate::markdown::summary_links;

/// `path` relative to `root`, for messages.
pub fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Read a file, or describe why not as a problem.
pub fn read(root: &Path, path: &Path) -> Result<String, Problem> {
    fs::read_to_string(path)
        .map_err(|e| Problem::new(rel(root, path), 0, format!("cannot read: {e}")))
}

/// Every `.md` file under `book/` (not the quiz assets mdbook-quiz writes there), sorted.
pub fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("book")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != root.join("book/quiz") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A chapter linked from SUMMARY.md whose file is named `NN-slug.md`.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub number: String,
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

/// The lab directories `labs/lab-*`, sorted.
pub fn lab_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("labs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("lab-"))
        })
        .collect();
    dirs.sort();
    dirs
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
