//! book-tests: whole-project checks that the book and the labs agree.
//!
//! mdBook exits 0 when an `{{#include}}` names a missing file or anchor (it leaves the raw
//! text or an empty block in the page), so nothing else would notice a broken listing.
//! Each check here returns a list of [`Problem`]s with a file and line; the tests in
//! `tests/` run them on the real project and on small broken copies of a good one, so
//! every check is shown to fail when the book is broken.

mod chapters;
mod includes;
pub mod markdown;
mod project;

use std::fmt;
use std::path::{Path, PathBuf};

pub use chapters::{check_chapters, check_readme_and_ci, check_summary};
pub use includes::{check_fences, check_includes, check_snapshot_references};

/// One thing wrong with the project.
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

/// Every check, on the project at `root`.
pub fn check_project(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    problems.extend(check_summary(root));
    problems.extend(check_includes(root));
    problems.extend(check_fences(root));
    problems.extend(check_chapters(root));
    problems.extend(check_snapshot_references(root));
    problems.extend(check_readme_and_ci(root));
    problems
}
