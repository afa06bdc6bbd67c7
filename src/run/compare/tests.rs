use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::run::deviations::DeviationKind;
use crate::run::outcome::{Failure, FailureKind};

/// A run whose transcript is `steps`, each a passing step result.
fn run(steps: Value) -> ScenarioRun {
    let mut run = ScenarioRun::new("n", PathBuf::from("scenarios/s.yaml"));
    for (i, step) in steps.as_array().unwrap().iter().enumerate() {
        run.steps.push(StepResult {
            number: i + 1,
            title: step_title(step).to_string(),
            call: None,
            checks: Vec::new(),
            in_transcript: true,
            outcome: StepOutcome::Pass,
        });
    }
    run.transcript = json!({"scenario": "n", "steps": steps});
    run
}

/// Adds a step result that has no exchange in the transcript.
fn unanswered(run: &mut ScenarioRun, title: &str, outcome: StepOutcome) {
    run.steps.push(StepResult {
        number: run.steps.len() + 1,
        title: title.into(),
        call: None,
        checks: Vec::new(),
        in_transcript: false,
        outcome,
    });
}

fn entry(step: &str, path: Option<&str>, kind: DeviationKind) -> Deviation {
    Deviation {
        scenario: "scenarios/s.yaml".into(),
        step: step.into(),
        path: path.map(String::from),
        kind,
        reason: format!("because {step}"),
    }
}

fn listed(entries: Vec<Deviation>) -> Deviations {
    Deviations {
        file: Some("expectations/x.yaml".into()),
        entries,
    }
}

fn reference() -> Value {
    json!({"scenario": "n", "steps": [
        {"step": "sign in", "call": "InitiateAuth", "response": {"ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeParameters": {"USER_ID_FOR_SRP": "u"}}},
        {"step": "wrong password", "call": "InitiateAuth", "status": 400, "error": {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}}
    ]})
}

fn actual_differing() -> Value {
    json!([
        {"step": "sign in", "response": {"ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeParameters": {}}},
        {"step": "wrong password", "status": 400, "error": {"__type": "NotAuthorizedException", "message": "ann"}}
    ])
}

#[test]
fn identical_runs_pass_with_full_score() {
    let steps = reference()["steps"].clone();
    let cell = compare(&run(steps), Some(&reference()), &Deviations::default());
    assert_eq!(cell.status, Status::Pass);
    assert_eq!((cell.equal_steps, cell.compared_steps), (2, 2));
}

#[test]
fn listed_differences_are_known_and_unlisted_ones_new() {
    let deviations = listed(vec![
        entry(
            "sign in",
            Some("ChallengeParameters"),
            DeviationKind::MissingField,
        ),
        entry(
            "wrong password",
            Some("message"),
            DeviationKind::DifferentValue,
        ),
    ]);
    let cell = compare(&run(actual_differing()), Some(&reference()), &deviations);
    assert_eq!(cell.status, Status::KnownDeviation);
    assert_eq!(cell.known.len(), 2);
    assert_eq!((cell.equal_steps, cell.compared_steps), (0, 2));

    let one_missing = listed(vec![entry(
        "sign in",
        Some("ChallengeParameters"),
        DeviationKind::MissingField,
    )]);
    let cell = compare(&run(actual_differing()), Some(&reference()), &one_missing);
    assert_eq!(cell.status, Status::NewDeviation);
    let new: Vec<_> = cell
        .new_differences()
        .map(|(s, d)| (s.step.as_str(), d.difference.path.as_str()))
        .collect();
    assert_eq!(new, vec![("wrong password", "message")]);
}

#[test]
fn a_listed_deviation_that_does_not_occur_is_an_unexpected_pass() {
    let steps = reference()["steps"].clone();
    let deviations = listed(vec![entry(
        "sign in",
        Some("ChallengeParameters"),
        DeviationKind::MissingField,
    )]);
    let cell = compare(&run(steps), Some(&reference()), &deviations);
    assert_eq!(cell.status, Status::UnexpectedPass);
    assert_eq!(cell.unexpected_passes[0].step, "sign in");
}

#[test]
fn entries_matched_by_expectations_count_as_occurred() {
    let steps = reference()["steps"].clone();
    let d = entry(
        "sign in",
        Some("ChallengeName"),
        DeviationKind::DifferentValue,
    );
    let mut r = run(steps);
    r.known_deviations.push(d.clone());
    let cell = compare(&r, Some(&reference()), &listed(vec![d]));
    assert_eq!(cell.status, Status::KnownDeviation);
}

