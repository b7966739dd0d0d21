//! Chapter 5: the messages of fork_compute, Node's classic example of `fork()`: the
//! parent sends a start message, the child computes and replies with the sum.

use serde::{Deserialize, Serialize};

// ANCHOR: messages
/// What the parent sends: `{"cmd":"start","upto":N}`, `{"cmd":"range","from":A,"to":B}`
/// or `{"cmd":"stop"}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Command {
    /// Sum 1 + 2 + … + upto.
    Start {
        upto: u64,
    },
    /// Sum from + … + to (both included).
    Range {
        from: u64,
        to: u64,
    },
    Stop,
}

/// What the child answers: `{"sum":S}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub sum: u64,
}
// ANCHOR_END: messages

/// The longest range a child adds up (a billion numbers: about a second in a release
/// build). Longer ones, and sums over `u64::MAX` (from about `upto` = 6.07e9), are refused.
pub const MAX_RANGE: u64 = 1_000_000_000;

/// 1 + 2 + … + upto, the slow way (the point is that a child does the work); `None` when
/// the range is over [`MAX_RANGE`] or the sum does not fit in a `u64`.
pub fn sum_upto(upto: u64) -> Option<u64> {
    sum_range(1, upto)
}

/// from + … + to, the slow way; 0 for an empty range; `None` as for [`sum_upto`].
pub fn sum_range(from: u64, to: u64) -> Option<u64> {
    if to.saturating_sub(from) >= MAX_RANGE {
        return None;
    }
    (from..=to).try_fold(0u64, |acc, n| acc.checked_add(n))
}
