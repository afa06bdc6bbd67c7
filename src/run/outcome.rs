//! What a scenario run produced: every step's result, the failures outside
//! the steps (connecting, the fixture, teardown, the snapshot), and the
//! scenario's verdict derived from them.
//!
//! A scenario keeps going after a step fails: the later steps run wherever
//! their inputs exist. A step whose inputs a failed (or unsupported, or
//! itself blocked) step did not produce is [`StepOutcome::Blocked`] by it and
//! not sent.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::run::deviations::{Deviation, DeviationKind};

/// How a scenario ended, derived from its steps and failures ([`ScenarioRun::outcome`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No step is a new deviation or an unlisted unsupported operation, and
    /// nothing else failed; steps may be known deviations, not enforced,
    /// listed unsupported, blocked or skipped (see [`ScenarioRun::count`]).
    Passed,
    /// The scenario does not run on this target (`only:`/`skip:`, `clock: virtual`).
    Skipped(String),
    /// A step or the scenario failed; the worst failure's kind (which decides the exit code).
    Failed(FailureKind),
}

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// The scenario is wrong at run time (undefined variable, bad template).
    Scenario,
    /// The target could not be reached or a fixture could not be set up or torn down.
    Target,
    /// A response differed from the expectation (or the snapshot).
    Mismatch,
    /// The target does not implement a step's operation (or cannot provide
    /// a confirmation code), and its expectation file does not list it.
    Unsupported,
}

impl FailureKind {
    /// `scenario`, `target`, `mismatch` or `unsupported` (JUnit types, parity JSON).
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Scenario => "scenario",
            FailureKind::Target => "target",
            FailureKind::Mismatch => "mismatch",
            FailureKind::Unsupported => "unsupported",
        }
    }
}

/// Why a step or scenario failed, ready to print (already normalised and scrubbed).
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    /// The step's title (with the flow it sits in).
    pub step: String,
    /// `file:line:col` of the failing YAML.
    pub location: String,
    /// Where the flow was used from, when the step is in a flow.
    pub called_from: Vec<String>,
    pub message: String,
    /// One line per failed check.
    pub details: Vec<String>,
    pub hint: Option<String>,
    pub request: Option<Value>,
    pub response: Option<Value>,
}

impl Failure {
    /// A failure with no details, request or response.
    pub fn new(
        kind: FailureKind,
        step: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            kind,
            step: step.into(),
            location: location.into(),
            called_from: Vec::new(),
            message: message.into(),
            details: Vec::new(),
            hint: None,
            request: None,
            response: None,
        }
    }
}

/// The step (or setup) that did not produce what a blocked step needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The blocking step's number ([`StepResult::number`]); `None` when the
    /// scenario's setup (`vars`, the pool fixture) failed.
    pub number: Option<usize>,
    /// Its title (`pool fixture` for the setup).
    pub title: String,
    /// What is missing: `` `session` ``, `a confirmation code for …`, …; empty
    /// when the setup failed.
    pub missing: String,
}

impl Blocker {
    /// `, needing <what is missing>`, or nothing when the setup failed.
    pub fn needing(&self) -> String {
        if self.missing.is_empty() {
            String::new()
        } else {
            format!(", needing {}", self.missing)
        }
    }
}

/// `step 3 (sign in)` or `the pool fixture`.
impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.number {
            Some(n) => write!(f, "step {n} ({})", self.title),
            None => write!(f, "the {}", self.title),
        }
    }
}

/// How one step fared.
#[derive(Debug, Clone)]
pub enum StepOutcome {
    /// Answered as expected.
    Pass,
    /// Differed only as the expectation file lists (the entries that covered it).
    KnownDeviation(Vec<Deviation>),
    /// Differed as listed, at least one entry `kind: not-enforced`: the target
    /// does not enforce a rule the step checks (all entries that covered it).
    NotEnforced(Vec<Deviation>),
    /// An unlisted difference or failure: fails the scenario.
    NewDeviation(Box<Failure>),
    /// The target lacks the operation or feature (reported by the target, or
    /// listed `kind: unsupported`); unlisted, it fails the scenario.
    Unsupported {
        failure: Box<Failure>,
        listed: Option<Deviation>,
    },
    /// Not run: an earlier step did not produce what this one needs.
    Blocked(Blocker),
    /// Not run on this target (`only:`/`skip:`), with the reason.
    Skipped(String),
}

/// The kinds of [`StepOutcome`], for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    Pass,
    KnownDeviation,
    NewDeviation,
    NotEnforced,
    Unsupported,
    Blocked,
    Skipped,
}

