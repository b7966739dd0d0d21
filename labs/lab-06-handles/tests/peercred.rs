//! Chapter 6: refusing a peer that runs as another user (`SO_PEERCRED`). A lab binary,
//! `connect-as`, drops to `nobody` *before* it connects: a socketpair made before the
//! drop would still report the creator's uid. Needs root (as in CI) to change uid.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

use lab_06::{HandleChannel, HandleError};
use labkit::{ChildGuard, Redactor, demo};

/// `accept_same_uid` on a non-blocking listener, retried until a client connects: a
/// client that fails before connecting makes the test fail at the time-out, not hang.
fn accept(listener: &UnixListener) -> Result<HandleChannel, HandleError> {
    labkit::eventually(
        labkit::DEFAULT_TIMEOUT,
        || match HandleChannel::accept_same_uid(listener) {
            Err(HandleError::Channel(lab_05::ChannelError::Io(e)))
                if e.kind() == std::io::ErrorKind::WouldBlock =>
            {
                Err("no client yet".to_string())
            }
            other => Ok(other),
        },
    )
    .expect("a client connects")
}

fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI runs as root: the SO_PEERCRED test must run"
    );
    eprintln!("skipping: changing uid needs root (run as root to see this test)");
    false
}

// ANCHOR: peer_refused
#[test]
fn a_peer_with_another_uid_is_refused() {
    if !is_root() {
        return;
    }
    // A private directory that others may pass through (0711) but not list; the socket
    // itself must be writable to connect (0666).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let path = dir.path().join("handles.sock");
    let listener = UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap(); // see accept(): no hang if a client fails
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();

    let mut stranger = demo(env!("CARGO_BIN_EXE_connect-as"));
    stranger.args(["--user", "nobody"]).arg(&path);
    let mut stranger = ChildGuard::spawn(&mut stranger).unwrap();
    let refused = accept(&listener).unwrap_err();
    let HandleError::ForeignPeer { pid, uid, expected } = refused else {
        panic!("expected ForeignPeer, got {refused}")
    };
    assert_eq!((pid as u32, uid, expected), (stranger.pid(), 65534, 0));
    let stranger_out = stranger
        .stdout_lines()
        .rest(labkit::DEFAULT_TIMEOUT)
        .unwrap();
    assert!(stranger.wait().unwrap().success());

    let mut friend = demo(env!("CARGO_BIN_EXE_connect-as"));
    friend.arg(&path);
    let mut friend = ChildGuard::spawn(&mut friend).unwrap();
    let mut channel = accept(&listener).unwrap();
    channel.send("welcome").unwrap();
    drop(channel);
    let friend_out = friend.stdout_lines().rest(labkit::DEFAULT_TIMEOUT).unwrap();
    assert!(friend.wait().unwrap().success());
    // ANCHOR_END: peer_refused

    let text = format!(
        "connect-as --user nobody {sock}\n{}\nserver: {refused}\n\nconnect-as {sock}\n{}\n",
        stranger_out.join("\n"),
        friend_out.join("\n"),
        sock = "[DIR]/handles.sock",
        refused = HandleError::ForeignPeer { pid, uid, expected },
    );
    let _g = Redactor::new().settings().bind_to_scope();
    let redactor = Redactor::new().id(pid, "STRANGER");
    insta::assert_snapshot!("peer_refused", redactor.apply(&text));
}

#[test]
fn a_socketpair_keeps_the_uid_of_its_creator_after_the_child_drops_it() {
    if !is_root() {
        return;
    }
    let (ours, theirs) = lab_05::socket_pair().unwrap();
    let mut child = demo(env!("CARGO_BIN_EXE_connect-as"));
    child.args(["--user", "nobody", "--fd", "3"]);
    labkit::fd::place_fd(&mut child, theirs, 3);
    let mut child = ChildGuard::spawn(&mut child).unwrap();
    let mut lines = child.stdout_lines();
    // The child runs as nobody now...
    let said = lines
        .wait_for("connected as uid", labkit::DEFAULT_TIMEOUT)
        .unwrap();
    assert_eq!(said, "connected as uid 65534");
    // ...yet SO_PEERCRED still reports the uid of the process that made the pair: us.
    let cred =
        nix::sys::socket::getsockopt(&ours, nix::sys::socket::sockopt::PeerCredentials).unwrap();
    assert_eq!((cred.uid(), cred.pid() as u32), (0, std::process::id()));
    drop(ours); // the child reads end of file and exits
    lines.rest(labkit::DEFAULT_TIMEOUT).unwrap();
    assert!(child.wait().unwrap().success());
}
