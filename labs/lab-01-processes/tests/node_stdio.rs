//! Chapter 1 tests, Node.js side: the standard streams are objects whose kind depends on
//! what the fds are; writes to a pipe are asynchronous, so `process.exit()` loses what the
//! pipe did not take yet.

use std::io::Read;
use std::os::fd::AsFd;
use std::process::Stdio;

use labkit::{Redactor, demo};
use nix::fcntl::{FcntlArg, fcntl};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

#[test]
fn node_stdio_streams_depend_on_what_the_fds_are() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR)
        .arg("stdio.js")
        .stderr(Stdio::null());
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "node_stdio",
        finished.transcript("node stdio.js < /dev/null 2>/dev/null | cat")
    );
}

/// Run `node flood.js BYTES` with stdout on a 64 KiB pipe that nobody reads until node
/// has exited; return how many bytes arrived.
fn bytes_through_an_unread_pipe(bytes: usize) -> usize {
    let (mut reader, writer) = std::io::pipe().unwrap();
    // The default capacity is 16 pages (64 KiB with 4 KiB pages); set it so that the
    // result does not depend on the page size.
    fcntl(writer.as_fd(), FcntlArg::F_SETPIPE_SZ(65536)).unwrap();
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR)
        .arg("flood.js")
        .arg(bytes.to_string())
        .stdout(writer);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    drop(cmd); // our copy of the write end
    let mut received = Vec::new();
    reader.read_to_end(&mut received).unwrap();
    received.len()
}

#[test]
fn process_exit_loses_what_the_pipe_did_not_take() {
    if !labkit::require_tool("node") {
        return;
    }
    let mut runs: Vec<String> = [1000, 204_800]
        .iter()
        .map(|&bytes| {
            format!(
                "$ node flood.js {bytes} | (sleep 1; wc -c)\n{}",
                bytes_through_an_unread_pipe(bytes)
            )
        })
        .collect();
    // Without process.exit(), Node waits until the pipe has taken everything, so this run
    // needs a reader while it runs: labkit::run drains stdout as it arrives.
    let mut cmd = demo("node");
    cmd.current_dir(NODE_DIR)
        .args(["flood.js", "204800", "--let-it-end"]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    runs.push(format!(
        "$ node flood.js 204800 --let-it-end | (sleep 1; wc -c)\n{}",
        finished.stdout.len()
    ));
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_flood", runs.join("\n"));
}
