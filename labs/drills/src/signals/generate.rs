//! The signals generator. Every random choice comes from [`Rng`] (SplitMix64 seeded with
//! the seed itself), in the order listed on [`generate`].

use super::{Action, Scenario, Sig, Step, Who};
use crate::rng::Rng;

/// Exit codes a scenario may use.
const EXIT_CODES: [u8; 5] = [0, 1, 2, 3, 42];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Handle,
    Ignore,
    Default,
    Block,
    Unblock,
    UnblockAll,
    Raise,
    Kill,
    Print,
    Exec,
    // The SIGKILL traps (sizes 3 and 4): the signal is SIGKILL, with no candidate draw.
    /// `handle SIGKILL`, `ignore SIGKILL` or `block SIGKILL` (one more draw picks which).
    KillTrap,
    /// `raise SIGKILL`.
    RaiseKill,
    /// `kill OTHER SIGKILL`.
    KillKill,
}

/// The three SIGKILL traps, in the order `KillTrap`'s draw picks from.
const TRAPS: [fn(Sig) -> Action; 3] = [
    |signal| Action::Handle { signal },
    |signal| Action::Ignore { signal },
    |signal| Action::Block { signal },
];

/// What the generator knows about a process without running anything: its dispositions and
/// its mask (only the steps change them; `exec` turns handlers back into defaults; the fork
/// copies both). Used to pick sensible signals, never to decide outcomes.
#[derive(Debug, Clone, Default)]
struct Known {
    handled: Vec<Sig>,
    ignored: Vec<Sig>,
    blocked: Vec<Sig>,
    execed: bool,
    /// Whether this process (or P before the fork, for C) has set a SIGKILL trap: as a
    /// reader who misses the rule sees it, SIGKILL would not kill it. The generator
    /// does not put SIGKILL in the lists above (the real dispositions and mask never hold
    /// it), so the closing unblocks never mention it.
    kill_trap: bool,
    /// Whether a step has already aimed SIGKILL at this process (it gets no more middle
    /// steps: it is dead from then on, unless the sender was dead already).
    kill_sent: bool,
}

impl Known {
    /// A signal that would kill this process at once if sent now: default action, unblocked.
    fn fatal_now(&self, s: Sig) -> bool {
        !self.handled.contains(&s) && !self.ignored.contains(&s) && !self.blocked.contains(&s)
    }
}

/// The weight of a SIGKILL kind (see the table on [`generate`]); 0 at sizes 1 and 2.
fn kill_weight(size: u32, kind: Kind, me: &Known, target: &Known, forked: bool, late: bool) -> u64 {
    let s = size as usize - 1;
    // SIGKILL is sent only to a process that looks protected against it (it has set a
    // trap), only once, and only where any signal may be fatal: in the last two middle
    // steps, so that the list does not go on for a process that is dead.
    let may_send = |k: &Known| late && !k.kill_sent && k.kill_trap;
    match kind {
        Kind::KillTrap if !me.kill_trap => [0, 0, 1, 1][s],
        Kind::RaiseKill if may_send(me) => [0, 0, 6, 4][s],
        Kind::KillKill if forked && may_send(target) => [0, 0, 0, 4][s],
        _ => 0,
    }
}

/// The candidate signals of a kind, in the order of the signals in play.
fn candidates(
    kind: Kind,
    in_play: &[Sig],
    me: &Known,
    target: &Known,
    late: bool,
    just_set: Option<Sig>,
) -> Vec<Sig> {
    let keep = |f: &dyn Fn(Sig) -> bool| in_play.iter().copied().filter(|&s| f(s)).collect();
    let fresh = |s: Sig| just_set != Some(s);
    match kind {
        Kind::Handle => keep(&|s| fresh(s) && !me.handled.contains(&s)),
        Kind::Ignore => keep(&|s| fresh(s) && !me.ignored.contains(&s)),
        Kind::Default => {
            keep(&|s| fresh(s) && (me.handled.contains(&s) || me.ignored.contains(&s)))
        }
        Kind::Block => keep(&|s| !me.blocked.contains(&s)),
        Kind::Unblock | Kind::UnblockAll => keep(&|s| me.blocked.contains(&s)),
        Kind::Raise | Kind::Kill => {
            let to = if kind == Kind::Raise { me } else { target };
            let mut c: Vec<Sig> = keep(&|s| late || !to.fatal_now(s));
            c.extend(keep(&|s| to.blocked.contains(&s))); // blocked ones count twice
            c
        }
        Kind::Print | Kind::Exec => Vec::new(),
        Kind::KillTrap | Kind::RaiseKill | Kind::KillKill => Vec::new(),
    }
}

