//! Chapter 12 exercises, checked through the binaries that fork (the harness must not).

use labkit::{demo, run};

#[test]
fn exercise_12_1_run_isolated_reports_each_ending() {
    let finished = run(&mut demo(env!("CARGO_BIN_EXE_isolate"))).unwrap();
    let out = finished.stdout.clone();
    assert!(
        finished.status.success(),
        "{out}\n{}",
        finished.stderr.clone()
    );
    assert_eq!(
        out,
        "fine: Returned\npanics: Panicked\nsegfaults: Killed(SIGSEGV)\nisolate: still here\n"
    );
}

#[test]
fn exercise_12_2_children_share_one_counter() {
    let mut cmd = demo(env!("CARGO_BIN_EXE_count-shared"));
    cmd.args(["--children", "4", "--adds", "20000"]);
    let finished = run(&mut cmd).unwrap();
    let out = finished.stdout.clone();
    assert!(finished.status.success(), "{out}");
    assert_eq!(
        out,
        "4 children x 20000 additions: the parent reads 80000\n"
    );
}
