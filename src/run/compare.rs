//! A run judged against the reference: every step's normalised answer
//! compared, path by path, with the reference snapshot's, and every
//! difference classified against the target's listed deviations. Steps that
//! did not run because their inputs were missing are counted as blocked,
//! never compared. The suite uses it to judge listed deviations; the parity
//! report shows it.

use serde::Serialize;
use serde_json::Value;

use super::deviations::{Deviation, Deviations};
use super::diff::{self, Difference, aspects, step_differences};
use super::outcome::{Blocker, ScenarioRun, StepOutcome, StepResult};

/// How a scenario fared on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every compared step equals the reference and every expectation held.
    Pass,
    /// Differences, all listed in the expectation file.
    KnownDeviation,
    /// A difference or failure that is not listed: fails the run.
    NewDeviation,
    /// A listed deviation that did not occur: fails the run, so the list shrinks.
    UnexpectedPass,
    /// The target does not implement what the scenario needs.
    Unsupported,
    /// The scenario does not run on this target (`only:` / `skip:`).
    Skipped,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::KnownDeviation,
        Status::NewDeviation,
        Status::UnexpectedPass,
        Status::Unsupported,
        Status::Skipped,
    ];

    /// The name used in JSON and on screen.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::KnownDeviation => "known-deviation",
            Status::NewDeviation => "new-deviation",
            Status::UnexpectedPass => "unexpected-pass",
            Status::Unsupported => "unsupported",
            Status::Skipped => "skipped",
        }
    }

    /// Whether this status fails the parity run.
    pub fn fails(self) -> bool {
        matches!(self, Status::NewDeviation | Status::UnexpectedPass)
    }
}

/// A listed deviation as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub kind: &'static str,
    pub reason: String,
}

impl From<&Deviation> for Listed {
    fn from(d: &Deviation) -> Listed {
        Listed {
            step: d.step.clone(),
            path: d.path.clone(),
            kind: d.kind.name(),
            reason: d.reason.clone(),
        }
    }
}

/// One difference, with the listed deviation that covers it (if any).
#[derive(Debug, Clone, Serialize)]
pub struct PathDifference {
    #[serde(flatten)]
    pub difference: Difference,
    /// The kind an entry for it would have.
    pub suggested_kind: &'static str,
    /// The covering entry; `None` means a new deviation.
    pub listed: Option<Listed>,
}

/// How one reference step compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    /// The answer equals the reference's.
    Equal,
    /// The answer differs (see the differences).
    Different,
    /// Not run: an earlier step (or the fixture) did not produce its inputs (see `blocked_by`).
    Blocked,
    /// The target does not implement the step's operation: no answer to compare.
    Unsupported,
    /// The step failed before an answer could be compared (see the cell's failures).
    Failed,
    /// The step is skipped on this target.
    Skipped,
    /// The run passed but has no such step: the reference is out of date.
    MissingInRun,
    /// The run has a step the reference lacks: the reference is out of date.
    NotInReference,
}

/// One step of a scenario on one target.
#[derive(Debug, Clone, Serialize)]
pub struct StepComparison {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    pub state: StepState,
    /// What blocked the step, when it is blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<BlockedBy>,
    pub differences: Vec<PathDifference>,
}

/// The step (or setup) a blocked step waited on, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedBy {
    /// The blocking step's number in the run (`None`: the scenario's setup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<usize>,
    pub step: String,
    /// What it did not produce.
    pub missing: String,
}

impl From<&Blocker> for BlockedBy {
    fn from(b: &Blocker) -> BlockedBy {
        BlockedBy {
            number: b.number,
            step: b.title.clone(),
            missing: b.missing.clone(),
        }
    }
}

/// `step 3 (sign in)` or `the pool fixture`, and what is missing.
impl std::fmt::Display for BlockedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.number {
            Some(n) => write!(f, "blocked by step {n} ({})", self.step)?,
            None => write!(f, "blocked by the {}", self.step)?,
        }
        if !self.missing.is_empty() {
            write!(f, ": needs {}", self.missing)?;
        }
        Ok(())
    }
}

/// Why a step or run failed (already normalised and scrubbed by the engine).
#[derive(Debug, Clone, Serialize)]
pub struct FailureInfo {
    /// `mismatch`, `target`, `scenario` or `unsupported`.
    pub kind: &'static str,
    /// The failing step's number in the run (`None`: outside the steps, e.g. the fixture).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<usize>,
    pub step: String,
    pub location: String,
    pub message: String,
    pub details: Vec<String>,
}

