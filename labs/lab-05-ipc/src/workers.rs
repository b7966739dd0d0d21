//! Chapter 5, exercise 05.2: split one computation over several child processes, each
//! with its own channel (Node: several `fork()`s, one `'message'` listener each).

use std::io;
use std::path::Path;
use std::process::Command;

use crate::compute::{self, Reply};
use crate::spawn::spawn_with_channel;

/// Compute 1 + 2 + … + `upto` with `workers` children of `program --child` (the
/// `fork-compute` demo): start them all, give each a `{"cmd":"range"}` of about equal
/// size, add their `{"sum"}` replies, then send each `{"cmd":"stop"}` and reap it. A child
/// that closes its channel without replying, or exits unsuccessfully, is an error.
pub fn sum_in_children(program: &Path, upto: u64, workers: u64) -> io::Result<u64> {
    if workers == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no workers"));
    }
    // EXERCISE: start `workers` children with spawn_with_channel, send each a Range, sum
    // their replies, stop and reap them all. Map ChannelError with io::Error::other.
    // BEGIN SOLUTION
    let mut children = Vec::new();
    let mut work = || -> io::Result<u64> {
        for _ in 0..workers {
            let mut cmd = Command::new(program);
            cmd.arg("--child");
            children.push(spawn_with_channel(cmd)?);
        }
        // Send every range first, so that the children compute at the same time.
        let per = upto / workers;
        for (i, (_, channel)) in (0..).zip(children.iter_mut()) {
            let from = i * per + 1;
            let to = if i + 1 == workers {
                upto
            } else {
                (i + 1) * per
            };
            let range = compute::Command::Range { from, to };
            channel.send(&range).map_err(io::Error::other)?;
        }
        let mut total = 0u64;
        for (_, channel) in children.iter_mut() {
            let reply: Reply = channel
                .recv()
                .map_err(io::Error::other)?
                .ok_or_else(|| io::Error::other("a child closed its channel without replying"))?;
            total = total
                .checked_add(reply.sum)
                .ok_or_else(|| io::Error::other("the sum does not fit in a u64"))?;
        }
        Ok(total)
    };
    let result = work();
    // Whatever happened above: tell every child to stop, close its channel, reap it.
    let mut failed = None;
    for (mut child, mut channel) in children {
        let _ = channel.send(&compute::Command::Stop); // a child that is gone cannot hear it
        drop(channel);
        let status = child.wait()?;
        if !status.success() {
            failed.get_or_insert_with(|| io::Error::other(format!("a child failed: {status}")));
        }
    }
    let total = result?;
    failed.map_or(Ok(total), Err)
    // END SOLUTION
}
