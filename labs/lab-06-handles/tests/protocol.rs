//! Chapter 6 tests, in one process over socketpairs: handles arrive acked and rebuild as
//! listener and stream; every later message waits for the ack; a nack makes the sender
//! resend three times; envelopes without fds, fds without envelopes and unknown types are
//! typed errors that close what they must.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use lab_06::exercises::{check_kind, same_description};
use lab_06::scm::{recv_fds, send_fds};
use lab_06::{HandleChannel, HandleError, HandleKind, Incoming, Sent, fd_target};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use serde_json::{Value, json};

/// A channel and the raw other end, for playing the peer by hand.
fn raw_pair() -> (HandleChannel, UnixStream) {
    let (a, b) = lab_05::socket_pair().unwrap();
    let raw = UnixStream::from(b);
    raw.set_read_timeout(Some(labkit::DEFAULT_TIMEOUT)).unwrap();
    (HandleChannel::from(a), raw)
}

/// One read on the raw end: the text and how many fds came with it (closed at once).
fn read_raw(raw: &UnixStream) -> (String, usize) {
    let mut buf = [0u8; 4096];
    let got = recv_fds(raw.as_fd(), &mut buf, 8).unwrap();
    (
        String::from_utf8_lossy(&buf[..got.bytes]).into_owned(),
        got.fds.len(),
    )
}

/// Whether anything is waiting to be read on `raw`, without blocking.
fn nothing_waiting(raw: &UnixStream) -> bool {
    raw.set_nonblocking(true).unwrap();
    let r = (&*raw).read(&mut [0u8; 1]);
    raw.set_nonblocking(false).unwrap();
    matches!(r, Err(e) if e.kind() == ErrorKind::WouldBlock)
}

/// A connected pair of sockets whose second end reads end-of-file once every copy of the
/// first end is closed: the way to prove an fd we handed over got closed.
fn watched_fd() -> (OwnedFd, UnixStream) {
    let (a, b) = lab_05::socket_pair().unwrap();
    let watcher = UnixStream::from(b);
    watcher
        .set_read_timeout(Some(labkit::DEFAULT_TIMEOUT))
        .unwrap();
    (a, watcher)
}

fn closed(watcher: &mut UnixStream) -> bool {
    matches!(watcher.read(&mut [0u8; 1]), Ok(0))
}

#[test]
fn a_listener_arrives_acked_under_another_number_and_serves() {
    let (mut parent, mut child) = HandleChannel::pair().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sent_no, sent_target) = (listener.as_raw_fd(), fd_target(listener.as_fd()));
    let sent = parent
        .send_handle(HandleKind::Server, &json!({"n": 1}), listener.into(), None)
        .unwrap();
    assert_eq!(sent, Sent::Written);
    assert!(parent.awaiting_ack());
    let Some(Incoming::Handle(h)) = child.recv().unwrap() else {
        panic!("expected a handle")
    };
    assert_eq!(
        (h.kind, &h.msg, &h.key),
        (HandleKind::Server, &json!({"n": 1}), &None)
    );
    // The same socket under a new number, and close-on-exec (MSG_CMSG_CLOEXEC).
    assert_ne!(h.fd.as_raw_fd(), sent_no);
    assert_eq!(fd_target(h.fd.as_fd()), sent_target);
    assert!(sent_target.starts_with("socket:["), "{sent_target}");
    let flags = FdFlag::from_bits_truncate(fcntl(&h.fd, FcntlArg::F_GETFD).unwrap());
    assert!(flags.contains(FdFlag::FD_CLOEXEC));
    parent.wait_ack().unwrap(); // the child acked on receipt
    assert!(!parent.awaiting_ack());
    let listener = h.into_listener().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (mut served, _) = listener.accept().unwrap();
    served.write_all(b"hi").unwrap();
    let mut got = [0u8; 2];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"hi");
}

