//! Signal drills (Appendix D, practising chapter 9): a generated list of signal steps —
//! dispositions, masks, `kill`, `exec`, `fork` — and the question "which handlers run, in
//! which order, who dies of what, and what does `$?` say?".
//!
//! - [`generate`] draws a scenario from a seed (the draws are listed in
//!   [`generate`]'s docs, so the generator can be re-implemented from them);
//! - [`model`] lists every outcome that Linux (and POSIX) allow for it;
//! - [`exec`] runs it for real inside `drill-exec`: a process P forked from `drill-exec`
//!   (and, at size 4, a child C that P forks), driven one step at a time.
//!
//! At sizes 3 and 4 a scenario may also set a trap: a step that tries to handle, ignore or
//! block SIGKILL, and later a SIGKILL sent to that process. None of the three is possible
//! (signal(7)); the model and the executor say what happens instead (see [`model`]).
//!
//! The steps run one at a time, in the listed order, even when two processes take part:
//! `drill-exec` tells a process to run its next step and waits until it has, so the only
//! freedom left to the kernel is the one POSIX gives it (the order in which several pending
//! signals are delivered when they are unblocked together, and whether a signal sent while it
//! is both blocked and ignored is kept). The model enumerates exactly those choices.

mod generate;
pub mod model;

pub mod exec;

use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

pub use exec::{RESUME_ARG, RESUME_ENV, SCENARIO_ARG, last_run_pids, resume, run_stdin_scenario};
pub use generate::generate;

/// The signals the drills use. The first five terminate the process by default (signal(7),
/// "Standard signals" table: action "Term"), and a program may catch, ignore or block them.
/// SIGKILL (sizes 3 and 4 only) terminates too, and a program can do none of the three: the
/// generator draws it only as a trap (see [`model`]).
///
/// The derived order is the declaration order, not the signal numbers: SIGKILL comes last so
/// that the five keep their indices (0 to 4) in the model's arrays and bit sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sig {
    #[serde(rename = "SIGHUP")]
    Hup,
    #[serde(rename = "SIGINT")]
    Int,
    #[serde(rename = "SIGUSR1")]
    Usr1,
    #[serde(rename = "SIGUSR2")]
    Usr2,
    #[serde(rename = "SIGTERM")]
    Term,
    #[serde(rename = "SIGKILL")]
    Kill,
}

impl Sig {
    /// The five that can be caught, ignored and blocked, in signal-number order (the order
    /// the generator draws from). `unblock all` unblocks these five.
    pub const ALL: [Sig; 5] = [Sig::Hup, Sig::Int, Sig::Usr1, Sig::Usr2, Sig::Term];

    /// Every signal a scenario may name: the five, then SIGKILL.
    pub const EVERY: [Sig; 6] = [
        Sig::Hup,
        Sig::Int,
        Sig::Usr1,
        Sig::Usr2,
        Sig::Term,
        Sig::Kill,
    ];

    /// The signal number on Linux (x86-64 and arm64 alike for these six).
    pub fn number(self) -> u8 {
        match self {
            Sig::Hup => 1,
            Sig::Int => 2,
            Sig::Kill => 9,
            Sig::Usr1 => 10,
            Sig::Usr2 => 12,
            Sig::Term => 15,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sig::Hup => "SIGHUP",
            Sig::Int => "SIGINT",
            Sig::Usr1 => "SIGUSR1",
            Sig::Usr2 => "SIGUSR2",
            Sig::Term => "SIGTERM",
            Sig::Kill => "SIGKILL",
        }
    }

    pub fn from_name(name: &str) -> Option<Sig> {
        Sig::EVERY.into_iter().find(|s| s.name() == name)
    }

    pub fn nix(self) -> nix::sys::signal::Signal {
        use nix::sys::signal::Signal;
        match self {
            Sig::Hup => Signal::SIGHUP,
            Sig::Int => Signal::SIGINT,
            Sig::Usr1 => Signal::SIGUSR1,
            Sig::Usr2 => Signal::SIGUSR2,
            Sig::Term => Signal::SIGTERM,
            Sig::Kill => Signal::SIGKILL,
        }
    }