/// One cell of the matrix: a scenario on a target.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub target: String,
    pub status: Status,
    /// Skip reason, or a note (e.g. no reference snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every unlisted failure of the run (a step's expectations, an
    /// unsupported operation, the target, the fixture), in order.
    pub failures: Vec<FailureInfo>,
    pub steps: Vec<StepComparison>,
    /// Listed deviations that occurred.
    pub known: Vec<Listed>,
    /// Listed deviations that did not occur.
    pub unexpected_passes: Vec<Listed>,
    /// Reference steps that ran (not blocked, not skipped).
    pub compared_steps: usize,
    pub equal_steps: usize,
    /// Reference steps that did not run because their inputs were missing.
    pub blocked_steps: usize,
    /// Compared steps with the reference's outcome (success with the same
    /// challenge or tokens, or an error with the same code).
    pub behaviour_equal: usize,
    /// Compared steps with the same outcome and the same fields.
    pub shape_equal: usize,
    /// Compared error steps with the reference's code; those with its text too.
    pub message_steps: usize,
    pub message_equal: usize,
}

impl Cell {
    /// Differences not covered by any listed deviation.
    pub fn new_differences(&self) -> impl Iterator<Item = (&StepComparison, &PathDifference)> {
        self.steps.iter().flat_map(|s| {
            s.differences
                .iter()
                .filter(|d| d.listed.is_none())
                .map(move |d| (s, d))
        })
    }
}

/// Compares one run with the reference transcript and classifies it against
/// the target's listed deviations.
pub fn compare(run: &ScenarioRun, reference: Option<&Value>, deviations: &Deviations) -> Cell {
    let mut cell = Cell {
        target: String::new(),
        status: Status::Pass,
        note: None,
        failures: Vec::new(),
        steps: Vec::new(),
        known: Vec::new(),
        unexpected_passes: Vec::new(),
        compared_steps: 0,
        equal_steps: 0,
        blocked_steps: 0,
        behaviour_equal: 0,
        shape_equal: 0,
        message_steps: 0,
        message_equal: 0,
    };
    if let Some(reason) = &run.skipped {
        cell.status = Status::Skipped;
        cell.note = Some(reason.clone());
        return cell;
    }
    let numbered = run
        .steps
        .iter()
        .filter_map(|s| s.outcome.failure().map(|f| (Some(s.number), f)));
    cell.failures = numbered
        .chain(run.errors.iter().map(|f| (None, f)))
        .map(|(number, f)| FailureInfo {
            kind: f.kind.name(),
            number,
            step: f.step.clone(),
            location: f.location.clone(),
            message: f.message.clone(),
            details: f.details.clone(),
        })
        .collect();
    let unsupported: Vec<&StepResult> = run
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, StepOutcome::Unsupported { .. }))
        .collect();
    if let Some(first) = unsupported.first()
        && let StepOutcome::Unsupported { failure, .. } = &first.outcome
    {
        let more = match unsupported.len() {
            1 => String::new(),
            n => format!(" (and {} more unsupported step(s))", n - 1),
        };
        cell.note = Some(format!("{}: {}{more}", failure.step, failure.message));
    }
    let listed: Vec<&Deviation> = deviations.for_scenario(&run.file).collect();
    let mut matched: Vec<&Deviation> = listed
        .iter()
        .copied()
        .filter(|d| run.known_deviations.contains(d))
        .collect();
    let actual_steps = steps(&run.transcript);
    let mut used = vec![false; actual_steps.len()];
    // Results of steps with no exchange in the transcript, matched by title in order.
    let mut unanswered: Vec<Option<&StepResult>> = run
        .steps
        .iter()
        .map(|s| (!s.in_transcript).then_some(s))
        .collect();
    let mut new_found = !cell.failures.is_empty();
    let mut placeholders = diff::Placeholders::default();
    if let Some(reference) = reference {
        for ref_step in steps(reference) {
            let title = step_title(ref_step);
            let position = actual_steps
                .iter()
                .enumerate()
                .position(|(i, a)| !used[i] && step_title(a) == title);
            let call = ref_step
                .get("call")
                .and_then(Value::as_str)
                .map(String::from);
            let mut comparison = StepComparison {
                step: title.to_string(),
                call,
                state: StepState::Equal,
                blocked_by: None,
                differences: Vec::new(),
            };
            if let Some(i) = position {
                used[i] = true;
                cell.compared_steps += 1;
                for difference in step_differences(ref_step, actual_steps[i], &mut placeholders) {
                    let entry = listed
                        .iter()
                        .copied()
                        .filter(|d| d.names_step(title) && d.covers(&difference.path))
                        // An entry for this step before a target-wide one.
                        .min_by_key(|d| d.is_wide());
                    if let Some(d) = entry {
                        if !matched.contains(&d) {
                            matched.push(d);
                        }
                    } else {
                        new_found = true;
                    }
                    comparison.differences.push(PathDifference {
                        suggested_kind: difference.suggested_kind().name(),
                        listed: entry.map(Listed::from),
                        difference,
                    });
                }
                let judged = aspects(
                    ref_step,
                    actual_steps[i],
                    comparison.differences.iter().map(|d| &d.difference),
                );
                cell.behaviour_equal += usize::from(judged.behaviour);
                cell.shape_equal += usize::from(judged.shape);
                if let Some(same_text) = judged.message {
                    cell.message_steps += 1;
                    cell.message_equal += usize::from(same_text);
                }
                if comparison.differences.is_empty() {
                    cell.equal_steps += 1;
                } else {
                    comparison.state = StepState::Different;
                }
                cell.steps.push(comparison);
                continue;
            }
            let result = unanswered
                .iter_mut()
                .find(|r| r.is_some_and(|r| r.title == title))
                .and_then(Option::take);
            match result.map(|r| &r.outcome) {
                Some(StepOutcome::Skipped(_)) => comparison.state = StepState::Skipped,
                Some(StepOutcome::Blocked(b)) => {
                    cell.blocked_steps += 1;
                    comparison.state = StepState::Blocked;
                    comparison.blocked_by = Some(BlockedBy::from(b));
                }
                Some(StepOutcome::Unsupported { .. }) => {
                    cell.compared_steps += 1;
                    comparison.state = StepState::Unsupported;
                }
                // Failed before an answer (a template, the SRP maths, the
                // target): the failure is in the cell's failures.
                Some(StepOutcome::NewDeviation(_)) => {
                    cell.compared_steps += 1;
                    comparison.state = StepState::Failed;
                }
                // Ran, but left out of the transcript (`snapshot: false`), or no such step.
                _ => {
                    cell.compared_steps += 1;
                    comparison.state = StepState::MissingInRun;
                    whole_step(&mut comparison, &listed, &mut matched, &mut new_found);
                }
            }
            cell.steps.push(comparison);
        }
        for (i, a) in actual_steps.iter().enumerate().filter(|(i, _)| !used[*i]) {
            let _ = i;
            let mut comparison = StepComparison {
                step: step_title(a).to_string(),
                call: a.get("call").and_then(Value::as_str).map(String::from),
                state: StepState::NotInReference,
                blocked_by: None,
                differences: Vec::new(),
            };
            whole_step(&mut comparison, &listed, &mut matched, &mut new_found);
            cell.steps.push(comparison);
        }
    }
    // An entry can be judged only where its step ran; one naming no step of
    // the run is stale too, unless the run never got to its steps (it could
    // not connect).
    let got_to_steps = !run.steps.is_empty() || run.errors.is_empty();
    let ran = |step: &str| {
        let mut results = run.steps.iter().filter(|s| s.title == step).peekable();
        match results.peek() {
            None => got_to_steps,
            Some(_) => results.any(|s| s.outcome.ran()),
        }
    };
    for d in &listed {
        if matched.contains(d) {
            cell.known.push(Listed::from(*d));
        } else if !d.is_wide() && ran(&d.step) {
            // A target-wide entry that occurs in no scenario is judged over
            // the whole run (the parity report), not per scenario.
            cell.unexpected_passes.push(Listed::from(*d));
        }
    }
    cell.status = if new_found {
        Status::NewDeviation
    } else if !cell.unexpected_passes.is_empty() {
        Status::UnexpectedPass
    } else if !unsupported.is_empty() {
        Status::Unsupported
    } else if !cell.known.is_empty() {
        Status::KnownDeviation
    } else {
        Status::Pass
    };
    cell
}

