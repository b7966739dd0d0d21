//! Chapter 2: start a thread, get its result back, and see what a panic in it does.
//!
//! `thread::spawn` returns a `JoinHandle`; `join` waits for the thread to end and hands
//! back what its closure returned, as `Ok(value)`. If the thread panicked, `join` returns
//! `Err(payload)` instead, and the rest of the process carries on: a panic ends only the
//! thread it happened on (unless it reaches the end of `main`, or the build uses
//! `panic = "abort"`).

use std::any::Any;
use std::thread;

// ANCHOR: spawn_join
/// Hand a `Vec` to a new thread and get its sum back through `join`.
pub fn sum_on_a_thread(numbers: Vec<u64>) -> u64 {
    // `move` makes the closure own `numbers`: the thread borrows nothing from this
    // function, so it may outlive it. That is what `spawn`'s `'static` bound asks for.
    let handle = thread::spawn(move || numbers.iter().sum::<u64>());
    handle.join().expect("the summing thread panicked")
}
// ANCHOR_END: spawn_join

// ANCHOR: join_panic
/// Start a thread that panics and return what `join` says about it.
pub fn join_a_panicking_thread(question: &str) -> Result<u64, String> {
    let question = question.to_string();
    let handle = thread::Builder::new()
        .name("checker".to_string())
        .spawn(move || -> u64 { panic!("no answer for {question:?}") })
        .expect("cannot start a thread");
    // The panic message went to stderr already; here it arrives as a value.
    handle.join().map_err(|payload| panic_message(&*payload))
}
// ANCHOR_END: join_panic

/// The text of a panic payload: `panic!` with a literal gives a `&str`, with
/// arguments a `String`; anything else is not text.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic payload that is not text)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_returns_what_the_thread_returned() {
        assert_eq!(sum_on_a_thread((1..=100).collect()), 5050);
    }

    #[test]
    fn a_panic_in_a_thread_is_an_err_from_join() {
        assert_eq!(
            join_a_panicking_thread("life"),
            Err("no answer for \"life\"".to_string())
        );
    }

    #[test]
    fn payloads_that_are_not_text_are_named_as_such() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42u8), "(a panic payload that is not text)");
    }
}
