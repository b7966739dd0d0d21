//! book-tests: whole-project checks that the book and the labs agree.
//!
//! mdBook exits 0 when an `{{#include}}` names a missing file or anchor (it leaves the raw
//! text or an empty block in the page), so nothing else would notice a broken listing.
//! Each check here returns a list of [`Problem`]s with a file and line; the tests in
//! `tests/` run them on the real project and on small broken copies of a good one, so
//! every check is shown to fail when the book is broken.
//!
//! The library is also the project's model for `cargo xtask`: [`layout`] (root, files,
//! labs, chapters, snapshot headers, [`Problem`]) and [`regions`] (exercise regions and
//! cutting them out) are written once, here, and used by both.

mod chapters;
pub mod demos;
pub mod includes;
pub mod layout;
pub mod markdown;
pub mod regions;

use std::path::Path;

pub use chapters::{
    check_chapters, check_learning_boxes, check_readme_and_ci, check_solutions_outside_listings,
    check_summary,
};
pub use includes::{check_fences, check_includes, check_snapshot_references};
pub use layout::Problem;

/// Every check, on the project at `root`.
pub fn check_project(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    problems.extend(check_summary(root));
    problems.extend(check_includes(root));
    problems.extend(check_fences(root));
    problems.extend(check_chapters(root));
    problems.extend(check_learning_boxes(root));
    problems.extend(check_solutions_outside_listings(root));
    problems.extend(check_snapshot_references(root));
    problems.extend(check_readme_and_ci(root));
    problems
}
