//! Chapter 2: the `poison` demo, a panic while holding a lock.

use labkit::{Redactor, demo, run};

#[test]
fn a_panic_while_holding_the_lock_poisons_it_and_the_data_survives() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_poison"))).unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", done.transcript("poison"));
    let redactor = Redactor::new().pattern(r"thread '([^']*)' \(\d+\)", "thread '$1' ([TID])");
    let _guard = redactor.settings().bind_to_scope();
    insta::assert_snapshot!("poison", done.transcript("./target/debug/poison"));
}
