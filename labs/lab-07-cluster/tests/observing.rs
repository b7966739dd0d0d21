//! Appendix B, observing processes: the cluster of chapter 7 (`--workers 2 --sched shared`)
//! seen from outside with `ps`, `pstree`, `/proc`, `ss`, `lsof`, `strace` and `gdb`. Each
//! test runs the real tool on a running cluster, snapshots what it printed (redacted), and
//! checks that the labkit helper which reads the same thing from `/proc` agrees.
//!
//! The tools come from Debian's procps, psmisc, iproute2, lsof, strace and gdb packages.
//! A missing tool skips its test with a message on a reader's machine and fails it when
//! `CI` is set (`labkit::require_tool`).

mod common;

use std::process::Command;

use common::Cluster;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, eventually};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A cluster of two workers on one shared listener, every process asleep (state S), with
/// the workers ordered by pid.
struct Observed {
    cluster: Cluster,
    master: u32,
    workers: [u32; 2],
}

impl Observed {
    fn start() -> Observed {
        let cluster = Cluster::start("shared", 2);
        let master = cluster.master;
        let mut pids: Vec<u32> = cluster.workers.values().copied().collect();
        pids.sort();
        let workers = [pids[0], pids[1]];
        // After `ready` every process goes to sleep in poll or accept; wait until it has,
        // so that ps reads the same state letter on every run.
        eventually(DEFAULT_TIMEOUT, || {
            for pid in [master, workers[0], workers[1]] {
                let state = labkit::proc::state(pid).map_err(|e| e.to_string())?;
                if state != 'S' {
                    return Err(format!("{pid} is in state {state}"));
                }
            }
            Ok(())
        })
        .unwrap();
        Observed {
            cluster,
            master,
            workers,
        }
    }

    /// Names for the pids: the master, its workers by pid order, and the test (the
    /// master's parent).
    fn redactor(&self) -> Redactor {
        self.names(Redactor::new())
    }

    /// `base` with the names of [`Observed::redactor`] added after its own rules.
    fn names(&self, base: Redactor) -> Redactor {
        base.id(self.master, "MASTER")
            .id(self.workers[0], "WORKER-1")
            .id(self.workers[1], "WORKER-2")
            .id(std::process::id(), "TEST")
            .id(self.cluster.addr.port(), "PORT")
    }

    /// The redactor, plus the session id found by its place in a line (`regex`'s second
    /// group), after checking that `text` shows it for `rows` processes, each in the
    /// test's session.
    ///
    /// The session is named by position, not by value: in a container or under
    /// `unshare --pid`, a session whose leader lives outside this pid namespace reads
    /// as 0, and replacing every word `0` would rewrite `127.0.0.1` and exit codes.
    fn redactor_with_session(&self, text: &str, regex: &str, rows: usize) -> Redactor {
        let session = labkit::proc::stat(std::process::id()).unwrap().session;
        let found: Vec<u32> = regex::Regex::new(regex)
            .unwrap()
            .captures_iter(text)
            .map(|c| c[2].parse().unwrap())
            .collect();
        assert_eq!(
            found,
            vec![session; rows],
            "one session, the test's:\n{text}"
        );
        // The position first: a pid name applied before it could take the column's value.
        self.names(Redactor::new().pattern(regex, "${1}[SID]"))
    }

    /// `$PID` in a command template, for the three processes.
    fn fill(&self, template: &str) -> String {
        template
            .replace("$MASTER", &self.master.to_string())
            .replace("$WORKER1", &self.workers[0].to_string())
            .replace("$WORKER2", &self.workers[1].to_string())
            .replace("$PORT", &self.cluster.addr.port().to_string())
    }
}

/// Run `script` with `sh -c`, and return its transcript headed by the script itself.
fn sh(script: &str) -> String {
    let finished = labkit::run(labkit::demo("sh").args(["-c", script])).unwrap();
    assert!(!finished.timed_out, "{script}");
    finished.transcript(script)
}