/// The weight of a step kind (see the table on [`generate`]).
#[allow(clippy::too_many_arguments)]
fn weight(
    size: u32,
    kind: Kind,
    first: bool,
    after_print: bool,
    forked: bool,
    execed: bool,
    has: usize,
) -> u64 {
    let two_blocked = has >= 2;
    let s = size as usize - 1;
    let w = match kind {
        Kind::Handle => 5,
        Kind::Ignore => 2,
        Kind::Default => 1,
        Kind::Block => [0, 3, 4, 3][s],
        Kind::Unblock => [0, 3, 1, 2][s],
        Kind::UnblockAll if two_blocked => [0, 0, 4, 3][s],
        Kind::UnblockAll => [0, 0, 1, 1][s],
        Kind::Raise => [6, 6, 6, 4][s],
        Kind::Kill if forked => [0, 0, 0, 4][s],
        Kind::Kill => 0,
        Kind::Print if first || after_print => 0,
        Kind::Print => 2,
        Kind::Exec if first || execed => 0,
        Kind::Exec => [0, 1, 1, 1][s],
        Kind::KillTrap | Kind::RaiseKill | Kind::KillKill => {
            unreachable!("the SIGKILL kinds have their own weights (kill_weight)")
        }
    };
    let needs_signal = !matches!(kind, Kind::Print | Kind::Exec);
    if needs_signal && has == 0 { 0 } else { w }
}

const KINDS: [Kind; 13] = [
    Kind::Handle,
    Kind::Ignore,
    Kind::Default,
    Kind::Block,
    Kind::Unblock,
    Kind::UnblockAll,
    Kind::Raise,
    Kind::Kill,
    Kind::Print,
    Kind::Exec,
    Kind::KillTrap,
    Kind::RaiseKill,
    Kind::KillKill,
];

/// Whether a kind is one of the SIGKILL kinds.
fn is_sigkill(kind: Kind) -> bool {
    matches!(kind, Kind::KillTrap | Kind::RaiseKill | Kind::KillKill)
}

