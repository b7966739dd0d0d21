//! Chapter 6: a `HandleChannel`, lab-05's JSON-lines channel plus fds, speaking Node's
//! handle protocol in both roles.
//!
//! - Receiving: every read is a `recvmsg`; fds that arrive are remembered with the range of
//!   stream bytes they came with, and given to the `NODE_HANDLE` line that starts in that
//!   range and holds its last byte (a `recvmsg` that returns fds stops at the end of the
//!   `sendmsg` that carried them, so that `sendmsg` ends the read). The receiver acks (or
//!   nacks) by itself; Node's wrapped resend of a nacked socket is unwrapped.
//! - Sending: a handle goes out as envelope + fd in one `sendmsg`; until its ack comes,
//!   every later message waits in a queue, as in Node; a nack makes us resend, up to
//!   three times.
//!
//! Blocking, like lab-05's `Channel`: acks are read when the owner calls [`HandleChannel::recv`]
//! or [`HandleChannel::wait_ack`]. Chapter 7 builds its cluster on this type.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use lab_05::{ChannelError, DEFAULT_LIMIT, Decoder, LineDecoder};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use serde::Serialize;
use serde_json::{Value, json};

use crate::envelope::{
    HandleKind, NODE_HANDLE, NODE_HANDLE_ACK, NODE_HANDLE_NACK, Parsed, ReceivedHandle, envelope,
    interpret,
};
use crate::error::HandleError;
use crate::scm::{recv_fds, send_fds};

/// How often a nacked handle is sent again before we give up (Node's
/// `MAX_HANDLE_RETRANSMISSIONS`).
pub const MAX_RETRANSMISSIONS: u32 = 3;

/// What [`HandleChannel::recv`] delivers.
#[derive(Debug)]
pub enum Incoming {
    /// An ordinary message.
    Message(Value),
    /// A handle, already acked.
    Handle(ReceivedHandle),
}

/// Whether a message went out now or waits for the ack of an earlier handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Written,
    Queued,
}

/// An fd that arrived with the stream bytes `start..end`, not yet given to a line.
#[derive(Debug)]
struct Arrived {
    fd: OwnedFd,
    start: u64,
    end: u64,
}

/// A handle sent and not yet acked: kept to resend it after a nack, closed on the ack.
#[derive(Debug)]
struct InFlight {
    line: Vec<u8>,
    fd: OwnedFd,
    retransmissions: u32,
}

/// A message that waits for the ack of the handle in flight.
#[derive(Debug)]
struct Waiting {
    line: Vec<u8>,
    fd: Option<OwnedFd>,
}

/// Node's IPC channel with handle passing, on a connected Unix stream socket.
#[derive(Debug)]
pub struct HandleChannel {
    stream: UnixStream,
    decoder: LineDecoder,
    limit: usize,
    max_fds: usize,
    /// Bytes read from the stream so far: the offset where the next read lands.
    read_total: u64,
    arrived: VecDeque<Arrived>,
    /// Results decoded from the last read, waiting to be delivered.
    inbox: VecDeque<Result<Incoming, HandleError>>,
    eof: bool,
    in_flight: Option<InFlight>,
    queue: VecDeque<Waiting>,
}

impl HandleChannel {
    /// A channel on a connected stream socket (lab-05's `Channel::into_inner`, one end of
    /// a socketpair, an accepted Unix connection). Room for one fd per read, as one
    /// handle per message needs; see [`HandleChannel::with_max_fds`].
    pub fn new(stream: UnixStream) -> HandleChannel {
        HandleChannel {
            stream,
            decoder: LineDecoder::new(DEFAULT_LIMIT),
            limit: DEFAULT_LIMIT,
            max_fds: 1,
            read_total: 0,
            arrived: VecDeque::new(),
            inbox: VecDeque::new(),
            eof: false,
            in_flight: None,
            queue: VecDeque::new(),
        }
    }

    /// Both ends of a new socketpair.
    pub fn pair() -> io::Result<(HandleChannel, HandleChannel)> {
        let (a, b) = lab_05::socket_pair()?;
        Ok((HandleChannel::from(a), HandleChannel::from(b)))
    }

    /// The channel this process's parent gave it (`NODE_CHANNEL_FD`), Node or Rust.
    pub fn from_env() -> Result<HandleChannel, HandleError> {
        Ok(HandleChannel::new(
            lab_05::Channel::from_env()?.into_inner(),
        ))
    }

