//! `cargo xtask exercises --out DIR`: the student edition.
//!
//! A copy of the project in which every solution region is replaced by `todo!()`. The
//! book's pages include code from the lab sources, so a book built from the edition shows
//! the stubs too. Before it reports success, it searches the whole edition for the
//! solutions' lines and fails if any survived.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use book_tests::regions::{Exercise, solution_lines};

use crate::edition::{Project, copy_files, load, write_all_cuts};

/// What was written.
#[derive(Debug)]
pub struct Edition {
    pub files: usize,
    pub exercises: Vec<Exercise>,
}

pub fn write_edition(root: &Path, out: &Path) -> Result<Edition, String> {
    if out.exists()
        && fs::read_dir(out)
            .map_err(|e| format!("{}: {e}", out.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "refusing to write into {}: it is not empty",
            out.display()
        ));
    }
    let Project { files, exercises } = load(root)?;
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let io_err = |e: io::Error| format!("writing the edition: {e}");
    copy_files(root, out, &files).map_err(io_err)?;
    write_all_cuts(root, out, &exercises).map_err(io_err)?;
    let leaks = find_leaks(root, &files, &exercises, out).map_err(io_err)?;
    if !leaks.is_empty() {
        return Err(format!(
            "solution text survived in the edition:\n{}",
            leaks.join("\n")
        ));
    }
    Ok(Edition {
        files: files.len(),
        exercises,
    })
}

/// Lines of the solutions that appear nowhere else in the project (so finding one in
/// the edition means a solution leaked), then every line in `out` that is one.
fn find_leaks(
    root: &Path,
    files: &[PathBuf],
    exercises: &[Exercise],
    out: &Path,
) -> io::Result<Vec<String>> {
    let mut solution: HashSet<String> = HashSet::new();
    for ex in exercises {
        let source = fs::read_to_string(root.join(&ex.region.file))?;
        solution.extend(
            solution_lines(&source, &ex.region)
                .iter()
                .map(|l| l.trim().to_string()),
        );
    }
    // Lines that also occur outside every region are not evidence of a leak.
    let mut elsewhere: HashSet<String> = HashSet::new();
    for file in files {
        let Ok(text) = fs::read_to_string(root.join(file)) else {
            continue;
        };
        let regions: Vec<_> = exercises
            .iter()
            .filter(|e| &e.region.file == file)
            .collect();
        for (i, line) in text.lines().enumerate() {
            if !regions
                .iter()
                .any(|e| (e.region.begin..=e.region.end).contains(&(i + 1)))
            {
                elsewhere.insert(line.trim().to_string());
            }
        }
    }
    let telltale: Vec<String> = solution
        .into_iter()
        .filter(|l| l.len() >= 8 && !elsewhere.contains(l))
        .collect();
    let mut leaks = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(out.join(file)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            // Whole lines, as they were collected: `.get(n - 3)` in a solution is not
            // leaked by `rest.get(n - 3)` elsewhere.
            if let Some(t) = telltale.iter().find(|t| line.trim() == t.as_str()) {
                leaks.push(format!("{}:{}: {t}", file.display(), i + 1));
            }
        }
    }
    Ok(leaks)
}
