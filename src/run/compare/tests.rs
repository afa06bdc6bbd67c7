use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::run::deviations::DeviationKind;
use crate::run::engine::Failure;

fn run(outcome: Outcome, steps: Value) -> ScenarioRun {
    ScenarioRun {
        name: "n".into(),
        file: PathBuf::from("scenarios/s.yaml"),
        outcome,
        elapsed: Default::default(),
        transcript: json!({"scenario": "n", "steps": steps}),
        skipped_steps: vec![],
        warnings: vec![],
        known_deviations: vec![],
    }
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
    let cell = compare(
        &run(Outcome::Passed, steps),
        Some(&reference()),
        &Deviations::default(),
    );
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
    let cell = compare(
        &run(Outcome::Passed, actual_differing()),
        Some(&reference()),
        &deviations,
    );
    assert_eq!(cell.status, Status::KnownDeviation);
    assert_eq!(cell.known.len(), 2);
    assert_eq!((cell.equal_steps, cell.compared_steps), (0, 2));

    let one_missing = listed(vec![entry(
        "sign in",
        Some("ChallengeParameters"),
        DeviationKind::MissingField,
    )]);
    let cell = compare(
        &run(Outcome::Passed, actual_differing()),
        Some(&reference()),
        &one_missing,
    );
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
    let cell = compare(
        &run(Outcome::Passed, steps),
        Some(&reference()),
        &deviations,
    );
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
    let mut r = run(Outcome::Passed, steps);
    r.known_deviations.push(d.clone());
    let cell = compare(&r, Some(&reference()), &listed(vec![d]));
    assert_eq!(cell.status, Status::KnownDeviation);
}

#[test]
fn failures_are_new_and_later_steps_not_reached_nor_unexpected() {
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
    let cell = compare(
        &run(Outcome::Failed(Box::new(failure)), steps),
        Some(&reference()),
        &deviations,
    );
    assert_eq!(cell.status, Status::NewDeviation);
    assert_eq!(cell.steps[1].state, StepState::NotReached);
    assert!(cell.unexpected_passes.is_empty());
    assert_eq!((cell.equal_steps, cell.compared_steps), (1, 2));
}

#[test]
fn skipped_scenarios_and_steps_are_not_compared() {
    let cell = compare(
        &run(Outcome::Skipped("only on aws".into()), json!([])),
        Some(&reference()),
        &Deviations::default(),
    );
    assert_eq!(cell.status, Status::Skipped);
    assert_eq!(cell.compared_steps, 0);
    let mut r = run(Outcome::Passed, json!([reference()["steps"][0].clone()]));
    r.skipped_steps.push("wrong password: not on moto".into());
    let cell = compare(&r, Some(&reference()), &Deviations::default());
    assert_eq!(cell.status, Status::Pass);
    assert_eq!(cell.steps[1].state, StepState::Skipped);
    assert_eq!(cell.compared_steps, 1);
}