impl StepKind {
    /// Every kind, in display order.
    pub const ALL: [StepKind; 7] = [
        StepKind::Pass,
        StepKind::KnownDeviation,
        StepKind::NewDeviation,
        StepKind::NotEnforced,
        StepKind::Unsupported,
        StepKind::Blocked,
        StepKind::Skipped,
    ];

    /// The name shown and written in reports.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Pass => "pass",
            StepKind::KnownDeviation => "known deviation",
            StepKind::NewDeviation => "new deviation",
            StepKind::NotEnforced => "not enforced",
            StepKind::Unsupported => "unsupported",
            StepKind::Blocked => "blocked",
            StepKind::Skipped => "skipped",
        }
    }
}

impl StepOutcome {
    /// Which kind of result this is.
    pub fn kind(&self) -> StepKind {
        match self {
            StepOutcome::Pass => StepKind::Pass,
            StepOutcome::KnownDeviation(_) => StepKind::KnownDeviation,
            StepOutcome::NotEnforced(_) => StepKind::NotEnforced,
            StepOutcome::NewDeviation(_) => StepKind::NewDeviation,
            StepOutcome::Unsupported { .. } => StepKind::Unsupported,
            StepOutcome::Blocked(_) => StepKind::Blocked,
            StepOutcome::Skipped(_) => StepKind::Skipped,
        }
    }

    /// The result of a step that answered with differences all covered by
    /// `listed` (none: a pass).
    pub fn listed(listed: Vec<Deviation>) -> StepOutcome {
        if listed.is_empty() {
            StepOutcome::Pass
        } else if listed.iter().any(|d| d.kind == DeviationKind::NotEnforced) {
            StepOutcome::NotEnforced(listed)
        } else {
            StepOutcome::KnownDeviation(listed)
        }
    }

    /// The failure that fails the scenario: a new deviation, or an unsupported
    /// operation the expectation file does not list.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            StepOutcome::NewDeviation(f) => Some(f),
            StepOutcome::Unsupported { failure, listed } if listed.is_none() => Some(failure),
            _ => None,
        }
    }

    /// Whether the step was executed (not blocked, not skipped).
    pub fn ran(&self) -> bool {
        !matches!(self, StepOutcome::Blocked(_) | StepOutcome::Skipped(_))
    }
}

/// One step's result.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// 1-based position among the scenario's steps as run (a flow's steps
    /// are numbered where the flow is used).
    pub number: usize,
    pub title: String,
    /// The operation, for calls.
    pub call: Option<&'static str>,
    /// The catalogued checks the step verifies (`check:`).
    pub checks: Vec<String>,
    /// Whether the step's exchange is in the transcript (it was answered and
    /// not left out with `snapshot: false`).
    pub in_transcript: bool,
    pub outcome: StepOutcome,
}

#[cfg(test)]
impl StepResult {
    /// Step `number` (`step-N`, an InitiateAuth with an exchange in the
    /// transcript) with `outcome`, for tests of what reads results.
    pub(crate) fn numbered(number: usize, outcome: StepOutcome) -> StepResult {
        StepResult {
            number,
            title: format!("step-{number}"),
            call: Some("InitiateAuth"),
            checks: Vec::new(),
            in_transcript: true,
            outcome,
        }
    }
}

#[cfg(test)]
impl ScenarioRun {
    /// A run of `file` whose steps had `outcomes`, numbered as [`StepResult::numbered`].
    pub(crate) fn with_steps(
        name: &str,
        file: impl Into<PathBuf>,
        outcomes: Vec<StepOutcome>,
    ) -> ScenarioRun {
        let mut run = ScenarioRun::new(name, file);
        run.steps = outcomes
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| StepResult::numbered(i + 1, outcome))
            .collect();
        run
    }
}

/// The result of one scenario run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    pub name: String,
    pub file: PathBuf,
    /// Why the whole scenario did not run on this target, if it did not.
    pub skipped: Option<String>,
    /// Every step's result, in order.
    pub steps: Vec<StepResult>,
    /// Failures outside any step: connecting, the setup (`vars`, the pool
    /// fixture), teardown, the snapshot.
    pub errors: Vec<Failure>,
    pub elapsed: Duration,
    /// Normalised requests and responses, for the snapshot.
    pub transcript: Value,
    /// Problems that did not fail the scenario (e.g. teardown trouble, a listed deviation that no longer occurs).
    pub warnings: Vec<String>,
    /// Listed deviations that occurred (each entry once; shown as `step › path: reason`).
    pub known_deviations: Vec<Deviation>,
}