    /// Room for `n` fds in each read's control buffer (1 to [`crate::scm::MAX_FDS`]).
    pub fn with_max_fds(mut self, n: usize) -> HandleChannel {
        self.max_fds = n.clamp(1, crate::scm::MAX_FDS);
        self
    }

    /// The socket underneath.
    pub fn get_ref(&self) -> &UnixStream {
        &self.stream
    }

    /// Whether a handle we sent still waits for its ack.
    pub fn awaiting_ack(&self) -> bool {
        self.in_flight.is_some()
    }

    /// How many messages wait behind the handle in flight.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    // ANCHOR: send
    /// Send one message. While a handle waits for its ack, it waits too (Node's rule:
    /// nothing may overtake a handle), and goes out when the ack comes.
    pub fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<Sent, HandleError> {
        let line = self.line(msg)?;
        if self.in_flight.is_some() {
            self.queue.push_back(Waiting { line, fd: None });
            return Ok(Sent::Queued);
        }
        self.stream.write_all(&line)?;
        Ok(Sent::Written)
    }

    /// Send `msg` with a handle: the envelope and the fd in one `sendmsg`. The channel owns
    /// `fd` until the ack and then closes it: to keep serving on a listener (as Node keeps
    /// a sent `net.Server` open), pass a `try_clone()` of it.
    pub fn send_handle<T: Serialize + ?Sized>(
        &mut self,
        kind: HandleKind,
        msg: &T,
        fd: OwnedFd,
        key: Option<&str>,
    ) -> Result<Sent, HandleError> {
        let msg = serde_json::to_value(msg).map_err(ChannelError::Encode)?;
        let line = self.line(&envelope(kind, &msg, key))?;
        if self.in_flight.is_some() {
            self.queue.push_back(Waiting { line, fd: Some(fd) });
            return Ok(Sent::Queued);
        }
        self.write_with_fd(&line, &fd)?;
        self.in_flight = Some(InFlight {
            line,
            fd,
            retransmissions: 0,
        });
        Ok(Sent::Written)
    }
    // ANCHOR_END: send

    /// Write a whole line with `fd` attached to its first byte.
    fn write_with_fd(&mut self, line: &[u8], fd: &OwnedFd) -> Result<(), HandleError> {
        let n = send_fds(self.stream.as_fd(), line, &[fd.as_fd()])?;
        self.stream.write_all(&line[n..])?; // rare: the rest, without the fd
        Ok(())
    }

    fn line<T: Serialize + ?Sized>(&self, msg: &T) -> Result<Vec<u8>, HandleError> {
        let mut line = serde_json::to_vec(msg).map_err(ChannelError::Encode)?;
        if line.len() > self.limit {
            return Err(ChannelError::TooLarge {
                limit: self.limit,
                size: line.len(),
            }
            .into());
        }
        line.push(b'\n');
        Ok(line)
    }

    // ANCHOR: on_answer
    /// An ack or a nack for the handle in flight: close it, or send it again; then let the
    /// waiting messages go, up to the next handle.
    fn on_answer(&mut self, ack: bool) -> Result<(), HandleError> {
        let Some(mut flight) = self.in_flight.take() else {
            return Ok(()); // nothing in flight: an answer to nothing, ignored
        };
        if !ack {
            if flight.retransmissions < MAX_RETRANSMISSIONS {
                flight.retransmissions += 1;
                self.write_with_fd(&flight.line, &flight.fd)?;
                self.in_flight = Some(flight);
                return Ok(()); // the queue keeps waiting
            }
            self.inbox.push_back(Err(HandleError::NotDelivered {
                retransmissions: flight.retransmissions,
            }));
        }
        drop(flight); // closes our copy of the fd
        while let Some(waiting) = self.queue.pop_front() {
            match waiting.fd {
                None => self.stream.write_all(&waiting.line)?,
                Some(fd) => {
                    self.write_with_fd(&waiting.line, &fd)?;
                    self.in_flight = Some(InFlight {
                        line: waiting.line,
                        fd,
                        retransmissions: 0,
                    });
                    break;
                }
            }
        }
        Ok(())
    }
    // ANCHOR_END: on_answer

