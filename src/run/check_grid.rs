//! Each catalogued check's verdict on each target, from the results of the
//! steps that name it (`check:`): enforced, NOT ENFORCED, a new deviation,
//! unsupported, or not tested (and why). The parity report's first screen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::compare::{step_title, steps};
use super::deviations::DeviationKind;
use super::outcome::{ScenarioRun, StepKind, StepOutcome};
use crate::scenario::catalogue::Catalogue;

/// A check's verdict on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every step that ran answered as AWS does (listed differences of shape
    /// or text aside).
    Enforced,
    /// A step is listed `kind: not-enforced`: the target lets through what AWS refuses.
    NotEnforced,
    /// A step differs in a way the expectation file does not list.
    NewDeviation,
    /// The target lacks the operations the steps need.
    Unsupported,
    /// No step ran: blocked, skipped, or no such step in this run.
    NotTested,
}

impl Verdict {
    /// The name written in JSON and used as a CSS class (`not-enforced`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Enforced => "enforced",
            Verdict::NotEnforced => "not-enforced",
            Verdict::NewDeviation => "new-deviation",
            Verdict::Unsupported => "unsupported",
            Verdict::NotTested => "not-tested",
        }
    }

    /// The text shown in reports (statuses in words, never only colour or symbols).
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Enforced => "enforced",
            Verdict::NotEnforced => "NOT ENFORCED",
            Verdict::NewDeviation => "new deviation",
            Verdict::Unsupported => "unsupported",
            Verdict::NotTested => "not tested",
        }
    }
}

/// One step that names the check, as it fared.
#[derive(Debug, Clone, Serialize)]
pub struct CheckStep {
    pub scenario: PathBuf,
    pub step: String,
    /// The step's result (`pass`, `not enforced`, `blocked`, …).
    pub result: &'static str,
    /// What the step counts as in the verdict (an acceptance after the run
    /// diverged counts as blocked: not tested).
    #[serde(skip)]
    pub counts_as: StepKind,
    /// Why: the listed reason, the failure, what blocked it, the skip reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A check on one target.
#[derive(Debug, Clone, Serialize)]
pub struct CheckCell {
    pub target: String,
    pub verdict: Verdict,
    /// Every step of the run that names the check.
    pub steps: Vec<CheckStep>,
}

impl CheckCell {
    /// A short reason for the verdict: the first step that decided it.
    pub fn reason(&self) -> Option<String> {
        let decisive = match self.verdict {
            Verdict::NotEnforced => Some(StepKind::NotEnforced),
            Verdict::NewDeviation => Some(StepKind::NewDeviation),
            Verdict::Unsupported => Some(StepKind::Unsupported),
            Verdict::NotTested => None,
            Verdict::Enforced => return None,
        };
        let step = self
            .steps
            .iter()
            .find(|s| decisive.is_none_or(|k| s.counts_as == k))?;
        let detail = step.detail.as_deref().unwrap_or(step.result);
        Some(format!("{}: {detail}", step.step))
    }
}

/// One check across the targets.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub id: String,
    pub rule: String,
    pub security: bool,
    /// Only our own inference backs the check (the reference may be wrong).
    pub inferred: bool,
    /// The kinds of its evidence (`aws-docs`, …).
    pub evidence: Vec<&'static str>,
    /// One per target, in target order.
    pub cells: Vec<CheckCell>,
}

