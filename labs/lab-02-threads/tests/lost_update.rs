//! Chapter 2: the `lost-update` demo, one lost update replayed step by step.

use labkit::{Redactor, demo, run};

#[test]
fn the_replayed_race_loses_exactly_one_update() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_lost-update"))).unwrap();
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("lost_update", done.transcript("./target/debug/lost-update"));
}
