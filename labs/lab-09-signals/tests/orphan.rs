//! Chapter 9 tests: an orphan is re-parented to the nearest subreaper: this test process
//! (made one by labkit's DaemonGuard), or the demo itself with `--subreaper`.

use labkit::daemon::DaemonGuard;
use labkit::lines::fields;
use labkit::{ChildGuard, DEFAULT_TIMEOUT, Redactor, demo, run};

const ORPHAN: &str = env!("CARGO_BIN_EXE_orphan");

#[test]
fn an_orphan_is_re_parented_to_the_test_process_as_subreaper() {
    let guard = DaemonGuard::new().unwrap(); // we are a subreaper now; kills what it tracks
    // Not labkit::run: it kills the demo's group once the demo exits, and the orphan is
    // in that group. The orphan holds a copy of stdout, so its line comes through here.
    let mut parent = ChildGuard::spawn(&mut demo(ORPHAN)).unwrap();
    let mut lines = parent.stdout_lines();
    let orphan_line = lines.wait_for("orphan", DEFAULT_TIMEOUT).unwrap();
    let orphan: u32 = fields(&orphan_line)["pid"]
        .trim_end_matches(':')
        .parse()
        .unwrap();
    // Track it at once: the guard reaps it (it is our child now).
    let _ = guard.track(orphan);
    assert!(parent.wait().unwrap().success(), "{:?}", lines.history());
    let now: u32 = fields(&orphan_line)["now"].parse().unwrap();
    assert_eq!(now, std::process::id(), "{orphan_line}");
    assert!(
        orphan_line.contains(&format!("parent {} is gone", parent.pid())),
        "{orphan_line}"
    );
}

#[test]
fn with_subreaper_the_demo_adopts_and_reaps_its_own_orphan() {
    let done = run(demo(ORPHAN).arg("--subreaper")).unwrap();
    assert!(
        done.status.success(),
        "{}",
        done.transcript("orphan --subreaper")
    );
    let lines = done.stdout_lines();
    let reaper: u32 = fields(lines[0])["pid"].parse().unwrap();
    let parent: u32 = fields(lines[1])["pid"].parse().unwrap();
    let orphan: u32 = fields(lines[2])["pid"]
        .trim_end_matches(':')
        .parse()
        .unwrap();
    assert_eq!(fields(lines[1])["ppid"], reaper.to_string());
    assert_eq!(
        fields(lines[2])["now"],
        reaper.to_string(),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout
            .contains(&format!("reaped the orphan, pid={orphan}")),
        "{}",
        done.stdout
    );
    let text = Redactor::new()
        .id(reaper, "SUBREAPER")
        .id(parent, "PARENT")
        .id(orphan, "ORPHAN")
        .apply(&done.transcript("./target/debug/orphan --subreaper"));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("orphan_subreaper", text);
}
