//! Chapter 5: fuzz target for the channel's decoders. libFuzzer feeds it arbitrary bytes;
//! it checks that neither decoder panics, that no frame breaks the size limit, and that,
//! with no limit, both decoders agree with a naive reference decoder.
//!
//! Input layout: byte 0 picks where the rest is cut into two pushes (a partial read),
//! byte 1 is the size limit, the rest is what arrives on the socket.

#![no_main]

use lab_05::framing::Decoder;
use lab_05::{ChannelError, LengthDecoder, LineDecoder, decode_line};
use libfuzzer_sys::fuzz_target;

/// Push `wire` in two pieces cut at `cut`, collect every result, then finish.
fn run<D: Decoder>(decoder: &mut D, wire: &[u8], cut: usize) -> Vec<Result<Vec<u8>, ChannelError>> {
    let mut out = Vec::new();
    for piece in [&wire[..cut], &wire[cut..]] {
        decoder.push(piece);
        while let Some(frame) = decoder.next() {
            out.push(frame.map(<[u8]>::to_vec));
        }
    }
    if let Err(e) = decoder.finish() {
        out.push(Err(e));
    }
    out
}

/// The obvious line decoder: split on b'\n', the last piece is the cut-off rest.
fn reference_lines(wire: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut parts: Vec<Vec<u8>> = wire.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let rest = parts.pop().map_or(0, |p| p.len());
    (parts, rest)
}

/// The obvious length decoder.
fn reference_frames(mut wire: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut frames = Vec::new();
    while wire.len() >= 4 {
        let size = u32::from_be_bytes([wire[0], wire[1], wire[2], wire[3]]) as usize;
        if wire.len() < 4 + size {
            break;
        }
        frames.push(wire[4..4 + size].to_vec());
        wire = &wire[4 + size..];
    }
    (frames, wire.len())
}

fn check_against_reference(
    got: Vec<Result<Vec<u8>, ChannelError>>,
    (frames, rest): (Vec<Vec<u8>>, usize),
) {
    let mut expected: Vec<Result<Vec<u8>, usize>> = frames.into_iter().map(Ok).collect();
    if rest > 0 {
        expected.push(Err(rest));
    }
    let got: Vec<Result<Vec<u8>, usize>> = got
        .into_iter()
        .map(|r| match r {
            Ok(frame) => Ok(frame),
            Err(ChannelError::Truncated { bytes }) => Err(bytes),
            Err(other) => panic!("unexpected error without a limit: {other}"),
        })
        .collect();
    assert_eq!(got, expected);
}

fuzz_target!(|data: &[u8]| {
    let [cut, limit, wire @ ..] = data else {
        return;
    };
    let cut = (*cut as usize).min(wire.len());
    let limit = *limit as usize;

    // With a limit: no panic, no frame over the limit, no newline inside a line.
    for result in run(&mut LineDecoder::new(limit), wire, cut) {
        if let Ok(line) = result {
            assert!(line.len() <= limit && !line.contains(&b'\n'));
            let _ = decode_line::<serde_json::Value>(&line);
        }
    }
    for result in run(&mut LengthDecoder::new(limit), wire, cut) {
        if let Ok(frame) = result {
            assert!(frame.len() <= limit);
        }
    }

    // Without a limit: exactly what the naive decoders find.
    check_against_reference(
        run(&mut LineDecoder::new(usize::MAX), wire, cut),
        reference_lines(wire),
    );
    check_against_reference(
        run(&mut LengthDecoder::new(usize::MAX), wire, cut),
        reference_frames(wire),
    );
});
