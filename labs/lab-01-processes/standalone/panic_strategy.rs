//! Chapter 1: what a panic does under each panic strategy. Not part of the crate: the
//! test `tests/panic_strategy.rs` compiles this file twice with `rustc`, once with
//! `-C panic=unwind` (the default; what `panic = "unwind"` in a Cargo profile gives) and
//! once with `-C panic=abort` (what `panic = "abort"` gives), and runs both.

// ANCHOR: program
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("cleanup: ran");
    }
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<&str>().unwrap_or(&"?");
        eprintln!("panic hook: {message}");
    }));
    let _cleanup = Cleanup;
    println!("main: working");
    panic!("something went wrong");
}
// ANCHOR_END: program
