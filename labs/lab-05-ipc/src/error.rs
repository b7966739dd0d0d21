//! Chapter 5: everything that can go wrong on a channel, as one typed error.
//!
//! The variants about one bad message ([`ChannelError::Malformed`],
//! [`ChannelError::InvalidUtf8`], [`ChannelError::TooLarge`]) lose that message only: the
//! next `recv` delivers the next one. [`ChannelError::Truncated`],
//! [`ChannelError::PeerReset`] and [`ChannelError::Io`] mean the stream itself ended or
//! failed.

use std::fmt;
use std::io;

// ANCHOR: error
/// Why a channel could not send or receive a message.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChannelError {
    /// A complete line that is not JSON, or not JSON of the expected shape. The line is
    /// consumed: the next `recv` reads the next message.
    Malformed {
        line: String,
        source: serde_json::Error,
    },
    /// A complete line that is not UTF-8 (JSON text must be). Consumed too.
    InvalidUtf8 { line: Vec<u8>, valid_up_to: usize },
    /// A message longer than the limit: the length a frame announced, or the bytes of a
    /// line that had no newline yet. It is skipped, and the next message delivered.
    TooLarge { limit: usize, size: usize },
    /// The stream ended inside a message: the peer closed, or died, after sending `bytes`
    /// bytes of it. Nothing more will come.
    Truncated { bytes: usize },
    /// The peer closed its end while data we had sent it was still unread (`ECONNRESET`),
    /// typically because it died: what it wrote before is delivered first, then this, with
    /// the `bytes` of a message that were cut off (0 if none). Nothing more will come.
    PeerReset { bytes: usize },
    /// A message to send that cannot be written as JSON (say, a map with non-string keys).
    Encode(serde_json::Error),
    /// This process was not started with a usable channel (`NODE_CHANNEL_FD`).
    NoChannel(String),
    /// The socket itself failed (for example `ECONNRESET`, `EPIPE`).
    Io(io::Error),
}
// ANCHOR_END: error

/// At most this many characters of a bad line go into an error message.
const SHOWN: usize = 60;

fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Malformed { line, source } => {
                write!(f, "malformed message {:?}: {source}", shorten(line))
            }
            ChannelError::InvalidUtf8 { line, valid_up_to } => write!(
                f,
                "message is not UTF-8: byte {valid_up_to} of {} is 0x{:02x}",
                line.len(),
                line.get(*valid_up_to).copied().unwrap_or_default()
            ),
            ChannelError::TooLarge { limit, size } => {
                write!(f, "message of {size} bytes is over the limit of {limit}")
            }
            ChannelError::Truncated { bytes } => write!(
                f,
                "the peer closed the channel inside a message ({bytes} bytes of it arrived)"
            ),
            ChannelError::PeerReset { bytes } => write!(
                f,
                "the peer reset the channel (it closed without reading what we sent; \
                 {bytes} bytes of a message had arrived)"
            ),
            ChannelError::Encode(e) => write!(f, "cannot encode message as JSON: {e}"),
            ChannelError::NoChannel(why) => write!(f, "no IPC channel: {why}"),
            ChannelError::Io(e) => write!(f, "channel I/O error: {e}"),
        }
    }
}

impl std::error::Error for ChannelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChannelError::Malformed { source, .. } | ChannelError::Encode(source) => Some(source),
            ChannelError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ChannelError {
    fn from(e: io::Error) -> Self {
        ChannelError::Io(e)
    }
}

impl ChannelError {
    /// The variant's name, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelError::Malformed { .. } => "Malformed",
            ChannelError::InvalidUtf8 { .. } => "InvalidUtf8",
            ChannelError::TooLarge { .. } => "TooLarge",
            ChannelError::Truncated { .. } => "Truncated",
            ChannelError::PeerReset { .. } => "PeerReset",
            ChannelError::Encode(_) => "Encode",
            ChannelError::NoChannel(_) => "NoChannel",
            ChannelError::Io(_) => "Io",
        }
    }

    /// Whether only one message was lost and the channel can go on.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            ChannelError::Malformed { .. }
                | ChannelError::InvalidUtf8 { .. }
                | ChannelError::TooLarge { .. }
        )
    }
}
