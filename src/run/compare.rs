//! A run judged against the reference: every step's normalised answer
//! compared, path by path, with the reference snapshot's, and every
//! difference classified against the target's listed deviations. The suite
//! uses it to judge listed deviations; the parity report shows it.

use serde::Serialize;
use serde_json::Value;

use super::deviations::{Deviation, Deviations};
use super::diff::{self, Difference, step_differences};
use super::engine::{FailureKind, Outcome, ScenarioRun};

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
    /// The run stopped before this step.
    NotReached,
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
    pub differences: Vec<PathDifference>,
}

/// Why a run failed (already normalised and scrubbed by the engine).
#[derive(Debug, Clone, Serialize)]
pub struct FailureInfo {
    /// `mismatch`, `target` or `scenario`.
    pub kind: &'static str,
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
    /// An unlisted failure of the run itself (an expectation or the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureInfo>,
    pub steps: Vec<StepComparison>,
    /// Listed deviations that occurred.
    pub known: Vec<Listed>,
    /// Listed deviations that did not occur.
    pub unexpected_passes: Vec<Listed>,
    pub compared_steps: usize,
    pub equal_steps: usize,
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
        failure: None,
        steps: Vec::new(),
        known: Vec::new(),
        unexpected_passes: Vec::new(),
        compared_steps: 0,
        equal_steps: 0,
    };
    let (failure, unsupported) = match &run.outcome {
        Outcome::Skipped(reason) => {
            cell.status = Status::Skipped;
            cell.note = Some(reason.clone());
            return cell;
        }
        Outcome::Passed => (None, None),
        Outcome::Failed(f) => (Some(f), None),
        // Listed as unsupported: the scenario ended at that step, as known.
        Outcome::Unsupported(f) => (None, Some(f)),
    };
    if let Some(f) = unsupported {
        cell.note = Some(format!("{}: {}", f.step, f.message));
    }
    // The step where the run ended early, if it did.
    let ended_at = failure.or(unsupported);
    cell.failure = failure.map(|f| FailureInfo {
        kind: match f.kind {
            FailureKind::Mismatch => "mismatch",
            FailureKind::Target => "target",
            FailureKind::Scenario => "scenario",
            FailureKind::Unsupported => "unsupported",
        },
        step: f.step.clone(),
        location: f.location.clone(),
        message: f.message.clone(),
        details: f.details.clone(),
    });
    let listed: Vec<&Deviation> = deviations.for_scenario(&run.file).collect();
    let mut matched: Vec<&Deviation> = listed
        .iter()
        .copied()
        .filter(|d| run.known_deviations.contains(d))
        .collect();
    let skipped_here = |title: &str| {
        run.skipped_steps
            .iter()
            .any(|s| s.starts_with(&format!("{title}: ")))
    };
    let actual_steps = steps(&run.transcript);
    let mut used = vec![false; actual_steps.len()];
    let mut new_found = failure.is_some();
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
                differences: Vec::new(),
            };
            match position {
                Some(i) => {
                    used[i] = true;
                    cell.compared_steps += 1;
                    for difference in step_differences(ref_step, actual_steps[i], &mut placeholders)
                    {
                        let entry = listed
                            .iter()
                            .copied()
                            .find(|d| d.step == title && d.covers(&difference.path));
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
                    if comparison.differences.is_empty() {
                        cell.equal_steps += 1;
                    } else {
                        comparison.state = StepState::Different;
                    }
                }
                None if skipped_here(title) => comparison.state = StepState::Skipped,
                None if ended_at.is_some() => {
                    cell.compared_steps += 1;
                    comparison.state = StepState::NotReached;
                }
                None => {
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
                differences: Vec::new(),
            };
            whole_step(&mut comparison, &listed, &mut matched, &mut new_found);
            cell.steps.push(comparison);
        }
    }
    let reached = |step: &str| {
        ended_at.is_none()
            || actual_steps.iter().any(|a| step_title(a) == step)
            || ended_at.is_some_and(|f| f.step == step)
    };
    for d in &listed {
        if matched.contains(d) {
            cell.known.push(Listed::from(*d));
        } else if reached(&d.step) && !skipped_here(&d.step) {
            cell.unexpected_passes.push(Listed::from(*d));
        }
    }
    cell.status = if new_found {
        Status::NewDeviation
    } else if !cell.unexpected_passes.is_empty() {
        Status::UnexpectedPass
    } else if unsupported.is_some() {
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
        .find(|d| d.step == comparison.step && d.path.is_none());
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

fn steps(transcript: &Value) -> Vec<&Value> {
    transcript
        .get("steps")
        .and_then(Value::as_array)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn step_title(step: &Value) -> &str {
    step.get("step").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests;
