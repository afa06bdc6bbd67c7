//! A scenario keeps going after a failed or unsupported step: the steps
//! whose inputs exist still run (and their deviations are found), those that
//! need what a failed step would have saved are blocked by it and never
//! sent, and the console, JUnit and parity outputs show every failing step.
//! On the stub, with hand-made scenarios (`tests/fixtures/keepgoing/`) whose
//! wrong expectations and unsupported operation (CreateGroup) are on purpose.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cognito_scenarios::run::deviations::Deviations;
use cognito_scenarios::run::engine::{RunSettings, run_scenario};
use cognito_scenarios::run::outcome::{FailureKind, Outcome, ScenarioRun, StepOutcome};
use cognito_scenarios::run::suite;
use cognito_scenarios::targets::{Target, TargetSpec};
use serde_json::Value;
use support::{cli, text};

/// Runs one fixture on the stub with `expectations` (if any), returning the
/// run and the operations the target received, in order.
fn run_on_stub(file: &str, expectations: Option<&str>) -> (ScenarioRun, Vec<String>) {
    std::env::set_current_dir(support::root()).unwrap();
    let loaded = suite::load(&[PathBuf::from(file)], None, &[], false).unwrap();
    assert!(loaded.invalid.is_empty(), "{file} loads");
    let deviations = match expectations {
        Some(path) => Deviations::load(Path::new(path)).unwrap(),
        None => Deviations::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let target = Target::open(TargetSpec::Stub { real_clock: false })
            .await
            .unwrap();
        let mut conn = target.connect().await.unwrap();
        let recorder = Arc::new(Mutex::new(Vec::new()));
        conn.recorder = Some(recorder.clone());
        let settings = RunSettings {
            target: "stub".into(),
            label: None,
            run_id: "kg".into(),
            deviations: Arc::new(deviations),
            guard_existing_pools: false,
            cleanup_args: None,
        };
        let run = run_scenario(&loaded.scenarios[0], &conn, &settings).await;
        let sent = recorder
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| e.get("operation").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        (run, sent)
    })
}

/// `(number, kind, blocked by)` of every step.
fn shape(run: &ScenarioRun) -> Vec<(usize, &'static str, Option<usize>)> {
    run.steps
        .iter()
        .map(|s| {
            let by = match &s.outcome {
                StepOutcome::Blocked(b) => b.number,
                _ => None,
            };
            (s.number, s.outcome.kind().name(), by)
        })
        .collect()
}

const STEPS: &str = "tests/fixtures/keepgoing/steps.yaml";

#[test]
fn steps_after_failures_run_unless_they_need_what_a_failed_step_saves() {
    let (run, sent) = run_on_stub(STEPS, None);
    assert_eq!(
        shape(&run),
        vec![
            (1, "pass", None),
            (2, "unsupported", None),
            // Reads `group`, which step 2 would have saved.
            (3, "blocked", Some(2)),
            (4, "new deviation", None),
            // Reads `status` (in its expectation only), which step 4 would have saved.
            (5, "blocked", Some(4)),
            (6, "pass", None),
            (7, "new deviation", None),
        ]
    );
    let StepOutcome::Blocked(b) = &run.steps[2].outcome else {
        unreachable!()
    };
    assert_eq!(
        (b.title.as_str(), b.missing.as_str()),
        ("an operation the target lacks", "`group`")
    );
    // Blocked steps are never sent: one AdminGetUser for each of steps 4, 6 and 7.
    let setup = ["CreateUserPool", "CreateUserPoolClient"];
    let steps: Vec<&str> = sent
        .iter()
        .map(String::as_str)
        .filter(|op| !setup.contains(op) && *op != "DeleteUserPool")
        .collect();
    assert_eq!(
        steps,
        [
            "AdminCreateUser",
            "CreateGroup",
            "AdminGetUser",
            "AdminGetUser",
            "AdminGetUser"
        ]
    );
    // The worst failure decides: a mismatch outweighs an unlisted unsupported step.
    assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Mismatch));
    assert_eq!(run.failures().count(), 3);
    // Teardown ran.
    assert_eq!(sent.last().map(String::as_str), Some("DeleteUserPool"));
}

