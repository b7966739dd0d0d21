//! What Linux may do with a fork scenario: every interleaving of the processes' actions that
//! respects happens-before, each simulated with the kernel's bookkeeping, collected into the
//! set of distinct outcomes (lines, tree).
//!
//! Happens-before, as the kernel guarantees it:
//! - a process's actions run in list order, and a child's first action comes after the
//!   `fork` that created it;
//! - `wait c` returns only after `c` has exited (wait(2)); everything `c` wrote is in the pipe
//!   by then, because a write(2) to a pipe completes before the writer can exit;
//! - `kill c` (SIGKILL) makes `c` die *some time after* kill(2) returns: a write `c` was
//!   already making may still land after the killer's next line. So the model lets a killed
//!   process go on until a separate "dies" step, which may come at any point after the kill.
//!   (Killed processes only print, so at most their print is in question.)
//!
//! The bookkeeping, as `kernel/exit.c` does it (`exit_notify`, `find_new_reaper`): an exiting
//! process becomes a zombie of its parent, and its children (alive or zombies) move to the
//! nearest *living* ancestor that called `prctl(PR_SET_CHILD_SUBREAPER)` (prctl(2)), which is
//! at worst the drill itself: it is a subreaper, and it reaps nobody before it has looked.
//! Not the grandparent: re-parenting skips every ancestor that is not a subreaper.

use std::collections::{BTreeSet, HashSet};

use super::{Action, Node, Outcome, ROOT, Scenario, State};

/// Stop exploring after this many distinct states (the generator's scenarios stay far below).
pub const MAX_STATES: usize = 200_000;

/// The model's answer.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// Every outcome, sorted, without duplicates.
    pub outcomes: Vec<Outcome>,
    /// How many distinct states the search visited.
    pub states: usize,
    /// The search stopped at [`MAX_STATES`]: `outcomes` may be incomplete.
    pub capped: bool,
}

const NOBODY: u8 = u8::MAX;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Status {
    NotForked,
    Running,
    /// Ran its whole list without `exit`: alive, blocked until the drill has looked.
    Done,
    Zombie,
    Gone,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Sim {
    pc: Vec<u8>,
    status: Vec<Status>,
    /// Index of the parent, or `NOBODY` for the drill (root).
    parent: Vec<u8>,
    subreaper: Vec<bool>,
    killed: Vec<bool>,
    /// (process, print index in its list) in pipe order.
    lines: Vec<(u8, u8)>,
}

impl Sim {
    fn alive(&self, p: usize) -> bool {
        matches!(self.status[p], Status::Running | Status::Done)
    }

    // ANCHOR: reaper
    /// `find_new_reaper`: the nearest living subreaper above `p` (not `p` itself), else root.
    fn reaper(&self, p: usize) -> u8 {
        let mut r = self.parent[p];
        while r != NOBODY {
            if self.subreaper[r as usize] && self.alive(r as usize) {
                return r;
            }
            r = self.parent[r as usize];
        }
        NOBODY
    }
    // ANCHOR_END: reaper

    fn exit(&mut self, p: usize) {
        self.status[p] = Status::Zombie;
        let reaper = self.reaper(p);
        for q in 0..self.parent.len() {
            if self.parent[q] == p as u8
                && matches!(
                    self.status[q],
                    Status::Running | Status::Done | Status::Zombie
                )
            {
                self.parent[q] = reaper;
            }
        }
    }

    /// After an action, a process at the end of its list without `exit` is done.
    fn settle(&mut self, s: &Scenario, p: usize) {
        if self.status[p] == Status::Running && self.pc[p] as usize == s.processes[p].actions.len()
        {
            self.status[p] = Status::Done;
        }
    }

    /// Every state one step away.
    fn successors(&self, s: &Scenario) -> Vec<Sim> {
        let mut next = Vec::new();
        for p in 0..self.pc.len() {
            if self.killed[p] && self.alive(p) {
                let mut dies = self.clone();
                dies.exit(p);
                next.push(dies);
            }
            if self.status[p] != Status::Running {
                continue;
            }
            let pc = self.pc[p] as usize;
            let mut n = self.clone();
            n.pc[p] += 1;
            match &s.processes[p].actions[pc] {
                Action::Fork(c) => {
                    let c = s.index(c).expect("generated names exist");
                    n.status[c] = Status::Running;
                    n.parent[c] = p as u8;
                    n.settle(s, c);
                }
                Action::Print(_) => n.lines.push((p as u8, pc as u8)),
                Action::Exit(_) => n.exit(p),
                Action::Wait(c) => {
                    let c = s.index(c).expect("generated names exist");
                    if self.status[c] != Status::Zombie {
                        continue; // blocked in waitpid
                    }
                    n.status[c] = Status::Gone;
                }
                Action::Kill(c) => {
                    let c = s.index(c).expect("generated names exist");
                    n.killed[c] = true;
                }
                Action::Subreaper => n.subreaper[p] = true,
            }
            n.settle(s, p);
            next.push(n);
        }
        next
    }

    fn outcome(&self, s: &Scenario) -> Outcome {
        let name = |i: u8| {
            if i == NOBODY {
                ROOT.to_string()
            } else {
                s.processes[i as usize].name.clone()
            }
        };
        let lines = self
            .lines
            .iter()
            .map(
                |&(p, pc)| match &s.processes[p as usize].actions[pc as usize] {
                    Action::Print(text) => text.clone(),
                    other => unreachable!("a line from {other:?}"),
                },
            )
            .collect();
        let mut tree: Vec<Node> = s
            .processes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (ppid, state) = match self.status[i] {
                    Status::Running | Status::Done => (Some(name(self.parent[i])), State::Alive),
                    Status::Zombie => (Some(name(self.parent[i])), State::Zombie),
                    Status::Gone => (None, State::Gone),
                    Status::NotForked => unreachable!("checked by the caller"),
                };
                Node {
                    name: p.name.clone(),
                    ppid,
                    state,
                }
            })
            .collect();
        tree.sort();
        Outcome { lines, tree }
    }
}

/// Every outcome the kernel may produce for `s`.
///
/// Panics if some interleaving ends with a process that never started or is still blocked
/// (a deadlock): the generator never makes such a scenario.
pub fn allowed(s: &Scenario) -> Allowed {
    let n = s.processes.len();
    let mut start = Sim {
        pc: vec![0; n],
        status: vec![Status::NotForked; n],
        parent: vec![NOBODY; n],
        subreaper: vec![false; n],
        killed: vec![false; n],
        lines: Vec::new(),
    };
    start.status[0] = Status::Running;
    start.settle(s, 0);
    let mut seen = HashSet::new();
    let mut outcomes = BTreeSet::new();
    let mut stack = vec![start];
    let mut capped = false;
    while let Some(sim) = stack.pop() {
        if !seen.insert(sim.clone()) {
            continue;
        }
        if seen.len() >= MAX_STATES {
            capped = true;
            break;
        }
        let next = sim.successors(s);
        if next.is_empty() {
            if let Some(p) =
                (0..n).find(|&p| matches!(sim.status[p], Status::NotForked | Status::Running))
            {
                panic!(
                    "seed {} size {}: process {} cannot finish its list ({:?})",
                    s.seed, s.size, s.processes[p].name, sim.status[p]
                );
            }
            outcomes.insert(sim.outcome(s));
        }
        stack.extend(next);
    }
    Allowed {
        outcomes: outcomes.into_iter().collect(),
        states: seen.len(),
        capped,
    }
}