    /// The signal's bit in the model's blocked and pending sets (the five only: SIGKILL is
    /// never blocked nor left pending).
    fn bit(self) -> u8 {
        debug_assert!(self != Sig::Kill, "SIGKILL has no bit in the model's sets");
        1 << (self as u8)
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The two processes: P, forked from `drill-exec`, and C, which P forks (size 4 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Who {
    P,
    C,
}

impl Who {
    fn other(self) -> Who {
        match self {
            Who::P => Who::C,
            Who::C => Who::P,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
    fn letter(self) -> char {
        match self {
            Who::P => 'P',
            Who::C => 'C',
        }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char(self.letter())
    }
}

/// One step of a scenario, run by one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `sigaction(SIG, handler)`: the handler writes `WHO handled SIG` to the report pipe.
    Handle { signal: Sig },
    /// `signal(SIG, SIG_IGN)`.
    Ignore { signal: Sig },
    /// `signal(SIG, SIG_DFL)`.
    Default { signal: Sig },
    /// `sigprocmask(SIG_BLOCK, {SIG})`.
    Block { signal: Sig },
    /// `sigprocmask(SIG_UNBLOCK, {SIG})`.
    Unblock { signal: Sig },
    /// `sigprocmask(SIG_UNBLOCK, {all five})`.
    UnblockAll,
    /// `kill(getpid(), SIG)`.
    Raise { signal: Sig },
    /// `kill(OTHER, SIG)`: P signals C or C signals P.
    Kill { target: Who, signal: Sig },
    /// Write the line `WHO: TEXT` to the report pipe.
    Print { text: String },
    /// Replace the program by a fresh copy of itself that goes on with the next step.
    Exec,
    /// P forks C.
    Fork,
    /// `_exit(CODE)`.
    Exit { code: u8 },
}

impl Action {
    /// The signal the step names, if it names one.
    pub fn signal(&self) -> Option<Sig> {
        match self {
            Action::Handle { signal }
            | Action::Ignore { signal }
            | Action::Default { signal }
            | Action::Block { signal }
            | Action::Unblock { signal }
            | Action::Raise { signal }
            | Action::Kill { signal, .. } => Some(*signal),
            Action::UnblockAll
            | Action::Print { .. }
            | Action::Exec
            | Action::Fork
            | Action::Exit { .. } => None,
        }
    }
}

impl fmt::Display for Action {
    /// The action-list notation (`handle SIGUSR1`, `kill C SIGTERM`, `print "…"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Handle { signal } => write!(f, "handle {signal}"),
            Action::Ignore { signal } => write!(f, "ignore {signal}"),
            Action::Default { signal } => write!(f, "default {signal}"),
            Action::Block { signal } => write!(f, "block {signal}"),
            Action::Unblock { signal } => write!(f, "unblock {signal}"),
            Action::UnblockAll => write!(f, "unblock all"),
            Action::Raise { signal } => write!(f, "raise {signal}"),
            Action::Kill { target, signal } => write!(f, "kill {target} {signal}"),
            Action::Print { text } => write!(f, "print \"{text}\""),
            Action::Exec => write!(f, "exec"),
            Action::Fork => write!(f, "fork"),
            Action::Exit { code } => write!(f, "exit {code}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub who: Who,
    #[serde(flatten)]
    pub action: Action,
}

/// A generated scenario: the steps in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub seed: u64,
    pub size: u32,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Whether C takes part (size 4: the scenario has a `fork` step).
    pub fn has_child(&self) -> bool {
        self.steps.iter().any(|s| s.action == Action::Fork)
    }

    /// Whether a step names SIGKILL (the traps of sizes 3 and 4).
    pub fn names_sigkill(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.action.signal() == Some(Sig::Kill))
    }

    /// The signal names an answer to this scenario may use: the five, and SIGKILL when a
    /// step names it.
    fn answer_signals(&self) -> &'static [Sig] {
        if self.names_sigkill() {
            &Sig::EVERY
        } else {
            &Sig::ALL
        }
    }
}

/// What a run produced, in the answer format's words: the report lines in the order they
/// were written, then one status line per process (P first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Outcome {
    pub lines: Vec<String>,
    pub status: Vec<String>,
}

/// How a process ended, as the status line words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(u8),
    Killed(Sig),
    NeverForked,
}

/// The status line for `who`: `P exited with code 3 $?=3`, `C killed by SIGTERM $?=143`
/// (a shell reports death by signal N as 128 + N), or `C was never forked`.
pub fn status_line(who: Who, end: End) -> String {
    match end {
        End::Exited(code) => format!("{who} exited with code {code} $?={code}"),
        End::Killed(sig) => format!("{who} killed by {sig} $?={}", 128 + u32::from(sig.number())),
        End::NeverForked => format!("{who} was never forked"),
    }
}

