//! Exercise 11.2: `LogWriter`, one thread of its own for a log, fed by async tasks. One
//! test in this file, so that the thread count is this test's alone.

use lab_11::exercises::{LogWriter, WRITER_THREAD};

#[test]
fn many_tasks_log_through_one_writer_thread_and_no_blocking_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rt = lab_11::runtime(lab_11::DEFAULT_MAX_BLOCKING, lab_11::DEFAULT_KEEP_ALIVE).unwrap();
    // Started on a runtime thread, as a server would: a writer that ran on the blocking
    // pool would show up as an `rt-blocking-*` thread below.
    let writer = rt.block_on(async { LogWriter::start(&path, 4) }).unwrap();
    // Bounded: a task that gets ahead of the writer waits in `send().await`.
    assert_eq!(writer.sender().max_capacity(), 4);
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let sender = writer.sender();
                tokio::spawn(async move {
                    for n in 0..25 {
                        sender.send(format!("task {task} line {n}")).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    // The writer thread starts with the name of the thread that spawned it and names
    // itself a moment later: wait for its name.
    let names = labkit::eventually(labkit::DEFAULT_TIMEOUT, || {
        let names = lab_11::thread_names().map_err(|e| e.to_string())?;
        if names.iter().any(|n| n == WRITER_THREAD) {
            Ok(names)
        } else {
            Err(format!("no {WRITER_THREAD} thread yet: {names:?}"))
        }
    })
    .unwrap();
    assert_eq!(
        names.iter().filter(|n| *n == WRITER_THREAD).count(),
        1,
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("rt-blocking-")),
        "{names:?}"
    );
    assert_eq!(writer.finish().unwrap(), 200);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 200);
    for task in 0..8 {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("task {task} ")))
            .collect();
        let expected: Vec<String> = (0..25).map(|n| format!("task {task} line {n}")).collect();
        assert_eq!(lines, expected, "task {task}'s lines, in order");
    }
}
