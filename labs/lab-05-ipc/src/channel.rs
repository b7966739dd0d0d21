//! Chapter 5: a `Channel` of newline-delimited JSON over a Unix stream socket, the wire
//! format of Node's `child.send()` / `process.on('message')` with the default
//! `serialization: 'json'`, and a `FrameChannel` with length-prefixed frames beside it.
//!
//! Both are blocking and own one end of a `socketpair`. Later labs build on [`Channel`]:
//! chapter 6 passes file descriptors beside its messages, chapter 7 runs a cluster on it.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::sys::stat::{SFlag, fstat};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ChannelError;
use crate::framing::{DEFAULT_LIMIT, Decoder, LengthDecoder, LineDecoder};

/// The environment variable in which Node (and [`crate::spawn_with_channel`]) names the
/// child's channel fd.
pub const CHANNEL_FD_VAR: &str = "NODE_CHANNEL_FD";
/// The environment variable that names the serialization (`json` or `advanced`).
pub const SERIALIZATION_VAR: &str = "NODE_CHANNEL_SERIALIZATION_MODE";

/// One end of a socket plus a decoder: the part both channels share.
#[derive(Debug)]
struct Conn<D> {
    stream: UnixStream,
    decoder: D,
    eof: bool,
    out: Vec<u8>,
}

impl<D: Decoder> Conn<D> {
    fn new(fd: OwnedFd, decoder: D) -> Self {
        Conn {
            stream: UnixStream::from(fd),
            decoder,
            eof: false,
            out: Vec::new(),
        }
    }

    // ANCHOR: recv_frame
    /// The next complete frame; `Ok(None)` once the peer has closed its end.
    fn recv_frame(&mut self) -> Result<Option<&[u8]>, ChannelError> {
        let frame = loop {
            // Frames already buffered first: one read may have brought several.
            match self.decoder.next_frame() {
                Some(Ok(frame)) => break frame,
                Some(Err(bad_frame)) => return Err(bad_frame),
                None => {}
            }
            if self.eof {
                self.decoder.finish()?; // Truncated if a frame was cut off
                return Ok(None);
            }
            // Only a partial frame (or nothing) is buffered: block for more bytes.
            match self.decoder.read_from(&mut self.stream) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                // The peer closed with our data unread: its end is gone, like at EOF.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.eof = true;
                    let bytes = match self.decoder.finish() {
                        Err(ChannelError::Truncated { bytes }) => bytes,
                        _ => 0,
                    };
                    return Err(ChannelError::PeerReset { bytes });
                }
                Err(e) => return Err(ChannelError::Io(e)),
            }
        };
        Ok(Some(self.decoder.bytes(frame)))
    }
    // ANCHOR_END: recv_frame

    /// Write what `encode` put in the out buffer, all of it, with as few writes as it takes.
    fn flush_out(&mut self) -> Result<(), ChannelError> {
        let result = self.stream.write_all(&self.out);
        self.out.clear();
        result.map_err(ChannelError::Io)
    }
}

/// Encode `msg` as one line of JSON at the end of `out`: no newline can be inside (JSON
/// escapes it in strings), one ends it.
fn json_line<T: Serialize + ?Sized>(
    msg: &T,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), ChannelError> {
    let start = out.len();
    serde_json::to_writer(&mut *out, msg).map_err(ChannelError::Encode)?;
    let size = out.len() - start;
    if size > limit {
        out.truncate(start);
        return Err(ChannelError::TooLarge { limit, size });
    }
    out.push(b'\n');
    Ok(())
}

// ANCHOR: parse_line
/// One received line as a message of type `T`. serde_json checks UTF-8 as it parses; only
/// when parsing fails do we look again, to report bad UTF-8 as such.
fn parse_line<T: DeserializeOwned>(line: &[u8]) -> Result<T, ChannelError> {
    serde_json::from_slice(line).map_err(|source| match std::str::from_utf8(line) {
        Ok(text) => ChannelError::Malformed {
            line: text.to_string(),
            source,
        },
        Err(e) => ChannelError::InvalidUtf8 {
            line: line.to_vec(),
            valid_up_to: e.valid_up_to(),
        },
    })
}
// ANCHOR_END: parse_line

/// Parse one line the way [`Channel::recv`] does (for fuzzing and property tests).
pub fn decode_line<T: DeserializeOwned>(line: &[u8]) -> Result<T, ChannelError> {
    parse_line(line)
}

/// A socketpair with both ends close-on-exec (a child gets an end only on purpose).
pub fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

