//! `cargo xtask book-check`: the rendered book, opened page by page in headless Chromium.
//!
//! mdBook exits 0 on many broken pages (a preprocessor that failed, a diagram with a syntax
//! error, a quiz whose script did not load), and the book-tests crate reads only the
//! Markdown. This check reads what a reader sees: for every page in SUMMARY.md it loads the
//! page from a local server and fails on
//! - a console error, an uncaught exception or a failed request in the browser's log;
//! - a mermaid block that is not an SVG diagram (mermaid draws a syntax error as an SVG
//!   "error" picture, which is caught too), or fewer diagrams than the source has;
//! - a quiz that did not mount, or fewer quizzes than the source has;
//! - a code block highlight.js did not highlight;
//! - an mdBook directive (`{{#include …}}`) left as text;
//! - a search for a word of the page's title that does not list the page.
//!
//! It saves a screenshot of every page under the output directory (`target/book-check/`).

mod browser;
mod probe;
mod runner_check;
mod site;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use book_tests::markdown::{directives, fences, summary_links};

use probe::{Outcome, Page};

/// What to check and where to write.
#[derive(Debug)]
pub struct Options {
    /// The book's root (the directory with `book.toml`).
    pub book: PathBuf,
    /// Screenshots and the built site go here.
    pub out: PathBuf,
    /// Check the site already built in `OUT/site` instead of building it.
    pub no_build: bool,
    /// Also drive `cargo xtask runner` from the pages (the project's own book).
    pub runner: bool,
}

/// One line of the report per page.
#[derive(Debug)]
pub struct PageReport {
    pub page: Page,
    pub outcome: Result<Outcome, String>,
}

/// The whole check.
#[derive(Debug, Default)]
pub struct Report {
    pub build_problems: Vec<String>,
    pub pages: Vec<PageReport>,
    /// The runner driven from the pages (only for a book with demos): what it saw, or why
    /// it failed.
    pub runner: Option<Result<Vec<String>, String>>,
}

impl Report {
    pub fn problems(&self) -> Vec<String> {
        let mut all = self.build_problems.clone();
        if let Some(Err(e)) = &self.runner {
            all.push(format!("runner: {e}"));
        }
        for p in &self.pages {
            match &p.outcome {
                Ok(o) => all.extend(o.problems.iter().map(|m| format!("{}: {m}", p.page.html))),
                Err(e) => all.push(format!("{}: {e}", p.page.html)),
            }
        }
        all
    }

    /// A table: one row per page.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<28} {:>8} {:>7} {:>5} {:>6}  result",
            "page", "diagrams", "quizzes", "code", "search"
        );
        for p in &self.pages {
            let [diagrams, quizzes, code, search, result] = columns(p);
            let _ = writeln!(
                s,
                "{:<28} {diagrams:>8} {quizzes:>7} {code:>5} {search:>6}  {result}",
                p.page.html
            );
        }
        match &self.runner {
            Some(Ok(seen)) => {
                for line in seen {
                    let _ = writeln!(s, "runner: {line}");
                }
            }
            Some(Err(e)) => {
                let _ = writeln!(s, "runner: FAILED: {e}");
            }
            None => {}
        }
        s
    }
}

/// The table's columns for one page.
fn columns(p: &PageReport) -> [String; 5] {
    match &p.outcome {
        Ok(o) => [
            format!("{}/{}", o.diagrams_drawn, p.page.diagrams),
            format!("{}/{}", o.quizzes_mounted, p.page.quizzes),
            o.code_blocks.to_string(),
            if o.search_found { "found" } else { "MISSED" }.to_string(),
            if o.problems.is_empty() {
                "ok".to_string()
            } else {
                format!("{} problem(s)", o.problems.len())
            },
        ],
        Err(e) => {
            let dash = || "-".to_string();
            [dash(), dash(), dash(), dash(), format!("error: {e}")]
        }
    }
}

/// Build the book into `out` and return the directory with its `index.html` (mdBook's
/// errors that did not stop the build are printed).
pub fn build_site(book: &Path, out: &Path) -> Result<PathBuf, String> {
    let built = site::build(book, out)?;
    for e in &built.errors {
        eprintln!("{e}");
    }
    Ok(built.html)
}

/// The pages of the book, in SUMMARY order, with what their sources promise.
pub fn pages(book: &Path) -> Result<Vec<Page>, String> {
    let src = book.join(source_dir(book)?);
    let summary_path = src.join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path)
        .map_err(|e| format!("{}: {e}", summary_path.display()))?;
    let mut pages = Vec::new();
    for (_, title, target) in summary_links(&summary) {
        if target.is_empty() {
            continue; // a draft: no page yet
        }
        let text =
            std::fs::read_to_string(src.join(&target)).map_err(|e| format!("{target}: {e}"))?;
        let h1 = text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(&title)
            .to_string();
        pages.push(Page {
            html: target.trim_end_matches(".md").to_string() + ".html",
            diagrams: fences(&text).iter().filter(|f| f.info == "mermaid").count(),
            quizzes: directives(&text)
                .iter()
                .filter(|d| d.name == "quiz")
                .count(),
            search_term: probe::search_term(&h1),
            source: target,
        });
    }
    if pages.is_empty() {
        return Err(format!("{}: no pages", summary_path.display()));
    }
    Ok(pages)
}

/// `[book] src` of `book.toml` (mdBook's default is `src`).
fn source_dir(book: &Path) -> Result<String, String> {
    let path = book.join("book.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(value
        .get("book")
        .and_then(|b| b.get("src"))
        .and_then(|s| s.as_str())
        .unwrap_or("src")
        .to_string())
}

/// Build (unless told not to), serve, open every page, and report.
pub fn book_check(options: &Options) -> Result<Report, String> {
    let pages = pages(&options.book)?;
    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let site_dir = options.out.join("site");
    let mut report = Report::default();
    let html = if options.no_build {
        [site_dir.join("html"), site_dir.clone()]
            .into_iter()
            .find(|d| d.join("index.html").is_file())
            .ok_or_else(|| format!("--no-build: no built site in {}", site_dir.display()))?
    } else {
        match site::build(&options.book, &site_dir) {
            Ok(built) => {
                report.build_problems = built.errors;
                built.html
            }
            Err(e) => {
                report.build_problems.push(e);
                return Ok(report);
            }
        }
    };

    let driver = browser::Driver::start().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let addr = site::serve(&html).await?;
        let base = format!("http://{addr}");
        let client = driver.session().await?;
        for page in pages {
            let outcome = probe::check(&client, &base, &page).await;
            if let Ok(o) = &outcome {
                let shot = options.out.join(page.html.replace(".html", ".png"));
                std::fs::write(&shot, &o.screenshot)
                    .map_err(|e| format!("{}: {e}", shot.display()))?;
            }
            report.pages.push(PageReport { page, outcome });
        }
        if options.runner {
            report.runner = Some(runner_check::check(&client, &html, &options.out).await);
        }
        client
            .close()
            .await
            .map_err(|e| format!("closing the browser: {e}"))?;
        Ok::<(), String>(())
    })?;
    Ok(report)
}
