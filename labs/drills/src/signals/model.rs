//! The model: every outcome that the rules of signal(7), sigaction(2), sigprocmask(2),
//! execve(2) and fork(2) allow for a scenario.
//!
//! The state of each process is what the kernel keeps (chapter 9, "Four sets per process"):
//! a disposition per signal (default, ignore, handler), the blocked mask, and the pending
//! set. The steps run one at a time (the executor enforces it), so the model only has to
//! branch where POSIX leaves a choice to the kernel:
//!
//! - **Unblocking several pending signals at once** (`unblock all`): they are all delivered
//!   before sigprocmask(2) returns to the program (POSIX asks for at least one; Linux takes
//!   every deliverable one on the way back to user mode), but in which order is unspecified
//!   (signal(7), "Queueing and delivery semantics for standard signals"). The model accepts
//!   every order. Linux takes the lowest number first (`next_signal()` in kernel/signal.c),
//!   but our handler blocks nothing else (`sa_mask`
//!   empty), so the kernel stacks the next handler's frame on top before the first one has
//!   run: the lines come out highest number first (a test shows it).
//! - **A signal sent while it is blocked *and* ignored**: POSIX says it is unspecified whether
//!   it is discarded at once or stays pending (XSH 2.4.1). Linux keeps it pending
//!   (`sig_ignored()` in kernel/signal.c: "Blocked signals are never ignored, since the signal
//!   handler may change by the time it is unblocked"). It only matters when the disposition
//!   changes before the unblock; the model accepts both.
//!
//! Everything else is fixed:
//!
//! - a standard signal is one pending bit, not a counter: sent several times while blocked,
//!   it is delivered once (signal(7), "Queueing and delivery semantics for standard signals");
//! - a signal a process sends itself while unblocked (`kill(getpid(), sig)`) is delivered
//!   before `kill` returns (POSIX XSH kill(): when a single-threaded process signals itself
//!   and the signal is not blocked, it, or another pending unblocked one, is delivered before
//!   kill() returns);
//! - a signal sent to the other process is dealt with before that process runs its next step
//!   (the executor waits for the receiver to acknowledge it; see [`super::exec`]);
//! - setting a pending signal's disposition to "ignore" discards it, blocked or not (POSIX
//!   XSH sigaction(); Linux: `do_sigaction()` in kernel/signal.c flushes it);
//! - the default action of SIGHUP, SIGINT, SIGUSR1, SIGUSR2 and SIGTERM is to terminate
//!   (signal(7));
//! - `execve` resets handled signals to the default, keeps ignored ones ignored, and keeps the
//!   mask and the pending set (execve(2), signal(7));
//! - `fork` copies dispositions and mask; the child's pending set starts empty (fork(2));
//! - a dead process is a zombie until the end of the run (nobody waits): `kill` on it
//!   succeeds and does nothing, and its remaining steps are skipped.
//!
//! SIGKILL (the traps of sizes 3 and 4) follows none of the rules above but the last:
//!
//! - its disposition cannot change: `sigaction(SIGKILL, …)` fails with EINVAL and changes
//!   nothing, for a handler, SIG_IGN and SIG_DFL alike (sigaction(2), ERRORS: "an attempt is
//!   made to change the action for SIGKILL or SIGSTOP, which cannot be caught or ignored";
//!   Linux: `do_sigaction()` in kernel/signal.c returns -EINVAL when `sig_kernel_only(sig)`).
//!   The program goes on after the failed call: the step is not a failure of the drill;
//! - it cannot be blocked, and trying is no error: sigprocmask(2), NOTES, "It is not
//!   possible to block SIGKILL or SIGSTOP. Attempts to do so are silently ignored." The call
//!   succeeds and the mask stays without it (Linux: `rt_sigprocmask` in kernel/signal.c
//!   removes both from the new set before applying it; `/proc/PID/status` `SigBlk` keeps
//!   bit 8, for signal 9, clear). Unblocking it changes nothing either;
//! - so it is never held back by the mask and never handled (signal(7): "The signals
//!   SIGKILL and SIGSTOP cannot be caught, blocked, or ignored"): whatever the mask, the
//!   process it is sent to dies the next time it is in the kernel (a sleeping one is woken,
//!   a running one interrupted), without getting back to its program. There is no handler
//!   line, and a shell shows `$?` = 137 (128 + 9). `raise SIGKILL`
//!   (`kill(getpid(), SIGKILL)`) never returns. `kill OTHER SIGKILL` may return before the
//!   other process has died: the kernel marks it as exiting, queues SIGKILL for it and
//!   wakes it (`complete_signal()` in kernel/signal.c), and it dies a little later. The
//!   model ends it at the `kill` step all the same: its next step would need the read(2) on
//!   its command pipe to return to it, and the executor waits for its report pipe's
//!   end-of-file before any other step runs (see [`super::exec`]). Sent to a zombie,
//!   SIGKILL does nothing, like any signal;
//! - `execve` and `fork` have nothing of it to carry: its disposition is always the default
//!   and it is never in the mask or pending.

