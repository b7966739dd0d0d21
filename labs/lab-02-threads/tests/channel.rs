//! Chapter 2: the `channel` demo, messages from a worker thread.

use labkit::{Redactor, demo, run};

#[test]
fn messages_arrive_in_order_until_the_worker_hangs_up() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_channel"))).unwrap();
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("channel", done.transcript("./target/debug/channel"));
}
