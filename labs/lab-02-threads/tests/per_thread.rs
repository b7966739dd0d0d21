//! Chapter 2: the `per-thread` demo, thread-locals and signal masks.

use labkit::{Redactor, demo, run};

#[test]
fn each_thread_has_its_own_thread_local_and_signal_mask() {
    let done = run(&mut demo(env!("CARGO_BIN_EXE_per-thread"))).unwrap();
    assert!(done.status.success(), "{}", done.transcript("per-thread"));
    let pid: u32 = done
        .stdout
        .strip_prefix("process pid=")
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("the first line names the pid");
    // The main thread's tid is the pid: naming both [PID] shows that; the workers' tids
    // get numbers of their own.
    let redactor = Redactor::new()
        .id(pid, "PID")
        .numbered(r"\b\d{2,}\b", "TID");
    let _guard = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "per_thread",
        redactor.apply(&done.transcript("./target/debug/per-thread"))
    );
}
