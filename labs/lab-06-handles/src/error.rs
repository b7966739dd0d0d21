//! Chapter 6: what can go wrong when handles travel, as one typed error.
//!
//! Lost-one-message errors ([`HandleError::is_recoverable`]) let the channel go on: the
//! next `recv` delivers the next message. Every fd an error is about has been closed by
//! the time the error is returned: none leaks.

use std::fmt;
use std::io;

use lab_05::ChannelError;

// ANCHOR: error
/// Why a handle (or a message beside it) could not be sent or received.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandleError {
    /// The line itself was bad, or the socket failed: lab-05's channel errors.
    Channel(ChannelError),
    /// `MSG_CTRUNC`: more fds came than the control buffer had room for, or than our
    /// `RLIMIT_NOFILE` left free numbers for. The kernel closed the extra ones; we closed
    /// the `arrived` ones that fit.
    ControlTruncated { arrived: usize },
    /// A `NODE_HANDLE` envelope came without an fd. Answered with `NODE_HANDLE_NACK`, as
    /// Node does: the sender resends.
    MissingFd,
    /// An fd came with bytes that held no `NODE_HANDLE` envelope. The fd was closed.
    FdWithoutEnvelope,
    /// The envelope names a handle type we do not rebuild (Node also knows `net.Native`,
    /// `dgram.Socket`, `dgram.Native`). The fd was acked and closed.
    UnknownType(String),
    /// A `NODE_HANDLE` envelope whose fields are not what Node writes.
    BadEnvelope(String),
    /// The receiver answered `NODE_HANDLE_NACK` to the first send and to all
    /// `retransmissions` resends: we gave up and closed our copy (Node: a
    /// `SentHandleNotReceivedWarning`).
    NotDelivered { retransmissions: u32 },
    /// The peer of a Unix socket runs as another user (`SO_PEERCRED`): refused.
    ForeignPeer { pid: i32, uid: u32, expected: u32 },
    /// The peer closed the channel while a handle we sent still waited for its ack.
    ClosedBeforeAck,
    /// No ack or nack came within `timeout` ([`crate::HandleChannel::wait_ack_timeout`]).
    /// The handle is still in flight.
    AckTimedOut { timeout: std::time::Duration },
}
// ANCHOR_END: error

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Channel(e) => write!(f, "{e}"),
            HandleError::ControlTruncated { arrived } => write!(
                f,
                "control data truncated (MSG_CTRUNC): more fds were sent than the buffer \
                 or our fd limit had room for; the kernel closed the rest, we closed the \
                 {arrived} that arrived"
            ),
            HandleError::MissingFd => {
                write!(
                    f,
                    "NODE_HANDLE envelope without an fd (answered NODE_HANDLE_NACK)"
                )
            }
            HandleError::FdWithoutEnvelope => {
                write!(
                    f,
                    "an fd arrived without a NODE_HANDLE envelope (closed it)"
                )
            }
            HandleError::UnknownType(t) => {
                write!(
                    f,
                    "handle type {t:?} is not net.Server or net.Socket (closed it)"
                )
            }
            HandleError::BadEnvelope(why) => write!(f, "bad NODE_HANDLE envelope: {why}"),
            HandleError::NotDelivered { retransmissions } => write!(
                f,
                "handle not delivered: NODE_HANDLE_NACK after {retransmissions} resends \
                 (closed our copy)"
            ),
            HandleError::ForeignPeer { pid, uid, expected } => write!(
                f,
                "peer pid {pid} runs as uid {uid}, not {expected}: refused (SO_PEERCRED)"
            ),
            HandleError::ClosedBeforeAck => {
                write!(f, "the peer closed the channel before it acked our handle")
            }
            HandleError::AckTimedOut { timeout } => write!(
                f,
                "no NODE_HANDLE_ACK or NODE_HANDLE_NACK within {timeout:?}: \
                 the peer does not answer"
            ),
        }
    }
}

impl std::error::Error for HandleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandleError::Channel(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ChannelError> for HandleError {
    fn from(e: ChannelError) -> Self {
        HandleError::Channel(e)
    }
}

impl From<io::Error> for HandleError {
    fn from(e: io::Error) -> Self {
        HandleError::Channel(ChannelError::Io(e))
    }
}

impl HandleError {
    /// The variant's name, for reports and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            HandleError::Channel(e) => e.kind(),
            HandleError::ControlTruncated { .. } => "ControlTruncated",
            HandleError::MissingFd => "MissingFd",
            HandleError::FdWithoutEnvelope => "FdWithoutEnvelope",
            HandleError::UnknownType(_) => "UnknownType",
            HandleError::BadEnvelope(_) => "BadEnvelope",
            HandleError::NotDelivered { .. } => "NotDelivered",
            HandleError::ForeignPeer { .. } => "ForeignPeer",
            HandleError::ClosedBeforeAck => "ClosedBeforeAck",
            HandleError::AckTimedOut { .. } => "AckTimedOut",
        }
    }

    /// Whether only one message (or handle) was lost and the channel can go on.
    pub fn is_recoverable(&self) -> bool {
        match self {
            HandleError::Channel(e) => e.is_recoverable(),
            HandleError::ForeignPeer { .. } | HandleError::ClosedBeforeAck => false,
            _ => true,
        }
    }
}