#[test]
fn a_socket_with_its_key_arrives_as_a_stream() {
    let (mut parent, mut child) = HandleChannel::pair().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    let key = "4:127.0.0.1:8000"; // the form of Node's server._connectionKey
    parent
        .send_handle(HandleKind::Socket, "conn", accepted.into(), Some(key))
        .unwrap();
    let Some(Incoming::Handle(h)) = child.recv().unwrap() else {
        panic!("expected a handle")
    };
    assert_eq!(h.key.as_deref(), Some(key));
    assert!(h.kind == HandleKind::Socket);
    let mut stream = h.into_stream().unwrap();
    parent.wait_ack().unwrap(); // our copy is closed now; the child's keeps the connection
    stream.write_all(b"from the child").unwrap();
    drop(stream);
    let mut got = String::new();
    client.read_to_string(&mut got).unwrap();
    assert_eq!(got, "from the child");
}

#[test]
fn a_handle_of_the_wrong_kind_is_not_rebuilt() {
    let (mut parent, mut child) = HandleChannel::pair().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    parent
        .send_handle(HandleKind::Socket, "lie", listener.into(), None)
        .unwrap();
    let Some(Incoming::Handle(h)) = child.recv().unwrap() else {
        panic!("expected a handle")
    };
    assert!(h.into_listener().is_err(), "a net.Socket is not a listener");
}

/// Everything the raw end reads until end of file: the text and the number of fds.
fn read_to_eof(raw: &UnixStream) -> (String, usize) {
    let (mut text, mut fds) = (String::new(), 0);
    loop {
        let (t, n) = read_raw(raw);
        if t.is_empty() {
            return (text, fds);
        }
        text.push_str(&t);
        fds += n;
    }
}