/// A message channel in Node's `json` serialization: each message one line of JSON.
///
/// ```
/// # use lab_05::Channel;
/// let (mut parent, mut child) = Channel::pair().unwrap();
/// parent.send(&serde_json::json!({"cmd": "start", "upto": 10})).unwrap();
/// let got: serde_json::Value = child.recv().unwrap().unwrap();
/// assert_eq!(got["upto"], 10);
/// drop(parent);
/// assert!(child.recv::<serde_json::Value>().unwrap().is_none());
/// ```
#[derive(Debug)]
pub struct Channel {
    conn: Conn<LineDecoder>,
    limit: usize,
}

/// Claimed by [`Channel::from_env`]: the inherited fd may get only one owner.
static ENV_CHANNEL_TAKEN: AtomicBool = AtomicBool::new(false);

impl Channel {
    // ANCHOR: from_fd
    /// A channel on a connected stream socket (one end of a socketpair, fd 3 in a child).
    /// Messages up to [`DEFAULT_LIMIT`] bytes; see [`Channel::with_limit`].
    pub fn from_fd(fd: OwnedFd) -> Channel {
        Channel {
            conn: Conn::new(fd, LineDecoder::new(DEFAULT_LIMIT)),
            limit: DEFAULT_LIMIT,
        }
    }
    // ANCHOR_END: from_fd

    /// Both ends of a new socketpair, as channels.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) = socket_pair()?;
        Ok((Channel::from_fd(a), Channel::from_fd(b)))
    }

    /// The same channel, accepting and sending messages of at most `limit` bytes.
    pub fn with_limit(mut self, limit: usize) -> Channel {
        self.conn.decoder = LineDecoder::new(limit);
        self.limit = limit;
        self
    }

    // ANCHOR: from_env
    /// The channel a parent gave this process: the fd named by `NODE_CHANNEL_FD`, as Node's
    /// `fork()` and [`crate::spawn_with_channel`] pass it. Works once per process.
    pub fn from_env() -> Result<Channel, ChannelError> {
        let no = |why: String| ChannelError::NoChannel(why);
        let value = std::env::var(CHANNEL_FD_VAR)
            .map_err(|_| no(format!("{CHANNEL_FD_VAR} is not set")))?;
        let fd: RawFd = value.parse().ok().filter(|fd| *fd > 2).ok_or_else(|| {
            no(format!(
                "{CHANNEL_FD_VAR}={value:?} is not an fd number above 2"
            ))
        })?;
        match std::env::var(SERIALIZATION_VAR) {
            Ok(mode) if mode != "json" => {
                return Err(no(format!(
                    "serialization {mode:?} is not supported, only json"
                )));
            }
            _ => {} // unset means json, Node's default
        }
        // A BorrowedFd must name an open fd, so first ask about the bare number.
        // SAFETY: F_GETFD only reads the fd's flags; on a closed number it fails (EBADF).
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            let e = io::Error::last_os_error();
            return Err(no(format!("fd {fd} is not open ({e})")));
        }
        // SAFETY: fd is open (checked above) and stays open while borrowed: nothing in
        // this process closes a number it does not own.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let stat = fstat(borrowed).map_err(|e| no(format!("cannot fstat fd {fd} ({e})")))?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFSOCK {
            return Err(no(format!("fd {fd} is not a socket")));
        }
        if ENV_CHANNEL_TAKEN.swap(true, Ordering::SeqCst) {
            return Err(no("the channel was taken already".to_string()));
        }
        // SAFETY: the parent opened this fd for us and nothing else in this process claims
        // it: the flag above lets only the first call through.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Our own children must not inherit it by accident (dup2 cleared close-on-exec).
        // NODE_CHANNEL_FD stays in our environment (removing it is unsafe: see
        // crate::without_channel), so a program we start must not inherit that either.
        fcntl(&fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(io::Error::from)?;
        Ok(Channel::from_fd(fd))
    }
    // ANCHOR_END: from_env

    // ANCHOR: send
    /// Send one message: its JSON and a newline, in one `write` (more if the socket's
    /// buffer is full: then `send` blocks until the peer reads).
    pub fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), ChannelError> {
        json_line(msg, self.limit, &mut self.conn.out)?;
        self.conn.flush_out()
    }
    // ANCHOR_END: send

    /// Send several messages with as few `write`s as possible: all lines in one buffer.
    pub fn send_batch<'a, T, I>(&mut self, msgs: I) -> Result<(), ChannelError>
    where
        T: Serialize + 'a,
        I: IntoIterator<Item = &'a T>,
    {
        for msg in msgs {
            if let Err(e) = json_line(msg, self.limit, &mut self.conn.out) {
                self.conn.out.clear();
                return Err(e);
            }
        }
        self.conn.flush_out()
    }

    // ANCHOR: recv
    /// The next message; `Ok(None)` once the peer closed its end (Node: `'disconnect'`).
    /// A bad line is an error that names it, and the next call reads the next message.
    pub fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ChannelError> {
        match self.conn.recv_frame()? {
            Some(line) => parse_line(line).map(Some),
            None => Ok(None),
        }
    }
    // ANCHOR_END: recv

    /// The socket underneath, to write raw bytes in a test or read its fd number.
    pub fn get_ref(&self) -> &UnixStream {
        &self.conn.stream
    }

    /// The fd number of our end.
    pub fn as_raw_fd(&self) -> RawFd {
        self.conn.stream.as_raw_fd()
    }

    /// The socket, to use it with another framing. Bytes that were read but not handed
    /// out yet are dropped: call it before the first `recv`, or when the peer is quiet.
    pub fn into_inner(self) -> UnixStream {
        self.conn.stream
    }
}

