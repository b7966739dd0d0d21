//! The fork drills: the generator is fixed per seed, the model agrees with the real kernel
//! on a few hundred seeds (drill-exec runs them; the test harness never forks), answers are
//! graded with a diff, malformed answers get a clear error, and nothing is left running.

use std::collections::BTreeSet;

use drills::Drill;
use drills::check::{reveal_text, verdict, verdict_text};
use drills::fork::{Action, Fork, Outcome, Scenario, State, model};
use labkit::Redactor;

/// What drill-exec printed for one run.
struct Run {
    outcome: Outcome,
    pids: Vec<u32>,
}

fn drill_exec(seed: u64, size: u32) -> Run {
    let mut cmd = labkit::demo(env!("CARGO_BIN_EXE_drill-exec"));
    cmd.args([
        "fork",
        "--seed",
        &seed.to_string(),
        "--size",
        &size.to_string(),
    ]);
    let run = labkit::run(&mut cmd).expect("drill-exec runs to the end");
    assert!(
        run.status.success(),
        "seed {seed} size {size}: {}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["family"], "fork");
    Run {
        outcome: serde_json::from_value(report["outcome"].clone()).unwrap(),
        pids: serde_json::from_value(report["pids"].clone()).unwrap(),
    }
}

/// drill-exec on a hand-made scenario (JSON on its stdin).
fn drill_exec_given(scenario: &Scenario) -> Outcome {
    let (reader, mut writer) = std::io::pipe().unwrap();
    std::io::Write::write_all(&mut writer, &serde_json::to_vec(scenario).unwrap()).unwrap();
    drop(writer);
    let mut cmd = labkit::demo(env!("CARGO_BIN_EXE_drill-exec"));
    cmd.args(["fork-scenario", "--seed", "0"]).stdin(reader);
    let run = labkit::run(&mut cmd).expect("drill-exec runs to the end");
    assert!(run.status.success(), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    serde_json::from_value(report["outcome"].clone()).unwrap()
}

/// The model's outcomes for a hand-made scenario, checked against a real run.
fn allowed_and_checked(s: &Scenario) -> Vec<Outcome> {
    let allowed = Fork::allowed(s);
    let observed = drill_exec_given(s);
    assert!(
        allowed.contains(&observed),
        "{s:?}\nran: {observed:?}\nallowed: {allowed:?}"
    );
    allowed
}

#[test]
fn the_same_seed_gives_the_same_scenario() {
    for size in 1..=4 {
        let _g = Redactor::plain_settings().bind_to_scope();
        let scenario = Fork::generate(7, size);
        assert_eq!(scenario, Fork::generate(7, size));
        insta::assert_snapshot!(format!("fork_seed7_size{size}"), Fork::render(&scenario));
    }
    // Other seeds give other scenarios.
    assert_ne!(Fork::generate(7, 2), Fork::generate(8, 2));
    // The seed and the size are part of the scenario, and sizes are clamped.
    assert_eq!(Fork::generate(3, 9).size, 4);
    assert_eq!(Fork::generate(3, 0).size, 1);
}

#[test]
fn the_model_of_seed_7_lists_every_outcome() {
    let _g = Redactor::plain_settings().bind_to_scope();
    let allowed = Fork::allowed(&Fork::generate(7, 2));
    let text: Vec<String> = allowed
        .iter()
        .enumerate()
        .map(|(i, o)| format!("outcome {}:\n{}", i + 1, Fork::format_answer(o)))
        .collect();
    insta::assert_snapshot!("fork_seed7_allowed", text.join("\n"));
}

/// The reveal of seed 7 (the book's example), from a real run: only the number of the
/// outcome this run produced varies.
#[test]
fn the_reveal_of_seed_7_names_the_run_among_the_allowed_outcomes() {
    let scenario = Fork::generate(7, 2);
    let allowed = Fork::allowed(&scenario);
    let run = drill_exec(7, 2);
    let reveal = reveal_text::<Fork>(&allowed, &run.outcome).unwrap_or_else(|e| panic!("{e}"));
    let redactor = Redactor::new().pattern(r"produced outcome \d+ of", "produced outcome [K] of");
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("fork_seed7_reveal", redactor.apply(&reveal));
}

/// The features a scenario and its outcomes show, so the property test can prove that its
/// seeds use every one of them.
fn features(scenario: &Scenario, allowed: &[Outcome]) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    for a in scenario.processes.iter().flat_map(|p| &p.actions) {
        match a {
            Action::Kill(_) => seen.insert("kill"),
            Action::Subreaper => seen.insert("subreaper"),
            Action::Wait(_) => seen.insert("wait"),
            _ => false,
        };
    }
    if allowed.len() > 1 {
        seen.insert("several outcomes");
    }
    for node in allowed.iter().flat_map(|o| &o.tree) {
        let forked_by = scenario
            .processes
            .iter()
            .find(|p| p.actions.contains(&Action::Fork(node.name.clone())))
            .map_or("root", |p| p.name.as_str());
        match (node.ppid.as_deref(), node.state) {
            (Some("root"), State::Zombie) if forked_by != "root" => seen.insert("orphaned zombie"),
            (Some(_), State::Zombie) => seen.insert("zombie"),
            (Some("root"), State::Alive) if forked_by != "root" => {
                seen.insert("orphan adopted by root")
            }
            (Some(p), _) if p != "root" && p != forked_by => {
                seen.insert("orphan adopted by a subreaper")
            }
            _ => false,
        };
    }
    seen
}

/// The property test: 300 scenarios, 75 per size, each run for real by drill-exec (3 at a
/// time). The kernel's outcome must be one the model allows, and no pid the run created may
/// be left. The seeds must exercise every feature, or the test would prove little.
#[test]
fn the_executor_agrees_with_the_model_and_leaves_nothing_running() {
    let jobs: Vec<(u64, u32)> = (1..=4)
        .flat_map(|size| (0..75u64).map(move |seed| (seed * 7919 + 11, size)))
        .collect();
    let results: Vec<(Vec<String>, BTreeSet<&str>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(100)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut problems = Vec::new();
                    let mut seen = BTreeSet::new();
                    for &(seed, size) in chunk {
                        let scenario = Fork::generate(seed, size);
                        let allowed = model::allowed(&scenario);
                        assert!(!allowed.capped, "seed {seed} size {size}: capped");
                        seen.extend(features(&scenario, &allowed.outcomes));
                        let run = drill_exec(seed, size);
                        if let Err(e) = reveal_text::<Fork>(&allowed.outcomes, &run.outcome) {
                            problems.push(format!("seed {seed} size {size}:\n{e}"));
                        }
                        assert_eq!(run.pids.len(), scenario.processes.len());
                        for pid in run.pids {
                            match labkit::proc::stat(pid) {
                                Err(e) => assert!(labkit::proc::is_gone(&e), "{e}"),
                                Ok(_) => problems.push(format!(
                                    "seed {seed} size {size}: pid {pid} is still there"
                                )),
                            }
                        }
                    }
                    (problems, seen)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (p, s) in results {
        problems.extend(p);
        seen.extend(s);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for feature in [
        "kill",
        "subreaper",
        "wait",
        "several outcomes",
        "zombie",
        "orphaned zombie",
        "orphan adopted by root",
        "orphan adopted by a subreaper",
    ] {
        assert!(seen.contains(feature), "no {feature} in {seen:?}");
    }
}

/// The model enumerates quickly: a sample of seeds per size stays far below the cap (a
/// release-build sweep of seeds 0..5000 at every size peaked at about 16 000 states).
#[test]
fn the_model_stays_small() {
    for size in 1..=4 {
        for seed in 0..60 {
            let allowed = model::allowed(&Fork::generate(seed, size));
            assert!(
                !allowed.capped && allowed.states < 20_000,
                "seed {seed} size {size}: {} states",
                allowed.states
            );
        }
    }
}

/// Hand-made scenarios for the kernel facts the model encodes.
fn scenario(lists: &[&[Action]]) -> Scenario {
    Scenario {
        seed: 0,
        size: 4,
        processes: lists
            .iter()
            .enumerate()
            .map(|(i, actions)| drills::fork::Process {
                name: ((b'a' + i as u8) as char).to_string(),
                actions: actions.to_vec(),
            })
            .collect(),
    }
}

fn fork(c: &str) -> Action {
    Action::Fork(c.into())
}

#[test]
fn reparenting_skips_the_grandparent_unless_it_is_a_subreaper() {
    // a forks b, b forks c and exits: c goes to root, not to a (which is alive).
    let plain = scenario(&[&[fork("b")], &[fork("c"), Action::Exit(1)], &[]]);
    let tree = |s: &Scenario| {
        let allowed = allowed_and_checked(s);
        assert_eq!(allowed.len(), 1);
        Fork::format_answer(&allowed[0])
    };
    assert_eq!(
        tree(&plain),
        "lines:\ntree:\na ppid=root alive\nb ppid=a zombie\nc ppid=root alive\n"
    );
    // An orphaned zombie stays a zombie: its new parent, root, reaps nobody before looking.
    // (c may exit before or after b: the tree is the same.)
    let zombie = scenario(&[
        &[fork("b")],
        &[fork("c"), Action::Exit(1)],
        &[Action::Exit(2)],
    ]);
    assert_eq!(
        tree(&zombie),
        "lines:\ntree:\na ppid=root alive\nb ppid=a zombie\nc ppid=root zombie\n"
    );
    // The same with a subreaper before it forks: c goes to a.
    let reaper = scenario(&[
        &[Action::Subreaper, fork("b")],
        &[fork("c"), Action::Exit(1)],
        &[],
    ]);
    assert_eq!(
        tree(&reaper),
        "lines:\ntree:\na ppid=root alive\nb ppid=a zombie\nc ppid=a alive\n"
    );
    // a subreaper only after the fork: b may exit before or after, two trees.
    let racing = scenario(&[
        &[fork("b"), Action::Subreaper],
        &[fork("c"), Action::Exit(1)],
        &[],
    ]);
    assert_eq!(allowed_and_checked(&racing).len(), 2);
}

#[test]
fn a_killed_childs_line_may_come_before_after_or_never() {
    let s = scenario(&[
        &[
            fork("b"),
            Action::Kill("b".into()),
            Action::Print("a1".into()),
        ],
        &[Action::Print("b1".into())],
    ]);
    let lines: Vec<Vec<String>> = allowed_and_checked(&s)
        .into_iter()
        .map(|o| o.lines)
        .collect();
    assert_eq!(
        lines,
        [vec!["a1"], vec!["a1", "b1"], vec!["b1", "a1"]]
            .map(|v| v.into_iter().map(String::from).collect::<Vec<_>>())
    );
}

#[test]
fn a_right_answer_is_accepted_and_a_wrong_one_gets_a_diff() {
    let allowed = Fork::allowed(&Fork::generate(7, 2));
    for (k, outcome) in allowed.iter().enumerate() {
        let answer =
            Fork::parse_answer(&Fork::generate(7, 2), &Fork::format_answer(outcome)).unwrap();
        let v = verdict::<Fork>(&allowed, &answer);
        assert!(v.correct);
        assert_eq!(v.closest, k);
    }
    // A student who forgot that nobody reaps c's parent.
    let mut wrong = allowed[0].clone();
    wrong.lines.reverse();
    for node in &mut wrong.tree {
        if node.state == State::Zombie {
            node.state = State::Gone;
            node.ppid = None;
        }
    }
    let v = verdict::<Fork>(&allowed, &wrong);
    assert!(!v.correct);
    // A run the model does not allow is an error that shows both sides.
    let mismatch = reveal_text::<Fork>(&allowed, &wrong).unwrap_err();
    assert!(mismatch.starts_with("Linux produced an outcome the model does not allow"));
    assert!(mismatch.contains(&format!("what Linux did:\n{}", Fork::format_answer(&wrong))));
    assert!(mismatch.contains(&Fork::format_answer(&allowed[1])));
    let _g = Redactor::plain_settings().bind_to_scope();
    insta::assert_snapshot!("fork_seed7_wrong_answer", verdict_text(&v, allowed.len()));
}

#[test]
fn answers_are_parsed_strictly_with_the_line_number() {
    // Seed 7, size 2: processes a, b, c; a prints a1 and a2, c prints c1.
    let s = Fork::generate(7, 2);
    let ok =
        "# my answer\n\n  lines:\nc1\n\na1\ntree:\nb gone\na ppid=root alive  \nc ppid=a zombie\n";
    let parsed = Fork::parse_answer(&s, ok).unwrap();
    assert_eq!(parsed.lines, ["c1", "a1"]);
    assert_eq!(
        Fork::format_answer(&parsed),
        "lines:\nc1\na1\ntree:\na ppid=root alive\nb gone\nc ppid=a zombie\n"
    );
    let tree = "tree:\na gone\nb gone\nc gone\n";
    let cases = [
        ("", "the answer is empty: it should start with `lines:`".to_string()),
        ("# only a comment\n", "the answer is empty: it should start with `lines:`".to_string()),
        ("a1\n", "line 1: expected `lines:` first, found `a1`".to_string()),
        ("lines:\na1\n", "line 2: no `tree:` section after the printed lines".to_string()),
        (
            "lines:\ntree:\n",
            "line 2: the `tree:` section has no line for a, b, c (it needs one line for each of a, b, c)".to_string(),
        ),
        (
            "lines:\na 1\ntree:\na gone\n",
            "line 2: a printed line is one word (like `b1`), found `a 1`".to_string(),
        ),
        (
            "lines:\ntree:\na ppid=root running\n",
            "line 3: expected `NAME ppid=PARENT alive`, `NAME ppid=PARENT zombie` or `NAME gone`, found `a ppid=root running`".to_string(),
        ),
        (
            "lines:\ntree:\na parent=root alive\n",
            "line 3: expected `NAME ppid=PARENT alive`, `NAME ppid=PARENT zombie` or `NAME gone`, found `a parent=root alive`".to_string(),
        ),
        (
            "lines:\ntree:\na gone\n\na ppid=root alive\n",
            "line 5: process a is listed twice".to_string(),
        ),
        (
            "lines:\ntree:\na gone\nlines:\n",
            "line 4: `lines:` out of place: the answer is `lines:`, its lines, then `tree:`, its lines".to_string(),
        ),
        // Typos are malformed, not wrong: they name what the scenario has.
        (
            "lines:\nz1\ntree:\n",
            "line 2: this drill prints no line `z1` (its `print` lines: a1, a2, c1)".to_string(),
        ),
        (
            "lines:\ntree:\na gone\nb gone\nc gone\nz gone\n",
            "line 6: this drill has no process `z` (its processes: a, b, c)".to_string(),
        ),
        (
            "lines:\ntree:\na gone\nb ppid=x zombie\n",
            "line 4: this drill has no process `x` to be a parent (a parent is `root` or one of a, b, c)".to_string(),
        ),
        (
            "lines:\na1\ntree:\na ppid=root zombie\nc ppid=root alive\n\n",
            "line 6: the `tree:` section has no line for b (it needs one line for each of a, b, c)".to_string(),
        ),
    ];
    for (text, error) in cases {
        assert_eq!(Fork::parse_answer(&s, text), Err(error), "{text:?}");
    }
    // The same answer is fine for a scenario that has those processes and lines.
    assert!(Fork::parse_answer(&s, &format!("lines:\n{tree}")).is_ok());
}

#[test]
fn every_allowed_outcome_reads_back_as_an_answer() {
    // The checks against the scenario never reject an outcome the kernel may produce.
    for size in 1..=drills::fork::MAX_SIZE {
        for seed in 0..50 {
            let s = Fork::generate(seed, size);
            for outcome in Fork::allowed(&s) {
                assert_eq!(
                    Fork::parse_answer(&s, &Fork::format_answer(&outcome)),
                    Ok(outcome),
                    "seed {seed}, size {size}"
                );
            }
        }
    }
}
