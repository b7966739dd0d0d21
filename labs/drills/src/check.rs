//! Checking, for every family: a student's answer against the allowed outcomes (with a diff
//! against the closest one), and a real run against the model (the reveal).

use crate::Drill;

/// One line of a diff: `' '` same, `'-'` only in the answer, `'+'` only in the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: char,
    pub text: String,
}

/// The lines of `ours` against `theirs` (a longest-common-subsequence diff), and how many
/// lines differ (`-` plus `+`).
pub fn diff(ours: &str, theirs: &str) -> (usize, Vec<DiffLine>) {
    let a: Vec<&str> = ours.lines().collect();
    let b: Vec<&str> = theirs.lines().collect();
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out, mut changed) = (0, 0, Vec::new(), 0);
    let line = |tag, text: &str| DiffLine {
        tag,
        text: text.to_string(),
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(line(' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(line('-', a[i]));
            changed += 1;
            i += 1;
        } else {
            out.push(line('+', b[j]));
            changed += 1;
            j += 1;
        }
    }
    (changed, out)
}

/// How an answer compares with the allowed outcomes.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub correct: bool,
    /// The index (0-based) in `allowed` of the matching outcome, or of the closest one.
    pub closest: usize,
    /// Lines that differ from the closest outcome (0 when correct).
    pub changed: usize,
    /// The diff against the closest outcome, in the answer format.
    pub diff: Vec<DiffLine>,
}

/// Compares `answer` with every allowed outcome; the closest is the one with the fewest
/// differing lines (the first of them in `allowed`'s order).
pub fn verdict<D: Drill>(allowed: &[D::Outcome], answer: &D::Outcome) -> Verdict {
    if let Some(k) = allowed.iter().position(|o| o == answer) {
        return Verdict {
            correct: true,
            closest: k,
            changed: 0,
            diff: Vec::new(),
        };
    }
    let ours = D::format_answer(answer);
    let mut best: Option<(usize, usize, Vec<DiffLine>)> = None;
    for (k, outcome) in allowed.iter().enumerate() {
        let (changed, lines) = diff(&ours, &D::format_answer(outcome));
        if best.as_ref().is_none_or(|(c, _, _)| changed < *c) {
            best = Some((changed, k, lines));
        }
    }
    let (changed, closest, diff) = best.unwrap_or_default();
    Verdict {
        correct: false,
        closest,
        changed,
        diff,
    }
}

/// The verdict as the student reads it.
pub fn verdict_text(verdict: &Verdict, allowed: usize) -> String {
    let of = if allowed == 1 {
        "the one outcome Linux may produce".to_string()
    } else {
        format!(
            "outcome {} of the {allowed} Linux may produce",
            verdict.closest + 1
        )
    };
    if verdict.correct {
        return format!("correct: your answer is {of}.\n");
    }
    let mut text = format!(
        "not correct: {} line(s) differ from the closest allowed answer, {of}\n\
         (- your answer, + that outcome):\n\n",
        verdict.changed
    );
    for line in &verdict.diff {
        text.push_str(&format!("{} {}\n", line.tag, line.text));
    }
    text
}

/// Outcomes listed in full by [`reveal_text`]; beyond that, only a count (and this run's).
pub const SHOWN: usize = 8;

/// The reveal: which allowed outcome this run produced, the allowed outcomes and the family's
/// notes on them ([`Drill::reveal_notes`]), or an error text (with both sides) when the run is
/// not one of them.
pub fn reveal_text<D: Drill>(
    allowed: &[D::Outcome],
    observed: &D::Outcome,
) -> Result<String, String> {
    let Some(k) = allowed.iter().position(|o| o == observed) else {
        let mut text = String::from(
            "Linux produced an outcome the model does not allow: a bug in the drill's model or \
             executor.\n\nwhat Linux did:\n",
        );
        text.push_str(&D::format_answer(observed));
        text.push_str(&format!("\nwhat the model allows ({}):\n", allowed.len()));
        for (i, o) in allowed.iter().enumerate().take(SHOWN) {
            text.push_str(&format!("\noutcome {}:\n{}", i + 1, D::format_answer(o)));
        }
        return Err(text);
    };
    let mut text = if allowed.len() == 1 {
        "Linux ran the drill and produced the one outcome it may produce:\n".to_string()
    } else {
        format!(
            "Linux ran the drill: this run produced outcome {} of the {} it may produce\n\
             (Linux chooses among them).\n",
            k + 1,
            allowed.len()
        )
    };
    for (i, o) in allowed.iter().enumerate() {
        if i < SHOWN || i == k {
            text.push_str(&format!("\noutcome {}:\n{}", i + 1, D::format_answer(o)));
        }
        if i + 1 == SHOWN && allowed.len() > SHOWN {
            text.push_str(&format!(
                "\n… and {} more (--json lists them all)\n",
                allowed.len() - SHOWN
            ));
        }
    }
    for note in D::reveal_notes(allowed) {
        text.push_str(&format!("\n{note}\n"));
    }
    Ok(text)
}
