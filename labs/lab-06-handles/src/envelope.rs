//! Chapter 6: Node's handle envelope. A message sent with a handle travels as
//! `{"cmd":"NODE_HANDLE","type":"net.Server","msg":…}` (plus `"key"` for a socket that a
//! server accepted), and the fd rides on the same `sendmsg`. The receiver answers
//! `{"cmd":"NODE_HANDLE_ACK"}`, or `{"cmd":"NODE_HANDLE_NACK"}` when no fd came.
//!
//! [`interpret`] turns one received line (and the fd that came with it, if any) into a
//! [`Parsed`] value or a typed error, without a socket: the property tests feed it
//! random bytes.

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;

use serde_json::{Value, json};

use crate::error::HandleError;

/// The `cmd` of the envelope, and of the two answers.
pub const NODE_HANDLE: &str = "NODE_HANDLE";
pub const NODE_HANDLE_ACK: &str = "NODE_HANDLE_ACK";
pub const NODE_HANDLE_NACK: &str = "NODE_HANDLE_NACK";

/// The handle types this lab sends and rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A listening TCP socket (`net.Server` in Node, `TcpListener` here).
    Server,
    /// A connected TCP socket (`net.Socket` in Node, `TcpStream` here).
    Socket,
}

impl HandleKind {
    /// The `type` field Node writes.
    pub fn node_name(self) -> &'static str {
        match self {
            HandleKind::Server => "net.Server",
            HandleKind::Socket => "net.Socket",
        }
    }
}

/// A handle that arrived: its type, the message it came with, and the fd.
#[derive(Debug)]
pub struct ReceivedHandle {
    pub kind: HandleKind,
    /// The user's message (`child.send(msg, handle)`'s first argument).
    pub msg: Value,
    /// For a socket a server accepted: the server's connection key (Node's `key`).
    pub key: Option<String>,
    /// Our own fd for the sender's socket: a new number, the same open file.
    pub fd: OwnedFd,
}

// ANCHOR: rebuild
impl ReceivedHandle {
    /// The fd as a listener. It keeps the file status flags the sender set: a listener
    /// from Node is non-blocking (`O_NONBLOCK` lives in the open file description, which
    /// both processes now share).
    pub fn into_listener(self) -> Result<TcpListener, Self> {
        match self.kind {
            HandleKind::Server => Ok(TcpListener::from(self.fd)),
            HandleKind::Socket => Err(self),
        }
    }

    /// The fd as a connected stream.
    pub fn into_stream(self) -> Result<TcpStream, Self> {
        match self.kind {
            HandleKind::Socket => Ok(TcpStream::from(self.fd)),
            HandleKind::Server => Err(self),
        }
    }
}
// ANCHOR_END: rebuild

/// One received line, understood.
#[derive(Debug)]
pub enum Parsed {
    /// An ordinary message (internal ones other than the three below included).
    Message(Value),
    /// A `NODE_HANDLE` envelope with its fd.
    Handle(ReceivedHandle),
    /// The receiver got our handle.
    Ack,
    /// The receiver got our envelope but no fd.
    Nack,
}

// ANCHOR: interpret
/// Understand one line. `fd` is the fd matched with this line (only a `NODE_HANDLE` line
/// is offered one). Never panics: any bytes give a `Parsed` or a typed error, and an fd
/// that is not used is closed on the way out (it is dropped).
pub fn interpret(line: &[u8], fd: Option<OwnedFd>) -> Result<Parsed, HandleError> {
    let value: Value = lab_05::decode_line(line)?;
    let cmd = value.get("cmd").and_then(Value::as_str);
    match cmd {
        Some(NODE_HANDLE_ACK) => return Ok(Parsed::Ack),
        Some(NODE_HANDLE_NACK) => return Ok(Parsed::Nack),
        Some(NODE_HANDLE) => {}
        _ if fd.is_some() => return Err(HandleError::FdWithoutEnvelope),
        _ => return Ok(Parsed::Message(value)),
    }
    let Some(fd) = fd else {
        return Err(HandleError::MissingFd);
    };
    let value = unwrap_resend(value);
    let kind = match value.get("type") {
        Some(Value::String(t)) if t == "net.Server" => HandleKind::Server,
        Some(Value::String(t)) if t == "net.Socket" => HandleKind::Socket,
        Some(Value::String(t)) => return Err(HandleError::UnknownType(t.clone())),
        other => return Err(HandleError::BadEnvelope(format!("type is {other:?}"))),
    };
    let key = match value.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(other) => return Err(HandleError::BadEnvelope(format!("key is {other}"))),
    };
    let msg = value.get("msg").cloned().unwrap_or(Value::Null);
    Ok(Parsed::Handle(ReceivedHandle { kind, msg, key, fd }))
}
// ANCHOR_END: interpret

// ANCHOR: unwrap_resend
/// Node resends a nacked `net.Socket` by passing its stored envelope to `send` again, so
/// the resend is wrapped a second time: `{"cmd":"NODE_HANDLE","type":"net.Native",
/// "msg":{"cmd":"NODE_HANDLE","type":"net.Socket",…}}`. Unwrap it to the first envelope.
/// (A Node receiver treats the inner envelope as a second handle message and acks twice;
/// we ack once.)
fn unwrap_resend(value: Value) -> Value {
    let wrapped = value.get("type").and_then(Value::as_str) == Some("net.Native")
        && value.pointer("/msg/cmd").and_then(Value::as_str) == Some(NODE_HANDLE);
    match value {
        Value::Object(mut outer) if wrapped => outer.remove("msg").unwrap_or(Value::Null),
        other => other,
    }
}
// ANCHOR_END: unwrap_resend

/// The envelope for `msg` and a handle of `kind`, as Node writes it.
pub fn envelope(kind: HandleKind, msg: &Value, key: Option<&str>) -> Value {
    let mut env = json!({ "cmd": NODE_HANDLE, "type": kind.node_name(), "msg": msg });
    if let Some(key) = key {
        env["key"] = json!(key);
    }
    env
}
