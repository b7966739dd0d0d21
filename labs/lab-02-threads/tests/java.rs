//! Chapter 2: the Java shared counter, compiled and run where `javac` is installed.

use std::process::{Command, Stdio};

use labkit::{Redactor, require_tool, run};

#[test]
fn javas_plain_count_loses_updates_and_the_fixes_are_exact() {
    if !require_tool("javac") || !require_tool("java") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/java/SharedCount.java");
    let compiled = run(Command::new("javac")
        .arg("-d")
        .arg(out.path())
        .arg(source)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()))
    .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        compiled.transcript("javac")
    );
    let done = run(Command::new("java")
        .arg("-cp")
        .arg(out.path())
        .arg("SharedCount")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()))
    .unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("java SharedCount")
    );

    // The plain count varies from run to run (it may even be exact): check its bounds,
    // then hide only that number.
    let plain: u64 = done.stdout_lines()[0]
        .strip_prefix("plain int count++:")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("first line is the plain count");
    assert!((2..=2_000_000).contains(&plain), "{plain}");
    let redactor = Redactor::new().pattern(r"(plain int count\+\+: +)\d+", "${1}[RACY]");
    let _guard = redactor.settings().bind_to_scope();
    insta::assert_snapshot!(
        "java_shared_count",
        done.transcript(
            "javac -d /tmp/lab02-java java/SharedCount.java && java -cp /tmp/lab02-java SharedCount"
        )
    );
}