#[test]
fn a_deviation_after_a_listed_unsupported_step_is_still_found() {
    let listed = "tests/fixtures/keepgoing/unsupported-listed.yaml";
    let (run, _) = run_on_stub(STEPS, Some(listed));
    assert!(matches!(
        run.steps[1].outcome,
        StepOutcome::Unsupported {
            listed: Some(_),
            ..
        }
    ));
    let new: Vec<&str> = run.failures().map(|f| f.step.as_str()).collect();
    assert_eq!(new, ["a check that differs", "another check that differs"]);
    assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Mismatch));

    // Listed too, they are a known deviation and a check not enforced; the
    // known deviation's save exists, so the step that reads it runs.
    let all = "tests/fixtures/keepgoing/all-listed.yaml";
    let (run, _) = run_on_stub(STEPS, Some(all));
    assert_eq!(run.outcome(), Outcome::Passed);
    assert_eq!(
        shape(&run),
        vec![
            (1, "pass", None),
            (2, "unsupported", None),
            (3, "blocked", Some(2)),
            (4, "known deviation", None),
            (5, "pass", None),
            (6, "pass", None),
            (7, "not enforced", None),
        ]
    );
}

#[test]
fn a_failed_step_in_a_flow_blocks_only_what_needs_its_save() {
    let (run, sent) = run_on_stub("tests/fixtures/keepgoing/flows.yaml", None);
    let titles: Vec<&str> = run.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "create the user",
            "the user is confirmed",
            "the pool is the fixture's",
            "the user is enabled",
            "needs the flow's failed save",
            "an operation the target lacks",
            "the user is confirmed",
            "the pool is the fixture's",
            "the user is enabled",
        ]
    );
    assert_eq!(
        shape(&run),
        vec![
            (1, "pass", None),
            (2, "new deviation", None),
            // The flow goes on after its failed step.
            (3, "pass", None),
            (4, "pass", None),
            // After the flow, its failed step's save is missing.
            (5, "blocked", Some(2)),
            (6, "unsupported", None),
            // Used with an argument step 6 did not produce: the steps that
            // read it are blocked, the one that does not runs.
            (7, "blocked", Some(6)),
            (8, "pass", None),
            (9, "blocked", Some(6)),
        ]
    );
    // Sent: steps 2 and 4 (AdminGetUser), 3 and 8 (DescribeUserPool).
    assert_eq!(sent.iter().filter(|op| *op == "AdminGetUser").count(), 2);
    assert_eq!(
        sent.iter().filter(|op| *op == "DescribeUserPool").count(),
        2
    );
}

#[test]
fn a_challenge_or_code_a_failed_step_did_not_bring_blocks_the_step_that_needs_it() {
    let (run, sent) = run_on_stub("tests/fixtures/keepgoing/helpers.yaml", None);
    assert_eq!(
        shape(&run),
        vec![
            (1, "new deviation", None),
            (2, "blocked", Some(1)),
            (3, "new deviation", None),
            (4, "blocked", Some(3)),
            (5, "pass", None),
        ]
    );
    let missing: Vec<&str> = run
        .steps
        .iter()
        .filter_map(|s| match &s.outcome {
            StepOutcome::Blocked(b) => Some(b.missing.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        missing,
        [
            "the SRP challenge or device it answers",
            "a confirmation code for `{{ newcomer }}`"
        ]
    );
    assert!(
        !sent
            .iter()
            .any(|op| op == "RespondToAuthChallenge" || op == "ConfirmSignUp")
    );
    // Neither is a scenario error: the exit code is the mismatches'.
    assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Mismatch));
}

#[test]
fn a_failed_fixture_blocks_every_step() {
    let (run, sent) = run_on_stub("tests/fixtures/keepgoing-setup/fixture-fails.yaml", None);
    assert_eq!(run.outcome(), Outcome::Failed(FailureKind::Target));
    assert_eq!(run.errors.len(), 1);
    assert_eq!(run.errors[0].step, "pool fixture");
    let StepOutcome::Blocked(b) = &run.steps[0].outcome else {
        panic!("{:?}", run.steps[0])
    };
    assert_eq!((b.number, b.title.as_str()), (None, "pool fixture"));
    assert!(matches!(run.steps[1].outcome, StepOutcome::Skipped(_)));
    assert!(!sent.iter().any(|op| op == "AdminGetUser"), "{sent:?}");
    // Teardown still deleted the pool the fixture made.
    assert_eq!(sent.last().map(String::as_str), Some("DeleteUserPool"));
}

