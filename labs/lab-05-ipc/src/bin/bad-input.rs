//! Chapter 5 demo: bad bytes on a channel, each answered by a typed error. Every case
//! writes raw bytes into one end of a socketpair, closes it, and receives on the other
//! end until the channel ends. Limit: 64 bytes per message.

use std::io::Write;

use clap::Parser;
use lab_05::framing::Decoder;
use lab_05::{Channel, ChannelError, FrameChannel, LengthDecoder};
use serde_json::Value;

/// Feed malformed, oversized, truncated and non-UTF-8 input to both channels.
#[derive(Parser)]
struct Args {}

const LIMIT: usize = 64;

/// Bytes as text: printable ASCII as is, a newline as `\n`, anything else as `\xNN`.
fn shown(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'\n' => "\\n".to_string(),
            b' '..=b'~' => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}

fn show(result: Result<Option<Value>, ChannelError>) -> (String, bool) {
    match result {
        Ok(Some(msg)) => (format!("  recv -> {msg}"), true),
        Ok(None) => ("  recv -> None (the channel ended)".to_string(), false),
        Err(e) => (format!("  recv -> {}: {e}", e.kind()), true),
    }
}

// ANCHOR: case
fn json_lines_case(name: &str, bytes: &[u8]) -> std::io::Result<()> {
    println!("{name}: {}", shown(bytes));
    let (mut reader, writer) = Channel::pair()?;
    reader = reader.with_limit(LIMIT);
    writer.get_ref().write_all(bytes)?;
    drop(writer); // end of file after these bytes
    loop {
        let (line, more) = show(reader.recv::<Value>());
        println!("{line}");
        if !more {
            return Ok(());
        }
    }
}
// ANCHOR_END: case

fn frames_case(name: &str, bytes: &[u8]) -> std::io::Result<()> {
    println!("{name}: {}", shown(bytes));
    let (reader, writer) = FrameChannel::pair()?;
    let mut reader = reader.with_limit(LIMIT);
    writer.get_ref().write_all(bytes)?;
    drop(writer);
    loop {
        let (line, more) = show(reader.recv::<Value>());
        println!("{line}");
        if !more {
            return Ok(());
        }
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    LengthDecoder::encode(body, &mut out).expect("a small body fits a frame");
    out
}

fn main() -> std::io::Result<()> {
    Args::parse();
    println!("== JSON lines, limit {LIMIT} bytes");
    json_lines_case("malformed line", b"{\"n\":1}\nnot json\n{\"n\":2}\n")?;
    json_lines_case("invalid UTF-8", b"{\"n\":1}\n\"caf\xe9\"\n{\"n\":2}\n")?;
    let big = format!(
        "{{\"n\":1}}\n{{\"big\":\"{}\"}}\n{{\"n\":2}}\n",
        "x".repeat(70)
    );
    json_lines_case("line over the limit", big.as_bytes())?;
    json_lines_case("end of file inside a message", b"{\"n\":1}\n{\"n\":")?;
    println!("== length-prefixed frames, limit {LIMIT} bytes");
    let mut over = frame(b"{\"n\":1}");
    over.extend_from_slice(&1_000_000u32.to_be_bytes());
    over.extend_from_slice(b"only the start of a huge body");
    frames_case("frame over the limit, then end of file", &over)?;
    let mut cut = frame(b"{\"n\":1}");
    cut.extend_from_slice(&frame(b"{\"n\":2}")[..6]);
    frames_case("end of file inside a frame", &cut)?;
    Ok(())
}