/// The grid: every catalogued check some step of `runs` names, security
/// checks first, each judged on every target (`runs[t]` are target `t`'s runs).
///
/// `reference` gives a scenario's reference transcript: a step the reference
/// refuses (an error) but the target accepts is NOT ENFORCED whatever kind
/// its expectation entry gives, so a mislabelled entry cannot hide a gap.
pub fn check_grid<'r>(
    catalogue: &Catalogue,
    labels: &[String],
    runs: &[Vec<ScenarioRun>],
    reference: impl Fn(&Path) -> Option<&'r Value>,
) -> Vec<CheckRow> {
    // check id → per target → the steps naming it.
    let mut found: BTreeMap<&str, Vec<Vec<CheckStep>>> = BTreeMap::new();
    for (t, target_runs) in runs.iter().enumerate() {
        for run in target_runs {
            let reference = reference(&run.file);
            // The first step where the run went another way than AWS would:
            // what follows may be its consequence, not a rule of its own.
            let mut diverged: Option<&str> = None;
            for result in &run.steps {
                let let_through = matches!(result.outcome, StepOutcome::KnownDeviation(_))
                    && !result.checks.is_empty()
                    && reference
                        .is_some_and(|r| accepts_what_reference_refuses(r, run, &result.title));
                let listed = detail(&result.outcome).unwrap_or_default();
                let (kind, shown, why) = match (let_through, diverged) {
                    (true, None) => (
                        StepKind::NotEnforced,
                        StepKind::NotEnforced.name(),
                        Some(format!(
                            "accepted where the reference refuses (listed: {listed})"
                        )),
                    ),
                    // Accepted, but the state it was checked in was already
                    // not AWS's: the rule was not really put to the test.
                    (true, Some(earlier)) => (
                        StepKind::Blocked,
                        "not tested",
                        Some(format!(
                            "accepted where the reference refuses, after `{earlier}` already went another way (listed: {listed})"
                        )),
                    ),
                    (false, _) => (
                        result.outcome.kind(),
                        result.outcome.kind().name(),
                        detail(&result.outcome),
                    ),
                };
                let diverges = let_through
                    || matches!(
                        result.outcome.kind(),
                        StepKind::NotEnforced
                            | StepKind::NewDeviation
                            | StepKind::Unsupported
                            | StepKind::Blocked
                    );
                if diverges && diverged.is_none() {
                    diverged = Some(&result.title);
                }
                for id in &result.checks {
                    let per_target = found
                        .entry(id.as_str())
                        .or_insert_with(|| vec![Vec::new(); labels.len()]);
                    if let Some(list) = per_target.get_mut(t) {
                        list.push(CheckStep {
                            scenario: run.file.clone(),
                            step: result.title.clone(),
                            result: shown,
                            counts_as: kind,
                            detail: why.clone(),
                        });
                    }
                }
            }
        }
    }
    let mut rows: Vec<CheckRow> = catalogue
        .checks()
        .iter()
        .filter_map(|c| {
            let per_target = found.remove(c.id.as_str())?;
            let cells = labels
                .iter()
                .zip(per_target)
                .map(|(label, steps)| CheckCell {
                    target: label.clone(),
                    verdict: verdict(&steps.iter().map(|s| s.counts_as).collect::<Vec<_>>()),
                    steps,
                })
                .collect();
            Some(CheckRow {
                id: c.id.clone(),
                rule: c.rule.clone(),
                security: c.security,
                inferred: c.inferred_only(),
                evidence: c.evidence_kinds(),
                cells,
            })
        })
        .collect();
    rows.sort_by_key(|r| !r.security);
    rows
}

/// Whether the target answered step `title` of `run` with a success where
/// the reference answered it with an error (the first exchange of that title in each).
fn accepts_what_reference_refuses(reference: &Value, run: &ScenarioRun, title: &str) -> bool {
    let find = |transcript: &'_ Value| -> Option<bool> {
        let step = steps(transcript)
            .into_iter()
            .find(|s| step_title(s) == title)?;
        Some(step.get("error").is_some())
    };
    find(&run.transcript) == Some(false) && find(reference) == Some(true)
}

/// The verdict from the results of a check's steps on one target.
fn verdict(kinds: &[StepKind]) -> Verdict {
    let any = |k: StepKind| kinds.contains(&k);
    if any(StepKind::NotEnforced) {
        Verdict::NotEnforced
    } else if any(StepKind::NewDeviation) {
        Verdict::NewDeviation
    } else if any(StepKind::Pass) || any(StepKind::KnownDeviation) {
        Verdict::Enforced
    } else if any(StepKind::Unsupported) {
        Verdict::Unsupported
    } else {
        Verdict::NotTested
    }
}

