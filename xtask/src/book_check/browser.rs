//! Headless Chromium driven over WebDriver: `chromedriver` started by us on a port it picks,
//! and a `fantoccini` client.
//!
//! Why WebDriver (fantoccini + Debian's chromium-driver) and not the DevTools protocol or
//! Playwright: the checks need five things — load a page, run a script in it, type into
//! the search bar, take a screenshot, and read the browser's log — and WebDriver does all
//! of them with a small, well-kept client; ChromeDriver's log endpoint reports both console
//! errors and failed requests ("Failed to load resource: … 404"). A CDP client would add
//! a generated protocol crate many times larger, and Playwright a second package manager.

use std::io;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use labkit::ChildGuard;
use serde_json::{Value, json};

/// The browser binary and its driver, as Debian packages them.
pub const CHROMIUM: &str = "chromium";
pub const CHROMEDRIVER: &str = "chromedriver";

/// Window size for the screenshots: a laptop screen.
const WINDOW: &str = "--window-size=1280,900";

/// A running `chromedriver` (and the browsers it starts), killed with its process group when
/// dropped; then its scratch directory is removed.
#[derive(Debug)]
pub struct Driver {
    // Fields drop in this order: the processes first, then the directory they wrote in.
    _process: ChildGuard,
    _scratch: tempfile::TempDir,
    pub port: u16,
}

impl Driver {
    /// Start `chromedriver --port=0` and read the port it chose from its startup line.
    pub fn start() -> io::Result<Driver> {
        // ChromeDriver and Chromium make their profile and scratch directories under
        // TMPDIR, and a browser killed with its group never removes them: give them one
        // of ours, removed when the driver is dropped.
        let scratch = tempfile::Builder::new().prefix("book-check-").tempdir()?;
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg("--port=0")
            .env("TMPDIR", scratch.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut process = ChildGuard::spawn(&mut cmd).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {CHROMEDRIVER}: {e} (Debian: apt-get install chromium chromium-driver)"),
            )
        })?;
        let mut lines = process.stdout_lines();
        // "ChromeDriver was started successfully on port 45823."
        let line = lines.wait_for(
            "ChromeDriver was started successfully",
            labkit::DEFAULT_TIMEOUT,
        )?;
        let port = line
            .trim_end_matches('.')
            .rsplit(' ')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no port in {line:?}")))?;
        Ok(Driver {
            _process: process,
            _scratch: scratch,
            port,
        })
    }

    /// A new headless browser session that keeps its console log.
    pub async fn session(&self) -> Result<Client, String> {
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": which(CHROMIUM).unwrap_or_else(|| CHROMIUM.into()),
                // The flags that keep a headless browser quiet on a machine without internet:
                // without the background-networking ones it keeps trying Google's hosts.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-default-apps", "--disable-extensions", WINDOW,
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .map_err(|e| format!("cannot open a browser session: {e}"))
    }
}

/// Where `program` is on PATH.
pub fn which(program: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// One entry of the browser's log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, …
    pub level: String,
    /// `console-api` (a script's console.error), `network` (a failed request),
    /// `javascript` (an uncaught exception), …
    pub source: String,
    pub message: String,
}

/// ChromeDriver's log endpoint (`POST /session/ID/se/log {"type": "browser"}`), which
/// fantoccini does not wrap. It returns the entries since the previous call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// The log entries since the last call.
pub async fn take_log(client: &Client) -> Result<Vec<LogEntry>, String> {
    let value = client
        .issue_cmd(BrowserLog)
        .await
        .map_err(|e| format!("cannot read the browser log: {e}"))?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    Ok(value
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| LogEntry {
                    level: text(e, "level"),
                    source: text(e, "source"),
                    message: text(e, "message"),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Poll a script until it returns `true` or the time is up; returns its last value.
pub async fn wait_until(client: &Client, script: &str, timeout: Duration) -> Result<bool, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(20);
    loop {
        let value = client
            .execute(script, vec![])
            .await
            .map_err(|e| format!("script failed: {e}"))?;
        if value == Value::Bool(true) {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
