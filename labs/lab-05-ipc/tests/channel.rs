//! Chapter 5 tests: the channel's round trip, partial reads, several messages per read,
//! and every kind of bad input as a typed error, with nothing else lost.

use std::io::Write;

use lab_05::framing::Decoder;
use lab_05::{Channel, ChannelError, FrameChannel, LengthDecoder, LineDecoder};
use labkit::{Redactor, demo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u32,
    text: String,
}

#[test]
fn typed_messages_make_the_round_trip() {
    let (mut parent, mut child) = Channel::pair().unwrap();
    let job = Job {
        id: 7,
        text: "line one\nline two, \"quoted\", ünïcödé".to_string(),
    };
    parent.send(&job).unwrap();
    assert_eq!(child.recv::<Job>().unwrap(), Some(job));
    child.send(&json!({"ok": true})).unwrap();
    assert_eq!(parent.recv::<Value>().unwrap(), Some(json!({"ok": true})));
    drop(parent);
    assert!(child.recv::<Value>().unwrap().is_none());
    assert!(
        child.recv::<Value>().unwrap().is_none(),
        "end of file stays"
    );
}

#[test]
fn several_messages_in_one_write_come_out_one_by_one() {
    let (mut a, mut b) = Channel::pair().unwrap();
    let jobs: Vec<Job> = (0..100)
        .map(|id| Job {
            id,
            text: format!("job {id}"),
        })
        .collect();
    a.send_batch(&jobs).unwrap();
    drop(a);
    let mut got = Vec::new();
    while let Some(job) = b.recv::<Job>().unwrap() {
        got.push(job);
    }
    assert_eq!(got, jobs);
}

#[test]
fn a_message_written_in_pieces_waits_for_its_newline() {
    let (a, mut b) = Channel::pair().unwrap();
    let line = b"{\"id\":1,\"text\":\"split\"}\n";
    let writer = std::thread::spawn(move || {
        // Each piece is its own write; recv may see any number of them per read.
        for piece in line.chunks(3) {
            a.get_ref().write_all(piece).unwrap();
        }
        a
    });
    let got = b.recv::<Job>().unwrap();
    drop(writer.join().unwrap());
    assert_eq!(
        got,
        Some(Job {
            id: 1,
            text: "split".to_string()
        })
    );
    assert!(b.recv::<Job>().unwrap().is_none());
}

/// Write raw bytes into a fresh pair, close the writer, collect everything recv says.
fn receive_all(bytes: &[u8], limit: usize) -> Vec<Result<Value, ChannelError>> {
    let (a, b) = Channel::pair().unwrap();
    let mut b = b.with_limit(limit);
    a.get_ref().write_all(bytes).unwrap();
    drop(a);
    let mut out = Vec::new();
    loop {
        match b.recv::<Value>() {
            Ok(Some(v)) => out.push(Ok(v)),
            Ok(None) => return out,
            Err(e) => out.push(Err(e)),
        }
    }
}

#[test]
fn a_malformed_line_is_named_and_the_next_message_still_arrives() {
    let got = receive_all(b"{\"n\":1}\nnot json\n{\"n\":2}\n", 64);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap(), &json!({"n": 1}));
    match &got[1] {
        Err(ChannelError::Malformed { line, .. }) => assert_eq!(line, "not json"),
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert_eq!(got[2].as_ref().unwrap(), &json!({"n": 2}));
}

#[test]
fn json_of_the_wrong_shape_is_malformed_too() {
    let (mut a, mut b) = Channel::pair().unwrap();
    a.send(&json!({"id": "seven"})).unwrap();
    a.send(&json!({"id": 7, "text": "ok"})).unwrap();
    assert!(matches!(
        b.recv::<Job>(),
        Err(ChannelError::Malformed { .. })
    ));
    assert_eq!(b.recv::<Job>().unwrap().unwrap().id, 7);
}

#[test]
fn invalid_utf8_is_its_own_error() {
    let got = receive_all(b"\"caf\xe9\"\n{\"n\":2}\n", 64);
    match &got[0] {
        Err(ChannelError::InvalidUtf8 { line, valid_up_to }) => {
            assert_eq!((line.as_slice(), *valid_up_to), (&b"\"caf\xe9\""[..], 4));
        }
        other => panic!("expected InvalidUtf8, got {other:?}"),
    }
    assert_eq!(got[1].as_ref().unwrap(), &json!({"n": 2}));
}

#[test]
fn a_line_over_the_limit_is_skipped_whole() {
    // Over the limit before its newline arrives, and in a later write: reported once.
    let mut bytes = b"{\"n\":1}\n\"".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 10_000));
    bytes.extend_from_slice(b"\"\n{\"n\":2}\n");
    let got = receive_all(&bytes, 64);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(matches!(
        got[1],
        Err(ChannelError::TooLarge { limit: 64, .. })
    ));
    assert_eq!(got[2].as_ref().unwrap(), &json!({"n": 2}));
}

#[test]
fn sending_over_the_limit_is_refused_before_writing() {
    let (a, mut b) = Channel::pair().unwrap();
    let mut a = a.with_limit(16);
    let err = a.send(&"x".repeat(100)).unwrap_err();
    assert!(
        matches!(
            err,
            ChannelError::TooLarge {
                limit: 16,
                size: 102
            }
        ),
        "{err:?}"
    );
    a.send(&1).unwrap();
    drop(a);
    assert_eq!(b.recv::<u32>().unwrap(), Some(1));
}