/// The line a handler writes: `P handled SIGUSR1`.
pub fn handled_line(who: Who, sig: Sig) -> String {
    format!("{who} handled {sig}")
}

/// The line a `print` step writes: `P: TEXT`.
pub fn print_line(who: Who, text: &str) -> String {
    format!("{who}: {text}")
}

/// The signals family.
#[derive(Debug)]
pub struct Signals;

impl crate::Drill for Signals {
    type Scenario = Scenario;
    type Outcome = Outcome;
    const NAME: &'static str = "signals";

    fn generate(seed: u64, size: u32) -> Scenario {
        generate::generate(seed, size)
    }

    fn render(scenario: &Scenario) -> String {
        render(scenario)
    }

    fn allowed(scenario: &Scenario) -> Vec<Outcome> {
        model::allowed(scenario)
    }

    fn execute(scenario: &Scenario) -> Result<Outcome, String> {
        exec::execute(scenario)
    }

    fn execute_traced(scenario: &Scenario) -> Result<(Outcome, Vec<i32>), String> {
        let outcome = exec::execute(scenario);
        outcome.map(|o| (o, exec::last_run_pids()))
    }

    fn parse_answer(scenario: &Scenario, text: &str) -> Result<Outcome, String> {
        parse_answer(scenario, text)
    }

    fn format_answer(outcome: &Outcome) -> String {
        format_answer(outcome)
    }

    fn reveal_notes(allowed: &[Outcome]) -> Vec<String> {
        reveal_notes(allowed)
    }
}

/// What the reveal adds after the outcomes: when SIGKILL ends a process in one of them, why
/// the steps that tried to handle, ignore or block it changed nothing.
pub fn reveal_notes(allowed: &[Outcome]) -> Vec<String> {
    let killed = allowed
        .iter()
        .flat_map(|o| &o.status)
        .any(|line| line.contains(" killed by SIGKILL "));
    if !killed {
        return Vec::new();
    }
    vec![
        "SIGKILL cannot be caught, ignored or blocked (signal(7)). sigaction() on it fails with\n\
         EINVAL and changes nothing, sigprocmask() leaves it out of the mask without an error,\n\
         and SIGKILL ends the process whatever its mask, before it gets back from the kernel\n\
         to its program: no handler runs, and a shell shows $?=137 (128 + 9).\n\
         kill(getpid(), SIGKILL) never returns; kill() to another process may return before\n\
         that process has died, but it runs no further step."
            .to_string(),
    ]
}

/// The C-like line for one step (the pseudo-code column of [`render`]).
fn pseudo_code(step: &Step, next: usize) -> String {
    match &step.action {
        Action::Handle { signal } => {
            format!(
                "sigaction({signal}, &report);  // report() writes \"{}\"",
                handled_line(step.who, *signal)
            )
        }
        Action::Ignore { signal } => format!("signal({signal}, SIG_IGN);"),
        Action::Default { signal } => format!("signal({signal}, SIG_DFL);"),
        Action::Block { signal } => format!("sigprocmask(SIG_BLOCK, {{{signal}}});"),
        Action::Unblock { signal } => format!("sigprocmask(SIG_UNBLOCK, {{{signal}}});"),
        Action::UnblockAll => "sigprocmask(SIG_UNBLOCK, {all five});".to_string(),
        Action::Raise { signal } => format!("kill(getpid(), {signal});"),
        Action::Kill { target, signal } => {
            format!(
                "kill({}, {signal});",
                if *target == Who::C { "c" } else { "p" }
            )
        }
        Action::Print { text } => format!("report(\"{}\");", print_line(step.who, text)),
        Action::Exec => {
            format!("execv(\"/proc/self/exe\", …);  // same program, goes on at step {next}")
        }
        Action::Fork => {
            "c = fork();  // C starts here, running only the steps marked C".to_string()
        }
        Action::Exit { code } => format!("_exit({code});"),
    }
}

