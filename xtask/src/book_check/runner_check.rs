//! The runner, end to end in the browser: start `cargo xtask runner` on the built book, open
//! its URL (the token arrives in the fragment), click Run on chapter 1's card demo and on a
//! chapter 2 demo and read their output, then run chapter 9's `graceful` (which waits for a
//! signal), watch it in the live process table, and press Stop.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, Locator};
use labkit::{ChildGuard, DEFAULT_TIMEOUT, lines::fields};
use serde_json::Value;

use super::browser::wait_until;

/// What the runner check saw, one line per step; an error names the step that failed.
pub async fn check(client: &Client, html: &Path, out: &Path) -> Result<Vec<String>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args(["runner", "--book"])
        .arg(html)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut runner = ChildGuard::spawn(&mut cmd).map_err(|e| format!("runner: {e}"))?;
    let ready = runner
        .stdout_lines()
        .wait_for("runner ready", DEFAULT_TIMEOUT)
        .map_err(|e| format!("runner: {e}"))?;
    let url = fields(&ready)
        .get("url")
        .map(|u| u.to_string())
        .ok_or("runner: no url in its ready line")?;
    let base = url.split("/#").next().unwrap_or(&url).to_string();
    client
        .goto(&url)
        .await
        .map_err(|e| format!("opening the runner's URL: {e}"))?;
    let mut seen = Vec::new();

    for (page, demo, expect) in [
        ("01-processes.html", "target/debug/card", "comm:     card"),
        (
            "02-threads.html",
            "./target/debug/where-it-lives",
            "shared Vec at",
        ),
    ] {
        let text = run_to_end(client, &base, page, demo).await?;
        if !text.contains(expect) || !text.contains("=> exited with code 0") {
            return Err(format!("{page}: {demo}: unexpected output:\n{text}"));
        }
        seen.push(format!("{page}: ran {demo}: output and exit status shown"));
    }

    // A demo that runs until signalled: seen live, then stopped from the page.
    let page = "09-signals.html";
    let button = click_run(client, &base, page, "./target/debug/graceful").await?;
    let live = format!(
        "return Array.from(document.querySelectorAll('.runner-panel[data-demo=\"{button}\"] .runner-procs tbody tr'))
           .some(tr => tr.children[5].textContent.trim() === 'graceful' && tr.children[4].textContent === 'S');"
    );
    if !wait_until(client, &live, DEFAULT_TIMEOUT).await? {
        return Err(format!("{page}: graceful never appeared in the live view"));
    }
    // Bring the panel into view: the screenshot shows the window, not the whole page.
    script(
        client,
        &format!(
            "document.querySelector('.runner-panel[data-demo=\"{button}\"]').scrollIntoView({{block: 'center'}}); return true;"
        ),
    )
    .await?;
    let shot = client.screenshot().await.map_err(|e| e.to_string())?;
    let _ = std::fs::write(out.join("runner-live-view.png"), shot);
    let pid = script(
        client,
        &format!("return document.querySelector('.runner-panel[data-demo=\"{button}\"] .runner-procs tbody tr').children[0].textContent;"),
    )
    .await?
    .as_str()
    .and_then(|p| p.parse::<u32>().ok())
    .ok_or("no pid in the live view")?;
    client
        .find(Locator::Css(&format!(
            ".runner-panel[data-demo=\"{button}\"] .runner-stop"
        )))
        .await
        .map_err(|e| format!("no Stop button: {e}"))?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let stopped = format!(
        "return document.querySelector('.runner-panel[data-demo=\"{button}\"] .runner-status').textContent.startsWith('stopped');"
    );
    if !wait_until(client, &stopped, DEFAULT_TIMEOUT).await? {
        return Err(format!("{page}: Stop did not stop graceful"));
    }
    labkit::eventually(DEFAULT_TIMEOUT, || {
        if labkit::proc::is_alive(pid) {
            Err(format!("graceful (pid {pid}) still runs after Stop"))
        } else {
            Ok(())
        }
    })
    .map_err(|e| e.to_string())?;
    seen.push(format!(
        "{page}: graceful seen live (state S), Stop killed pid {pid}"
    ));
    drop(runner);
    Ok(seen)
}

async fn script(client: &Client, js: &str) -> Result<Value, String> {
    client
        .execute(js, vec![])
        .await
        .map_err(|e| format!("script failed: {e}"))
}

/// Open `page`, click the Run button whose command contains `demo`; returns its demo id.
async fn click_run(client: &Client, base: &str, page: &str, demo: &str) -> Result<String, String> {
    client
        .goto(&format!("{base}/{page}"))
        .await
        .map_err(|e| format!("{page}: {e}"))?;
    let find = format!(
        "return Array.from(document.querySelectorAll('.runner-run')).some(b => b.textContent.includes({}));",
        Value::String(demo.into())
    );
    if !wait_until(client, &find, DEFAULT_TIMEOUT).await? {
        return Err(format!("{page}: no Run button for {demo}"));
    }
    let id = script(
        client,
        &format!(
            "const b = Array.from(document.querySelectorAll('.runner-run')).find(b => b.textContent.includes({}));
             b.click(); return b.dataset.demo;",
            Value::String(demo.into())
        ),
    )
    .await?;
    id.as_str()
        .map(String::from)
        .ok_or_else(|| format!("{page}: the Run button has no demo id"))
}

/// Click Run and wait for the exit line; returns the panel's output text.
async fn run_to_end(client: &Client, base: &str, page: &str, demo: &str) -> Result<String, String> {
    let id = click_run(client, base, page, demo).await?;
    let ended = format!(
        "const p = document.querySelector('.runner-panel[data-demo=\"{id}\"]');
         return p !== null && p.querySelector('.runner-exit') !== null;"
    );
    // The first run may build the demo.
    if !wait_until(client, &ended, Duration::from_secs(300)).await? {
        let panel = script(
            client,
            &format!(
                "const p = document.querySelector('.runner-panel[data-demo=\"{id}\"]');
                 return p === null ? 'no panel' : p.innerText.slice(0, 800);"
            ),
        )
        .await?;
        return Err(format!(
            "{page}: {demo} did not finish; the panel shows:\n{}",
            panel.as_str().unwrap_or_default()
        ));
    }
    let text = script(
        client,
        &format!("return document.querySelector('.runner-panel[data-demo=\"{id}\"] .runner-output').textContent;"),
    )
    .await?;
    Ok(text.as_str().unwrap_or_default().to_string())
}