#[test]
fn end_of_file_inside_a_message_is_truncated() {
    let got = receive_all(b"{\"n\":1}\n{\"n\":", 64);
    assert!(
        matches!(got[1], Err(ChannelError::Truncated { bytes: 5 })),
        "{got:?}"
    );
    assert_eq!(got.len(), 2);
}

#[test]
fn frames_over_the_limit_and_cut_frames_are_typed_errors() {
    let (a, b) = FrameChannel::pair().unwrap();
    let mut b = b.with_limit(64);
    let mut bytes = Vec::new();
    LengthDecoder::encode(b"{\"n\":1}", &mut bytes).unwrap();
    bytes.extend_from_slice(&1000u32.to_be_bytes());
    bytes.extend(std::iter::repeat_n(b'x', 1000));
    LengthDecoder::encode(b"{\"n\":2}", &mut bytes).unwrap();
    bytes.extend_from_slice(&[0, 0]);
    a.get_ref().write_all(&bytes).unwrap();
    drop(a);
    assert_eq!(b.recv::<Value>().unwrap(), Some(json!({"n": 1})));
    assert!(matches!(
        b.recv::<Value>(),
        Err(ChannelError::TooLarge {
            limit: 64,
            size: 1000
        })
    ));
    assert_eq!(b.recv::<Value>().unwrap(), Some(json!({"n": 2})));
    assert!(matches!(
        b.recv::<Value>(),
        Err(ChannelError::Truncated { bytes: 2 })
    ));
    assert!(b.recv::<Value>().unwrap().is_none());
}

#[test]
fn frames_carry_any_bytes() {
    let (mut a, mut b) = FrameChannel::pair().unwrap();
    let body: Vec<u8> = (0..=255).collect();
    a.send_bytes(&body).unwrap();
    a.send_bytes(b"").unwrap();
    drop(a);
    assert_eq!(b.recv_bytes().unwrap(), Some(&body[..]));
    assert_eq!(b.recv_bytes().unwrap(), Some(&b""[..]));
    assert_eq!(b.recv_bytes().unwrap(), None);
}

#[test]
fn bad_input_demo() {
    let finished = labkit::run(&mut demo(env!("CARGO_BIN_EXE_bad-input"))).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("bad_input", finished.transcript("./target/debug/bad-input"));
}

#[test]
fn echo_child_without_a_channel_says_so() {
    let finished = labkit::run(&mut demo(env!("CARGO_BIN_EXE_echo-child"))).unwrap();
    assert_eq!(finished.status.code(), Some(2), "{finished:?}");
    let _g = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "echo_child_no_channel",
        finished.transcript("./target/debug/echo-child")
    );
}

#[test]
fn the_line_decoder_keeps_a_partial_line_between_pushes() {
    let mut d = LineDecoder::new(64);
    d.push(b"{\"a\"");
    assert!(d.next().is_none());
    d.push(b":1}\n{");
    assert_eq!(d.next().unwrap().unwrap(), b"{\"a\":1}");
    assert!(d.next().is_none());
    assert!(matches!(
        d.finish(),
        Err(ChannelError::Truncated { bytes: 1 })
    ));
}

// ANCHOR: peer_reset
#[test]
fn a_peer_that_closes_with_unread_data_resets_the_channel() {
    let (mut parent, child) = Channel::pair().unwrap();
    // The parent sends a message that the child will never read.
    parent.send(&json!({"cmd": "start"})).unwrap();
    // The child writes one message and 4 bytes of the next, then closes its end.
    child.get_ref().write_all(b"{\"n\":1}\n{\"n\"").unwrap();
    drop(child);
    // What it wrote comes first, then the reset (not end of file), then the end.
    assert_eq!(parent.recv::<Value>().unwrap(), Some(json!({"n": 1})));
    let reset = parent.recv::<Value>().unwrap_err();
    assert!(
        matches!(reset, ChannelError::PeerReset { bytes: 4 }),
        "{reset:?}"
    );
    assert!(parent.recv::<Value>().unwrap().is_none());
    // Writing to it now fails: the other end is gone.
    let err = parent.send(&json!({"cmd": "stop"})).unwrap_err();
    assert!(
        matches!(&err, ChannelError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
        "{err:?}"
    );
}
// ANCHOR_END: peer_reset

#[test]
fn a_peer_that_read_everything_and_closes_gives_end_of_file() {
    let (mut parent, mut child) = Channel::pair().unwrap();
    parent.send(&json!({"cmd": "start"})).unwrap();
    let _: Value = child.recv().unwrap().unwrap(); // all read: no reset
    child.get_ref().write_all(b"{\"n\"").unwrap();
    drop(child);
    let err = parent.recv::<Value>().unwrap_err();
    assert!(
        matches!(err, ChannelError::Truncated { bytes: 4 }),
        "{err:?}"
    );
    assert!(parent.recv::<Value>().unwrap().is_none());
}

#[test]
fn the_throughput_experiment_refuses_sizes_out_of_range() {
    // 2^44 MiB would overflow the byte count (and once wrapped to 0 bytes).
    for args in [["--bulk-mib", "17592186044416"], ["--runs", "0"]] {
        let finished = labkit::run(demo(env!("CARGO_BIN_EXE_throughput")).args(args)).unwrap();
        assert_eq!(finished.status.code(), Some(2), "{finished:?}");
        assert!(finished.stdout.is_empty(), "{finished:?}");
        assert_eq!(finished.stderr.lines().count(), 1, "{finished:?}");
        assert!(
            finished.stderr.starts_with(&format!(
                "throughput: {} {} is out of range",
                args[0], args[1]
            )),
            "{finished:?}"
        );
    }
}