/// The drill as a student sees it: the action list, the same steps as C-like pseudo-code,
/// the rules, the question and the answer format.
pub fn render(scenario: &Scenario) -> String {
    let child = scenario.has_child();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Signals drill: seed {}, size {}\n",
        scenario.seed, scenario.size
    );
    if child {
        out.push_str(
            "Process P runs these steps; at `fork` it creates a child C, which runs the steps\n\
             marked C. The steps run one at a time, in this order:\n",
        );
    } else {
        out.push_str("Process P runs these steps, one at a time, in this order:\n");
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}. {}: {}", i + 1, step.who, step.action);
    }
    out.push_str(
        "\nThe same program as C-like pseudo-code (`report` writes one line to the report pipe):\n",
    );
    if child {
        out.push_str("(`p` and `c` hold the pids of P and C)\n");
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>2}  {}  {}",
            i + 1,
            step.who,
            pseudo_code(step, i + 2)
        );
    }
    out.push_str("\nRules:\n");
    if scenario.names_sigkill() {
        // The same rule, naming SIGKILL too, and saying what `all five` covers. It does not
        // say what the SIGKILL steps do: that is the question.
        out.push_str(
            "- At the start, SIGKILL and the five signals SIGHUP, SIGINT, SIGUSR1, SIGUSR2 and\n\
             \x20 SIGTERM (`all five`) have their default action (terminate), and none is blocked\n\
             \x20 or pending.\n",
        );
    } else {
        out.push_str(
            "- At the start, all five signals have their default action (terminate) and none is\n\
             \x20 blocked or pending.\n",
        );
    }
    out.push_str("- A step of a process that has died is skipped.\n");
    if child {
        out.push_str(
            "- C inherits P's handlers, ignored signals and mask at the fork, not P's pending\n\
             \x20 signals. A signal sent to the other process takes effect before that process\n\
             \x20 runs its next step (the driver waits for it). Nobody calls wait(): a dead\n\
             \x20 process stays a zombie, and `kill` on a zombie does nothing.\n",
        );
    }
    let _ = writeln!(
        out,
        "\nQuestion: which lines are written, in which order? How does {}, and what\n\
         would a shell's `$?` show for {}?",
        if child { "each process end" } else { "P end" },
        if child { "each" } else { "it" }
    );
    out.push_str(
        "\nAnswer format (an example, not the answer): the lines in order under `lines:`, then\n\
         one status line per process (P first) under `status:`:\n\n\
         lines:\n\
         P handled SIGUSR1\n\
         P: after exec\n\
         status:\n\
         P killed by SIGTERM $?=143\n",
    );
    if child {
        out.push_str("C exited with code 2 $?=2\n");
    }
    out.push_str(
        "\nA status line is `WHO exited with code N $?=N`, `WHO killed by SIGNAME $?=N`\n\
         or `C was never forked`. Blank lines and lines starting with `#` are ignored.\n",
    );
    out
}

