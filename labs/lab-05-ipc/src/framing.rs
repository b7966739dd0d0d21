//! Chapter 5: cutting a byte stream into messages.
//!
//! A stream socket (or a pipe) delivers bytes, not messages: one `read` may return half a
//! message, or three and a half. Something must say where each message ends. Node has two
//! answers, and so has this module:
//!
//! - [`LineDecoder`]: newline-delimited JSON, Node's default `serialization: 'json'`. JSON
//!   text never contains a raw newline (inside strings it is escaped as `\n`), so a newline
//!   can end a message.
//! - [`LengthDecoder`]: a 4-byte big-endian length, then that many bytes, the framing of
//!   Node's `serialization: 'advanced'` (whose body is V8's serialization; ours is any bytes).
//!
//! Both only *decode*: they are fed bytes with [`Decoder::push`] (or read them straight
//! from a stream) and hand out complete frames, so they can be tested and fuzzed without a
//! socket. Both enforce a size limit and recover after a bad frame: the frame is reported
//! once and skipped, and the next one is delivered.

use std::io::{self, Read};
use std::ops::Range;

use crate::error::ChannelError;

/// The largest message a decoder accepts by default: 1 MiB. Node has no limit at all: it
/// buffers a line until its newline arrives, however long that takes.
pub const DEFAULT_LIMIT: usize = 1 << 20;

/// How much a read asks the kernel for when the decoder has no better idea.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes received and not yet handed out: `data[start..end]`. `data` beyond `end` is
/// room for the next read, zeroed once when it was allocated (not before every read).
#[derive(Debug, Default)]
struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    fn pending(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Room for at least `want` more bytes after the pending ones, moving them to the
    /// front first when that makes room.
    fn spare(&mut self, want: usize) -> &mut [u8] {
        if self.data.len() - self.end < want && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.data.len() - self.end < want {
            self.data.resize(self.end + want, 0);
        }
        &mut self.data[self.end..]
    }

    /// Keep `n` of the bytes [`Buffer::spare`] offered.
    fn filled(&mut self, n: usize) {
        self.end += n;
    }

    fn push(&mut self, bytes: &[u8]) {
        self.spare(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// Hand out the next `n` pending bytes: their range in `data`.
    fn take(&mut self, n: usize) -> Range<usize> {
        let range = self.start..self.start + n;
        self.start += n;
        if self.start == self.end {
            // Everything handed out: the next read starts at the front again. The range
            // stays valid: nothing is overwritten until that read.
            let (start, end) = (range.start, range.end);
            self.start = 0;
            self.end = 0;
            return start..end;
        }
        range
    }
}

/// A framing: bytes in, complete frames out.
pub trait Decoder {
    /// Append bytes that arrived.
    fn push(&mut self, bytes: &[u8]);

    /// Read once from `source` straight into the decoder's buffer; `Ok(0)` is end of file.
    fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize>;

    /// The next complete frame, as a range for [`Decoder::bytes`]; `None` until more bytes
    /// arrive. An `Err` reports one bad frame, which is skipped: call again for the next.
    fn next_frame(&mut self) -> Option<Result<Range<usize>, ChannelError>>;

    /// The bytes of a frame that [`Decoder::next_frame`] just returned.
    fn bytes(&self, frame: Range<usize>) -> &[u8];

    /// At end of file: an error if a frame was cut off, and forget it.
    fn finish(&mut self) -> Result<(), ChannelError>;

    /// Append one frame with `payload` to `out`.
    fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), ChannelError>;

    /// [`Decoder::next_frame`] and [`Decoder::bytes`] in one call.
    fn next(&mut self) -> Option<Result<&[u8], ChannelError>> {
        match self.next_frame()? {
            Ok(range) => Some(Ok(self.bytes(range))),
            Err(e) => Some(Err(e)),
        }
    }
}

fn read_into(buffer: &mut Buffer, want: usize, source: &mut impl Read) -> io::Result<usize> {
    let spare = buffer.spare(want);
    loop {
        match source.read(spare) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(n) => {
                buffer.filled(n);
                return Ok(n);
            }
        }
    }
}

