//! Fork drills (Appendix D): OSTEP's `fork.py`, but the answer comes from Linux.
//!
//! A scenario is a set of named processes. `a` is started by the drill; every other process
//! is started by a `fork NAME` in its parent's list. Each process runs its own list of
//! [`Action`]s in order. The student predicts (1) the order of the printed lines and (2) the
//! process tree once every process has finished its list: each process's parent and whether it
//! is alive, a zombie, or gone (reaped).
//!
//! - [`generate`](Fork::generate) builds the scenario from a seed ([`generate`] module docs
//!   list every random draw, in order).
//! - [`allowed`](Fork::allowed) enumerates every interleaving the kernel may choose and
//!   simulates the kernel's bookkeeping (parents, zombies, re-parenting) for each
//!   ([`model`]).
//! - [`execute`](Fork::execute) runs the scenario for real under a child subreaper and reads
//!   the tree from `/proc` ([`exec`]).

mod exec;
pub mod generate;
pub mod model;
mod render;

use serde::{Deserialize, Serialize};

use crate::Drill;

/// The largest size; sizes are `1..=MAX_SIZE`.
pub const MAX_SIZE: u32 = 4;

/// One step of a process's list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start the named child; it runs its own list.
    Fork(String),
    /// Write one line to the report pipe (one `write(2)`, shorter than `PIPE_BUF`: atomic).
    Print(String),
    /// `_exit(code)`.
    Exit(i32),
    /// `waitpid(child, …, 0)` for a child this process forked: blocks until it has ended,
    /// then reaps it.
    Wait(String),
    /// `kill(child, SIGKILL)` for a child this process forked (and has not waited for).
    Kill(String),
    /// `prctl(PR_SET_CHILD_SUBREAPER, 1)`: orphaned descendants come to this process.
    Subreaper,
}

/// One named process and its list.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub name: String,
    pub actions: Vec<Action>,
}

/// A generated fork drill. `processes[0]` is `a`, the process the drill starts.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub seed: u64,
    pub size: u32,
    pub processes: Vec<Process>,
}

impl Scenario {
    /// The index of the process called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.processes.iter().position(|p| p.name == name)
    }
}

/// A process's state when the drill looks at it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Has not exited (in `/proc`: `R` or, blocked, `S`).
    Alive,
    /// Has exited and nobody has waited for it yet (`Z`).
    Zombie,
    /// Exited and reaped: no `/proc/PID` any more.
    Gone,
}

/// One process of the final tree.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub name: String,
    /// The parent's name (`root` for the drill itself); `None` when gone.
    pub ppid: Option<String>,
    pub state: State,
}

/// What students predict: the printed lines in order and the final tree (sorted by name).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub tree: Vec<Node>,
}

/// The name of the drill's own process in answers.
pub const ROOT: &str = "root";

/// The fork family.
#[derive(Debug)]
pub struct Fork;

impl Drill for Fork {
    type Scenario = Scenario;
    type Outcome = Outcome;
    const NAME: &'static str = "fork";

    fn generate(seed: u64, size: u32) -> Scenario {
        generate::generate(seed, size)
    }

    fn render(scenario: &Scenario) -> String {
        render::render(scenario)
    }

    fn allowed(scenario: &Scenario) -> Vec<Outcome> {
        model::allowed(scenario).outcomes
    }

    fn execute(scenario: &Scenario) -> Result<Outcome, String> {
        exec::execute(scenario).map(|(outcome, _)| outcome)
    }

    fn execute_traced(scenario: &Scenario) -> Result<(Outcome, Vec<i32>), String> {
        exec::execute(scenario)
    }

    fn parse_answer(scenario: &Scenario, text: &str) -> Result<Outcome, String> {
        parse_answer(scenario, text)
    }

    fn format_answer(outcome: &Outcome) -> String {
        format_answer(outcome)
    }
}

/// `lines:`, one printed line per line, `tree:`, one process per line (by name).
pub fn format_answer(outcome: &Outcome) -> String {
    let mut text = String::from("lines:\n");
    for line in &outcome.lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("tree:\n");
    for node in &outcome.tree {
        match (&node.ppid, node.state) {
            (Some(ppid), State::Alive) => {
                text.push_str(&format!("{} ppid={ppid} alive\n", node.name))
            }
            (Some(ppid), State::Zombie) => {
                text.push_str(&format!("{} ppid={ppid} zombie\n", node.name))
            }
            _ => text.push_str(&format!("{} gone\n", node.name)),
        }
    }
    text
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase())
}

