//! Chapter 5, exercise 05.1: a third framing, netstrings (`5:hello,`): the length in
//! decimal ASCII, a colon, the body, a comma. Used by QMTP and some RPC systems; it is
//! readable like JSON lines and carries any bytes like length prefixes.

use std::io::{self, Read};
use std::ops::Range;

use crate::error::ChannelError;
use crate::framing::Decoder;

/// At most this many digits of length: more is malformed, not just large.
const MAX_DIGITS: usize = 10;

/// A decoder for netstrings with a size limit.
#[derive(Debug)]
pub struct NetstringDecoder {
    data: Vec<u8>,
    start: usize,
    limit: usize,
    /// After an error: the stream cannot be trusted any more, everything is dropped.
    broken: bool,
}

impl NetstringDecoder {
    /// A decoder that refuses bodies longer than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        NetstringDecoder {
            data: Vec::new(),
            start: 0,
            limit,
            broken: false,
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.data.drain(..self.start);
            self.start = 0;
        }
    }
}

impl Decoder for NetstringDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.extend_from_slice(bytes);
    }

    fn read_from(&mut self, source: &mut impl Read) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = source.read(&mut chunk)?;
        self.push(&chunk[..n]);
        Ok(n)
    }

    /// The next body. Errors: `TooLarge` as soon as the announced length is known to be
    /// over the limit; `Malformed` when the length is not digits followed by `:` (within
    /// MAX_DIGITS + 1 bytes) or the body is not followed by `,`. After an error the
    /// decoder is `broken`: there is no reliable way to find the next frame, so it drops
    /// everything, now and later, and returns `None` from then on.
    fn next_frame(&mut self) -> Option<Result<Range<usize>, ChannelError>> {
        // EXERCISE: decode one netstring from self.data[self.start..], as described above.
        // Return None while it is incomplete; advance self.start past a whole frame.
        // BEGIN SOLUTION
        if self.broken {
            self.start = self.data.len();
            return None;
        }
        let pending = &self.data[self.start..];
        let malformed = |why: &str| {
            let source = serde_json::Error::io(io::Error::other(why.to_string()));
            ChannelError::Malformed {
                line: String::from_utf8_lossy(pending).into_owned(),
                source,
            }
        };
        let colon = pending.iter().take(MAX_DIGITS + 1).position(|&b| b == b':');
        let Some(colon) = colon else {
            if pending.len() > MAX_DIGITS || !pending.iter().all(u8::is_ascii_digit) {
                let err = malformed("a netstring starts with its length and ':'");
                (self.start, self.broken) = (self.data.len(), true);
                return Some(Err(err));
            }
            return None;
        };
        let digits = &pending[..colon];
        let size = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<usize>().ok());
        let Some(size) = size else {
            let err = malformed("the length is not a decimal number");
            (self.start, self.broken) = (self.data.len(), true);
            return Some(Err(err));
        };
        if size > self.limit {
            (self.start, self.broken) = (self.data.len(), true);
            return Some(Err(ChannelError::TooLarge {
                limit: self.limit,
                size,
            }));
        }
        if pending.len() < colon + 1 + size + 1 {
            return None;
        }
        if pending[colon + 1 + size] != b',' {
            let err = malformed("a netstring ends with ','");
            (self.start, self.broken) = (self.data.len(), true);
            return Some(Err(err));
        }
        let body = self.start + colon + 1;
        self.start = body + size + 1;
        Some(Ok(body..body + size))
        // END SOLUTION
    }

    fn bytes(&self, frame: Range<usize>) -> &[u8] {
        &self.data[frame]
    }

    fn finish(&mut self) -> Result<(), ChannelError> {
        let bytes = self.data.len() - self.start;
        self.data.clear();
        self.start = 0;
        if bytes == 0 || self.broken {
            Ok(())
        } else {
            Err(ChannelError::Truncated { bytes })
        }
    }

    fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), ChannelError> {
        out.extend_from_slice(payload.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(payload);
        out.push(b',');
        Ok(())
    }
}
