//! The book as a reader gets it: built with `mdbook build` into a scratch directory and
//! served over HTTP on 127.0.0.1 (pages opened from `file://` behave differently: no
//! fetch of the search index, other security rules).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tokio::net::TcpListener;

/// A built book: the directory that holds `index.html`, and mdBook's log lines that say
/// ERROR (mdBook logs some failures, such as a preprocessor that failed, and goes on).
#[derive(Debug)]
pub struct Built {
    pub html: PathBuf,
    pub errors: Vec<String>,
}

/// `mdbook build BOOK -d OUT`. With more than one renderer (the book also runs
/// linkcheck2) mdBook puts the HTML under `OUT/html`.
pub fn build(book: &Path, out: &Path) -> Result<Built, String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let mut cmd = Command::new("mdbook");
    cmd.arg("build")
        .arg(book)
        .arg("-d")
        .arg(out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let finished = labkit::run_for(&mut cmd, std::time::Duration::from_secs(600))
        .map_err(|e| format!("cannot run mdbook: {e}"))?;
    let log = format!("{}{}", finished.stdout, finished.stderr);
    let errors: Vec<String> = log
        .lines()
        .filter(|l| l.contains("ERROR"))
        .map(|l| format!("mdbook build: {}", l.trim()))
        .collect();
    if !finished.status.success() {
        let mut errors = errors;
        errors.push(format!(
            "mdbook build failed ({}): {}",
            labkit::run::outcome(finished.status),
            log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
        ));
        return Err(errors.join("\n"));
    }
    let html = [out.join("html"), out.to_path_buf()]
        .into_iter()
        .find(|dir| dir.join("index.html").is_file())
        .ok_or_else(|| format!("no index.html under {}", out.display()))?;
    Ok(Built { html, errors })
}

/// Serve `dir` on 127.0.0.1 at a port the kernel picks; the server runs until the runtime
/// stops.
pub async fn serve(dir: &Path) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