/// `a, b, c`: a list for an error message.
fn list(items: &[&str]) -> String {
    items.join(", ")
}

/// Reads an answer to `scenario` in the format of [`format_answer`]. Blank lines, lines
/// starting with `#` and surrounding spaces are ignored. Anything else that does not fit is
/// an error naming its line (1-based) and what was expected there, and so is an answer that
/// does not fit this scenario: a printed line that no `print` of the scenario writes, a
/// process or parent the scenario does not have, or a process missing from the tree.
pub fn parse_answer(scenario: &Scenario, text: &str) -> Result<Outcome, String> {
    #[derive(PartialEq)]
    enum Section {
        Start,
        Lines,
        Tree,
    }
    let names: Vec<&str> = scenario.processes.iter().map(|p| p.name.as_str()).collect();
    let prints: Vec<&str> = scenario
        .processes
        .iter()
        .flat_map(|p| &p.actions)
        .filter_map(|a| match a {
            Action::Print(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    let mut section = Section::Start;
    let mut outcome = Outcome {
        lines: Vec::new(),
        tree: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match (&section, line) {
            (Section::Start, "lines:") => section = Section::Lines,
            (Section::Start, _) => {
                return Err(format!("line {n}: expected `lines:` first, found `{line}`"));
            }
            (Section::Lines, "tree:") => section = Section::Tree,
            (_, "lines:" | "tree:") => {
                return Err(format!(
                    "line {n}: `{line}` out of place: the answer is `lines:`, its lines, then `tree:`, its lines"
                ));
            }
            (Section::Lines, _) if line.split_whitespace().count() != 1 => {
                return Err(format!(
                    "line {n}: a printed line is one word (like `b1`), found `{line}`"
                ));
            }
            (Section::Lines, _) if !prints.contains(&line) => {
                return Err(format!(
                    "line {n}: this drill prints no line `{line}` (its `print` lines: {})",
                    list(&prints)
                ));
            }
            (Section::Lines, _) => outcome.lines.push(line.to_string()),
            (Section::Tree, _) => {
                let node = parse_node(n, line)?;
                if !names.contains(&node.name.as_str()) {
                    return Err(format!(
                        "line {n}: this drill has no process `{}` (its processes: {})",
                        node.name,
                        list(&names)
                    ));
                }
                if let Some(parent) = &node.ppid
                    && parent != ROOT
                    && !names.contains(&parent.as_str())
                {
                    return Err(format!(
                        "line {n}: this drill has no process `{parent}` to be a parent (a parent is `{ROOT}` or one of {})",
                        list(&names)
                    ));
                }
                if outcome.tree.iter().any(|o| o.name == node.name) {
                    return Err(format!("line {n}: process {} is listed twice", node.name));
                }
                outcome.tree.push(node);
            }
        }
    }
    let last = text.lines().count();
    match section {
        Section::Start => Err("the answer is empty: it should start with `lines:`".to_string()),
        Section::Lines => Err(format!(
            "line {last}: no `tree:` section after the printed lines"
        )),
        Section::Tree => {
            let missing: Vec<&str> = names
                .iter()
                .copied()
                .filter(|name| !outcome.tree.iter().any(|o| o.name == *name))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "line {last}: the `tree:` section has no line for {} (it needs one line for each of {})",
                    list(&missing),
                    list(&names)
                ));
            }
            outcome.tree.sort();
            Ok(outcome)
        }
    }
}

/// One line of the `tree:` section, checked for its form only.
fn parse_node(n: usize, line: &str) -> Result<Node, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [name, "gone"] if is_name(name) => Ok(Node {
            name: name.to_string(),
            ppid: None,
            state: State::Gone,
        }),
        [name, ppid, state] if is_name(name) => {
            let parent = ppid.strip_prefix("ppid=").filter(|p| is_name(p));
            let state = match *state {
                "alive" => Some(State::Alive),
                "zombie" => Some(State::Zombie),
                _ => None,
            };
            match (parent, state) {
                (Some(parent), Some(state)) => Ok(Node {
                    name: name.to_string(),
                    ppid: Some(parent.to_string()),
                    state,
                }),
                _ => Err(tree_error(n, line)),
            }
        }
        _ => Err(tree_error(n, line)),
    }
}

fn tree_error(n: usize, line: &str) -> String {
    format!(
        "line {n}: expected `NAME ppid=PARENT alive`, `NAME ppid=PARENT zombie` or `NAME gone`, found `{line}`"
    )
}
