//! Chapter 11: a tokio runtime's threads, counted by the `threads` binary in each phase.
//! Every phase runs in a fresh process, so that one phase's threads cannot leak into
//! another's count.

use labkit::{Redactor, demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_threads");

fn phase(name: &str) -> labkit::run::Finished {
    let done = run(demo(EXE).arg(name)).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript(&format!("threads {name}"))
    );
    done
}

/// (before, after, names after) from the probe's last line.
fn counts(done: &labkit::run::Finished) -> (usize, usize, String) {
    let last = *done.stdout_lines().last().expect("a report line");
    let (_, before, after) = lab_11::parse_line(last).unwrap_or_else(|| panic!("{last}"));
    let names = last.split_once("): ").map(|(_, n)| n.to_string());
    (before, after, names.unwrap_or_default())
}

#[test]
fn an_idle_runtime_has_main_and_its_workers_and_no_io_thread() {
    let (before, after, names) = counts(&phase("idle"));
    assert_eq!((before, after), (3, 3));
    assert_eq!(names, "threads, rt-worker-0, rt-worker-1");
}

#[test]
fn the_blocking_pool_grows_by_one_thread_per_job_that_runs_at_once() {
    // One file read: one blocking thread, even when the pool may hold 64.
    for name in ["read-file", "read-file-pool-64"] {
        let (before, after, names) = counts(&phase(name));
        assert_eq!((before, after), (3, 4), "{name}");
        assert!(names.ends_with("rt-blocking-0"), "{name}: {names}");
    }
    // Eight jobs held at a barrier: eight blocking threads, exactly.
    let (before, after, names) = counts(&phase("jobs-8"));
    assert_eq!((before, after), (3, 3 + lab_11::JOBS), "{names}");
    assert!(names.ends_with("rt-blocking-7"), "{names}");
}

#[test]
fn the_pool_stops_at_max_blocking_threads_and_queues_the_rest() {
    let done = phase("ceiling-4");
    assert_eq!(
        done.stdout_lines()[0],
        format!(
            "ceiling-4: {} jobs, {} running, {} queued",
            lab_11::JOBS,
            lab_11::CEILING,
            lab_11::JOBS - lab_11::CEILING
        )
    );
    let (before, after, names) = counts(&done);
    assert_eq!((before, after), (3, 3 + lab_11::CEILING), "{names}");
    assert!(names.ends_with("rt-blocking-3"), "{names}");
}

#[test]
fn sockets_to_an_ip_address_need_no_thread_but_a_host_name_does() {
    assert_eq!(counts(&phase("tcp-ip")).1, 3);
    // Timers need no thread either: the workers drive them.
    assert_eq!(counts(&phase("timer")).1, 3);
    for name in ["tcp-localhost", "lookup"] {
        let (_, after, names) = counts(&phase(name));
        assert_eq!(after, 4, "{name}: {names}");
        assert!(names.ends_with("rt-blocking-0"), "{name}: {names}");
    }
}

#[test]
fn tokio_stdout_writes_from_the_blocking_pool() {
    let done = phase("stdout");
    assert_eq!(
        done.stdout_lines()[0],
        "a line written by tokio::io::stdout"
    );
    assert_eq!(counts(&done).1, 4);
}

#[test]
fn an_idle_blocking_thread_retires_after_the_keep_alive() {
    // The probe waits (labkit::eventually) until the names are those of the start again.
    let (before, after, names) = counts(&phase("retired"));
    assert_eq!((before, after), (3, 3));
    assert_eq!(names, "threads, rt-worker-0, rt-worker-1");
}

#[test]
fn every_phase_as_the_chapter_shows_it() {
    let mut text = String::new();
    for (name, _) in lab_11::PHASES {
        text += &phase(name).transcript(&format!("./target/debug/threads {name}"));
        text.push('\n');
    }
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!("tokio_phases", text);
}

#[test]
fn without_thread_name_fn_workers_and_blocking_threads_share_one_name() {
    let done = run(demo(EXE).arg("--default-names")).unwrap();
    assert!(done.status.success(), "{}", done.transcript("threads"));
    assert_eq!(done.stdout, "default names: threads, tokio-rt-worker x3\n");
    let _guard = Redactor::new().settings().bind_to_scope();
    insta::assert_snapshot!(
        "default_names",
        done.transcript("./target/debug/threads --default-names")
    );
}

#[test]
fn an_unknown_phase_is_one_line_on_stderr() {
    let done = run(demo(EXE).arg("fast")).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert_eq!(
        done.stderr,
        "threads: unknown phase \"fast\" (see --list)\n"
    );
    assert!(done.stdout.is_empty());
}

#[test]
fn list_takes_no_phase_and_a_full_stdout_is_an_error() {
    let done = run(demo(EXE).args(["--list", "idle"])).unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(
        done.stderr.contains("cannot be used with"),
        "{}",
        done.stderr
    );
    let mut cmd = demo(EXE);
    cmd.arg("idle").stdout(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    );
    let done = run(&mut cmd).unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(
        done.stderr,
        "threads: stdout: No space left on device (os error 28)\n"
    );
}

#[test]
fn list_names_every_phase() {
    let done = run(demo(EXE).arg("--list")).unwrap();
    let names: Vec<&str> = done
        .stdout_lines()
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let expected: Vec<&str> = lab_11::PHASES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected);
}
