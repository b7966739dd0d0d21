//! The parts of an experiment's report that every experiment shares (DESIGN §9).
//!
//! An experiment is a `--release` binary in a lab that prints a table, or with `--json` one
//! JSON document:
//!
//! ```text
//! {"experiment": NAME, "machine": {"cpus", "kernel"}, "method": TEXT,
//!  "rows": [{"name", "unit", "median", "min", "max", "runs", ...}], ...}
//! ```
//!
//! This module holds what would otherwise be copied into each of them: the machine it ran
//! on ([`Machine`], whose `Display` is the table's `machine: …` line), the median and spread
//! of a row's samples ([`Summary`]), the document itself ([`report`]), and the check that a
//! test applies to the document ([`check_report`]). What a row measures, its extra fields,
//! and the table's columns stay in the experiment.
//!
//! ```
//! use labkit::experiment::{Machine, Summary, check_report, report};
//!
//! let machine = Machine::detect();
//! let times_ms = [2.5, 2.0, 3.5];
//! let mut row = Summary::of(&times_ms).unwrap().row("Mutex", "ms");
//! row["threads"] = 4.into(); // a field of this experiment's own
//! let doc = report("race", &machine, "3 runs, interleaved", vec![row]);
//! assert_eq!(doc["rows"][0]["median"], 2.5);
//! assert_eq!(check_report(&doc), Ok(()));
//! ```

use std::fmt;

use serde_json::{Map, Value, json};

/// The machine an experiment ran on, as its report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// The CPUs this process may use (`std::thread::available_parallelism`, which counts
    /// the affinity mask and a cgroup CPU quota); 1 when that cannot be found out.
    pub cpus: usize,
    /// The kernel release, from `/proc/sys/kernel/osrelease`; empty when unreadable.
    pub kernel: String,
    /// Whether this was built without debug assertions (`--release`). Read from labkit's
    /// own build, which cargo builds with the same profile as the experiment binary.
    pub release: bool,
}

impl Machine {
    /// The machine this process runs on.
    pub fn detect() -> Machine {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            kernel: kernel.trim().to_string(),
            release: !cfg!(debug_assertions),
        }
    }

    /// The build, as the experiments word it in their `method` text and table:
    /// `release`, or `debug (use --release)`.
    pub fn build(&self) -> &'static str {
        if self.release {
            "release"
        } else {
            "debug (use --release)"
        }
    }

    /// The report's `"machine"` object: `{"cpus": N, "kernel": "..."}`.
    pub fn to_json(&self) -> Value {
        json!({"cpus": self.cpus, "kernel": self.kernel})
    }
}

/// The table's machine line: `machine: 2 CPUs, Linux 6.18.44; build: release`.
impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "machine: {} CPUs, Linux {}; build: {}",
            self.cpus,
            self.kernel,
            self.build()
        )
    }
}

/// The middle value of `values`: the element at index `len / 2` once sorted, so with an
/// even count the upper of the two middle ones. The median is then always a value that was
/// measured (a run that happened, a total that was counted), never an average of two.
/// `None` when `values` is empty. [`Summary::of`] uses the same rule for `f64`.
pub fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

/// A row's samples (one per run) reduced to what the table and the report show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The middle sample, by the rule of [`median`]: with an even number of runs the upper
    /// of the two middle samples.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples there were.
    pub runs: usize,
}

impl Summary {
    /// The median, smallest and largest of `samples`; `None` when there are none (a row
    /// that was skipped, such as a Node.js row without `node`). Samples are ordered with
    /// `f64::total_cmp`, so a NaN sorts above every number.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        Some(Summary {
            median: *sorted.get(sorted.len() / 2)?,
            min: *sorted.first()?,
            max: *sorted.last()?,
            runs: sorted.len(),
        })
    }

    /// The spread as the tables print it, one decimal: `(0.8..2.3)`.
    pub fn range(&self) -> String {
        format!("({:.1}..{:.1})", self.min, self.max)
    }

    /// A report row: `{"name", "unit", "median", "min", "max", "runs"}`. Add the
    /// experiment's own fields with `row["field"] = json!(…)`.
    pub fn row(&self, name: &str, unit: &str) -> Value {
        json!({
            "name": name,
            "unit": unit,
            "median": self.median,
            "min": self.min,
            "max": self.max,
            "runs": self.runs,
        })
    }
}

/// The report of DESIGN §9: `{"experiment", "machine": {"cpus", "kernel"}, "method",
/// "rows"}`. Fields of the whole experiment (its goals, a size it was given) can be added to
/// the returned object with `doc["field"] = json!(…)`. Print it with `println!("{doc:#}")`.
pub fn report(experiment: &str, machine: &Machine, method: &str, rows: Vec<Value>) -> Value {
    json!({
        "experiment": experiment,
        "machine": machine.to_json(),
        "method": method,
        "rows": rows,
    })
}