/// A failed step no longer ends the run: a later step that could not run
/// for want of its inputs is blocked (counted apart, not scored, its entries
/// not judged); the failure is new.
#[test]
fn failures_are_new_and_blocked_steps_are_counted_apart() {
    let failure = Failure::new(
        FailureKind::Mismatch,
        "sign in",
        "s.yaml:3:5",
        "InitiateAuth did not answer as expected",
    );
    let steps = json!([reference()["steps"][0].clone()]);
    let deviations = listed(vec![entry(
        "wrong password",
        None,
        DeviationKind::WrongError,
    )]);
    let mut r = run(steps);
    r.steps[0].outcome = StepOutcome::NewDeviation(Box::new(failure));
    let blocker = Blocker {
        number: Some(1),
        title: "sign in".into(),
        missing: "`session`".into(),
    };
    unanswered(&mut r, "wrong password", StepOutcome::Blocked(blocker));
    let cell = compare(&r, Some(&reference()), &deviations);
    assert_eq!(cell.status, Status::NewDeviation);
    assert_eq!(cell.failures.len(), 1);
    assert_eq!(cell.failures[0].number, Some(1));
    assert_eq!(cell.steps[1].state, StepState::Blocked);
    let by = cell.steps[1].blocked_by.as_ref().unwrap();
    assert_eq!(
        by.to_string(),
        "blocked by step 1 (sign in): needs `session`"
    );
    assert!(cell.unexpected_passes.is_empty());
    assert_eq!(
        (cell.equal_steps, cell.compared_steps, cell.blocked_steps),
        (1, 1, 1)
    );
}

/// A step after an unsupported one still runs and is compared: its
/// unlisted difference is a new deviation.
#[test]
fn a_difference_after_an_unsupported_step_is_still_found() {
    let unsupported = Failure::new(
        FailureKind::Unsupported,
        "sign in",
        "s.yaml:3:5",
        "InitiateAuth is unsupported by moto",
    );
    let d = entry("sign in", None, DeviationKind::Unsupported);
    let mut r = run(json!([]));
    unanswered(
        &mut r,
        "sign in",
        StepOutcome::Unsupported {
            failure: Box::new(unsupported),
            listed: Some(d.clone()),
        },
    );
    r.known_deviations.push(d.clone());
    r.steps.push(StepResult {
        number: 2,
        title: "wrong password".into(),
        call: None,
        checks: Vec::new(),
        in_transcript: true,
        outcome: StepOutcome::Pass,
    });
    r.transcript = json!({"steps": [actual_differing()[1].clone()]});
    let cell = compare(&r, Some(&reference()), &listed(vec![d.clone()]));
    assert_eq!(cell.status, Status::NewDeviation);
    assert_eq!(cell.steps[0].state, StepState::Unsupported);
    let new: Vec<_> = cell
        .new_differences()
        .map(|(s, d)| (s.step.as_str(), d.difference.path.as_str()))
        .collect();
    assert_eq!(new, vec![("wrong password", "message")]);
    assert_eq!((cell.equal_steps, cell.compared_steps), (0, 2));
    // Listed, the run is unsupported, not failed.
    let both = listed(vec![
        d,
        entry(
            "wrong password",
            Some("message"),
            DeviationKind::DifferentValue,
        ),
    ]);
    let cell = compare(&r, Some(&reference()), &both);
    assert_eq!(cell.status, Status::Unsupported);
}

/// An entry for a step that ran and did not differ is an unexpected pass,
/// also after a failed step; one for a step that does not exist too.
#[test]
fn entries_of_steps_that_ran_after_a_failure_are_judged() {
    let failure = Failure::new(FailureKind::Mismatch, "sign in", "s.yaml:3:5", "m");
    let mut r = run(reference()["steps"].clone());
    r.steps[0].outcome = StepOutcome::NewDeviation(Box::new(failure));
    let deviations = listed(vec![
        entry(
            "wrong password",
            Some("message"),
            DeviationKind::DifferentValue,
        ),
        entry("renamed step", None, DeviationKind::WrongError),
    ]);
    let cell = compare(&r, Some(&reference()), &deviations);
    let stale: Vec<_> = cell
        .unexpected_passes
        .iter()
        .map(|l| l.step.as_str())
        .collect();
    assert_eq!(stale, vec!["wrong password", "renamed step"]);
}

#[test]
fn skipped_scenarios_and_steps_are_not_compared() {
    let mut skipped = run(json!([]));
    skipped.skipped = Some("only on aws".into());
    let cell = compare(&skipped, Some(&reference()), &Deviations::default());
    assert_eq!(cell.status, Status::Skipped);
    assert_eq!(cell.compared_steps, 0);
    let mut r = run(json!([reference()["steps"][0].clone()]));
    unanswered(
        &mut r,
        "wrong password",
        StepOutcome::Skipped("not on moto".into()),
    );
    let cell = compare(&r, Some(&reference()), &Deviations::default());
    assert_eq!(cell.status, Status::Pass);
    assert_eq!(cell.steps[1].state, StepState::Skipped);
    assert_eq!(cell.compared_steps, 1);
}