/// A channel of length-prefixed frames (4-byte big-endian length, then the body), like
/// Node's `advanced` serialization; bodies are raw bytes, or JSON with [`FrameChannel::send`].
#[derive(Debug)]
pub struct FrameChannel {
    conn: Conn<LengthDecoder>,
    limit: usize,
}

impl FrameChannel {
    /// A frame channel on a connected stream socket; bodies up to [`DEFAULT_LIMIT`] bytes.
    pub fn from_fd(fd: OwnedFd) -> FrameChannel {
        FrameChannel {
            conn: Conn::new(fd, LengthDecoder::new(DEFAULT_LIMIT)),
            limit: DEFAULT_LIMIT,
        }
    }

    /// Both ends of a new socketpair.
    pub fn pair() -> io::Result<(FrameChannel, FrameChannel)> {
        let (a, b) = socket_pair()?;
        Ok((FrameChannel::from_fd(a), FrameChannel::from_fd(b)))
    }

    /// The same channel with bodies of at most `limit` bytes.
    pub fn with_limit(mut self, limit: usize) -> FrameChannel {
        self.conn.decoder = LengthDecoder::new(limit);
        self.limit = limit;
        self
    }

    /// Send one frame with `body` (any bytes, newlines included).
    pub fn send_bytes(&mut self, body: &[u8]) -> Result<(), ChannelError> {
        if body.len() > self.limit {
            return Err(ChannelError::TooLarge {
                limit: self.limit,
                size: body.len(),
            });
        }
        // A large body goes out with one writev of header and body: no copy into `out`.
        let header = (body.len() as u32).to_be_bytes();
        let mut parts = [io::IoSlice::new(&header), io::IoSlice::new(body)];
        self.conn
            .stream
            .write_all_vectored_compat(&mut parts)
            .map_err(ChannelError::Io)
    }

    /// The next frame's body; `Ok(None)` once the peer closed its end.
    pub fn recv_bytes(&mut self) -> Result<Option<&[u8]>, ChannelError> {
        self.conn.recv_frame()
    }

    /// Send a message as a JSON body.
    pub fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), ChannelError> {
        let mut body = std::mem::take(&mut self.conn.out);
        body.extend_from_slice(&[0; 4]);
        let result = serde_json::to_writer(&mut body, msg).map_err(ChannelError::Encode);
        let size = body.len() - 4;
        let result = result.and_then(|()| {
            if size > self.limit {
                return Err(ChannelError::TooLarge {
                    limit: self.limit,
                    size,
                });
            }
            body[..4].copy_from_slice(&(size as u32).to_be_bytes());
            self.conn.stream.write_all(&body).map_err(ChannelError::Io)
        });
        body.clear();
        self.conn.out = body;
        result
    }

    /// The next message from a JSON body.
    pub fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ChannelError> {
        match self.conn.recv_frame()? {
            Some(body) => parse_line(body).map(Some),
            None => Ok(None),
        }
    }

    /// The socket underneath.
    pub fn get_ref(&self) -> &UnixStream {
        &self.conn.stream
    }
}

/// `write_all` for several slices (std's `write_all_vectored` is unstable).
trait WriteAllVectored {
    fn write_all_vectored_compat(&mut self, parts: &mut [io::IoSlice<'_>]) -> io::Result<()>;
}

impl<W: Write> WriteAllVectored for W {
    fn write_all_vectored_compat(&mut self, mut parts: &mut [io::IoSlice<'_>]) -> io::Result<()> {
        io::IoSlice::advance_slices(&mut parts, 0);
        while !parts.is_empty() {
            match self.write_vectored(parts) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => io::IoSlice::advance_slices(&mut parts, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
