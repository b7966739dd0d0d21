//! Reading a child's output line by line, with a time-out.
//!
//! Tests synchronise on what a demo prints (its `ready …` line), never on sleeps. A
//! plain blocking read would hang the test forever if the demo never prints, so a small
//! thread reads the pipe and hands each line over a channel; the test waits on the
//! channel with a deadline.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Lines from a reader (usually a child's stdout), received with time-outs.
#[derive(Debug)]
pub struct LineReader {
    rx: Receiver<io::Result<String>>,
    history: Vec<String>,
}

impl LineReader {
    /// Start a thread that reads `source` line by line until end of file. Bytes that are
    /// not UTF-8 are replaced, so odd output never stops the reader.
    pub fn new<R: Read + Send + 'static>(source: R) -> LineReader {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(source);
            loop {
                let mut buf = Vec::new();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        if buf.ends_with(b"\n") {
                            buf.pop();
                        }
                        let line = String::from_utf8_lossy(&buf).into_owned();
                        if tx.send(Ok(line)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        LineReader {
            rx,
            history: Vec::new(),
        }
    }

    /// The next line, `None` at end of file, or a `TimedOut` error.
    pub fn next_line(&mut self, timeout: Duration) -> io::Result<Option<String>> {
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(line)) => {
                self.history.push(line.clone());
                Ok(Some(line))
            }
            Ok(Err(e)) => Err(e),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
            Err(RecvTimeoutError::Timeout) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no line within {timeout:?}; lines so far: {:?}",
                    self.history
                ),
            )),
        }
    }

    /// Read until a line starts with `prefix` and return it. Fails on end of file or
    /// when `timeout` passes first, naming the lines seen so far.
    pub fn wait_for(&mut self, prefix: &str, timeout: Duration) -> io::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left)? {
                Some(line) if line.starts_with(prefix) => return Ok(line),
                Some(_) => continue,
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "end of output before a line starting with {prefix:?}; lines: {:?}",
                            self.history
                        ),
                    ));
                }
            }
        }
    }

    /// Every remaining line up to end of file (the child closed its end, usually by
    /// exiting), or a `TimedOut` error.
    pub fn rest(&mut self, timeout: Duration) -> io::Result<Vec<String>> {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        while let Some(line) = self.next_line(deadline.saturating_duration_since(Instant::now()))? {
            lines.push(line);
        }
        Ok(lines)
    }

    /// Every line received so far, in order.
    pub fn history(&self) -> &[String] {
        &self.history
    }
}

/// The `key=value` words of a line such as `ready addr=127.0.0.1:4000 pid=42`.
pub fn fields(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn reads_lines_in_order_then_eof() {
        let mut lines = LineReader::new(&b"one\ntwo\nthree"[..]);
        assert_eq!(lines.next_line(T).unwrap().as_deref(), Some("one"));
        assert_eq!(lines.rest(T).unwrap(), ["two", "three"]);
        assert_eq!(lines.next_line(T).unwrap(), None);
        assert_eq!(lines.history(), ["one", "two", "three"]);
    }

    #[test]
    fn wait_for_skips_to_the_ready_line() {
        let mut lines = LineReader::new(&b"compiling\nready addr=127.0.0.1:80 pid=9\nafter\n"[..]);
        let ready = lines.wait_for("ready", T).unwrap();
        assert_eq!(fields(&ready)["addr"], "127.0.0.1:80");
        assert_eq!(fields(&ready)["pid"], "9");
        assert_eq!(lines.rest(T).unwrap(), ["after"]);
    }

    #[test]
    fn wait_for_fails_at_eof_and_names_what_it_saw() {
        let mut lines = LineReader::new(&b"booting\ncrashed\n"[..]);
        let err = lines.wait_for("ready", T).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("crashed"), "{err}");
    }

    #[test]
    fn a_silent_source_times_out() {
        // A pipe whose write end we hold open but never write to.
        let (read_end, _write_end) = std::io::pipe().unwrap();
        let mut lines = LineReader::new(read_end);
        let err = lines.next_line(Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut lines = LineReader::new(&b"ok \xff\n"[..]);
        assert_eq!(lines.next_line(T).unwrap().unwrap(), "ok \u{fffd}");
    }
}
