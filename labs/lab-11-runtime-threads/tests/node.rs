//! Chapter 11: Node's threads, counted by `node/threads.cjs` from /proc/self/task in each
//! phase (a fresh `node` process per phase).

use std::process::{Command, Stdio};

use labkit::{Redactor, require_tool, run};

fn node(script: &str, phase: Option<&str>, env: &[(&str, &str)]) -> labkit::run::Finished {
    let mut cmd = Command::new("node");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(script)
        .args(phase)
        .env_remove("UV_THREADPOOL_SIZE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let done = run(&mut cmd).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript(&format!("node {script} {phase:?}"))
    );
    done
}

/// Threads at start and threads added, from the probe's last line.
fn added(done: &labkit::run::Finished) -> (usize, usize) {
    let last = *done.stdout_lines().last().expect("a report line");
    let (_, before, after) = lab_11::parse_line(last).unwrap_or_else(|| panic!("{last}"));
    (before, after - before)
}

/// What each phase adds to Node's threads: the pool's 4, or nothing.
const EXPECTED: &[(&str, usize)] = &[
    ("idle", 0),
    ("read-file", 4),
    ("jobs-8", 4),
    ("tcp-ip", 0),
    ("tcp-localhost", 4),
    ("dns-lookup", 4),
    ("dns-resolve", 0),
    ("fs-watch", 0),
    ("fs-watchfile", 4),
    ("timer", 0),
    ("stdout", 0),
    ("retired", 4),
];

#[test]
fn the_pool_starts_whole_on_first_use_and_only_for_work_that_needs_it() {
    if !require_tool("node") {
        return;
    }
    let mut start = None;
    for &(phase, expected) in EXPECTED {
        let (before, added) = added(&node("node/threads.cjs", Some(phase), &[]));
        assert_eq!(added, expected, "{phase}");
        // Every phase starts from the same idle process.
        assert_eq!(*start.get_or_insert(before), before, "{phase}");
    }
}

#[test]
fn uv_threadpool_size_sets_the_size_of_the_whole_pool() {
    if !require_tool("node") {
        return;
    }
    for (size, expected) in [("64", 64), ("1", 1), ("0", 1)] {
        let done = node(
            "node/threads.cjs",
            Some("read-file"),
            &[("UV_THREADPOOL_SIZE", size)],
        );
        assert_eq!(added(&done).1, expected, "UV_THREADPOOL_SIZE={size}");
    }
}

#[test]
fn an_es_module_entry_point_has_started_the_pool_before_its_first_line() {
    if !require_tool("node") {
        return;
    }
    let (cjs_start, _) = added(&node("node/threads.cjs", Some("idle"), &[]));
    let done = node("node/idle.mjs", None, &[]);
    let esm: usize = done
        .stdout
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", done.stdout));
    assert_eq!(esm, cjs_start + 4);
}

/// The probe's lines for the page. The number of threads at start depends on the Node
/// version (7 on v20), so it is redacted as `[START]`, and the counts after it as
/// `[START+N]`: what the page discusses is the number added.
fn relative(line: &str) -> String {
    let Some((phase, before, after)) = lab_11::parse_line(line) else {
        return line.to_string();
    };
    let added = after - before;
    let names = line.split_once("): ").map_or("", |(_, n)| n);
    let names = match names.strip_suffix(&format!(" x{after}")) {
        Some(name) => format!("{name} x[START+{added}]"),
        None => names.to_string(),
    };
    format!("{phase}: [START] -> [START+{added}] threads (+{added}): {names}")
}

#[test]
fn node_phases_as_the_chapter_shows_them() {
    if !require_tool("node") {
        return;
    }
    let mut text = String::new();
    for (phase, env) in [
        ("idle", None),
        ("read-file", None),
        ("read-file", Some(("UV_THREADPOOL_SIZE", "64"))),
        ("tcp-ip", None),
        ("tcp-localhost", None),
        ("dns-resolve", None),
        ("fs-watch", None),
        ("fs-watchfile", None),
    ] {
        let env: Vec<(&str, &str)> = env.into_iter().collect();
        let done = node("node/threads.cjs", Some(phase), &env);
        let shown = match env.first() {
            Some((k, v)) => format!("{k}={v} node node/threads.cjs {phase}"),
            None => format!("node node/threads.cjs {phase}"),
        };
        let mut relative_out = String::new();
        for line in done.stdout.lines() {
            relative_out += &relative(line);
            relative_out.push('\n');
        }
        let done = labkit::run::Finished {
            stdout: relative_out,
            ..done
        };
        text += &done.transcript(&shown);
        text.push('\n');
    }
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_phases", text);
}

#[test]
fn an_unknown_phase_is_one_line_on_stderr() {
    if !require_tool("node") {
        return;
    }
    let mut cmd = Command::new("node");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["node/threads.cjs", "fast"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let done = run(&mut cmd).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert!(
        done.stderr
            .starts_with("threads.cjs: unknown phase \"fast\"")
    );
}

#[test]
fn four_of_the_threads_at_start_are_v8s_platform_workers() {
    if !require_tool("node") {
        return;
    }
    let (default_start, _) = added(&node("node/threads.cjs", Some("idle"), &[]));
    let mut cmd = Command::new("node");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--v8-pool-size=2", "node/threads.cjs", "idle"])
        .env_remove("UV_THREADPOOL_SIZE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let done = run(&mut cmd).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("node --v8-pool-size=2")
    );
    // The default --v8-pool-size is 4: two fewer platform workers, two fewer threads.
    assert_eq!(added(&done).0 + 2, default_start);
}