/// Re-align a table whose values were replaced by names of another width: every row is
/// split into as many whitespace-separated columns as the header has (the last one takes
/// the rest of the line), and each column is padded to its widest cell.
fn realign(table: &str) -> String {
    let mut lines = table.lines();
    let Some(first) = lines.next() else {
        return String::new();
    };
    let mut out = vec![first.to_string()]; // the `$ command` line stays as it is
    let rows: Vec<&str> = lines.collect();
    let body_end = rows
        .iter()
        .position(|l| l.starts_with("=> "))
        .unwrap_or(rows.len());
    let n = rows.first().map_or(0, |h| h.split_whitespace().count());
    let cells: Vec<Vec<String>> = rows[..body_end]
        .iter()
        .map(|row| {
            let mut cols: Vec<String> = Vec::new();
            let mut rest = row.trim_start();
            while cols.len() + 1 < n && !rest.is_empty() {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                cols.push(rest[..end].to_string());
                rest = rest[end..].trim_start();
            }
            cols.push(rest.to_string());
            cols
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .filter_map(|r| r.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..n).map(width).collect();
    for row in &cells {
        let padded: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push(padded.join(" ").trim_end().to_string());
    }
    out.extend(rows[body_end..].iter().map(|l| l.to_string()));
    out.join("\n")
}

#[test]
fn ps_shows_the_master_its_workers_and_their_threads() {
    if !labkit::require_tool("ps") {
        return;
    }
    let o = Observed::start();
    let r = o.redactor();
    let tree = sh(&o.fill("ps -o pid,ppid,pgid,sid,stat,nlwp,comm -p $MASTER --ppid $MASTER"));
    // The fourth number of a row is its SID.
    let tree = realign(
        &o.redactor_with_session(&tree, r"(?m)^(\s*\d+\s+\d+\s+\d+\s+)(\d+)\b", 3)
            .apply(&tree),
    );
    let threads = realign(&r.apply(&sh(
        &o.fill("ps -L -o pid,lwp,stat,comm -p $MASTER --ppid $MASTER"),
    )));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_ps", format!("{tree}\n\n{threads}"));

    // labkit reads the same columns from /proc/PID/stat and /proc/PID/task.
    let master = labkit::proc::stat(o.master).unwrap();
    assert_eq!(master.pgrp, o.master, "the master leads its own group");
    let mut children = labkit::proc::children(o.master).unwrap();
    children.sort();
    assert_eq!(children, o.workers);
    for pid in o.workers {
        let stat = labkit::proc::stat(pid).unwrap();
        assert_eq!((stat.ppid, stat.pgrp), (o.master, o.master));
        assert_eq!(stat.session, master.session);
        let threads = labkit::proc::threads(pid).unwrap();
        assert_eq!(threads.len(), 1, "{threads:?}");
        assert_eq!(threads[0].tid, pid, "a one-thread process: tid = pid");
    }
}

#[test]
fn pstree_draws_the_master_with_its_workers() {
    if !labkit::require_tool("pstree") {
        return;
    }
    let o = Observed::start();
    let text = o.redactor().apply(&sh(&o.fill("pstree -p $MASTER")));
    // pstree indents the second child under the first one's branch: after the names
    // replaced the pids, put the branch back under the `+`.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let column = lines[1].find("-+-").expect("a master with children") + 1;
    for line in lines.iter_mut().skip(2) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('`') || trimmed.starts_with('|') {
            *line = format!("{}{trimmed}", " ".repeat(column));
        }
    }
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_pstree", lines.join("\n"));
}

#[test]
fn proc_status_and_stat_show_the_state_the_family_and_the_signal_masks() {
    let o = Observed::start();
    let status = sh(&o.fill(
        "grep -E '^(Name|State|Tgid|PPid|Threads|SigBlk|SigCgt):' \
         /proc/$MASTER/status /proc/$WORKER1/status",
    ));
    let stat = sh(&o.fill("cut -d' ' -f1-8 /proc/$MASTER/stat /proc/$WORKER1/stat"));
    let task = sh(&o.fill("ls /proc/$MASTER/task /proc/$WORKER1/task"));
    // The sixth field of /proc/PID/stat is the session.
    let r = o.redactor_with_session(&stat, r"(?m)^(\d+ \(\S+\) \S \d+ \d+ )(\d+)\b", 2);
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "observing_proc",
        r.apply(&format!("{status}\n\n{stat}\n\n{task}"))
    );

    // labkit's readers of the same files.
    let blocked = |pid| {
        let mask = labkit::proc::status(pid)
            .unwrap()
            .signal_mask("SigBlk")
            .unwrap();
        labkit::proc::signal_names(mask)
    };
    assert_eq!(
        blocked(o.master),
        ["SIGINT", "SIGQUIT", "SIGTERM", "SIGCHLD"]
    );
    assert_eq!(blocked(o.workers[0]), ["SIGINT"]);
    let ignored = labkit::proc::status(o.workers[0])
        .unwrap()
        .signal_mask("SigIgn")
        .unwrap();
    // Rust's runtime ignores SIGPIPE before main. (SigIgn is left out of the snapshot: a
    // process started with posix_spawn, as the test starts the master, also shows glibc's
    // internal signals 32 and 33 there, which one started by a shell does not.)
    assert!(labkit::proc::signal_names(ignored).contains(&"SIGPIPE".to_string()));
    assert_eq!(
        labkit::proc::status(o.master).unwrap().threads().unwrap(),
        1
    );
}

