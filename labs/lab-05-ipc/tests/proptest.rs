//! Chapter 5 property tests: the decoders against random input. Random messages, written
//! in random pieces, come out whole and in order; random bytes never make them panic.

use lab_05::framing::Decoder;
use lab_05::{ChannelError, LengthDecoder, LineDecoder, decode_line};
use proptest::prelude::*;
use serde_json::Value;

/// Random JSON values: strings with newlines, quotes and non-ASCII included.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Cut `bytes` at the given points (taken modulo its length) into pieces.
fn pieces(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        out.push(bytes[from..p].to_vec());
        from = p;
    }
    out
}

/// Push every piece, draining complete frames after each; then finish.
fn decode_all<D: Decoder>(decoder: &mut D, pieces: &[Vec<u8>]) -> Vec<Result<Vec<u8>, String>> {
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        while let Some(frame) = decoder.next() {
            out.push(frame.map(<[u8]>::to_vec).map_err(|e| e.to_string()));
        }
    }
    if let Err(e) = decoder.finish() {
        out.push(Err(e.to_string()));
    }
    out
}

proptest! {
    #[test]
    fn json_lines_split_anywhere_round_trip(
        msgs in prop::collection::vec(json_value(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for m in &msgs {
            serde_json::to_writer(&mut wire, m).unwrap();
            wire.push(b'\n');
        }
        let mut decoder = LineDecoder::new(usize::MAX);
        let frames = decode_all(&mut decoder, &pieces(&wire, &cuts));
        let got: Vec<Value> = frames
            .into_iter()
            .map(|f| decode_line(&f.unwrap()).unwrap())
            .collect();
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn length_frames_split_anywhere_round_trip(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for b in &bodies {
            LengthDecoder::encode(b, &mut wire).unwrap();
        }
        let mut decoder = LengthDecoder::new(1 << 20);
        let frames = decode_all(&mut decoder, &pieces(&wire, &cuts));
        let got: Vec<Vec<u8>> = frames.into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(got, bodies);
    }

    #[test]
    fn random_bytes_never_panic_and_lines_stay_within_the_limit(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        limit in 0usize..64,
    ) {
        let mut decoder = LineDecoder::new(limit);
        for frame in decode_all(&mut decoder, &pieces(&bytes, &cuts)).into_iter().flatten() {
            prop_assert!(frame.len() <= limit);
            prop_assert!(!frame.contains(&b'\n'));
            let _ = decode_line::<Value>(&frame); // an error is fine, a panic is not
        }
        let mut decoder = LengthDecoder::new(limit);
        for frame in decode_all(&mut decoder, &pieces(&bytes, &cuts)).into_iter().flatten() {
            prop_assert!(frame.len() <= limit);
        }
    }

    #[test]
    fn a_bad_line_costs_only_itself(
        before in json_value(),
        garbage in "[^\n]{1,40}",
        after in json_value(),
    ) {
        let mut wire = serde_json::to_vec(&before).unwrap();
        wire.push(b'\n');
        wire.extend_from_slice(garbage.as_bytes());
        wire.push(b'\n');
        serde_json::to_writer(&mut wire, &after).unwrap();
        wire.push(b'\n');
        let mut decoder = LineDecoder::new(usize::MAX);
        decoder.push(&wire);
        let mut got = Vec::new();
        while let Some(frame) = decoder.next() {
            got.push(decode_line::<Value>(frame.unwrap()));
        }
        prop_assert_eq!(got.len(), 3);
        prop_assert_eq!(got[0].as_ref().unwrap(), &before);
        prop_assert_eq!(got[2].as_ref().unwrap(), &after);
        // The garbage line may happen to be valid JSON; if not, it is Malformed.
        if let Err(e) = &got[1] {
            prop_assert!(matches!(e, ChannelError::Malformed { .. }), "{e:?}");
        }
    }
}