// ANCHOR: waits_for_ack
#[test]
fn every_later_message_waits_for_the_ack_and_so_does_disconnect() {
    let (mut sender, raw) = raw_pair();
    let (fd1, mut watch1) = watched_fd();
    let (fd2, mut watch2) = watched_fd();
    let one = sender
        .send_handle(HandleKind::Server, "one", fd1, None)
        .unwrap();
    let plain = sender.send(&json!("plain")).unwrap();
    let two = sender
        .send_handle(HandleKind::Server, "two", fd2, None)
        .unwrap();
    assert_eq!(
        (one, plain, two),
        (Sent::Written, Sent::Queued, Sent::Queued)
    );
    let (text, fds) = read_raw(&raw);
    assert!(text.contains(r#""msg":"one""#) && fds == 1, "{text}");
    assert!(
        nothing_waiting(&raw),
        "nothing may overtake the handle in flight"
    );
    // Two acks wait in the socket; disconnect must read them and flush the queue first.
    (&raw)
        .write_all(b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n".repeat(2).as_slice())
        .unwrap();
    sender.disconnect().unwrap();
    let (text, fds) = read_to_eof(&raw);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], json!("plain"));
    assert_eq!(lines[1]["msg"], "two");
    assert_eq!(fds, 1, "the second handle came with its own fd");
    // Each ack closed the sender's copy; read_raw closed ours: both sockets are gone.
    assert!(closed(&mut watch1) && closed(&mut watch2));
}
// ANCHOR_END: waits_for_ack

#[test]
fn a_nack_is_answered_by_resending_three_times_then_the_handle_is_closed() {
    let (mut sender, raw) = raw_pair();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    sender
        .send_handle(HandleKind::Server, "lost", listener.into(), None)
        .unwrap();
    sender.send(&json!("after")).unwrap(); // queued behind it
    (&raw)
        .write_all(b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n".repeat(4).as_slice())
        .unwrap();
    let err = sender.wait_ack().unwrap_err();
    assert!(
        matches!(err, HandleError::NotDelivered { retransmissions: 3 }),
        "{err}"
    );
    let mut envelopes = 0;
    let mut text = String::new();
    while !text.contains("after") {
        let (t, fds) = read_raw(&raw);
        if t.contains("NODE_HANDLE") {
            assert_eq!(fds, 1, "each resend carries the fd again: {t}");
            envelopes += 1;
        }
        text.push_str(&t);
    }
    assert_eq!(envelopes, 4, "the first send and three resends: {text}");
    // The sender closed its copy, and we closed the received ones: nobody listens.
    let refused = TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn an_envelope_without_an_fd_is_nacked_and_the_channel_goes_on() {
    let (mut receiver, raw) = raw_pair();
    (&raw)
        .write_all(b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":1}\n{\"n\":2}\n")
        .unwrap();
    let err = receiver.recv().unwrap_err();
    assert!(matches!(err, HandleError::MissingFd), "{err}");
    assert!(err.is_recoverable());
    assert_eq!(read_raw(&raw).0, "{\"cmd\":\"NODE_HANDLE_NACK\"}\n");
    let Some(Incoming::Message(m)) = receiver.recv().unwrap() else {
        panic!("the next message")
    };
    assert_eq!(m, json!({"n": 2}));
}

#[test]
fn an_fd_without_an_envelope_is_closed_and_reported() {
    let (mut receiver, raw) = raw_pair();
    let (fd, mut watch) = watched_fd();
    send_fds(raw.as_fd(), b"{\"plain\":1}\n", &[fd.as_fd()]).unwrap();
    drop(fd); // the receiver holds the only copy now
    let err = receiver.recv().unwrap_err();
    assert!(matches!(err, HandleError::FdWithoutEnvelope), "{err}");
    assert!(closed(&mut watch), "the stray fd was closed");
    let Some(Incoming::Message(m)) = receiver.recv().unwrap() else {
        panic!("the message itself still arrives")
    };
    assert_eq!(m, json!({"plain": 1}));
}

#[test]
fn an_unknown_type_is_acked_reported_and_closed() {
    let (mut receiver, raw) = raw_pair();
    let (fd, mut watch) = watched_fd();
    let line = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"msg\":null}\n";
    send_fds(raw.as_fd(), line, &[fd.as_fd()]).unwrap();
    drop(fd);
    let err = receiver.recv().unwrap_err();
    assert!(
        matches!(&err, HandleError::UnknownType(t) if t == "dgram.Socket"),
        "{err}"
    );
    assert_eq!(read_raw(&raw).0, "{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
    assert!(closed(&mut watch));
}

#[test]
fn plain_bytes_before_an_fd_in_one_read_do_not_take_it() {
    let (mut receiver, raw) = raw_pair();
    let (fd, _watch) = watched_fd();
    (&raw).write_all(b"{\"first\":1}\n").unwrap();
    let envelope = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":2}\n";
    send_fds(raw.as_fd(), envelope, &[fd.as_fd()]).unwrap();
    // One recvmsg may return both writes; the fd must still go to the envelope.
    let first = receiver.recv().unwrap();
    assert!(
        matches!(first, Some(Incoming::Message(ref m)) if m["first"] == 1),
        "{first:?}"
    );
    let second = receiver.recv().unwrap();
    assert!(
        matches!(second, Some(Incoming::Handle(ref h)) if h.msg == 2),
        "{second:?}"
    );
}

#[test]
fn the_envelope_is_the_one_node_writes() {
    let (mut sender, raw) = raw_pair();
    let (fd, _watch) = watched_fd();
    sender
        .send_handle(
            HandleKind::Socket,
            &json!({"a": 1}),
            fd,
            Some("4:0.0.0.0:80"),
        )
        .unwrap();
    let (text, fds) = read_raw(&raw);
    let got: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        got,
        json!({"cmd": "NODE_HANDLE", "type": "net.Socket", "msg": {"a": 1}, "key": "4:0.0.0.0:80"})
    );
    assert_eq!(fds, 1);
}

#[test]
fn exercise_check_kind_asks_the_kernel() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert!(check_kind(listener.as_fd(), HandleKind::Server).is_ok());
    assert!(check_kind(client.as_fd(), HandleKind::Socket).is_ok());
    assert!(check_kind(listener.as_fd(), HandleKind::Socket).is_err());
    assert!(check_kind(client.as_fd(), HandleKind::Server).is_err());
    let file = std::fs::File::open("/dev/null").unwrap();
    let err = check_kind(file.as_fd(), HandleKind::Socket).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        check_kind(udp.as_fd(), HandleKind::Socket)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidData
    );
}

#[test]
fn exercise_same_description_sees_through_numbers_not_paths() {
    let (a, b) = lab_05::socket_pair().unwrap();
    assert!(
        same_description(&a, a.try_clone().unwrap()).unwrap(),
        "a dup"
    );
    assert!(
        !same_description(&a, &b).unwrap(),
        "two ends are two sockets"
    );
    // One file, two opens: the same inode, two descriptions.
    let (n1, n2) = (
        File::open("/dev/null").unwrap(),
        File::open("/dev/null").unwrap(),
    );
    assert!(
        !same_description(&n1, &n2).unwrap(),
        "two opens of one path"
    );
    // Through SCM_RIGHTS: a new number, the same description.
    let (mut tx, mut rx) = HandleChannel::pair().unwrap();
    tx.send_handle(HandleKind::Socket, "x", a.try_clone().unwrap(), None)
        .unwrap();
    let Some(Incoming::Handle(h)) = rx.recv().unwrap() else {
        panic!("expected a handle")
    };
    assert_ne!(h.fd.as_raw_fd(), a.as_raw_fd());
    // Whatever the flag was, it is left as it was.
    for nonblocking in [false, true] {
        UnixStream::from(a.try_clone().unwrap())
            .set_nonblocking(nonblocking)
            .unwrap();
        assert!(same_description(&h.fd, &a).unwrap());
        assert_eq!(lab_06::is_nonblocking(a.as_fd()).unwrap(), nonblocking);
        assert!(!same_description(&b, &a).unwrap());
        assert_eq!(lab_06::is_nonblocking(a.as_fd()).unwrap(), nonblocking);
        assert!(!lab_06::is_nonblocking(b.as_fd()).unwrap());
    }
}

#[test]
fn a_read_that_brings_fds_ends_with_the_sendmsg_that_carried_them() {
    let (a, b) = lab_05::socket_pair().unwrap();
    let (tx, rx) = (UnixStream::from(a), UnixStream::from(b));
    let (fd, _watch) = watched_fd();
    (&tx).write_all(b"plain\n").unwrap();
    send_fds(tx.as_fd(), b"with fd\n", &[fd.as_fd()]).unwrap();
    (&tx).write_all(b"after\n").unwrap();
    // The kernel joins the plain bytes before it with the fd's bytes, and stops there.
    assert_eq!(read_raw(&rx), ("plain\nwith fd\n".to_string(), 1));
    assert_eq!(read_raw(&rx), ("after\n".to_string(), 0));
}

#[test]
fn an_envelope_without_an_fd_does_not_steal_the_next_ones_fd() {
    let (mut receiver, raw) = raw_pair();
    let (fd, _watch) = watched_fd();
    (&raw)
        .write_all(b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":1}\n")
        .unwrap();
    let envelope = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":2}\n";
    send_fds(raw.as_fd(), envelope, &[fd.as_fd()]).unwrap();
    // Both lines come in one read (the test above); the fd belongs to the second.
    assert_eq!(receiver.recv().unwrap_err().kind(), "MissingFd");
    let second = receiver.recv().unwrap();
    assert!(
        matches!(second, Some(Incoming::Handle(ref h)) if h.msg == 2),
        "{second:?}"
    );
    let (answers, _) = read_raw(&raw);
    assert_eq!(
        answers,
        "{\"cmd\":\"NODE_HANDLE_NACK\"}\n{\"cmd\":\"NODE_HANDLE_ACK\"}\n"
    );
}

#[test]
fn wait_ack_timeout_gives_up_waiting_but_keeps_the_handle_in_flight() {
    let (mut sender, raw) = raw_pair();
    let (fd, mut watch) = watched_fd();
    sender
        .send_handle(HandleKind::Socket, "x", fd, None)
        .unwrap();
    let timeout = std::time::Duration::from_millis(50);
    let err = sender.wait_ack_timeout(timeout).unwrap_err();
    assert!(
        matches!(err, HandleError::AckTimedOut { timeout: t } if t == timeout),
        "{err}"
    );
    assert!(sender.awaiting_ack(), "still in flight");
    (&raw)
        .write_all(b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n")
        .unwrap();
    sender.wait_ack_timeout(labkit::DEFAULT_TIMEOUT).unwrap();
    assert!(!sender.awaiting_ack());
    drop(raw); // the peer's received copy is in raw's queue: closed with it
    assert!(closed(&mut watch), "the ack closed our copy");
}

#[test]
fn send_fds_without_bytes_is_an_error_not_a_panic() {
    let (_receiver, raw) = raw_pair();
    let (fd, _watch) = watched_fd();
    let err = send_fds(raw.as_fd(), b"", &[fd.as_fd()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn a_nonblocking_listener_stays_nonblocking_when_rebuilt() {
    let (mut parent, mut child) = HandleChannel::pair().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap(); // as Node's event loop leaves it
    parent
        .send_handle(HandleKind::Server, "s", listener.into(), None)
        .unwrap();
    let Some(Incoming::Handle(h)) = child.recv().unwrap() else {
        panic!("expected a handle")
    };
    let listener = h.into_listener().unwrap(); // From<OwnedFd>: the fd as it is
    // No client yet: a blocking accept would wait; this one fails at once.
    let first = listener.incoming().next().unwrap().unwrap_err();
    assert_eq!(first.kind(), ErrorKind::WouldBlock);
}

/// What a program we start sees at `/proc/self/fd/N`: the link, or nothing if the fd was
/// not inherited.
fn seen_by_a_child(n: i32) -> Option<String> {
    let out = std::process::Command::new("readlink")
        .arg(format!("/proc/self/fd/{n}"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn without_msg_cmsg_cloexec_a_received_fd_leaks_into_the_programs_we_start() {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, UnixAddr, recvmsg};
    use std::io::IoSliceMut;
    use std::os::fd::FromRawFd;
    let (a, b) = lab_05::socket_pair().unwrap();
    let (tx, rx) = (UnixStream::from(a), UnixStream::from(b));
    let (fd, _watch) = watched_fd();
    let target = fd_target(fd.as_fd());
    // Received without the flag (nix's recvmsg, flags empty):
    send_fds(tx.as_fd(), b"x", &[fd.as_fd()]).unwrap();
    let mut buf = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        rx.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .unwrap();
    let Some(ControlMessageOwned::ScmRights(raw)) = msg.cmsgs().unwrap().next() else {
        panic!("expected one fd")
    };
    // SAFETY: the fd is new in this process and owned by nobody else.
    let plain = unsafe { OwnedFd::from_raw_fd(raw[0]) };
    assert_eq!(seen_by_a_child(plain.as_raw_fd()), Some(target.clone()));
    // Received by recv_fds, with MSG_CMSG_CLOEXEC: the exec closes it.
    send_fds(tx.as_fd(), b"x", &[fd.as_fd()]).unwrap();
    let got = recv_fds(rx.as_fd(), &mut buf, 1).unwrap();
    let n = got.fds[0].as_raw_fd();
    assert_eq!(fd_target(got.fds[0].as_fd()), target);
    assert_ne!(seen_by_a_child(n), Some(target));
}
