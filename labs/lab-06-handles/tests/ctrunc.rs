//! Chapter 6: truncated control data (`MSG_CTRUNC`). Alone in its own test binary, so
//! that counting `/proc/self/fd` is not disturbed by other tests opening files.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use lab_06::scm::send_fds;
use lab_06::{HandleChannel, HandleError};
use nix::sys::socket::{MsgFlags, UnixAddr, recvmsg};

/// The open fds, from `/proc/self/fd`, minus the one the directory listing itself used.
fn open_fds() -> Vec<RawFd> {
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    // SAFETY: F_GETFD only asks whether the number is open (the listing's own fd is not).
    let mut fds: Vec<RawFd> = listed
        .into_iter()
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .collect();
    fds.sort();
    fds
}

const ENVELOPE: &[u8] = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":null}\n";

// ANCHOR: ctrunc
#[test]
fn truncated_control_data_is_an_error_and_no_fd_leaks() {
    let three: Vec<File> = (0..3).map(|_| File::open("/dev/null").unwrap()).collect();
    let borrowed: Vec<_> = three.iter().map(|f| f.as_fd()).collect();

    // Our receiver, room for one fd (which on x86-64 is room for two).
    let (mut receiver, raw) = {
        let (a, b) = lab_05::socket_pair().unwrap();
        (HandleChannel::from(a), UnixStream::from(b))
    };
    let before = open_fds();
    send_fds(raw.as_fd(), ENVELOPE, &borrowed).unwrap();
    let err = receiver.recv().unwrap_err();
    let HandleError::ControlTruncated { arrived } = err else {
        panic!("expected ControlTruncated, got {err}")
    };
    assert!((1..3).contains(&arrived), "some fit, not all: {arrived}");
    assert_eq!(
        open_fds(),
        before,
        "the {arrived} fds that arrived were closed"
    );
    // The envelope is still there, now without an fd: nacked, as Node does after MSG_CTRUNC.
    let err = receiver.recv().unwrap_err();
    assert!(matches!(err, HandleError::MissingFd), "{err}");
    let mut nack = [0u8; 64];
    let n = std::io::Read::read(&mut &raw, &mut nack).unwrap();
    assert_eq!(&nack[..n], b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n");
    assert_eq!(open_fds(), before);

    // The trap: nix's recvmsg with cmsg_space!(RawFd) and cmsgs() hides the fds that fit.
    let (a, b) = lab_05::socket_pair().unwrap();
    let before = open_fds();
    send_fds(b.as_fd(), ENVELOPE, &borrowed).unwrap();
    let mut buf = [0u8; 128];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!(RawFd);
    let msg =
        recvmsg::<UnixAddr>(a.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
    assert!(msg.flags.contains(MsgFlags::MSG_CTRUNC));
    assert_eq!(msg.cmsgs().unwrap_err(), nix::errno::Errno::ENOBUFS);
    let leaked: Vec<RawFd> = open_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd))
        .collect();
    assert_eq!(
        leaked.len(),
        arrived,
        "the same number arrived, and nobody owns them"
    );
    for fd in leaked {
        // SAFETY: these fds appeared in this single-test process during the recvmsg
        // above and nothing else refers to them.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    assert_eq!(open_fds(), before);
}
// ANCHOR_END: ctrunc
