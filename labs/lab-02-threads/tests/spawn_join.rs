//! Chapter 2: the `spawn-join` demo, a value and a panic coming back through `join`.

use labkit::{Redactor, demo, run};

#[test]
fn a_panic_in_a_thread_is_an_err_from_join_and_the_process_lives_on() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_spawn-join"))).unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        done.transcript("spawn-join")
    );
    // Since Rust 1.89 the panic message names the thread's id, which changes every run.
    let redactor = Redactor::new().pattern(r"thread '([^']*)' \(\d+\)", "thread '$1' ([TID])");
    let _guard = redactor.settings().bind_to_scope();
    insta::assert_snapshot!("spawn_join", done.transcript("./target/debug/spawn-join"));
}