/// Newline-delimited frames (Node's `json` serialization).
#[derive(Debug)]
pub struct LineDecoder {
    buffer: Buffer,
    /// How many pending bytes are known to hold no newline (so no byte is searched twice).
    scanned: usize,
    limit: usize,
    /// Dropping the rest of a line that was already reported as too large.
    skipping: bool,
}

impl Default for LineDecoder {
    fn default() -> Self {
        LineDecoder::new(DEFAULT_LIMIT)
    }
}

impl LineDecoder {
    /// A decoder that refuses lines longer than `limit` bytes (without the newline).
    pub fn new(limit: usize) -> Self {
        LineDecoder {
            buffer: Buffer::default(),
            scanned: 0,
            limit,
            skipping: false,
        }
    }

    /// How many received bytes are buffered and not handed out yet (a partial line, or
    /// lines not asked for). Chapter 6 subtracts it from the bytes read to know where in
    /// the stream each line ends, to match a received fd with the message it came with.
    pub fn pending_len(&self) -> usize {
        self.buffer.pending().len()
    }
}

// ANCHOR: next_line
impl Decoder for LineDecoder {
    fn next_frame(&mut self) -> Option<Result<Range<usize>, ChannelError>> {
        loop {
            let pending = self.buffer.pending();
            let Some(at) = memchr::memchr(b'\n', &pending[self.scanned..]) else {
                // No newline yet: keep the partial line for the next read.
                self.scanned = pending.len();
                if self.skipping {
                    let all = pending.len();
                    self.buffer.take(all);
                    self.scanned = 0;
                } else if pending.len() > self.limit {
                    let size = pending.len();
                    self.buffer.take(size);
                    self.scanned = 0;
                    self.skipping = true;
                    return Some(Err(ChannelError::TooLarge {
                        limit: self.limit,
                        size,
                    }));
                }
                return None;
            };
            let len = self.scanned + at;
            self.scanned = 0;
            let line = self.buffer.take(len + 1); // the newline goes too
            if std::mem::take(&mut self.skipping) {
                continue; // the end of a line already reported as too large
            }
            if len > self.limit {
                return Some(Err(ChannelError::TooLarge {
                    limit: self.limit,
                    size: len,
                }));
            }
            return Some(Ok(line.start..line.end - 1));
        }
    }
    // ANCHOR_END: next_line

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.push(bytes);
    }

    fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize> {
        read_into(&mut self.buffer, READ_CHUNK, source)
    }

    fn bytes(&self, frame: Range<usize>) -> &[u8] {
        &self.buffer.data[frame]
    }

    fn finish(&mut self) -> Result<(), ChannelError> {
        let bytes = self.buffer.pending().len();
        self.buffer.take(bytes);
        self.scanned = 0;
        if std::mem::take(&mut self.skipping) || bytes == 0 {
            return Ok(()); // a skipped line was reported already
        }
        Err(ChannelError::Truncated { bytes })
    }

    fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), ChannelError> {
        debug_assert!(
            !payload.contains(&b'\n'),
            "a line frame cannot hold a newline"
        );
        out.extend_from_slice(payload);
        out.push(b'\n');
        Ok(())
    }
}

/// Length-prefixed frames: a 4-byte big-endian length, then the body (the framing of
/// Node's `advanced` serialization).
#[derive(Debug)]
pub struct LengthDecoder {
    buffer: Buffer,
    limit: usize,
    /// Bytes of a too-large frame still to drop.
    skipping: usize,
}

impl Default for LengthDecoder {
    fn default() -> Self {
        LengthDecoder::new(DEFAULT_LIMIT)
    }
}

impl LengthDecoder {
    /// A decoder that refuses bodies longer than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        LengthDecoder {
            buffer: Buffer::default(),
            limit,
            skipping: 0,
        }
    }

    /// The length announced by the header at the front of the buffer, if it has arrived.
    fn announced(&self) -> Option<usize> {
        let header: [u8; 4] = self.buffer.pending().get(..4)?.try_into().ok()?;
        Some(u32::from_be_bytes(header) as usize)
    }
}

