//! Running one demo: build it with cargo, start it without a shell in a process group of its
//! own, stream its output and its process tree, and kill the group when the run ends, is
//! cancelled, runs out of time, or the page goes away.

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::mpsc;

use super::State;
use super::allow::Runnable;
use super::procs;

/// How often the live view is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Kills the demo's process group when dropped, whatever ended the run.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // ESRCH: the whole group is already gone, which is the normal end.
        let _ = killpg(Pid::from_raw(self.0 as i32), Signal::SIGKILL);
    }
}

/// Send an event; `false` when the page has gone away (its stream was dropped).
async fn emit(tx: &mpsc::Sender<Value>, event: Value) -> bool {
    tx.send(event).await.is_ok()
}

/// Build the demo's binary, streaming cargo's messages as `build` events; returns where
/// cargo put it (cargo says so in its JSON messages, which honours `CARGO_TARGET_DIR` and
/// `build.target-dir`), or `None` when the page went away.
async fn build(
    state: &State,
    demo: &Runnable,
    tx: &mpsc::Sender<Value>,
) -> Result<Option<PathBuf>, String> {
    let root = &state.root;
    let mut cmd = tokio::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
    cmd.current_dir(root)
        .args(["build", "-p", &demo.package, "--bin", demo.command.bin()])
        .args(["--message-format", "json-render-diagnostics"])
        .args(demo.command.release().then_some("--release"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let cargo_pid = child.id().unwrap_or(0);
    state.own_child(cargo_pid, true);
    let result = build_output(&mut child, demo.command.bin(), tx).await;
    state.own_child(cargo_pid, false);
    result
}

async fn build_output(
    child: &mut tokio::process::Child,
    bin: &str,
    tx: &mpsc::Sender<Value>,
) -> Result<Option<PathBuf>, String> {
    // stdout: one JSON message per line; read it beside stderr so neither pipe fills up.
    let mut messages = BufReader::new(child.stdout.take().expect("piped")).lines();
    let bin_name = bin.to_string();
    let executable = tokio::spawn(async move {
        let mut found = None;
        while let Ok(Some(line)) = messages.next_line().await {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if message["reason"] == "compiler-artifact"
                && message["target"]["name"] == bin_name.as_str()
                && let Some(path) = message["executable"].as_str()
            {
                found = Some(PathBuf::from(path));
            }
        }
        found
    });
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if !emit(tx, json!({ "type": "build", "text": line + "\n" })).await {
            return Ok(None);
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "cargo build failed: {}",
            labkit::run::outcome(status)
        ));
    }
    match executable.await {
        Ok(Some(path)) => Ok(Some(path)),
        _ => Err(format!("cargo built {bin} but did not say where")),
    }
}

/// Read a pipe in chunks and forward them as `stream` events until end of file.
fn forward(
    mut pipe: impl AsyncRead + Unpin + Send + 'static,
    stream: &'static str,
    tx: mpsc::Sender<Value>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    if tx
                        .send(json!({ "type": stream, "text": text }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    })
}

/// One run, start to end; every event goes to `tx`.
pub async fn drive(state: State, demo: Runnable, tx: mpsc::Sender<Value>) {
    let result = drive_inner(&state, &demo, &tx).await;
    if let Err(message) = result {
        let _ = emit(&tx, json!({ "type": "error", "message": message })).await;
    }
    state.finished(demo.id);
}