#[test]
fn proc_fd_shows_one_listening_socket_in_three_processes() {
    let o = Observed::start();
    let listing = sh(&o.fill(
        "for p in $MASTER $WORKER1 $WORKER2; do echo \"$p:\"; \
         find /proc/$p/fd -mindepth 1 -printf '%f -> %l\\n' | sort -n | awk '$1 >= 3 && $1 <= 9'; done",
    ));
    let r = o
        .redactor()
        .numbered(r"socket:\[\d+\]", "SOCKET")
        .numbered(r"pipe:\[\d+\]", "PIPE");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_fds", r.apply(&listing));

    // labkit::proc::fds reads the same links: one socket inode in all three tables.
    let listener = |pid| {
        labkit::proc::fds(pid)
            .unwrap()
            .into_iter()
            .find(|(fd, _)| *fd == 4)
            .map(|(_, target)| target)
            .unwrap()
    };
    assert!(listener(o.master).starts_with("socket:["));
    assert_eq!(listener(o.workers[0]), listener(o.master));
    assert_eq!(listener(o.workers[1]), listener(o.master));
}

#[test]
fn maps_and_smaps_rollup_show_what_a_worker_shares() {
    let o = Observed::start();
    let exe = std::fs::read_link(format!("/proc/{}/exe", o.workers[0])).unwrap();
    let exe = exe.to_string_lossy().into_owned();
    let maps = sh(&o.fill(
        "awk '$6 ~ /cluster$/ || $6 == \"[heap]\" || $6 == \"[stack]\" {print $2, $6}' \
         /proc/$WORKER1/maps",
    ));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "observing_maps",
        o.redactor().text(&exe, "CLUSTER").apply(&maps)
    );

    // The numbers in smaps_rollup vary from run to run; what holds on every run: a worker
    // shares pages (the program's code, libc) with the master and the other worker, so its
    // proportional share (Pss) is below what it has resident (Rss).
    let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", o.workers[0])).unwrap();
    let kib = |field: &str| -> u64 {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {rollup}"))
    };
    assert!(kib("Pss:") < kib("Rss:"), "{rollup}");
    assert!(kib("Shared_Clean:") > 0, "{rollup}");
    // labkit reads the resident size from /proc/PID/status (VmRSS, kept by counters that
    // may lag a little behind the page walk smaps_rollup does, so only its presence is checked).
    assert!(
        labkit::proc::status(o.workers[0])
            .unwrap()
            .vm_rss_kib()
            .is_some_and(|k| k > 0)
    );
}

