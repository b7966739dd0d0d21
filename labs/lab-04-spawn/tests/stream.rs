//! Chapter 4 tests: `spawn` with pipes, a conversation with a running child.

use labkit::{Redactor, demo, run};

const STREAM: &str = env!("CARGO_BIN_EXE_stream");

#[test]
fn each_line_arrives_before_the_next_is_asked_for_while_the_child_runs() {
    let done = run(demo(STREAM).args(["--rounds", "3"])).unwrap();
    assert!(done.status.success(), "{}", done.transcript("stream"));
    let lines = done.stdout_lines();
    // The parent's log, in order: asked k, then got tick k (child still running), then k+1.
    for k in 1..=3 {
        let asked = lines
            .iter()
            .position(|l| *l == format!("parent: asked for line {k}"));
        let got = lines
            .iter()
            .position(|l| l.starts_with(&format!("parent: got \"tick {k} from the child")));
        let (asked, got) = (asked.expect("asked"), got.expect("got"));
        assert!(
            asked < got,
            "line {k} arrived before it was asked for: {lines:?}"
        );
        assert!(
            lines[got].ends_with("(the child is still running)"),
            "{lines:?}"
        );
        if k < 3 {
            let next = lines
                .iter()
                .position(|l| *l == format!("parent: asked for line {}", k + 1))
                .unwrap();
            assert!(
                got < next,
                "asked for {} before line {k} arrived: {lines:?}",
                k + 1
            );
        }
    }
    // One child answered every line: the same pid in every tick.
    let pids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split("pid=").nth(1))
        .collect();
    assert_eq!(pids.len(), 4, "{lines:?}");
    assert!(pids[1..].windows(2).all(|w| w[0] == w[1]), "{lines:?}");
    let _g = Redactor::new()
        .pattern(r"\(pid=\d+\)", "(pid=[CHILD])")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!(
        "stream",
        done.transcript("./target/debug/stream --rounds 3")
    );
}

#[test]
fn bad_input_gets_one_line() {
    let done = run(demo(STREAM).args(["--rounds", "0"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "stream: invalid value '0' for '--rounds <ROUNDS>': 0 is not in 1..=1000\n"
    );
}