/// Checks that `doc` is a report of DESIGN §9: a non-empty `experiment` and `method`, a
/// `machine` with `cpus` ≥ 1 and a non-empty `kernel`, and at least one row, each with a
/// non-empty `name` and `unit`, numbers `median`, `min` and `max` in that order
/// (`min ≤ median ≤ max`) and `runs` ≥ 1. Extra fields are allowed anywhere. The error
/// says which field of which row is wrong.
pub fn check_report(doc: &Value) -> Result<(), String> {
    let doc = object(doc, "the report")?;
    text(doc, "experiment", "the report")?;
    let machine = object(field(doc, "machine", "the report")?, "\"machine\"")?;
    let cpus = whole(machine, "cpus", "\"machine\"")?;
    if cpus < 1 {
        return Err(format!("\"machine\": \"cpus\" is {cpus}, not at least 1"));
    }
    text(machine, "kernel", "\"machine\"")?;
    text(doc, "method", "the report")?;
    let rows = field(doc, "rows", "the report")?
        .as_array()
        .ok_or("the report: \"rows\" is not an array")?;
    if rows.is_empty() {
        return Err("the report: \"rows\" is empty".to_string());
    }
    for (i, row) in rows.iter().enumerate() {
        let row = object(row, &format!("rows[{i}]"))?;
        let name = text(row, "name", &format!("rows[{i}]"))?;
        let at = format!("rows[{i}] ({name:?})");
        text(row, "unit", &at)?;
        let median = number(row, "median", &at)?;
        let min = number(row, "min", &at)?;
        let max = number(row, "max", &at)?;
        if !(min <= median && median <= max) {
            return Err(format!(
                "{at}: not min <= median <= max ({min} {median} {max})"
            ));
        }
        let runs = whole(row, "runs", &at)?;
        if runs < 1 {
            return Err(format!("{at}: \"runs\" is {runs}, not at least 1"));
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{at} is not a JSON object: {value}"))
}

fn field<'a>(object: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a Value, String> {
    object
        .get(key)
        .ok_or_else(|| format!("{at}: {key:?} is missing"))
}

fn text<'a>(object: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str, String> {
    let value = field(object, key, at)?;
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("{at}: {key:?} is empty")),
        None => Err(format!("{at}: {key:?} is not a string: {value}")),
    }
}

fn number(object: &Map<String, Value>, key: &str, at: &str) -> Result<f64, String> {
    let value = field(object, key, at)?;
    value
        .as_f64()
        .ok_or_else(|| format!("{at}: {key:?} is not a number: {value}"))
}