#[test]
fn ss_lists_every_process_that_holds_the_listener() {
    if !labkit::require_tool("ss") {
        return;
    }
    let o = Observed::start();
    let text = sh(&o.fill("ss -ltnp 'sport = :$PORT'"));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_ss", o.redactor().apply(&text));
    for pid in [o.master, o.workers[0], o.workers[1]] {
        assert!(text.contains(&format!("pid={pid},fd=4")), "{text}");
    }
}

#[test]
fn lsof_shows_the_listener_with_the_same_inode_in_each_process() {
    // lsof has no --version to probe with; `lsof -v` prints its version and exits 0.
    let present = Command::new("lsof")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present && !labkit::require_tool("lsof") {
        return;
    }
    let o = Observed::start();
    let text = sh(&o.fill("lsof -w -n -P -a -p $MASTER,$WORKER1,$WORKER2 -i TCP"));
    let inode = labkit::proc::fds(o.master)
        .unwrap()
        .into_iter()
        .find(|(fd, _)| *fd == 4)
        .map(|(_, t)| {
            t.trim_start_matches("socket:[")
                .trim_end_matches(']')
                .to_string()
        })
        .unwrap();
    // The USER column is whoever runs the test.
    let r = o
        .redactor()
        .id(&inode, "INODE")
        .pattern(r"(?m)^(cluster +\S+ +)\S+", "$1[USER]");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_lsof", realign(&r.apply(&text)));
}

#[test]
fn strace_follows_the_master_and_each_worker_into_its_own_file() {
    if !labkit::require_tool("strace") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let exe = env!("CARGO_BIN_EXE_cluster");
    // An empty environment, as `env -i` gives: the counts of variables in the execve lines
    // are then the same on every machine.
    let mut cmd = labkit::demo("strace");
    cmd.env_clear()
        .arg("-ff")
        // strace cuts strings at 32 bytes by default: the program's path would be cut, and
        // cut differently in every checkout.
        .args(["-s", "4096"])
        .arg("-o")
        .arg(&trace)
        .args(["-e", "trace=process,signal", exe])
        .args(["--workers", "2", "--sched", "shared"]);
    let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
    let mut log = guard.stdout_lines();
    let ready = log.wait_for("ready ", DEFAULT_TIMEOUT).unwrap();
    let master = common::number_after(&ready, "pid=");
    let mut workers: Vec<u32> = log
        .history()
        .iter()
        .filter(|l| l.ends_with(" online"))
        .map(|l| common::number_after(l, "pid="))
        .collect();
    workers.sort();
    kill(Pid::from_raw(master as i32), Signal::SIGTERM).unwrap();
    let status = guard.wait().unwrap();
    assert!(
        status.success(),
        "strace exits as its tracee did: {status:?}"
    );

    let file = |pid: u32| format!("{}.{pid}", trace.display());
    let master_trace = std::fs::read_to_string(file(master)).unwrap();
    // Each worker's end is reaped with wait4 (how many wait4 calls find nothing yet
    // depends on timing, so the snapshot leaves them out).
    for pid in &workers {
        let reaped = format!(
            "wait4({pid}, [{{WIFEXITED(s) && WEXITSTATUS(s) == 0}}], WNOHANG, NULL) = {pid}"
        );
        assert!(master_trace.contains(&reaped), "{master_trace}");
    }
    let shown_master = sh(&format!("grep -v wait4 {}", file(master)));
    let shown_worker = sh(&format!("cat {}", file(workers[0])));
    let r = Redactor::new()
        .text(exe, "CLUSTER")
        .id(master, "MASTER")
        .id(workers[0], "WORKER-1")
        .id(workers[1], "WORKER-2")
        .numbered(r"0x[0-9a-f]+", "ADDR");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!(
        "observing_strace",
        r.apply(&format!("{shown_master}\n\n{shown_worker}"))
    );
}