    /// Block until no handle of ours waits for an ack (and every queued message went
    /// out). Messages that arrive meanwhile are kept for [`HandleChannel::recv`]; a handle
    /// nacked too often is reported here.
    pub fn wait_ack(&mut self) -> Result<(), HandleError> {
        while self.in_flight.is_some() {
            if self.eof {
                self.in_flight = None;
                self.queue.clear();
                return Err(HandleError::ClosedBeforeAck);
            }
            self.read_more()?;
        }
        let gave_up =
            |r: &Result<Incoming, HandleError>| matches!(r, Err(HandleError::NotDelivered { .. }));
        match self.inbox.iter().position(gave_up) {
            Some(at) => self
                .inbox
                .remove(at)
                .expect("position is in range")
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// [`HandleChannel::wait_ack`] with a deadline: [`HandleError::AckTimedOut`] if no
    /// answer came within `timeout` (a peer that never acks). The handle stays in flight:
    /// wait again, or drop the channel, which closes our copy of it.
    pub fn wait_ack_timeout(&mut self, timeout: Duration) -> Result<(), HandleError> {
        let deadline = Instant::now() + timeout;
        let result = loop {
            if self.in_flight.is_none() || self.eof {
                break self.wait_ack(); // no read left to wait for
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(HandleError::AckTimedOut { timeout });
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.read_more() {
                Err(HandleError::Channel(ChannelError::Io(e)))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => break Err(e),
                Ok(()) => {}
            }
        };
        self.stream.set_read_timeout(None)?;
        result
    }

    /// Node's `disconnect()`: first wait until every queued message went out (a handle
    /// in flight is acked), then close our end.
    pub fn disconnect(mut self) -> Result<(), HandleError> {
        self.wait_ack()?;
        self.stream.shutdown(std::net::Shutdown::Both)?;
        Ok(())
    }

    // ANCHOR: recv
    /// The next message or handle; `Ok(None)` once the peer closed its end. Acks and nacks
    /// for our own handles are handled on the way; a handle that arrives is acked before
    /// it is returned, an envelope without an fd is nacked and reported.
    pub fn recv(&mut self) -> Result<Option<Incoming>, HandleError> {
        loop {
            if let Some(result) = self.inbox.pop_front() {
                return result.map(Some);
            }
            if self.eof {
                return Ok(None);
            }
            self.read_more()?;
        }
    }
    // ANCHOR_END: recv

    // ANCHOR: read_more
    /// One `recvmsg`, then every complete line it finished, in order.
    fn read_more(&mut self) -> Result<(), HandleError> {
        let start = self.read_total;
        let mut reader = FdReader {
            stream: &self.stream,
            max_fds: self.max_fds,
            fds: Vec::new(),
            truncated: false,
        };
        let n = match self.decoder.read_from(&mut reader) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e.into()),
        };
        self.read_total += n as u64;
        if reader.truncated {
            // The kernel closed what did not fit; close what did: no handle from this read.
            let arrived = reader.fds.len();
            drop(reader.fds);
            self.inbox
                .push_back(Err(HandleError::ControlTruncated { arrived }));
        } else {
            let end = self.read_total;
            self.arrived
                .extend(reader.fds.into_iter().map(|fd| Arrived { fd, start, end }));
        }
        if n == 0 {
            self.eof = true;
        }
        while let Some(frame) = self.decoder.next_frame() {
            let range = match frame {
                Ok(range) => range,
                Err(e) => {
                    self.inbox.push_back(Err(e.into()));
                    continue;
                }
            };
            // Where this line lies in the stream: it ends before the bytes still buffered.
            let line_end = self.read_total - self.decoder.pending_len() as u64;
            let line_start = line_end - range.len() as u64 - 1;
            let bytes = self.decoder.bytes(range);
            let fd = if is_handle_line(bytes) {
                take_fd(&mut self.arrived, line_start, line_end)
            } else {
                None
            };
            let parsed = interpret(bytes, fd);
            self.drop_orphans(line_end);
            self.deliver(parsed)?;
        }
        if self.eof {
            self.drop_orphans(u64::MAX);
            if let Err(e) = self.decoder.finish() {
                self.inbox.push_back(Err(e.into()));
            }
        }
        Ok(())
    }
    // ANCHOR_END: read_more

    /// fds whose bytes were all consumed without a `NODE_HANDLE` line claiming them.
    fn drop_orphans(&mut self, consumed: u64) {
        while self.arrived.front().is_some_and(|a| a.end <= consumed) {
            drop(self.arrived.pop_front()); // closes it
            self.inbox.push_back(Err(HandleError::FdWithoutEnvelope));
        }
    }

    // ANCHOR: deliver
    fn deliver(&mut self, parsed: Result<Parsed, HandleError>) -> Result<(), HandleError> {
        match parsed {
            Ok(Parsed::Ack) => self.on_answer(true)?,
            Ok(Parsed::Nack) => self.on_answer(false)?,
            Ok(Parsed::Message(m)) => self.inbox.push_back(Ok(Incoming::Message(m))),
            Ok(Parsed::Handle(h)) => {
                self.answer(NODE_HANDLE_ACK)?;
                self.inbox.push_back(Ok(Incoming::Handle(h)));
            }
            Err(HandleError::MissingFd) => {
                self.answer(NODE_HANDLE_NACK)?; // the sender will resend
                self.inbox.push_back(Err(HandleError::MissingFd));
            }
            Err(e @ HandleError::UnknownType(_)) => {
                self.answer(NODE_HANDLE_ACK)?; // it arrived; we just cannot use it
                self.inbox.push_back(Err(e));
            }
            Err(e) => self.inbox.push_back(Err(e)),
        }
        Ok(())
    }
    // ANCHOR_END: deliver

    /// Acks and nacks never wait in the queue (Node sends them at once too).
    fn answer(&mut self, cmd: &str) -> Result<(), HandleError> {
        let line = self.line(&json!({ "cmd": cmd }))?;
        self.stream.write_all(&line)?;
        Ok(())
    }

    // ANCHOR: accept_same_uid
    /// Accept one connection on `listener` and refuse it unless the peer runs as our
    /// effective uid. `SO_PEERCRED` reports the credentials the peer had when it called
    /// `connect` (for a socketpair: when it was made, so a child that drops privileges
    /// later still looks like its parent: check accepted connections, not inherited ones).
    pub fn accept_same_uid(listener: &UnixListener) -> Result<HandleChannel, HandleError> {
        let (stream, _) = listener.accept()?;
        let cred = getsockopt(&stream, PeerCredentials).map_err(io::Error::from)?;
        let expected = nix::unistd::geteuid().as_raw();
        if cred.uid() != expected {
            return Err(HandleError::ForeignPeer {
                pid: cred.pid(),
                uid: cred.uid(),
                expected,
            });
        } // `stream` is dropped here on refusal: the peer sees end of file
        Ok(HandleChannel::new(stream))
    }
    // ANCHOR_END: accept_same_uid
}

impl From<OwnedFd> for HandleChannel {
    fn from(fd: OwnedFd) -> Self {
        HandleChannel::new(UnixStream::from(fd))
    }
}

impl AsRawFd for HandleChannel {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

/// The fd for a handle line at `line_start..line_end` (`line_end` is just past its
/// newline). A `recvmsg` that brings fds stops at the end of the `sendmsg` that carried
/// them, so that `sendmsg` is the last one in the read; as Node and this channel write
/// each envelope in a `sendmsg` of its own, the envelope is the line that begins in the
/// read and holds its last byte. An envelope without an fd that came earlier in the same
/// read does not take it.
fn take_fd(arrived: &mut VecDeque<Arrived>, line_start: u64, line_end: u64) -> Option<OwnedFd> {
    let first = arrived.front()?;
    if first.start <= line_start && line_start < first.end && first.end <= line_end {
        return arrived.pop_front().map(|a| a.fd);
    }
    None
}

/// Whether a line is a handle envelope: only such a line may take an fd. (`interpret`
/// parses it again; clarity over speed here.)
fn is_handle_line(line: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<Value>(line),
        Ok(ref v) if v.get("cmd").and_then(Value::as_str) == Some(NODE_HANDLE)
    )
}

/// `Read` for lab-05's decoder, with `recvmsg` underneath: it collects the fds.
struct FdReader<'a> {
    stream: &'a UnixStream,
    max_fds: usize,
    fds: Vec<OwnedFd>,
    truncated: bool,
}

impl Read for FdReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = recv_fds(self.stream.as_fd(), buf, self.max_fds)?;
        self.fds.extend(got.fds);
        self.truncated |= got.truncated;
        Ok(got.bytes)
    }
}
