//! `eventually`: wait for a condition that the kernel gives no notification for.
//!
//! Some facts change a moment after the event a test can synchronise on: a joined
//! thread's `/proc/PID/task` entry disappears shortly after `join` returns, a killed
//! process turns into a zombie shortly after `kill` returns. For those, and only those,
//! a test polls. `eventually` polls with a short, growing pause and, at the deadline,
//! fails with the last reason the probe gave: it never hands back a stale value.

use std::io;
use std::time::{Duration, Instant};

/// Call `probe` until it returns `Ok(value)`, then return that value. `Err(reason)`
/// means "not yet"; after `timeout` the result is an `ErrorKind::TimedOut` error that
/// quotes the last reason.
pub fn eventually<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> io::Result<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(50);
    loop {
        let reason = match probe() {
            Ok(value) => return Ok(value),
            Err(reason) => reason,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("not true after {timeout:?}: {reason}"),
            ));
        }
        // A poll, not a way to order events: there is nothing to wait on.
        std::thread::park_timeout(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_good_value() {
        let mut calls = 0;
        let value = eventually(Duration::from_secs(10), || {
            calls += 1;
            if calls == 3 {
                Ok(calls)
            } else {
                Err(format!("call {calls}"))
            }
        })
        .unwrap();
        assert_eq!(value, 3);
    }

    #[test]
    fn fails_at_the_deadline_with_the_last_reason() {
        let mut calls = 0;
        let err = eventually(Duration::from_millis(30), || -> Result<(), String> {
            calls += 1;
            Err(format!("still {calls} threads"))
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            err.to_string().contains(&format!("still {calls} threads")),
            "{err}"
        );
    }
}
