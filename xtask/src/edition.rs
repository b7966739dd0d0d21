//! Copies of the project with solution regions cut out: the student edition writes one,
//! and `check` writes one region at a time into its scratch copy. The project itself (its
//! files, labs and regions) is read through `book_tests::layout` and `book_tests::regions`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use book_tests::layout::project_files;
use book_tests::regions::{self, Exercise};

/// The project's files (relative to `root`) and its exercises.
#[derive(Debug)]
pub struct Project {
    pub files: Vec<PathBuf>,
    pub exercises: Vec<Exercise>,
}

/// The project's files and its exercises, with any malformed markers as one message.
pub fn load(root: &Path) -> Result<Project, String> {
    let files = project_files(root).map_err(|e| format!("cannot list the project's files: {e}"))?;
    let exercises = regions::exercises(root, &files).map_err(|problems| {
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(Project { files, exercises })
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

/// Write `source` with the given exercises cut out into `to/file` (relative). The stub's
/// message is the task without its points marker (`(3 points)`), which the `// EXERCISE:`
/// comment above it still shows.
pub fn write_cut(root: &Path, to: &Path, file: &Path, exercises: &[&Exercise]) -> io::Result<()> {
    let source = fs::read_to_string(root.join(file))?;
    let cuts: Vec<_> = exercises
        .iter()
        .map(|e| {
            let mut region = e.region.clone();
            region.task = crate::exercise_map::split_points(&e.region.task)
                .1
                .to_string();
            (region, e.id.clone())
        })
        .collect();
    fs::write(to.join(file), regions::cut(&source, &cuts))
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