#[test]
fn gdb_attaches_to_a_worker_and_shows_where_it_waits() {
    if !labkit::require_tool("gdb") {
        return;
    }
    let o = Observed::start();
    let script = o
        .fill("gdb -p $WORKER1 -batch -ex 'info threads' -ex bt 2>&1 | grep -E '^\\*|labs/lab-07'");
    let finished = labkit::run(labkit::demo("sh").args(["-c", &script])).unwrap();
    if finished.stdout.is_empty() {
        // Attaching needs ptrace rights: under Yama's default (ptrace_scope 1) only an
        // ancestor, or a user with CAP_SYS_PTRACE, may attach. gdb is not the worker's
        // ancestor here, so an unprivileged run cannot attach.
        assert!(
            std::env::var_os("CI").is_none(),
            "gdb could not attach under CI: {finished:?}"
        );
        eprintln!("skipped: gdb could not attach to the worker (ptrace not permitted)");
        return;
    }
    let r = o
        .redactor()
        .numbered(r"0x[0-9a-f]+", "ADDR")
        .pattern(r"::h[0-9a-f]{16}\b", "");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_gdb", r.apply(&finished.transcript(&script)));
    // The worker is still there and still asleep after gdb let go.
    assert_eq!(labkit::proc::state(o.workers[0]).unwrap(), 'S');
}

#[test]
fn perf_trace_times_the_workers_accept_calls() {
    if !labkit::require_tool("perf") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("perf.txt");
    let exe = env!("CARGO_BIN_EXE_cluster");
    // One worker, so that the one connection below can only go to it.
    let mut cmd = labkit::demo("perf");
    cmd.arg("trace")
        .arg("-o")
        .arg(&out)
        .args(["-e", "accept4", "--", exe])
        .args(["--workers", "1", "--sched", "shared"]);
    let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
    let mut log = guard.stdout_lines();
    let ready = match log.wait_for("ready ", DEFAULT_TIMEOUT) {
        Ok(line) => line,
        Err(e) => {
            // perf trace needs the kernel's tracepoints: root, or perf_event_paranoid
            // at -1 and access to tracefs. Without them perf exits before the cluster starts.
            let _ = guard.wait();
            let mut stderr = String::new();
            if let Some(mut err) = guard.take_stderr() {
                let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
            }
            assert!(
                std::env::var_os("CI").is_none(),
                "perf trace did not start the cluster under CI: {e}; {stderr}"
            );
            eprintln!("skipped: perf trace could not run here ({e}): {stderr}");
            return;
        }
    };
    let master = common::number_after(&ready, "pid=");
    let worker = common::number_after(&log.history()[0], "pid=");
    let port = common::number_after(&ready, "127.0.0.1:");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let response = labkit::http::get(addr, "/").unwrap();
    assert_eq!(response.body, format!("hello from worker {worker}"));
    kill(Pid::from_raw(master as i32), Signal::SIGTERM).unwrap();
    assert!(guard.wait().unwrap().success());

    let text = std::fs::read_to_string(&out).unwrap();
    let r = Redactor::new()
        .id(worker, "WORKER")
        // perf names a thread by the COMM records it reads from per-CPU buffers; now and
        // then it prints a worker's call before it has read the worker's name, and shows
        // `:TID/TID` instead of `cluster/TID` (seen in a loop of workspace runs).
        .pattern(r" :\[WORKER\]/\[WORKER\] ", " cluster/[WORKER] ")
        .pattern(r"(?m)^ *\d+\.\d+ \( *\d+\.\d+ ms\)", "[TIME] ([DURATION])")
        .numbered(r"socket:\[\d+\]", "SOCKET")
        .numbered(r"0x[0-9a-f]+", "ADDR");
    let lines: Vec<String> = r
        .apply(&text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // perf pads the arguments to a column; the padding depends on the redacted width.
            let re = regex::Regex::new(r"\) +=").unwrap();
            re.replace(l, ") =").into_owned()
        })
        .collect();
    // The file's lines (the page shows the commands that wrote it).
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("observing_perf_trace", lines.join("\n"));
}
