//! Chapter 6 demos run as a reader runs them: bad-handles' typed errors, serve-handle
//! started without a channel.

use std::io::Write;

use labkit::{Redactor, demo};

#[test]
fn bad_handles_shows_each_typed_error() {
    let finished = labkit::run(&mut demo(env!("CARGO_BIN_EXE_bad-handles"))).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    for kind in [
        "MissingFd",
        "ControlTruncated",
        "FdWithoutEnvelope",
        "UnknownType",
        "NotDelivered",
    ] {
        assert!(
            finished.stdout.contains(&format!("{kind} error")),
            "{kind}: {finished:?}"
        );
    }
    // At the fd limit the kernel truncates too: one fd installed, two closed.
    assert!(
        finished
            .stdout
            .contains("one free fd number:\n  recv  -> ControlTruncated")
            && finished.stdout.contains("we closed the 1 that arrived"),
        "{finished:?}"
    );
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "bad_handles",
        finished.transcript("./target/debug/bad-handles")
    );
}

#[test]
fn serve_handle_without_a_channel_says_so_in_one_line() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_serve-handle"));
    cmd.env_remove("NODE_CHANNEL_FD");
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1));
    assert_eq!(finished.stderr.lines().count(), 1, "{finished:?}");
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "serve_handle_no_channel",
        finished.transcript("./target/debug/serve-handle")
    );
}

#[test]
fn serve_handle_names_an_unexpected_first_message_in_one_line() {
    let (ours, theirs) = lab_05::socket_pair().unwrap();
    let mut cmd = demo(env!("CARGO_BIN_EXE_serve-handle"));
    cmd.env("NODE_CHANNEL_FD", "3");
    labkit::fd::place_fd(&mut cmd, theirs, 3);
    let ours = std::os::unix::net::UnixStream::from(ours);
    (&ours).write_all(b"{\"hi\":1}\n").unwrap();
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1));
    assert_eq!(
        finished.stderr,
        "serve-handle: expected a net.Server, got the plain message {\"hi\":1}\n"
    );
}

#[test]
fn send_listener_without_node_says_which_program_is_missing() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_send-listener"));
    cmd.env("PATH", "/nonexistent");
    let finished = labkit::run(&mut cmd).unwrap();
    assert_eq!(finished.status.code(), Some(1));
    assert_eq!(finished.stderr.lines().count(), 1, "{finished:?}");
    assert!(
        finished
            .stderr
            .starts_with("send-listener: cannot start `node` (is Node.js on PATH?): "),
        "{finished:?}"
    );
}