/// A step missing on one side: covered only by an entry for the whole step.
fn whole_step<'d>(
    comparison: &mut StepComparison,
    listed: &[&'d Deviation],
    matched: &mut Vec<&'d Deviation>,
    new_found: &mut bool,
) {
    let entry = listed
        .iter()
        .copied()
        .filter(|d| d.names_step(&comparison.step) && d.path.is_none())
        .min_by_key(|d| d.is_wide());
    match entry {
        Some(d) if !matched.contains(&d) => matched.push(d),
        Some(_) => {}
        None => *new_found = true,
    }
    comparison.differences.push(PathDifference {
        difference: Difference {
            path: String::new(),
            change: if comparison.state == StepState::MissingInRun {
                diff::Change::Missing
            } else {
                diff::Change::Extra
            },
            reference: None,
            actual: None,
        },
        suggested_kind: crate::run::deviations::DeviationKind::DifferentValue.name(),
        listed: entry.map(Listed::from),
    });
}

/// The steps of a transcript (a snapshot's or a run's).
pub(super) fn steps(transcript: &Value) -> Vec<&Value> {
    transcript
        .get("steps")
        .and_then(Value::as_array)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// A transcript step's title.
pub(super) fn step_title(step: &Value) -> &str {
    step.get("step").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests;