fn whole(object: &Map<String, Value>, key: &str, at: &str) -> Result<u64, String> {
    let value = field(object, key, at)?;
    value
        .as_u64()
        .ok_or_else(|| format!("{at}: {key:?} is not a whole number: {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            cpus: 2,
            kernel: "6.1.0".to_string(),
            release: true,
        }
    }

    fn good() -> Value {
        let rows = vec![
            Summary::of(&[3.0, 1.0, 2.0]).unwrap().row("a", "ms"),
            Summary::of(&[5.0]).unwrap().row("b", "msg/s"),
        ];
        report("demo", &machine(), "3 runs, interleaved", rows)
    }

    #[test]
    fn an_odd_count_has_its_middle_sample_as_median() {
        let s = Summary::of(&[9.0, 1.0, 5.0, 3.0, 7.0]).unwrap();
        assert_eq!(
            s,
            Summary {
                median: 5.0,
                min: 1.0,
                max: 9.0,
                runs: 5
            }
        );
    }

    #[test]
    fn an_even_count_takes_the_upper_middle_sample_not_an_average() {
        let s = Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (3.0, 1.0, 4.0, 4));
        assert_eq!(Summary::of(&[2.0, 1.0]).unwrap().median, 2.0);
        assert_eq!(median(&[4, 1, 2, 3]), Some(3));
        assert_eq!(median(&[7u64, 5, 6]), Some(6));
    }

    #[test]
    fn one_sample_is_median_min_and_max() {
        let s = Summary::of(&[0.25]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (0.25, 0.25, 0.25, 1));
        assert_eq!(s.range(), "(0.2..0.2)");
    }

    #[test]
    fn no_samples_give_no_summary() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(median::<u64>(&[]), None);
    }

    #[test]
    fn a_nan_sorts_above_every_number() {
        let s = Summary::of(&[f64::NAN, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min), (2.0, 1.0));
        assert!(s.max.is_nan());
    }

    #[test]
    fn a_row_has_the_common_fields_and_takes_more() {
        let mut row = Summary::of(&[1.5, 0.5, 1.0]).unwrap().row("Mutex", "ms");
        row["lost_percent"] = json!(0.0);
        assert_eq!(
            row,
            json!({"name": "Mutex", "unit": "ms", "median": 1.0, "min": 0.5, "max": 1.5,
                   "runs": 3, "lost_percent": 0.0})
        );
        assert_eq!(Summary::of(&[1.5, 0.5, 1.0]).unwrap().range(), "(0.5..1.5)");
    }

    #[test]
    fn the_machine_line_and_json() {
        assert_eq!(
            machine().to_string(),
            "machine: 2 CPUs, Linux 6.1.0; build: release"
        );
        let debug = Machine {
            release: false,
            ..machine()
        };
        assert_eq!(
            debug.to_string(),
            "machine: 2 CPUs, Linux 6.1.0; build: debug (use --release)"
        );
        assert_eq!(machine().to_json(), json!({"cpus": 2, "kernel": "6.1.0"}));
    }

    #[test]
    fn this_machine_is_detected() {
        let here = Machine::detect();
        assert!(here.cpus >= 1);
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(here.kernel, release.trim());
        assert!(!here.kernel.is_empty());
        assert_eq!(here.release, !cfg!(debug_assertions));
    }

    #[test]
    fn a_report_has_the_common_shape() {
        let doc = good();
        assert_eq!(doc["experiment"], "demo");
        assert_eq!(doc["machine"], json!({"cpus": 2, "kernel": "6.1.0"}));
        assert_eq!(doc["method"], "3 runs, interleaved");
        assert_eq!(doc["rows"][0]["median"], 2.0);
        assert_eq!(doc["rows"][1]["name"], "b");
        assert_eq!(check_report(&doc), Ok(()));
    }

    #[test]
    fn extra_fields_are_allowed() {
        let mut doc = good();
        doc["goals"] = json!([{"goal": "x", "met": true}]);
        doc["rows"][0]["vs_baseline"] = Value::Null;
        assert_eq!(check_report(&doc), Ok(()));
    }

    /// `good()` with the field at `path` removed; the check must name it.
    fn without(path: &[&str]) -> Result<(), String> {
        let mut doc = good();
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut doc;
        for p in parents {
            at = match p.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*p],
            };
        }
        at.as_object_mut().unwrap().remove(*last).unwrap();
        check_report(&doc)
    }

    #[test]
    fn each_missing_field_fails_with_its_name() {
        let cases: [(&[&str], &str); 12] = [
            (&["experiment"], "the report: \"experiment\" is missing"),
            (&["machine"], "the report: \"machine\" is missing"),
            (&["machine", "cpus"], "\"machine\": \"cpus\" is missing"),
            (&["machine", "kernel"], "\"machine\": \"kernel\" is missing"),
            (&["method"], "the report: \"method\" is missing"),
            (&["rows"], "the report: \"rows\" is missing"),
            (&["rows", "0", "name"], "rows[0]: \"name\" is missing"),
            (
                &["rows", "1", "unit"],
                "rows[1] (\"b\"): \"unit\" is missing",
            ),
            (
                &["rows", "0", "median"],
                "rows[0] (\"a\"): \"median\" is missing",
            ),
            (&["rows", "1", "min"], "rows[1] (\"b\"): \"min\" is missing"),
            (&["rows", "0", "max"], "rows[0] (\"a\"): \"max\" is missing"),
            (
                &["rows", "1", "runs"],
                "rows[1] (\"b\"): \"runs\" is missing",
            ),
        ];
        for (path, message) in cases {
            assert_eq!(without(path), Err(message.to_string()), "{path:?}");
        }
    }

    #[test]
    fn wrong_values_fail_with_a_reason() {
        let check = |edit: fn(&mut Value)| {
            let mut doc = good();
            edit(&mut doc);
            check_report(&doc).unwrap_err()
        };
        assert_eq!(
            check(|d| d["machine"]["cpus"] = json!(0)),
            "\"machine\": \"cpus\" is 0, not at least 1"
        );
        assert_eq!(
            check(|d| d["machine"]["kernel"] = json!(6)),
            "\"machine\": \"kernel\" is not a string: 6"
        );
        assert_eq!(
            check(|d| d["method"] = json!("")),
            "the report: \"method\" is empty"
        );
        assert_eq!(
            check(|d| d["rows"] = json!([])),
            "the report: \"rows\" is empty"
        );
        assert_eq!(
            check(|d| d["rows"][0]["median"] = Value::Null),
            "rows[0] (\"a\"): \"median\" is not a number: null"
        );
        assert_eq!(
            check(|d| d["rows"][0]["min"] = json!(2.5)),
            "rows[0] (\"a\"): not min <= median <= max (2.5 2 3)"
        );
        assert_eq!(
            check(|d| d["rows"][1]["runs"] = json!(0)),
            "rows[1] (\"b\"): \"runs\" is 0, not at least 1"
        );
        assert_eq!(
            check(|d| *d = json!([1, 2])),
            "the report is not a JSON object: [1,2]"
        );
    }
}
