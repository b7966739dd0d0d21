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
    ("pbkdf2", 4),
    ("gzip", 4),
    ("timer", 0),
    ("stdout", 0),
    ("retired", 4),
];

/// The phases the page shows, in its order (each run once, by the test below).
const SHOWN: &[&str] = &[
    "idle",
    "read-file",
    "tcp-ip",
    "tcp-localhost",
    "dns-resolve",
    "fs-watch",
    "fs-watchfile",
    "pbkdf2",
    "gzip",
];

/// One probe run as the page shows it, with the counts made relative to the start.
fn shown(done: &labkit::run::Finished, command: &str) -> String {
    let mut relative_out = String::new();
    for line in done.stdout.lines() {
        relative_out += &relative(line);
        relative_out.push('\n');
    }
    let done = labkit::run::Finished {
        stdout: relative_out,
        ..done.clone()
    };
    done.transcript(command) + "\n"
}

#[test]
fn the_pool_starts_whole_on_first_use_and_only_for_work_that_needs_it() {
    if !require_tool("node") {
        return;
    }
    // Each phase is a process of its own: run them all at once, check them in order.
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = EXPECTED
            .iter()
            .map(|&(phase, _)| s.spawn(move || node("node/threads.cjs", Some(phase), &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut start = None;
    let mut page = std::collections::BTreeMap::new();
    for (&(phase, expected), done) in EXPECTED.iter().zip(&runs) {
        let (before, added) = added(done);
        assert_eq!(added, expected, "{phase}");
        // Every phase starts from the same idle process.
        assert_eq!(*start.get_or_insert(before), before, "{phase}");
        if SHOWN.contains(&phase) {
            page.insert(
                phase,
                shown(done, &format!("node node/threads.cjs {phase}")),
            );
        }
    }
    // The same runs, as the page shows them, with the pool of 64 after the default one.
    let sized = node(
        "node/threads.cjs",
        Some("read-file"),
        &[("UV_THREADPOOL_SIZE", "64")],
    );
    assert_eq!(added(&sized).1, 64);
    let mut text = String::new();
    for phase in SHOWN {
        text += &page[phase];
        if *phase == "read-file" {
            text += &shown(
                &sized,
                "UV_THREADPOOL_SIZE=64 node node/threads.cjs read-file",
            );
        }
    }
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_phases", text);
}

#[test]
fn uv_threadpool_size_sets_the_size_of_the_whole_pool() {
    if !require_tool("node") {
        return;
    }
    // 64 is checked with the other phases. libuv reads the value with atoi: "abc" is 0,
    // and 0 means 1; -1, stored unsigned, is above the maximum, 1024.
    std::thread::scope(|s| {
        for (size, expected) in [("1", 1), ("0", 1), ("abc", 1), ("-1", 1024)] {
            s.spawn(move || {
                let done = node(
                    "node/threads.cjs",
                    Some("read-file"),
                    &[("UV_THREADPOOL_SIZE", size)],
                );
                assert_eq!(added(&done).1, expected, "UV_THREADPOOL_SIZE={size}");
            });
        }
    });
}
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
fn of_the_threads_at_start_four_are_v8_workers_and_none_is_the_pool() {
    if !require_tool("node") {
        return;
    }
    let (cjs, esm, v8_2) = std::thread::scope(|s| {
        let cjs = s.spawn(|| node("node/threads.cjs", Some("idle"), &[]));
        let esm = s.spawn(|| node("node/idle.mjs", None, &[]));
        let v8_2 = s.spawn(|| {
            let mut cmd = Command::new("node");
            cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["--v8-pool-size=2", "node/threads.cjs", "idle"])
                .env_remove("UV_THREADPOOL_SIZE")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            run(&mut cmd).unwrap()
        });
        (
            cjs.join().unwrap(),
            esm.join().unwrap(),
            v8_2.join().unwrap(),
        )
    });
    let (cjs_start, _) = added(&cjs);
    // An ES module entry point has started the pool before its first line: 4 more.
    let esm_start: usize = esm
        .stdout
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", esm.stdout));
    assert_eq!(esm_start, cjs_start + 4);
    // The default --v8-pool-size is 4: two fewer platform workers, two fewer threads.
    assert!(
        v8_2.status.success(),
        "{}",
        v8_2.transcript("node --v8-pool-size=2")
    );
    assert_eq!(added(&v8_2).0 + 2, cjs_start);
}
#[test]
fn a_busy_pool_delays_a_file_read_until_a_thread_is_free() {
    if !require_tool("node") {
        return;
    }
    let mut text = String::new();
    for (env, waited) in [(None, "yes"), (Some(("UV_THREADPOOL_SIZE", "5")), "no")] {
        let env: Vec<(&str, &str)> = env.into_iter().collect();
        let done = node("node/threads.cjs", Some("pbkdf2-busy"), &env);
        assert_eq!(
            done.stdout_lines()[0],
            format!("readFile waited for a pbkdf2 job to finish: {waited}"),
            "{env:?}"
        );
        let command = match env.first() {
            Some((k, v)) => format!("{k}={v} node node/threads.cjs pbkdf2-busy"),
            None => "node node/threads.cjs pbkdf2-busy".to_string(),
        };
        text += &shown(&done, &command);
    }
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("node_busy_pool", text);
}

#[test]
fn a_missing_unknown_or_inherited_name_is_one_line_on_stderr() {
    if !require_tool("node") {
        return;
    }
    let all: [&[&str]; 4] = [&[], &["fast"], &["constructor"], &["__proto__"]];
    std::thread::scope(|s| {
        for args in all {
            s.spawn(move || refused(args));
        }
    });
}

fn refused(args: &[&str]) {
    {
        let mut cmd = Command::new("node");
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("node/threads.cjs")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let done = run(&mut cmd).unwrap();
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
        let expected = match args.first() {
            None => "usage: node threads.cjs PHASE".to_string(),
            Some(a) => format!("threads.cjs: unknown phase \"{a}\""),
        };
        assert!(done.stderr.starts_with(&expected), "{}", done.stderr);
        assert!(done.stdout.is_empty(), "{}", done.stdout);
    }
}