/// The scenario for `seed` at `size` (clamped to 1..=4). The draws, in order, all from
/// `Rng::new(seed)`:
///
/// 1. The signals in play: 2 at sizes 1–2, 3 at sizes 3–4. For each, `below(len)` picks one
///    of the signals not yet taken, from the list SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGTERM
///    (the taken one is removed, the rest keep their order). Kept in draw order.
/// 2. The number of middle steps: `base + below(3)`, base 4, 6, 7, 8 for sizes 1–4.
/// 3. Size 4 only: the fork's position among the middle steps, `1 + below(2)` (0-based).
///    The fork step (`P: fork`) makes no further draws, and it counts as a middle step.
/// 4. For each other middle step, in order:
///    - the process. A process that a SIGKILL step (`raise SIGKILL`, `kill OTHER SIGKILL`)
///      has been aimed at gets no more middle steps. If every process that exists has been
///      (P alone, before the fork or at sizes 1–3), the middle steps end there: the rest
///      are not drawn. At size 4 after the fork, if one of the two has been, the step is
///      the other's (no draw); otherwise `chance(50)` → C, else P. In every other case, P;
///    - the kind: `below(total weight)`, walking the table below in its order;
///    - for every kind but print, exec, unblock all and the three SIGKILL kinds, the
///      signal: `below(n)` among its candidates (see below); `kill`'s target is the other
///      process (no draw). `print` draws nothing: its text is `after` and the previous step
///      of the same process that is not a print, in action-list notation, or `start`.
///    - SIGKILL trap: `below(3)` picks the step, `handle SIGKILL`, `ignore SIGKILL` or
///      `block SIGKILL` (in that order). raise SIGKILL (`raise SIGKILL`) and kill SIGKILL
///      (`kill OTHER SIGKILL`) draw nothing.
/// 5. The closing unblocks (no draws): for P, then C, if it still has signals blocked (as
///    tracked for the candidates), one `unblock all` at sizes 3–4, or at size 2 one
///    `unblock SIG` per blocked signal in signal-number order.
/// 6. The exits: one `exit` per process (P, and C at size 4). With two, `chance(50)` → C's
///    exit comes first. Then, for each exit in order, its code: `pick` from 0, 1, 2, 3, 42.
///
/// # Weights
///
/// The weights of the step kinds, in this order:
///
/// | kind          | size 1 | size 2 | size 3 | size 4 | 0 also when …                                                                         |
/// |---------------|--------|--------|--------|--------|---------------------------------------------------------------------------------------|
/// | handle        | 5      | 5      | 5      | 5      | no candidate                                                                          |
/// | ignore        | 2      | 2      | 2      | 2      | no candidate                                                                          |
/// | default       | 1      | 1      | 1      | 1      | no candidate                                                                          |
/// | block         | 0      | 3      | 4      | 3      | no candidate                                                                          |
/// | unblock       | 0      | 3      | 1      | 2      | no candidate                                                                          |
/// | unblock all   | 0      | 0      | 4 (1)  | 3 (1)  | no candidate; (…) with one candidate                                                  |
/// | raise         | 6      | 6      | 6      | 4      | no candidate                                                                          |
/// | kill          | 0      | 0      | 0      | 4      | before the fork, or no candidate                                                      |
/// | print         | 2      | 2      | 2      | 2      | first step, or after a print by the same process                                      |
/// | exec          | 0      | 1      | 1      | 1      | first step, or this process has exec'd                                                |
/// | SIGKILL trap  | 0      | 0      | 1      | 1      | this process has set a SIGKILL trap                                                   |
/// | raise SIGKILL | 0      | 0      | 6      | 4      | early; no SIGKILL trap in this process                                                |
/// | kill SIGKILL  | 0      | 0      | 0      | 4      | before the fork, or early; no SIGKILL trap in the target, or it has been sent SIGKILL |
///
/// *Early*: one of the middle steps before the last two.
///
/// The three SIGKILL kinds weigh 0 at sizes 1 and 2, so they change nothing there: a seed
/// gives the same scenario at sizes 1 and 2 as before they existed (no SIGKILL step is drawn,
/// so no process is ever left without middle steps either). What they track, per process,
/// from the steps alone: whether it has set a SIGKILL trap (C inherits P's at the fork;
/// `exec` keeps it), and whether a step has already sent it SIGKILL (C starts without).
/// SIGKILL is sent only in the last two middle steps, where any `raise` or `kill` may be
/// fatal too, and the process it is aimed at gets no middle step after it (step 4), so a list
/// goes on for a process killed by SIGKILL only with the closing `unblock all` (step 5) and
/// its `exit`, which every list has. SIGKILL is never one of the candidates of the other
/// kinds, nor one of the signals in play, and the closing unblocks never concern it.
///
/// The candidates (in the order of the signals in play): handle, ignore — the signals not
/// already handled, ignored; default — the handled or ignored ones; for these three, not the
/// signal whose disposition the same process's previous step set; block — the unblocked
/// ones; unblock and unblock all — the blocked ones; raise — the signals that would not kill
/// the process at once (handled, ignored or blocked), or all of them in the last two middle
/// steps, followed by the blocked ones a second time (so a blocked signal is drawn twice as
/// often); kill — the same, judged in the target process. What is handled, ignored and
/// blocked is tracked from the steps alone: `exec` turns handlers back into defaults, and the
/// fork gives C a copy of P's.
pub fn generate(seed: u64, size: u32) -> Scenario {
    let size = size.clamp(1, 4);
    let mut rng = Rng::new(seed);

    let mut pool: Vec<Sig> = Sig::ALL.to_vec();
    let in_play: Vec<Sig> = (0..if size <= 2 { 2 } else { 3 })
        .map(|_| pool.remove(rng.below(pool.len() as u64) as usize))
        .collect();

    let middle = [4, 6, 7, 8][size as usize - 1] + rng.below(3) as usize;
    let fork_at = (size == 4).then(|| 1 + rng.below(2) as usize);

    let mut steps: Vec<Step> = Vec::new();
    let mut known: [Known; 2] = [Known::default(), Known::default()];
    let mut forked = false;

    for i in 0..middle {
        if Some(i) == fork_at {
            steps.push(Step {
                who: Who::P,
                action: Action::Fork,
            });
            known[Who::C.index()] = Known {
                execed: false,
                kill_sent: false,
                ..known[Who::P.index()].clone()
            };
            forked = true;
            continue;
        }
        // A process that a SIGKILL step has been aimed at gets no more middle steps: the
        // other one takes them without a draw, and when neither is left, the middle ends.
        let sent = |w: Who| known[w.index()].kill_sent;
        let who = match (forked, sent(Who::P), sent(Who::C)) {
            (false, true, _) | (true, true, true) => break,
            (true, true, false) => Who::C,
            (true, false, true) => Who::P,
            (_, false, false) if forked && rng.chance(50) => Who::C,
            _ => Who::P,
        };
        let late = i + 2 >= middle;
        let after_print = steps
            .iter()
            .rev()
            .find(|s| s.who == who)
            .is_some_and(|s| matches!(s.action, Action::Print { .. }));
        // The signal whose disposition this process's previous step set, if it did: the next
        // step does not set it again at once (nothing could have seen the first setting).
        let just_set = steps
            .iter()
            .rev()
            .find(|s| s.who == who)
            .and_then(|s| match s.action {
                Action::Handle { signal }
                | Action::Ignore { signal }
                | Action::Default { signal } => Some(signal),
                _ => None,
            });
        let me = &known[who.index()];
        let target = &known[who.other().index()];
        let table: Vec<(Kind, Vec<Sig>, u64)> = KINDS
            .iter()
            .map(|&k| {
                let c = candidates(k, &in_play, me, target, late, just_set);
                let w = if is_sigkill(k) {
                    kill_weight(size, k, me, target, forked, late)
                } else {
                    weight(size, k, i == 0, after_print, forked, me.execed, c.len())
                };
                (k, c, w)
            })
            .collect();
        let total: u64 = table.iter().map(|(_, _, w)| w).sum();
        let mut roll = rng.below(total);
        let (kind, cands, _) = table
            .into_iter()
            .find(|(_, _, w)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .expect("roll < total");
        let needs_signal =
            !matches!(kind, Kind::Print | Kind::Exec | Kind::UnblockAll) && !is_sigkill(kind);
        let signal = if needs_signal {
            *rng.pick(&cands)
        } else {
            Sig::Hup
        };
        let me = &mut known[who.index()];
        let action = match kind {
            Kind::Handle => {
                me.ignored.retain(|&s| s != signal);
                me.handled.push(signal);
                Action::Handle { signal }
            }
            Kind::Ignore => {
                me.handled.retain(|&s| s != signal);
                me.ignored.push(signal);
                Action::Ignore { signal }
            }
            Kind::Default => {
                me.handled.retain(|&s| s != signal);
                me.ignored.retain(|&s| s != signal);
                Action::Default { signal }
            }
            Kind::Block => {
                me.blocked.push(signal);
                Action::Block { signal }
            }
            Kind::Unblock => {
                me.blocked.retain(|&s| s != signal);
                Action::Unblock { signal }
            }
            Kind::UnblockAll => {
                me.blocked.clear();
                Action::UnblockAll
            }
            Kind::Raise => Action::Raise { signal },
            Kind::Kill => Action::Kill {
                target: who.other(),
                signal,
            },
            Kind::Print => {
                let previous = steps
                    .iter()
                    .rev()
                    .find(|s| s.who == who && !matches!(s.action, Action::Print { .. }));
                let text = match previous {
                    Some(prev) => format!("after {}", prev.action),
                    None => "start".to_string(),
                };
                Action::Print { text }
            }
            Kind::Exec => {
                me.execed = true;
                me.handled.clear(); // handlers go back to the default; ignores stay
                Action::Exec
            }
            Kind::KillTrap => {
                me.kill_trap = true;
                rng.pick(&TRAPS)(Sig::Kill)
            }
            Kind::RaiseKill => {
                me.kill_sent = true;
                Action::Raise { signal: Sig::Kill }
            }
            Kind::KillKill => {
                known[who.other().index()].kill_sent = true;
                Action::Kill {
                    target: who.other(),
                    signal: Sig::Kill,
                }
            }
        };
        steps.push(Step { who, action });
    }

    // The closing unblocks: whatever is still blocked gets its chance to arrive.
    for who in [Who::P, Who::C] {
        let blocked = &mut known[who.index()].blocked;
        blocked.sort();
        if size >= 3 && !blocked.is_empty() {
            steps.push(Step {
                who,
                action: Action::UnblockAll,
            });
        } else {
            for &signal in blocked.iter() {
                steps.push(Step {
                    who,
                    action: Action::Unblock { signal },
                });
            }
        }
        blocked.clear();
    }

    let mut exits = vec![Who::P];
    if forked {
        if rng.chance(50) {
            exits.insert(0, Who::C);
        } else {
            exits.push(Who::C);
        }
    }
    for who in exits {
        let code = *rng.pick(&EXIT_CODES);
        steps.push(Step {
            who,
            action: Action::Exit { code },
        });
    }

    Scenario { seed, size, steps }
}
