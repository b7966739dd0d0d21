//! Chapter 5, exercise 05.1: the netstring decoder (`5:hello,`).

use lab_05::ChannelError;
use lab_05::framing::Decoder;
use lab_05::netstring::NetstringDecoder;

/// Push `wire` in pieces of `step` bytes; collect frames (as text) and errors (as kinds).
fn decode(wire: &[u8], step: usize, limit: usize) -> Vec<Result<String, &'static str>> {
    let mut d = NetstringDecoder::new(limit);
    let mut out = Vec::new();
    for piece in wire.chunks(step.max(1)) {
        d.push(piece);
        while let Some(frame) = d.next() {
            out.push(
                frame
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .map_err(|e| e.kind()),
            );
        }
    }
    if let Err(e) = d.finish() {
        out.push(Err(e.kind()));
    }
    out
}

#[test]
fn frames_split_at_every_byte_come_out_whole() {
    let mut wire = Vec::new();
    for body in [&b"hello"[..], b"", b"a,b:c\n", b"{\"n\":1}"] {
        NetstringDecoder::encode(body, &mut wire).unwrap();
    }
    assert_eq!(&wire[..8], b"5:hello,");
    let expected: Vec<Result<String, &str>> = ["hello", "", "a,b:c\n", "{\"n\":1}"]
        .iter()
        .map(|s| Ok(s.to_string()))
        .collect();
    for step in 1..=wire.len() {
        assert_eq!(decode(&wire, step, 64), expected, "pieces of {step} bytes");
    }
}

#[test]
fn a_length_over_the_limit_is_refused_before_the_body() {
    // Only the header has arrived: refused already.
    let got = decode(b"1000:", 1, 64);
    assert_eq!(got.first(), Some(&Err("TooLarge")), "{got:?}");
    let mut d = NetstringDecoder::new(64);
    d.push(b"100:");
    assert!(matches!(
        d.next(),
        Some(Err(ChannelError::TooLarge {
            limit: 64,
            size: 100
        }))
    ));
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    for wire in [&b"x:abc,"[..], b"3:abcX", b"-1:a,", b":a,", b"12345678901:"] {
        let got = decode(wire, 1, 1 << 20);
        assert!(
            got.contains(&Err("Malformed")),
            "{:?} gave {got:?}",
            String::from_utf8_lossy(wire)
        );
        assert!(got.iter().all(|r| r.is_err()), "{got:?}");
    }
}

#[test]
fn after_an_error_nothing_more_is_trusted() {
    // The good-looking frame after the bad byte is not delivered: the stream is broken.
    assert_eq!(decode(b"x5:hello,", 9, 64), vec![Err("Malformed")]);
    assert_eq!(decode(b"3:abcX2:ok,", 1, 64), vec![Err("Malformed")]);
}

#[test]
fn an_unfinished_frame_is_truncated_at_the_end() {
    assert_eq!(decode(b"5:hel", 2, 64), vec![Err("Truncated")]);
    assert_eq!(
        decode(b"5:hello,3:ab", 3, 64),
        vec![Ok("hello".into()), Err("Truncated")]
    );
    assert_eq!(decode(b"", 1, 64), vec![]);
}