use std::collections::BTreeSet;

use super::{Action, End, Outcome, Scenario, Sig, Who, handled_line, print_line, status_line};

/// Above this many distinct states the model stops and panics: the generator keeps
/// scenarios far below it (at most 3 signals in play, so at most 3! orders per `unblock all`).
pub const STATE_CAP: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Disp {
    Default,
    Ignore,
    Handle,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Proc {
    exists: bool,
    end: Option<EndKey>,
    disp: [Disp; 5],
    blocked: u8,
    pending: u8,
}

/// `End` with an order, for the state set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum EndKey {
    Exited(u8),
    Killed(Sig),
}

impl Proc {
    fn fresh(exists: bool) -> Proc {
        Proc {
            exists,
            end: None,
            disp: [Disp::Default; 5],
            blocked: 0,
            pending: 0,
        }
    }
    fn running(&self) -> bool {
        self.exists && self.end.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct State {
    procs: [Proc; 2],
    lines: Vec<String>,
}

impl State {
    fn proc(&mut self, who: Who) -> &mut Proc {
        &mut self.procs[who.index()]
    }

    /// Delivery of an unblocked signal to a running process: its disposition decides.
    fn deliver(&mut self, who: Who, sig: Sig) {
        let p = self.proc(who);
        if sig == Sig::Kill {
            p.end = Some(EndKey::Killed(sig)); // no disposition but the default
            return;
        }
        match p.disp[sig as usize] {
            Disp::Handle => self.lines.push(handled_line(who, sig)),
            Disp::Ignore => {}
            Disp::Default => p.end = Some(EndKey::Killed(sig)),
        }
    }

    /// `kill(who, sig)`: the possible states afterwards.
    fn send(mut self, who: Who, sig: Sig) -> Vec<State> {
        let p = self.proc(who);
        if !p.running() {
            return vec![self]; // never forked, or a zombie: nothing happens
        }
        if sig == Sig::Kill {
            self.deliver(who, sig); // never blocked: the target runs no further step
            return vec![self];
        }
        if p.blocked & sig.bit() != 0 {
            if p.disp[sig as usize] == Disp::Ignore {
                // Unspecified by POSIX: discarded now, or kept pending (Linux).
                let discarded = self.clone();
                self.proc(who).pending |= sig.bit();
                return vec![self, discarded];
            }
            p.pending |= sig.bit();
            return vec![self];
        }
        self.deliver(who, sig);
        vec![self]
    }

    fn set_disp(&mut self, who: Who, sig: Sig, disp: Disp) {
        if sig == Sig::Kill {
            return; // sigaction fails with EINVAL: nothing changes
        }
        let p = self.proc(who);
        p.disp[sig as usize] = disp;
        if disp == Disp::Ignore {
            p.pending &= !sig.bit();
        }
    }

    /// The possible states after `step`.
    fn step(mut self, who: Who, action: &Action) -> Vec<State> {
        if !self.procs[who.index()].running() {
            return vec![self]; // a dead (or never forked) process runs no more steps
        }
        match action {
            Action::Handle { signal } => self.set_disp(who, *signal, Disp::Handle),
            Action::Ignore { signal } => self.set_disp(who, *signal, Disp::Ignore),
            Action::Default { signal } => self.set_disp(who, *signal, Disp::Default),
            // sigprocmask leaves SIGKILL out of the mask: blocking or unblocking it does nothing.
            Action::Block { signal: Sig::Kill } | Action::Unblock { signal: Sig::Kill } => {}
            Action::Block { signal } => self.proc(who).blocked |= signal.bit(),
            Action::Unblock { signal } => {
                let p = self.proc(who);
                p.blocked &= !signal.bit();
                if p.pending & signal.bit() != 0 {
                    p.pending &= !signal.bit();
                    self.deliver(who, *signal);
                }
            }
            Action::UnblockAll => {
                let p = self.proc(who);
                p.blocked = 0;
                let pending: Vec<Sig> = Sig::ALL
                    .into_iter()
                    .filter(|s| p.pending & s.bit() != 0)
                    .collect();
                p.pending = 0;
                return permutations(&pending)
                    .into_iter()
                    .map(|order| {
                        let mut st = self.clone();
                        for sig in order {
                            if st.procs[who.index()].end.is_some() {
                                break; // killed by an earlier one: the rest never run
                            }
                            st.deliver(who, sig);
                        }
                        st
                    })
                    .collect();
            }
            Action::Raise { signal } => return self.send(who, *signal),
            Action::Kill { target, signal } => return self.send(*target, *signal),
            Action::Print { text } => self.lines.push(print_line(who, text)),
            Action::Exec => {
                for d in &mut self.proc(who).disp {
                    if *d == Disp::Handle {
                        *d = Disp::Default;
                    }
                }
            }
            Action::Fork => {
                let parent = self.procs[who.index()].clone();
                *self.proc(Who::C) = Proc {
                    pending: 0,
                    ..parent
                };
            }
            Action::Exit { code } => self.proc(who).end = Some(EndKey::Exited(*code)),
        }
        vec![self]
    }
}

fn permutations(items: &[Sig]) -> Vec<Vec<Sig>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            all.push(tail);
        }
    }
    all
}

