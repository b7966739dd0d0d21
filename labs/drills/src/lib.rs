//! Seeded drills for the classroom (Appendix D): the OSTEP-style "predict what this process
//! program does" exercises, except that the answer comes from the real kernel.
//!
//! Every family of drills implements [`Drill`]: a generator that turns a seed into a scenario,
//! a model that lists every outcome Linux may produce, an executor that runs the scenario for
//! real (inside the `drill-exec` binary, under a subreaper) and reports what happened, and the
//! answer format students write.

pub mod check;
pub mod fork;
pub mod rng;
pub mod signals;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// One family of drills (`fork`, `signals`).
pub trait Drill {
    /// The generated program, serialisable so `--json` can print it.
    type Scenario: Serialize + DeserializeOwned + std::fmt::Debug + Clone;
    /// What a run produced: what students predict.
    type Outcome: Serialize + DeserializeOwned + std::fmt::Debug + Clone + PartialEq;

    /// The family's name on the command line.
    const NAME: &'static str;

    /// The scenario for `seed` at `size` (1 = smallest). Deterministic: same inputs, same
    /// scenario, on every machine.
    fn generate(seed: u64, size: u32) -> Self::Scenario;

    /// The scenario for a student: the action list, the same program as pseudo-code, the
    /// question, and the answer format.
    fn render(scenario: &Self::Scenario) -> String;

    /// Every outcome the kernel may produce, without duplicates, in a stable order.
    fn allowed(scenario: &Self::Scenario) -> Vec<Self::Outcome>;

    /// Runs the scenario for real. Called only inside the `drill-exec` binary, which is a
    /// single-threaded process and may fork.
    fn execute(scenario: &Self::Scenario) -> Result<Self::Outcome, String>;

    /// Like [`execute`](Drill::execute), and also the pids of every process the run created,
    /// so a test can check that none is left. The default reports no pid.
    fn execute_traced(scenario: &Self::Scenario) -> Result<(Self::Outcome, Vec<i32>), String> {
        Self::execute(scenario).map(|outcome| (outcome, Vec::new()))
    }

    /// Reads a student's answer to `scenario` (the format `render` describes). Malformed is
    /// anything that does not fit the format or the scenario (a process it does not have, a
    /// process left out); the error names the line (1-based) and what was expected there.
    /// Lines starting with `#` are comments in every family.
    fn parse_answer(scenario: &Self::Scenario, text: &str) -> Result<Self::Outcome, String>;

    /// Writes an outcome in the answer format: `parse_answer(s, &format_answer(o)) == Ok(o)`
    /// for every outcome `o` of `allowed(s)`.
    fn format_answer(outcome: &Self::Outcome) -> String;

    /// Paragraphs the reveal prints after the allowed outcomes, to explain a rule they show
    /// (a family chooses from the outcomes alone; the reveal never sees the answer). None by
    /// default.
    fn reveal_notes(allowed: &[Self::Outcome]) -> Vec<String> {
        let _ = allowed;
        Vec::new()
    }
}
