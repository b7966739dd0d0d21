//! Chapter 1 tests, Node.js side: Node's view of the process card, started the way the
//! book's command starts it (empty environment but GREETING, cwd `/`, stdin /dev/null,
//! stdout and stderr on one pipe).

use std::io::Read;

use labkit::{Redactor, demo};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");

#[test]
fn node_card_reads_the_same_kernel_values() {
    if !labkit::require_tool("node") {
        return;
    }
    // "$(command -v node)": the full path, which also becomes argv[0].
    let node = labkit::run(demo("node").args(["-p", "process.execPath"]))
        .unwrap()
        .stdout
        .trim()
        .to_string();
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut cmd = demo(&node);
    cmd.env_clear()
        .env("GREETING", "hello")
        .current_dir("/")
        .arg(format!("{NODE_DIR}/card.js"))
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let mut finished = labkit::run(&mut cmd).unwrap();
    drop(cmd); // our copies of the pipe's write end
    reader.read_to_string(&mut finished.stdout).unwrap();
    assert!(finished.status.success(), "{finished:?}");
    let pid: u32 = finished
        .stdout_lines()
        .iter()
        .find_map(|l| l.strip_prefix("pid:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("a pid line");
    // Node's argv[0] in process.argv is execPath; the parent's argv[0] is argv0.
    let field = |name: &str| {
        finished
            .stdout_lines()
            .into_iter()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    assert_eq!(field("argv0:"), Some(node.clone()));
    assert_eq!(field("ppid:"), Some(std::process::id().to_string()));
    // Node names the architecture its own way: x64 where Rust says x86_64.
    let node_arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(field("platform:"), Some(format!("linux ({node_arch})")));
    let shown = r#"env -i -C / GREETING=hello "$(command -v node)" "$PWD/labs/lab-01-processes/node/card.js" < /dev/null 2>&1 | cat"#;
    let _guard = Redactor::new()
        .id(pid, "CARD")
        .id(std::process::id(), "PARENT")
        .text(&node, "NODE")
        .text(env!("CARGO_MANIFEST_DIR"), "LAB")
        .pattern(r"uid=\d+ gid=\d+", "uid=[UID] gid=[GID]")
        .pattern(r"\(x64\)|\(arm64\)", "([NODE_ARCH])")
        .settings()
        .bind_to_scope();
    insta::assert_snapshot!("node_card", finished.transcript(shown));
}