#[test]
fn console_and_junit_show_every_failing_step() {
    let dir = std::env::temp_dir().join(format!("cs-keepgoing-{}", std::process::id()));
    let junit = dir.join("junit.xml");
    let out = cli(&[
        "run",
        STEPS,
        "--snapshots",
        "off",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}");
    let shown: Vec<usize> = [
        "step 2 `an operation the target lacks`",
        "CreateGroup is unsupported by stub",
        "step 4 `a check that differs`",
        "UserStatus: expected \"CONFIRMED\", got \"FORCE_CHANGE_PASSWORD\"",
        "step 7 `another check that differs`",
        "Enabled: expected false, got true",
    ]
    .iter()
    .map(|line| {
        stdout
            .find(line)
            .unwrap_or_else(|| panic!("{line}:\n{stdout}"))
    })
    .collect();
    assert!(shown.is_sorted(), "in step order:\n{stdout}");
    for line in [
        "1 step(s) blocked by step 2 (an operation the target lacks), needing `group`: step 3 `needs the group`",
        "1 step(s) blocked by step 4 (a check that differs), needing `status`: step 5 `needs the failed step's save`",
        "0 passed, 1 failed, 0 skipped; steps: 2 new deviation, 1 unsupported, 2 blocked",
    ] {
        assert!(stdout.contains(line), "{line}:\n{stdout}");
    }

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
    assert!(
        xml.contains(
            "message=\"3 failures: `an operation the target lacks`, `a check that differs`, `another check that differs`\" type=\"mismatch\""
        ),
        "{xml}"
    );
    for line in [
        "step 2: an operation the target lacks",
        "step 4: a check that differs",
        "step 7: another check that differs",
        "Enabled: expected false, got true",
        "step 3 `needs the group`: blocked by step 2 (an operation the target lacks), needing `group`",
    ] {
        assert!(xml.contains(&line.replace('"', "&quot;")), "{line}:\n{xml}");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // Listed, the unsupported step and the blocked one do not fail the run.
    let out = cli(&[
        "run",
        STEPS,
        "--snapshots",
        "off",
        "--expectations",
        "tests/fixtures/keepgoing/all-listed.yaml",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "1 passed, 0 failed, 0 skipped; steps: 1 known deviation, 1 not enforced, 1 unsupported, 1 blocked"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("not enforced: another check that differs › Enabled"),
        "{stdout}"
    );
}

#[test]
fn parity_compares_the_steps_after_a_difference_and_counts_blocked_ones_apart() {
    let dir = std::env::temp_dir().join(format!("cs-keepgoing-parity-{}", std::process::id()));
    let out = cli(&[
        "parity",
        STEPS,
        "--targets",
        "stub",
        "--reference",
        "stub",
        "--snapshot-dir",
        "tests/fixtures/keepgoing/snapshots",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("parity.json")).unwrap()).unwrap();
    let cell = &report["scenarios"][0]["cells"][0];
    let states: Vec<(&str, &str)> = cell["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("create the user", "equal"),
            ("an operation the target lacks", "unsupported"),
            ("needs the group", "blocked"),
            ("a check that differs", "equal"),
            ("needs the failed step's save", "blocked"),
            ("does not need it", "equal"),
            ("another check that differs", "equal"),
        ]
    );
    assert_eq!(
        cell["steps"][2]["blocked_by"],
        serde_json::json!({"number": 2, "step": "an operation the target lacks", "missing": "`group`"})
    );
    let failing: Vec<&str> = cell["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        failing,
        [
            "an operation the target lacks",
            "a check that differs",
            "another check that differs"
        ]
    );
    let target = &report["targets"][0];
    assert_eq!(
        (
            &target["equal_steps"],
            &target["compared_steps"],
            &target["blocked_steps"]
        ),
        (
            &serde_json::json!(4),
            &serde_json::json!(5),
            &serde_json::json!(2)
        )
    );
    assert!(stdout.contains("(4/5 steps, 2 blocked;"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