async fn drive_inner(
    state: &State,
    demo: &Runnable,
    tx: &mpsc::Sender<Value>,
) -> Result<(), String> {
    let root = &state.root;
    let binary = if state.prebuilt {
        demo.binary(&target_dir(root))
    } else {
        match build(state, demo, tx).await? {
            Some(path) => path,
            None => return Ok(()), // the page went away during the build
        }
    };
    let c = &demo.command;
    let mut cmd = std::process::Command::new(&binary);
    // argv[0] as the page writes it: `./target/debug/card`, or the absolute path for
    // `"$PWD/target/…"` and `cargo run` (which runs the binary by its full path).
    let shown_path = format!(
        "./target/{}/{}",
        if c.release() { "release" } else { "debug" },
        c.bin()
    );
    let runs_by_cargo = matches!(c.program, book_tests::demos::Program::CargoRun { .. });
    if !c.absolute && !runs_by_cargo {
        cmd.arg0(shown_path);
    }
    cmd.args(&c.args)
        .current_dir(c.cwd.as_deref().map(Path::new).unwrap_or(root))
        .stdin(Stdio::null())
        .process_group(0);
    if c.clear_env {
        cmd.env_clear();
    }
    cmd.envs(c.env.iter().map(|(k, v)| (k, v)));
    let (out_reader, err_reader): (OwnedFd, Option<OwnedFd>) = if c.merge_stderr {
        // `2>&1 | cat`: one pipe for both.
        let (reader, writer) = std::io::pipe().map_err(|e| e.to_string())?;
        let writer2 = writer.try_clone().map_err(|e| e.to_string())?;
        cmd.stdout(writer).stderr(writer2);
        (reader.into(), None)
    } else {
        let (out_r, out_w) = std::io::pipe().map_err(|e| e.to_string())?;
        let (err_r, err_w) = std::io::pipe().map_err(|e| e.to_string())?;
        cmd.stdout(out_w).stderr(err_w);
        (out_r.into(), Some(err_r.into()))
    };
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    // The Command held the write ends; they were closed in this process when it was
    // dropped by spawn, so end of file comes when the demo's processes close theirs.
    drop(cmd);
    let pid = child.id().ok_or("the demo exited before it was seen")?;
    let _group = GroupGuard(pid);
    state.own_child(pid, true);
    let outcome = async {
        emit(tx, json!({ "type": "start", "pid": pid })).await;
        let out = forward(pipe_reader(out_reader)?, "stdout", tx.clone());
        let err = match err_reader {
            Some(fd) => Some(forward(pipe_reader(fd)?, "stderr", tx.clone())),
            None => None,
        };
        let deadline = tokio::time::Instant::now() + state.time_limit;
        let mut adopted = BTreeSet::new();
        // One sample right away, before waiting: a demo that ends within milliseconds is
        // still seen once.
        let first: Vec<Value> = procs::sample(pid, &adopted).iter().map(|p| p.to_json()).collect();
        emit(tx, json!({ "type": "procs", "procs": first })).await;
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.tick().await;
        let status = loop {
            tokio::select! {
                status = child.wait() => break Ok(status.map_err(|e| e.to_string())?),
                _ = tick.tick() => {
                    adopted.extend(state.adopt());
                    let view: Vec<Value> = procs::sample(pid, &adopted).iter().map(|p| p.to_json()).collect();
                    if !emit(tx, json!({ "type": "procs", "procs": view })).await {
                        break Err("the page went away".to_string());
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break Err(format!("time limit ({:?}) reached: the demo's group was killed", state.time_limit));
                }
            }
        };
        // Output still in the pipes comes before the exit line; a process that left the
        // group and kept the pipe open (a daemon that did not close it) is not waited for.
        for task in [Some(out), err].into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        // What is left once the leader is gone (processes that outlived it), if anything:
        // an empty table would only erase the last view.
        let view: Vec<Value> = procs::sample(pid, &adopted).iter().map(|p| p.to_json()).collect();
        if !view.is_empty() {
            emit(tx, json!({ "type": "procs", "procs": view })).await;
        }
        status
    }
    .await;
    state.own_child(pid, false);
    match outcome {
        Ok(status) => {
            emit(
                tx,
                json!({ "type": "exit", "outcome": labkit::run::outcome(status) }),
            )
            .await;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Where cargo builds: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn pipe_reader(fd: OwnedFd) -> Result<tokio::net::unix::pipe::Receiver, String> {
    tokio::net::unix::pipe::Receiver::from_owned_fd(fd).map_err(|e| e.to_string())
}
