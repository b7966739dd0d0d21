//! What is checked on one page, in the browser, after it loaded.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use super::browser::{take_log, wait_until};

/// A page of the book and what its Markdown source promises.
#[derive(Debug, Clone)]
pub struct Page {
    /// `05-ipc.html`
    pub html: String,
    /// The source, relative to the book's `src`: `05-ipc.md`.
    pub source: String,
    /// ```` ```mermaid ```` fences in the source: each must become a diagram.
    pub diagrams: usize,
    /// `{{#quiz …}}` directives in the source: each must mount.
    pub quizzes: usize,
    /// A word of the page's title, typed into the search bar.
    pub search_term: String,
}

/// What one page showed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub problems: Vec<String>,
    pub diagrams_drawn: usize,
    pub quizzes_mounted: usize,
    pub code_blocks: usize,
    pub search_found: bool,
    pub screenshot: Vec<u8>,
}

/// How long a page may take to draw its diagrams and mount its quizzes.
const SETTLE: Duration = Duration::from_secs(15);

/// Everything is drawn: the document loaded, every mermaid block holds an SVG, every quiz
/// placeholder has content.
const SETTLED: &str = "return document.readyState === 'complete'
  && Array.from(document.querySelectorAll('pre.mermaid')).every(p => p.querySelector('svg'))
  && Array.from(document.querySelectorAll('.quiz-placeholder')).every(q => q.children.length > 0);";

/// The page's state, as one JSON object.
const STATE: &str = r#"
const diagrams = Array.from(document.querySelectorAll('pre.mermaid')).map(p => {
  const svg = p.querySelector('svg');
  if (!svg) return 'not drawn';
  // mermaid draws a syntax error as an SVG too: a bomb and "Syntax error in text".
  return svg.getAttribute('aria-roledescription') === 'error' ? 'syntax error' : 'ok';
});
const quizzes = Array.from(document.querySelectorAll('.quiz-placeholder'))
  .map(q => q.querySelector('.mdbook-quiz') !== null);
const code = Array.from(document.querySelectorAll('pre > code'));
const plain = code.filter(c => !c.classList.contains('hljs'))
  .map(c => (c.className || 'no class') + ': ' + c.textContent.trim().slice(0, 40));
const main = document.querySelector('main');
const raw = ((main ? main.innerText : '').match(/\{\{#[a-z_]+[^}\n]*\}\}/g) || []);
return { diagrams, quizzes, code: code.length, plain, raw };
"#;

/// Open `url` and check the page against what its source promises.
pub async fn check(client: &Client, base: &str, page: &Page) -> Result<Outcome, String> {
    let url = format!("{base}/{}", page.html);
    let mut out = Outcome::default();
    let problem = |out: &mut Outcome, text: String| out.problems.push(text);
    client
        .goto(&url)
        .await
        .map_err(|e| format!("{url}: cannot open: {e}"))?;
    if !wait_until(client, SETTLED, SETTLE).await? {
        problem(
            &mut out,
            format!("not settled after {SETTLE:?}: a diagram or quiz never rendered"),
        );
    }
    let state = client
        .execute(STATE, vec![])
        .await
        .map_err(|e| format!("{url}: state script failed: {e}"))?;
    let strings = |key: &str| -> Vec<String> {
        state[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };

    let diagrams = strings("diagrams");
    out.diagrams_drawn = diagrams.iter().filter(|d| *d == "ok").count();
    for (i, d) in diagrams.iter().enumerate().filter(|(_, d)| *d != "ok") {
        problem(&mut out, format!("mermaid diagram {}: {d}", i + 1));
    }
    if diagrams.len() != page.diagrams {
        problem(
            &mut out,
            format!(
                "{} mermaid block(s) in {}, {} on the page (is the mermaid preprocessor on?)",
                page.diagrams,
                page.source,
                diagrams.len()
            ),
        );
    }

    let quizzes: Vec<bool> = state["quizzes"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_bool() == Some(true)).collect())
        .unwrap_or_default();
    out.quizzes_mounted = quizzes.iter().filter(|m| **m).count();
    for (i, _) in quizzes.iter().enumerate().filter(|(_, m)| !**m) {
        problem(&mut out, format!("quiz {} did not mount", i + 1));
    }
    if quizzes.len() != page.quizzes {
        problem(
            &mut out,
            format!(
                "{} quiz(zes) in {}, {} on the page",
                page.quizzes,
                page.source,
                quizzes.len()
            ),
        );
    }

    out.code_blocks = state["code"].as_u64().unwrap_or(0) as usize;
    for plain in strings("plain") {
        problem(&mut out, format!("code block not highlighted: {plain}"));
    }
    for raw in strings("raw") {
        problem(&mut out, format!("directive left in the page: {raw}"));
    }

    // The log of this page's load: console errors, uncaught exceptions, failed requests.
    for entry in take_log(client).await? {
        if entry.level == "SEVERE" || (entry.level == "WARNING" && entry.source == "network") {
            problem(
                &mut out,
                format!(
                    "browser log {} ({}): {}",
                    entry.level, entry.source, entry.message
                ),
            );
        }
    }

    out.screenshot = full_page_screenshot(client)
        .await
        .map_err(|e| format!("{url}: screenshot failed: {e}"))?;

    out.search_found = search(client, page).await?;
    if !out.search_found {
        problem(
            &mut out,
            format!(
                "searching for {:?} does not list this page",
                page.search_term
            ),
        );
    }
    Ok(out)
}

/// WebDriver screenshots the window only: make the window as tall as the page (headless
/// Chromium allows that), take it, and put the window back.
async fn full_page_screenshot(client: &Client) -> Result<Vec<u8>, fantoccini::error::CmdError> {
    let height = client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await?
        .as_u64()
        .unwrap_or(900)
        .clamp(900, 16_000) as u32;
    let (width, old_height) = client.get_window_size().await?;
    client.set_window_size(width as u32, height).await?;
    let png = client.screenshot().await;
    client
        .set_window_size(width as u32, old_height as u32)
        .await?;
    png
}

/// Type the page's search term into mdBook's search bar, as a reader would, and look for a
/// result that links to the page.
async fn search(client: &Client, page: &Page) -> Result<bool, String> {
    let toggle = client
        .find(Locator::Id("mdbook-search-toggle"))
        .await
        .map_err(|e| format!("no search button: {e}"))?;
    toggle
        .click()
        .await
        .map_err(|e| format!("search button: {e}"))?;
    let bar = client
        .find(Locator::Id("mdbook-searchbar"))
        .await
        .map_err(|e| format!("no search bar: {e}"))?;
    bar.send_keys(&page.search_term)
        .await
        .map_err(|e| format!("typing into the search bar: {e}"))?;
    let script = format!(
        "return Array.from(document.querySelectorAll('#mdbook-searchresults a'))
           .some(a => a.getAttribute('href').split('#')[0].split('?')[0] === {});",
        Value::String(page.html.clone())
    );
    wait_until(client, &script, Duration::from_secs(10)).await
}

/// The word of a title a reader would search for: its longest word (letters and digits).
pub fn search_term(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.chars().count())
        .unwrap_or(title)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::search_term;

    #[test]
    fn the_search_term_is_the_longest_word_of_the_title() {
        assert_eq!(search_term("IPC: talking to a child"), "talking");
        assert_eq!(search_term("spawn, exec, execFile and fork"), "execFile");
        assert_eq!(search_term("Appendix C: Instructor's guide"), "Instructor");
    }
}
