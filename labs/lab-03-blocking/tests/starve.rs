//! Chapter 3: a tokio task that never yields starves a current_thread runtime.

use labkit::{demo, run};

const EXE: &str = env!("CARGO_BIN_EXE_starve");

fn starve(args: &[&str]) -> String {
    let done = run(demo(EXE).args(args)).unwrap();
    done.transcript(&format!("./target/debug/starve {}", args.join(" ")))
}

#[test]
fn a_task_that_never_yields_runs_to_the_end_before_the_other_task() {
    let out = starve(&["--n", "1000"]);
    let (done, other) = (
        out.find("busy task: done").unwrap(),
        out.find("other task: runs").unwrap(),
    );
    assert!(done < other, "{out}");
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("starve_no_yield", out);
}

#[test]
fn yielding_lets_the_other_task_run_in_between() {
    let out = starve(&["--n", "1000", "--yield-every", "400"]);
    let (done, other) = (
        out.find("busy task: done").unwrap(),
        out.find("other task: runs").unwrap(),
    );
    assert!(other < done, "{out}");
    let _g = labkit::Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("starve_yield", out);
}
