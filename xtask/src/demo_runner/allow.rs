//! The allow-list: the demos the chapters list, each resolved to a lab binary. Nothing else
//! can run: a request names a demo by its number in this list, never a command line.

use std::path::{Path, PathBuf};

use book_tests::demos::{Demo, DemoCommand, Program, demos};
use serde_json::{Value, json};

/// A demo the runner may start.
#[derive(Debug, Clone)]
pub struct Runnable {
    pub id: usize,
    /// The page that shows it: `01-processes.html`.
    pub page: String,
    /// The command as the page shows it.
    pub shown: String,
    /// The lab package that builds the binary: `lab-01`.
    pub package: String,
    pub command: DemoCommand,
}

impl Runnable {
    /// The built binary, under the target directory `target`.
    pub fn binary(&self, target: &Path) -> PathBuf {
        let profile = if self.command.release() {
            "release"
        } else {
            "debug"
        };
        target.join(profile).join(self.command.bin())
    }

    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "shown": self.shown })
    }
}

/// Every demo of the book whose binary a lab really has. A `./target/debug/BIN` demo
/// belongs to its chapter's lab (chapters only show their own lab's programs).
pub fn allow_list(root: &Path) -> Vec<Runnable> {
    demos(root)
        .into_iter()
        .filter_map(|demo| resolve(root, demo))
        .enumerate()
        .map(|(id, r)| Runnable { id, ..r })
        .collect()
}

fn resolve(root: &Path, demo: Demo) -> Option<Runnable> {
    let page_file = demo.page.file_name()?.to_str()?.to_string();
    let package = match &demo.command.program {
        Program::CargoRun { package, .. } => package.clone(),
        Program::Built { .. } => format!("lab-{}", page_file.get(..2)?),
    };
    let lab_dir = std::fs::read_dir(root.join("labs"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{package}-")))
        })?;
    let bin = demo.command.bin();
    let has_bin = lab_dir.join("src/bin").join(format!("{bin}.rs")).is_file()
        || lab_dir.join("src/bin").join(bin).join("main.rs").is_file();
    if !has_bin {
        return None;
    }
    Some(Runnable {
        id: 0,
        page: page_file.trim_end_matches(".md").to_string() + ".html",
        shown: demo.shown,
        package,
        command: demo.command,
    })
}
