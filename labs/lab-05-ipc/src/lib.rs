//! Lab for chapter 5, IPC: the channel between a parent and its child.
//!
//! - [`framing`]: cutting a byte stream into messages, by newline (Node's `json`
//!   serialization) or by a 4-byte length prefix (the framing of Node's `advanced`).
//! - [`Channel`]: newline-delimited JSON over a Unix stream socket, Node's own wire
//!   format; [`FrameChannel`]: the same with length-prefixed frames.
//! - [`spawn_with_channel`]: start a child with the channel at fd 3 and
//!   `NODE_CHANNEL_FD=3`, as Node's `fork()` does; [`Channel::from_env`] in the child.
//! - [`ChannelError`]: every way a message can be bad, typed.
//! - [`compute`]: the messages of the fork_compute demo.
//! - [`netstring`] and [`workers`]: the chapter's exercises.

pub mod channel;
pub mod compute;
pub mod error;
pub mod framing;
pub mod netstring;
pub mod spawn;
pub mod workers;

pub use channel::{Channel, FrameChannel, decode_line, socket_pair};
pub use error::ChannelError;
pub use framing::{DEFAULT_LIMIT, Decoder, LengthDecoder, LineDecoder};
pub use spawn::{fd_at, spawn_with_channel, without_channel};