fn detail(outcome: &StepOutcome) -> Option<String> {
    match outcome {
        StepOutcome::Pass => None,
        StepOutcome::KnownDeviation(listed) | StepOutcome::NotEnforced(listed) => {
            let pick = listed
                .iter()
                .find(|d| d.kind == DeviationKind::NotEnforced)
                .or(listed.first())?;
            Some(pick.reason.trim().to_string())
        }
        StepOutcome::NewDeviation(f) => Some(f.message.clone()),
        StepOutcome::Unsupported { failure, listed } => Some(
            listed
                .as_ref()
                .map_or_else(|| failure.message.clone(), |d| d.reason.trim().to_string()),
        ),
        StepOutcome::Blocked(b) => Some(format!("blocked by {b}")),
        StepOutcome::Skipped(reason) => Some(format!("skipped: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::deviations::{Deviation, DeviationKind};
    use crate::run::outcome::StepResult;

    fn run(file: &str, steps: Vec<(&str, &[&str], StepOutcome)>) -> ScenarioRun {
        let mut r = ScenarioRun::new(file, std::path::Path::new(file));
        for (i, (title, checks, outcome)) in steps.into_iter().enumerate() {
            r.steps.push(StepResult {
                number: i + 1,
                title: title.into(),
                call: None,
                checks: checks.iter().map(|c| c.to_string()).collect(),
                in_transcript: true,
                outcome,
            });
        }
        r
    }

    #[test]
    fn verdicts_follow_the_worst_step_and_untested_checks_say_why() {
        let catalogue = Catalogue::bundled();
        let labels = vec!["stub".to_string(), "emu".to_string()];
        let reuse = &["totp.reuse-refused"][..];
        let single = &["session.single-use"][..];
        let stub = vec![run(
            "a.yaml",
            vec![
                ("reuse", reuse, StepOutcome::Pass),
                ("once", single, StepOutcome::Pass),
            ],
        )];
        let listed = vec![Deviation {
            scenario: "a.yaml".into(),
            step: "reuse".into(),
            path: None,
            kind: DeviationKind::NotEnforced,
            reason: "takes the code twice".into(),
        }];
        let emu = vec![run(
            "a.yaml",
            vec![
                ("reuse", reuse, StepOutcome::NotEnforced(listed)),
                (
                    "once",
                    single,
                    StepOutcome::Blocked(crate::run::outcome::Blocker {
                        number: Some(1),
                        title: "reuse".into(),
                        missing: "`session`".into(),
                    }),
                ),
            ],
        )];
        let grid = check_grid(catalogue, &labels, &[stub, emu], |_| None);
        assert_eq!(grid.len(), 2, "only checks some step names");
        let row = |id: &str| grid.iter().find(|r| r.id == id).unwrap();
        let cells = |id: &str| row(id).cells.iter().map(|c| c.verdict).collect::<Vec<_>>();
        assert_eq!(
            cells("totp.reuse-refused"),
            [Verdict::Enforced, Verdict::NotEnforced]
        );
        assert_eq!(
            cells("session.single-use"),
            [Verdict::Enforced, Verdict::NotTested]
        );
        assert_eq!(
            row("totp.reuse-refused").cells[1].reason().as_deref(),
            Some("reuse: takes the code twice")
        );
        assert_eq!(
            row("session.single-use").cells[1].reason().as_deref(),
            Some("once: blocked by step 1 (reuse)")
        );
        assert!(row("totp.reuse-refused").security);

        // Listed as a mere difference, but the target accepted what the
        // reference refuses: NOT ENFORCED all the same.
        let known = vec![Deviation {
            scenario: "b.yaml".into(),
            step: "forged".into(),
            path: None,
            kind: DeviationKind::DifferentValue,
            reason: "answers something else".into(),
        }];
        let srp = &["srp.password-proof-verified"][..];
        let mut lenient = run(
            "b.yaml",
            vec![("forged", srp, StepOutcome::KnownDeviation(known))],
        );
        lenient.transcript = serde_json::json!({"steps": [{"step": "forged", "response": {"AuthenticationResult": {}}}]});
        let reference = serde_json::json!({"steps": [{"step": "forged", "error": {"__type": "NotAuthorizedException"}}]});
        let strict = run("b.yaml", vec![("forged", srp, StepOutcome::Pass)]);
        let grid = check_grid(
            catalogue,
            &labels,
            &[vec![strict], vec![lenient.clone()]],
            |_| Some(&reference),
        );
        assert_eq!(
            grid[0].cells.iter().map(|c| c.verdict).collect::<Vec<_>>(),
            [Verdict::Enforced, Verdict::NotEnforced]
        );
        assert!(
            grid[0].cells[1]
                .reason()
                .unwrap()
                .contains("accepted where the reference refuses")
        );
        // After an earlier step went another way, an acceptance may be its
        // consequence: not tested, not NOT ENFORCED.
        let mut after = lenient.clone();
        after.steps.insert(
            0,
            StepResult {
                number: 0,
                title: "sign out".into(),
                call: None,
                checks: Vec::new(),
                in_transcript: false,
                outcome: StepOutcome::Unsupported {
                    failure: Box::new(crate::run::outcome::Failure::new(
                        crate::run::outcome::FailureKind::Unsupported,
                        "sign out",
                        "b.yaml:1:1",
                        "no such operation",
                    )),
                    listed: None,
                },
            },
        );
        let grid = check_grid(catalogue, &labels, &[vec![], vec![after]], |_| {
            Some(&reference)
        });
        assert_eq!(grid[0].cells[1].verdict, Verdict::NotTested);
        assert!(
            grid[0].cells[1]
                .reason()
                .unwrap()
                .contains("after `sign out` already went another way")
        );
        // Without the reference's refusal it stays a known difference of an enforced check.
        let grid = check_grid(catalogue, &labels, &[vec![], vec![lenient]], |_| None);
        assert_eq!(grid[0].cells[1].verdict, Verdict::Enforced);
        assert_eq!(
            verdict(&[StepKind::Unsupported, StepKind::Blocked]),
            Verdict::Unsupported
        );
        assert_eq!(
            verdict(&[StepKind::Pass, StepKind::NewDeviation]),
            Verdict::NewDeviation
        );
        assert_eq!(
            verdict(&[StepKind::Pass, StepKind::Unsupported]),
            Verdict::Enforced
        );
        assert_eq!(verdict(&[]), Verdict::NotTested);
        for v in [
            Verdict::Enforced,
            Verdict::NotEnforced,
            Verdict::NewDeviation,
            Verdict::Unsupported,
            Verdict::NotTested,
        ] {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                v.name(),
                "JSON and CSS agree"
            );
        }
    }
}