/// Writes an outcome in the answer format.
pub fn format_answer(outcome: &Outcome) -> String {
    let mut out = String::from("lines:\n");
    for line in &outcome.lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("status:\n");
    for line in &outcome.status {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn parse_who(text: &str) -> Option<Who> {
    match text {
        "P" => Some(Who::P),
        "C" => Some(Who::C),
        _ => None,
    }
}

/// `SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGTERM` (and `, SIGKILL` when the scenario names
/// it): the names an answer may use.
fn signal_names(scenario: &Scenario) -> String {
    let names: Vec<&str> = scenario.answer_signals().iter().map(|s| s.name()).collect();
    names.join(", ")
}

/// A signal name an answer to `scenario` may use.
fn parse_sig(scenario: &Scenario, name: &str) -> Option<Sig> {
    Sig::from_name(name).filter(|s| scenario.answer_signals().contains(s))
}

/// What a line may not name in `scenario`: C when the scenario has no `fork`.
fn check_who(scenario: &Scenario, who: Who) -> Result<Who, String> {
    if who == Who::C && !scenario.has_child() {
        return Err(format!(
            "this drill has no process C (only P: C exists at size 4, when P forks it; this is size {})",
            scenario.size
        ));
    }
    Ok(who)
}

/// Checks one line under `lines:` against the scenario; returns it in canonical spacing.
fn parse_report_line(scenario: &Scenario, line: &str) -> Result<String, String> {
    if let Some((who, text)) = line.split_once(": ")
        && let Some(who) = parse_who(who)
    {
        let who = check_who(scenario, who)?;
        let printed = print_line(who, text.trim());
        let prints: Vec<String> = scenario
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Print { text } => Some(format!("`{}`", print_line(s.who, text))),
                _ => None,
            })
            .collect();
        if !prints.contains(&format!("`{printed}`")) {
            return Err(format!(
                "no `print` step of this drill writes `{printed}` (they write {})",
                if prints.is_empty() {
                    "nothing".to_string()
                } else {
                    prints.join(", ")
                }
            ));
        }
        return Ok(printed);
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    if let [who, "handled", sig] = words[..]
        && let (Some(who), Some(sig)) = (parse_who(who), parse_sig(scenario, sig))
    {
        return Ok(handled_line(check_who(scenario, who)?, sig));
    }
    Err(format!(
        "expected `P handled SIGNAME` or `P: TEXT` (P or C; SIGNAME one of {}), found `{line}`",
        signal_names(scenario)
    ))
}

/// Checks one line under `status:` against the scenario; returns it in canonical spacing.
/// The `$?` value is kept as written: a wrong value is a wrong answer, not a malformed one.
fn parse_status_line(scenario: &Scenario, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let dollar =
        |w: &str| -> Option<u32> { w.strip_prefix("$?=")?.parse().ok().filter(|&n| n <= 255) };
    let who = match words[..] {
        [who, "exited", "with", "code", code, d]
            if code.parse::<u8>().is_ok() && dollar(d).is_some() =>
        {
            parse_who(who)
        }
        [who, "killed", "by", sig, d]
            if parse_sig(scenario, sig).is_some() && dollar(d).is_some() =>
        {
            parse_who(who)
        }
        ["C", "was", "never", "forked"] => Some(Who::C),
        _ => None,
    };
    match who {
        Some(who) => {
            check_who(scenario, who)?;
            Ok(words.join(" "))
        }
        None => Err(format!(
            "expected `P exited with code N $?=N`, `P killed by SIGNAME $?=N` or `C was never forked` (P or C; N from 0 to 255; SIGNAME one of {}), found `{line}`",
            signal_names(scenario)
        )),
    }
}

/// Reads a student's answer to `scenario`. Blank lines, lines starting with `#` and
/// surrounding spaces are ignored. Errors name the line (1-based) and what was expected:
/// besides the format, a line about C when the scenario has no C, a `print` line that no
/// step writes, and a missing status line (one for P, and one for C at size 4) are errors.
pub fn parse_answer(scenario: &Scenario, text: &str) -> Result<Outcome, String> {
    #[derive(PartialEq)]
    enum Section {
        None,
        Lines,
        Status,
    }
    let mut section = Section::None;
    let mut outcome = Outcome {
        lines: Vec::new(),
        status: Vec::new(),
    };
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line {
            "lines:" if section == Section::None => section = Section::Lines,
            "status:" if section == Section::Lines => section = Section::Status,
            "lines:" | "status:" => {
                return Err(format!(
                    "line {n}: `{line}` out of place: the answer is `lines:`, its lines, then `status:`, its lines"
                ));
            }
            _ => match section {
                Section::None => {
                    return Err(format!("line {n}: expected `lines:` first, found `{line}`"));
                }
                Section::Lines => outcome
                    .lines
                    .push(parse_report_line(scenario, line).map_err(|e| format!("line {n}: {e}"))?),
                Section::Status => {
                    let status =
                        parse_status_line(scenario, line).map_err(|e| format!("line {n}: {e}"))?;
                    if outcome.status.iter().any(|l| l[..1] == status[..1]) {
                        return Err(format!(
                            "line {n}: a second status line for {}",
                            &status[..1]
                        ));
                    }
                    outcome.status.push(status);
                }
            },
        }
    }
    let last = text.lines().count();
    match section {
        Section::None => {
            return Err("the answer is empty: it should start with `lines:`".to_string());
        }
        Section::Lines => {
            return Err(format!("line {last}: no `status:` section after the lines"));
        }
        Section::Status => {}
    }
    let needed: &[Who] = if scenario.has_child() {
        &[Who::P, Who::C]
    } else {
        &[Who::P]
    };
    let missing: Vec<String> = needed
        .iter()
        .filter(|who| !outcome.status.iter().any(|l| l.starts_with(who.letter())))
        .map(|who| who.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "line {last}: the `status:` section has no line for {} (it needs one line for each of {})",
            missing.join(", "),
            needed
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // One line per process, P first whatever order the student wrote them in.
    outcome.status.sort_by_key(|l| l.starts_with('C'));
    Ok(outcome)
}