// ANCHOR: next_frame
impl Decoder for LengthDecoder {
    fn next_frame(&mut self) -> Option<Result<Range<usize>, ChannelError>> {
        if self.skipping > 0 {
            // The body of a refused frame: drop what has arrived of it.
            let n = self.skipping.min(self.buffer.pending().len());
            self.buffer.take(n);
            self.skipping -= n;
            if self.skipping > 0 {
                return None;
            }
        }
        let size = self.announced()?;
        if size > self.limit {
            // Refuse before the body arrives, and drop the body as it comes.
            self.buffer.take(4);
            self.skipping = size;
            return Some(Err(ChannelError::TooLarge {
                limit: self.limit,
                size,
            }));
        }
        if self.buffer.pending().len() < 4 + size {
            return None;
        }
        self.buffer.take(4);
        Some(Ok(self.buffer.take(size)))
    }
    // ANCHOR_END: next_frame

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.push(bytes);
    }

    fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize> {
        // Ask for the whole rest of a large frame at once: fewer, larger reads.
        let missing = match self.announced() {
            Some(size) if size <= self.limit && self.skipping == 0 => {
                (4 + size).saturating_sub(self.buffer.pending().len())
            }
            _ => 0,
        };
        read_into(&mut self.buffer, missing.max(READ_CHUNK), source)
    }

    fn bytes(&self, frame: Range<usize>) -> &[u8] {
        &self.buffer.data[frame]
    }

    fn finish(&mut self) -> Result<(), ChannelError> {
        let bytes = self.buffer.pending().len();
        self.buffer.take(bytes);
        let skipping = std::mem::take(&mut self.skipping);
        if skipping > 0 || bytes == 0 {
            return Ok(()); // a skipped frame was reported already
        }
        Err(ChannelError::Truncated { bytes })
    }

    // ANCHOR: encode_frame
    fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), ChannelError> {
        let size = u32::try_from(payload.len()).map_err(|_| ChannelError::TooLarge {
            limit: u32::MAX as usize,
            size: payload.len(),
        })?;
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(payload);
        Ok(())
    }
    // ANCHOR_END: encode_frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(decoder: &mut LineDecoder) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        while let Some(r) = decoder.next() {
            out.push(
                r.map(|b| String::from_utf8_lossy(b).into_owned())
                    .map_err(|e| e.to_string()),
            );
        }
        out
    }

    #[test]
    fn a_line_split_over_three_reads_comes_out_once() {
        let mut d = LineDecoder::default();
        d.push(b"{\"a\":");
        assert!(d.next().is_none());
        d.push(b"1}\n{\"b\"");
        assert_eq!(lines(&mut d), vec![Ok("{\"a\":1}".to_string())]);
        d.push(b":2}\n{\"c\":3}\n");
        assert_eq!(lines(&mut d).len(), 2);
        assert!(d.finish().is_ok());
    }

    #[test]
    fn an_oversized_line_is_reported_once_and_skipped() {
        let mut d = LineDecoder::new(8);
        d.push(b"1\n0123456789");
        d.push(b"abc\n2\n");
        let got = lines(&mut d);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Ok("1".to_string()));
        assert!(got[1].is_err());
        assert_eq!(got[2], Ok("2".to_string()));
    }

    #[test]
    fn a_length_frame_waits_for_its_body() {
        let mut d = LengthDecoder::default();
        let mut wire = Vec::new();
        LengthDecoder::encode(b"hello", &mut wire).unwrap();
        d.push(&wire[..6]);
        assert!(d.next().is_none());
        d.push(&wire[6..]);
        assert_eq!(d.next().unwrap().unwrap(), b"hello");
        d.push(&wire[..3]);
        assert!(matches!(
            d.finish(),
            Err(ChannelError::Truncated { bytes: 3 })
        ));
    }
}
