//! Chapter 1 tests: a child gets copies of its parent's cwd and environment; changing
//! them in the child never changes the parent (the shell here, as in the book).

use labkit::{Redactor, demo};

const INHERIT: &str = env!("CARGO_BIN_EXE_inherit");
const SCRIPT: &str = r#""$0"; echo "shell:   cwd=$(pwd) GREETING=$GREETING""#;

#[test]
fn a_child_cannot_change_its_parents_cwd_or_environment() {
    let mut cmd = demo("/bin/sh");
    cmd.env_clear()
        .env("GREETING", "hello")
        .current_dir("/")
        .args(["-c", SCRIPT, INHERIT]);
    let finished = labkit::run(&mut cmd).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(
        finished.stdout_lines(),
        [
            "inherit: cwd=/ GREETING=hello",
            "inherit: cwd=/tmp GREETING=changed",
            "child:   cwd=/tmp GREETING=changed",
            "shell:   cwd=/ GREETING=hello",
        ]
    );
    let shown =
        format!(r#"env -i -C / GREETING=hello sh -c '{SCRIPT}' "$PWD/target/debug/inherit""#);
    let _settings = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("inherit", finished.transcript(&shown));
}
