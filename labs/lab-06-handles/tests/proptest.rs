//! Chapter 6 property tests: whatever bytes and however many fds arrive, the envelope
//! parser and the channel answer with a message or a typed error, never a panic, and no
//! fd that arrived stays open.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use lab_06::scm::send_fds;
use lab_06::{HandleChannel, interpret};
use proptest::prelude::*;

/// Bytes that are often almost an envelope: fragments glued at random.
fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"{\"cmd\":\"NODE_HANDLE\"".to_vec()),
        Just(b",\"type\":\"net.Server\"".to_vec()),
        Just(b",\"type\":\"net.Socket\"".to_vec()),
        Just(b",\"type\":7".to_vec()),
        Just(b",\"key\":[]".to_vec()),
        Just(b",\"msg\":{\"a\":1}".to_vec()),
        Just(b"}".to_vec()),
        Just(b"{\"cmd\":\"NODE_HANDLE_ACK\"}".to_vec()),
        Just(b"\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    proptest::collection::vec(fragment, 0..8).prop_map(|parts| parts.concat())
}

/// How many fds of this process are open on `path`.
fn copies_of(path: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == path))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn interpret_never_panics(line in line_bytes(), with_fd in any::<bool>()) {
        let fd: Option<OwnedFd> = with_fd.then(|| File::open("/dev/null").unwrap().into());
        let _ = interpret(&line, fd); // Ok or a typed error; an unused fd is closed
    }

    #[test]
    fn the_channel_survives_random_lines_and_fd_counts(
        chunks in proptest::collection::vec((line_bytes(), 0usize..5), 1..6),
        max_fds in 1usize..4,
    ) {
        let (a, b) = lab_05::socket_pair().unwrap();
        let mut receiver = HandleChannel::from(a).with_max_fds(max_fds);
        let raw = UnixStream::from(b);
        // A file of this case's own: every copy of it in /proc/self/fd is one of ours,
        // whatever the other test of this binary opens meanwhile.
        let file = tempfile::NamedTempFile::new().unwrap();
        let null = file.reopen().unwrap();
        let before = copies_of(file.path()); // the temp file's own fd and `null`
        for (bytes, nfds) in &chunks {
            if bytes.is_empty() {
                continue; // fds need a byte to travel with
            }
            let fds = vec![null.as_fd(); *nfds];
            send_fds(raw.as_fd(), bytes, &fds).unwrap();
        }
        raw.shutdown(std::net::Shutdown::Write).unwrap(); // still open for acks and nacks
        let mut results = 0;
        loop {
            match receiver.recv() {
                Ok(None) => break,
                Ok(Some(_)) => {}
                Err(e) => prop_assert!(
                    e.is_recoverable() || e.kind() == "Truncated",
                    "unexpected error {e}"
                ),
            }
            results += 1;
            prop_assert!(results < 10_000, "recv must reach the end");
        }
        // Every fd that arrived was closed, or delivered and dropped: none is left.
        prop_assert_eq!(copies_of(file.path()), before);
    }
}