/// Every outcome the kernel may produce for `scenario`, sorted, without duplicates.
pub fn allowed(scenario: &Scenario) -> Vec<Outcome> {
    let start = State {
        procs: [Proc::fresh(true), Proc::fresh(false)],
        lines: Vec::new(),
    };
    let mut states: BTreeSet<State> = BTreeSet::from([start]);
    for step in &scenario.steps {
        states = states
            .into_iter()
            .flat_map(|st| st.step(step.who, &step.action))
            .collect();
        assert!(
            states.len() <= STATE_CAP,
            "scenario too large for the model ({} states)",
            states.len()
        );
    }
    let child = scenario.has_child();
    let outcomes: BTreeSet<Outcome> = states
        .into_iter()
        .map(|st| {
            let end = |p: &Proc| match (p.exists, p.end) {
                (false, _) => End::NeverForked,
                (true, Some(EndKey::Exited(code))) => End::Exited(code),
                (true, Some(EndKey::Killed(sig))) => End::Killed(sig),
                (true, None) => panic!("the generator ends every process with an exit step"),
            };
            let mut status = vec![status_line(Who::P, end(&st.procs[0]))];
            if child {
                status.push(status_line(Who::C, end(&st.procs[1])));
            }
            Outcome {
                lines: st.lines,
                status,
            }
        })
        .collect();
    outcomes.into_iter().collect()
}
