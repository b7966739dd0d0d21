//! Chapter 2: moving an `Rc` into a thread is a compile error, and this is what rustc
//! says. Only the key lines are kept: the layout of the rest (the arrows, the notes
//! pointing into std's source) changes between compiler versions.

use std::process::{Command, Stdio};

use labkit::{Redactor, run};

#[test]
fn rustc_refuses_to_send_an_rc_to_another_thread() {
    let out = tempfile::tempdir().unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let done = run(Command::new(rustc)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--edition", "2024", "--emit", "metadata", "--out-dir"])
        .arg(out.path())
        .arg("snippets/rc_across_threads.rs")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()))
    .unwrap();
    assert_eq!(done.status.code(), Some(1), "{}", done.transcript("rustc"));
    // The error line, where it points, the help line, and the summary.
    let lines = done.stderr_lines();
    let first = |pred: &dyn Fn(&str) -> bool| lines.iter().copied().find(|l| pred(l));
    let key: Vec<&str> = [
        first(&|l| l.starts_with("error[")),
        first(&|l| l.trim_start().starts_with("--> snippets/")),
        first(&|l| l.contains("= help:")),
        first(&|l| l.starts_with("error: aborting")),
    ]
    .into_iter()
    .map(|line| line.unwrap_or("(missing)"))
    .collect();
    assert!(
        key[0].starts_with("error[E0277]: `Rc<String>` cannot be sent between threads safely"),
        "{key:?}"
    );
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "rc_compile_error",
        format!(
            "$ rustc --edition 2024 --emit metadata --out-dir /tmp snippets/rc_across_threads.rs\n\
             (key lines of stderr)\n{}",
            key.join("\n")
        )
    );
}