impl ScenarioRun {
    /// A run with no steps yet.
    pub fn new(name: impl Into<String>, file: impl Into<PathBuf>) -> ScenarioRun {
        ScenarioRun {
            name: name.into(),
            file: file.into(),
            skipped: None,
            steps: Vec::new(),
            errors: Vec::new(),
            elapsed: Duration::ZERO,
            transcript: Value::Null,
            warnings: Vec::new(),
            known_deviations: Vec::new(),
        }
    }

    /// A run that failed before its first step (e.g. the target could not be reached).
    pub fn failed(name: impl Into<String>, file: impl Into<PathBuf>, failure: Failure) -> Self {
        let mut run = ScenarioRun::new(name, file);
        run.errors.push(failure);
        run
    }

    /// The verdict: failed when a step is a new deviation or an unlisted
    /// unsupported operation, or the scenario itself failed.
    pub fn outcome(&self) -> Outcome {
        if let Some(reason) = &self.skipped {
            return Outcome::Skipped(reason.clone());
        }
        match self.failures().map(|f| f.kind).min() {
            Some(kind) => Outcome::Failed(kind),
            None => Outcome::Passed,
        }
    }

    /// Whether the verdict is a failure.
    pub fn is_failed(&self) -> bool {
        matches!(self.outcome(), Outcome::Failed(_))
    }

    /// Every failure that fails the scenario: the failing steps' in order,
    /// then those outside the steps.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.steps
            .iter()
            .filter_map(|s| s.outcome.failure())
            .chain(&self.errors)
    }

    /// How many steps have results of `kind`.
    pub fn count(&self, kind: StepKind) -> usize {
        self.steps
            .iter()
            .filter(|s| s.outcome.kind() == kind)
            .count()
    }

    /// Whether every step ran and was answered (none blocked or unsupported),
    /// so the transcript is whole.
    pub fn complete(&self) -> bool {
        self.steps.iter().all(|s| {
            !matches!(
                s.outcome,
                StepOutcome::Blocked(_) | StepOutcome::Unsupported { .. }
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(number: usize, outcome: StepOutcome) -> StepResult {
        StepResult {
            number,
            title: format!("s{number}"),
            call: None,
            checks: Vec::new(),
            in_transcript: false,
            outcome,
        }
    }

    fn failure(kind: FailureKind) -> Box<Failure> {
        Box::new(Failure::new(kind, "s", "f.yaml:1:1", "m"))
    }

    #[test]
    fn the_verdict_follows_the_steps() {
        let mut run = ScenarioRun::new("n", "f.yaml");
        assert_eq!(run.outcome(), Outcome::Passed);
        let blocker = Blocker {
            number: Some(1),
            title: "s1".into(),
            missing: "`session`".into(),
        };
        run.steps = vec![
            step(
                1,
                StepOutcome::Unsupported {
                    failure: failure(FailureKind::Unsupported),
                    listed: Some(Deviation {
                        scenario: "f.yaml".into(),
                        step: "s1".into(),
                        path: None,
                        kind: DeviationKind::Unsupported,
                        reason: "r".into(),
                    }),
                },
            ),
            step(2, StepOutcome::Blocked(blocker)),
            step(3, StepOutcome::Pass),
        ];
        // Listed unsupported and blocked steps do not fail the scenario.
        assert_eq!(run.outcome(), Outcome::Passed);
        assert!(!run.complete());
        assert_eq!(run.count(StepKind::Blocked), 1);
        run.steps.push(step(
            4,
            StepOutcome::Unsupported {
                failure: failure(FailureKind::Unsupported),
                listed: None,
            },
        ));
        assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Unsupported));
        run.steps.push(step(
            5,
            StepOutcome::NewDeviation(failure(FailureKind::Mismatch)),
        ));
        assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Mismatch));
        assert_eq!(run.failures().count(), 2);
        run.errors.push(*failure(FailureKind::Target));
        assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Target));
        run.skipped = Some("only on aws".into());
        assert_eq!(run.outcome(), Outcome::Skipped("only on aws".into()));
    }

    #[test]
    fn listed_entries_make_known_or_not_enforced_steps() {
        let entry = |kind| Deviation {
            scenario: "f.yaml".into(),
            step: "s".into(),
            path: None,
            kind,
            reason: "r".into(),
        };
        assert!(matches!(StepOutcome::listed(vec![]), StepOutcome::Pass));
        assert!(matches!(
            StepOutcome::listed(vec![entry(DeviationKind::DifferentValue)]),
            StepOutcome::KnownDeviation(_)
        ));
        assert!(matches!(
            StepOutcome::listed(vec![
                entry(DeviationKind::DifferentValue),
                entry(DeviationKind::NotEnforced)
            ]),
            StepOutcome::NotEnforced(_)
        ));
    }
}
