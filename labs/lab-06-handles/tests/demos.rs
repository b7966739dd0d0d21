//! Chapter 6 demos run as a reader runs them: bad-handles' typed errors, serve-handle
//! started without a channel.

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
