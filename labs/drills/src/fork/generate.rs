//! The fork drill generator. Enough detail to re-implement it from these docs.
//!
//! `generate(seed, size)` clamps `size` to `1..=4`, makes `n = size + 1` processes named
//! `a`, `b`, `c`, … (index 0, 1, 2, …) and draws from [`Rng::new(seed)`](crate::rng::Rng),
//! in this order, making every draw at every size (the size only decides which draws are
//! used):
//!
//! 1. **Parents.** For `i` in `1..n`: `parent[i] = below(i)` (an earlier process forks `i`).
//! 2. **Exits.** For `i` in `0..n`: `exits[i] = chance(50)` (the list ends with `exit i`).
//! 3. **Waits.** For `i` in `1..n`: `wait_roll[i] = chance(60)`.
//! 4. **Kills.** For `i` in `1..n`: `kill_roll[i] = chance(35)`.
//! 5. **Subreaper.** `subreaper_roll = below(n)`.
//! 6. **Lists**, for `i` in `0..n`, in order:
//!    - `chance(50)`: a first print;
//!    - for each child `c` of `i` (by index): `fork c`, then `chance(50)`: a print;
//!    - for each child `c` of `i` (no draw): `kill c` if `c` is killed, then `wait c` if `c`
//!      is waited for;
//!    - `chance(50)`: a last print;
//!    - `exit i` if `exits[i]`;
//!    - if `i` is the subreaper: `below(len + 1)` with `len` the list's length without its
//!      `exit`: `subreaper` is inserted at that position.
//!
//! Then the size's rules apply (they were applied before building the lists; listed here
//! in the order they are applied):
//! - size 1: every process but `a` exits and is waited for; `a` does not exit.
//! - size 2 and up: the draws decide (zombies: exits nobody waits for; orphans: a parent
//!   exits before its child).
//! - size 3 and up: a process without children is killed by its parent if `kill_roll`; a
//!   killed process does not exit, and only its first print draw counts.
//! - size 4: the subreaper is process `subreaper_roll` if it has a grandchild, else the first
//!   process (by name) that has one, else none.
//! - a child is waited for if it exits or is killed, and (size 1, or `wait_roll`): nobody
//!   waits for a child that never ends, so no wait blocks forever.
//!
//! Prints are numbered per process (`b1`, `b2`, …). A print whose draw succeeds is dropped
//! when the scenario already has `size + 2` prints; if no print at all was made, `a` gets
//! one last print `a1` (before its `exit`).

use super::{Action, Process, Scenario};
use crate::rng::Rng;

/// The scenario for `seed` at `size` (clamped to `1..=4`).
pub fn generate(seed: u64, size: u32) -> Scenario {
    let size = size.clamp(1, super::MAX_SIZE);
    let n = size as usize + 1;
    let name = |i: usize| ((b'a' + i as u8) as char).to_string();
    let mut rng = Rng::new(seed);

    // 1-5: the shape and the fates.
    let mut parent = vec![0usize; n];
    for (i, p) in parent.iter_mut().enumerate().skip(1) {
        *p = rng.below(i as u64) as usize;
    }
    let mut exits: Vec<bool> = (0..n).map(|_| rng.chance(50)).collect();
    let wait_roll: Vec<bool> = (0..n).map(|i| i > 0 && rng.chance(60)).collect();
    let kill_roll: Vec<bool> = (0..n).map(|i| i > 0 && rng.chance(35)).collect();
    let subreaper_roll = rng.below(n as u64) as usize;

    let children = |i: usize| -> Vec<usize> { (1..n).filter(|&c| parent[c] == i).collect() };
    let has_grandchild = |i: usize| children(i).iter().any(|&c| !children(c).is_empty());

    let mut killed = vec![false; n];
    if size == 1 {
        exits = (0..n).map(|i| i > 0).collect();
    }
    if size >= 3 {
        for i in 1..n {
            if kill_roll[i] && children(i).is_empty() {
                killed[i] = true;
                exits[i] = false;
            }
        }
    }
    let subreaper = if size >= 4 {
        if has_grandchild(subreaper_roll) {
            Some(subreaper_roll)
        } else {
            (0..n).find(|&i| has_grandchild(i))
        }
    } else {
        None
    };
    let waited: Vec<bool> = (0..n)
        .map(|i| i > 0 && (exits[i] || killed[i]) && (size == 1 || wait_roll[i]))
        .collect();

    // 6: the lists.
    let budget = size as usize + 2;
    let mut prints = 0;
    let mut processes = Vec::with_capacity(n);
    for i in 0..n {
        let mut list = Vec::new();
        let mut count = 0;
        let mut print = |list: &mut Vec<Action>, draw: bool, prints: &mut usize| {
            if draw && *prints < budget {
                count += 1;
                *prints += 1;
                list.push(Action::Print(format!("{}{count}", name(i))));
            }
        };
        let first = rng.chance(50);
        print(&mut list, first, &mut prints);
        for c in children(i) {
            list.push(Action::Fork(name(c)));
            let draw = rng.chance(50);
            print(&mut list, draw && !killed[i], &mut prints);
        }
        for c in children(i) {
            if killed[c] {
                list.push(Action::Kill(name(c)));
            }
            if waited[c] {
                list.push(Action::Wait(name(c)));
            }
        }
        let last = rng.chance(50);
        print(&mut list, last && !killed[i], &mut prints);
        if subreaper == Some(i) {
            let at = rng.below(list.len() as u64 + 1) as usize;
            list.insert(at, Action::Subreaper);
        }
        if exits[i] {
            list.push(Action::Exit(i as i32));
        }
        processes.push(Process {
            name: name(i),
            actions: list,
        });
    }
    if prints == 0 {
        let a = &mut processes[0].actions;
        let at = if matches!(a.last(), Some(Action::Exit(_))) {
            a.len() - 1
        } else {
            a.len()
        };
        a.insert(at, Action::Print("a1".to_string()));
    }
    Scenario {
        seed,
        size,
        processes,
    }
}
