//! JUnit XML, so CI systems show scenario results natively: one
//! `<testsuite>` per target, one `<testcase>` per scenario, `<failure>` (a
//! mismatch, an unsupported step, an invalid file) or `<error>` (the target
//! could not be reached, a fixture or teardown failed) listing every failing
//! step with its details, `<skipped>` with the reason. The XML itself is
//! quick-junit's.
//!
//! One test case per scenario, not per step: a scenario is what a user
//! writes, filters and reruns (`run --filter`, the `cargo test` trials), and
//! its steps depend on each other, so a step alone is not a test one could
//! rerun; blocked, not-enforced and listed-unsupported steps are named in the
//! case's output instead.
//!
//! Everything written comes from normalised, scrubbed run data.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::run::outcome::{Failure, FailureKind, Outcome, ScenarioRun, StepOutcome};

/// One test suite (a target).
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

/// One test case (a scenario).
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub classname: String,
    /// Seconds.
    pub time: Option<f64>,
    pub result: CaseResult,
    pub system_out: Option<String>,
}

/// How a test case ended.
#[derive(Debug, Clone)]
pub enum CaseResult {
    Passed,
    /// Did not pass: `kind` decides `<failure>` or `<error>` and the `type`.
    Failed {
        message: String,
        details: String,
        kind: Problem,
    },
    Skipped(String),
}

/// Why a test case did not pass (its `type` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// An answer or snapshot differed: `<failure type="mismatch">`.
    Mismatch,
    /// The target lacks what a step needs: `<failure type="unsupported">`.
    Unsupported,
    /// The scenario is wrong (a file that does not load, a bad template): `<failure type="scenario">`.
    Scenario,
    /// The target could not be reached, or a fixture or teardown failed: `<error type="target">`.
    Error,
}

impl Problem {
    /// The `type` attribute.
    pub fn name(self) -> &'static str {
        match self {
            Problem::Mismatch => "mismatch",
            Problem::Unsupported => "unsupported",
            Problem::Scenario => "scenario",
            Problem::Error => "target",
        }
    }
}

impl From<FailureKind> for Problem {
    fn from(kind: FailureKind) -> Problem {
        match kind {
            FailureKind::Mismatch => Problem::Mismatch,
            FailureKind::Unsupported => Problem::Unsupported,
            FailureKind::Scenario => Problem::Scenario,
            FailureKind::Target => Problem::Error,
        }
    }
}

/// The suite of one `run`: a case per scenario and a failed case per file that did not load.
pub fn suite_of_runs(target: &str, runs: &[ScenarioRun], invalid: &[(String, String)]) -> Suite {
    let mut cases: Vec<Case> = runs
        .iter()
        .map(|run| {
            let result = match run.outcome() {
                Outcome::Passed => CaseResult::Passed,
                Outcome::Skipped(reason) => CaseResult::Skipped(reason),
                Outcome::Failed(kind) => {
                    let failures: Vec<(Option<usize>, &Failure)> = failing_steps(run);
                    let mut details = String::new();
                    for (number, f) in &failures {
                        if !details.is_empty() {
                            details.push('\n');
                        }
                        failure_text(&mut details, *number, f);
                    }
                    let message = match failures.as_slice() {
                        [(_, f)] => format!("step `{}`: {}", f.step, f.message),
                        many => format!(
                            "{} failures: {}",
                            many.len(),
                            many.iter()
                                .map(|(_, f)| format!("`{}`", f.step))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    CaseResult::Failed {
                        message,
                        details,
                        kind: kind.into(),
                    }
                }
            };
            let mut out = String::new();
            for step in &run.steps {
                match &step.outcome {
                    StepOutcome::Unsupported {
                        failure,
                        listed: Some(_),
                    } => {
                        let _ = writeln!(
                            out,
                            "step {} `{}`: known unsupported: {}",
                            step.number, step.title, failure.message
                        );
                    }
                    StepOutcome::Blocked(b) => {
                        let needing = b.needing();
                        let _ = writeln!(
                            out,
                            "step {} `{}`: blocked by {b}{needing}",
                            step.number, step.title
                        );
                    }
                    _ => {}
                }
            }
            for d in &run.known_deviations {
                let _ = writeln!(out, "known deviation: {d}");
            }
            for w in &run.warnings {
                let _ = writeln!(out, "warning: {w}");
            }
            Case {
                name: run.name.clone(),
                classname: run.file.display().to_string(),
                time: Some(run.elapsed.as_secs_f64()),
                result,
                system_out: (!out.is_empty()).then_some(out),
            }
        })
        .collect();
    for (file, text) in invalid {
        cases.push(Case {
            name: format!("{file} is valid"),
            classname: file.clone(),
            time: None,
            result: CaseResult::Failed {
                message: "the scenario file is invalid".into(),
                details: text.clone(),
                kind: Problem::Scenario,
            },
            system_out: None,
        });
    }
    Suite {
        name: target.to_string(),
        cases,
    }
}

/// Every failure of `run` with its step's number (`None` outside the steps).
fn failing_steps(run: &ScenarioRun) -> Vec<(Option<usize>, &Failure)> {
    run.steps
        .iter()
        .filter_map(|s| s.outcome.failure().map(|f| (Some(s.number), f)))
        .chain(run.errors.iter().map(|f| (None, f)))
        .collect()
}

/// One failure as text: the step, where, the message, every failed check,
/// the hint, the (normalised) request and response.
fn failure_text(details: &mut String, number: Option<usize>, f: &Failure) {
    match number {
        Some(n) => {
            let _ = writeln!(details, "step {n}: {}", f.step);
        }
        None => {
            let _ = writeln!(details, "step: {}", f.step);
        }
    }
    let _ = writeln!(details, "at: {}", f.location);
    for from in f.called_from.iter().rev() {
        let _ = writeln!(details, "used from: {from}");
    }
    let _ = writeln!(details, "{}", f.message);
    for d in &f.details {
        let _ = writeln!(details, "- {d}");
    }
    if let Some(hint) = &f.hint {
        let _ = writeln!(details, "hint: {hint}");
    }
    for (label, value) in [("request", &f.request), ("response", &f.response)] {
        if let Some(v) = value {
            let _ = writeln!(
                details,
                "{label}:\n{}",
                serde_json::to_string_pretty(v).unwrap_or_default()
            );
        }
    }
}

/// The XML document for `suites` (written by quick-junit, which escapes text
/// and drops what XML cannot hold).
pub fn render(suites: &[Suite]) -> String {
    let mut report = Report::new("cognito-scenarios");
    for suite in suites {
        let mut out = TestSuite::new(suite.name.as_str());
        let time: f64 = suite.cases.iter().filter_map(|c| c.time).sum();
        out.set_time(Duration::from_secs_f64(time.max(0.0)));
        for case in &suite.cases {
            let status = match &case.result {
                CaseResult::Passed => TestCaseStatus::success(),
                CaseResult::Failed {
                    message,
                    details,
                    kind,
                } => {
                    let junit_kind = match kind {
                        Problem::Error => NonSuccessKind::Error,
                        _ => NonSuccessKind::Failure,
                    };
                    let mut status = TestCaseStatus::non_success(junit_kind);
                    status
                        .set_message(message.as_str())
                        .set_type(kind.name())
                        .set_description(details.as_str());
                    status
                }
                CaseResult::Skipped(reason) => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(reason.as_str());
                    status
                }
            };
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case.set_classname(case.classname.as_str());
            if let Some(t) = case.time {
                test_case.set_time(Duration::from_secs_f64(t.max(0.0)));
            }
            if let Some(text) = &case.system_out {
                test_case.set_system_out(text.as_str());
            }
            out.add_test_case(test_case);
        }
        report.add_test_suite(out);
    }
    report.to_string().unwrap_or_default()
}

/// Writes `suites` to `file`, creating its folder first.
pub fn write(file: &Path, suites: &[Suite]) -> std::io::Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(file, render(suites))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::outcome::Blocker;

    fn run(name: &str, steps: Vec<StepOutcome>) -> ScenarioRun {
        let mut run = ScenarioRun::with_steps(name, format!("scenarios/{name}.yaml"), steps);
        run.elapsed = std::time::Duration::from_millis(1500);
        run
    }

    fn new(f: Failure) -> StepOutcome {
        StepOutcome::NewDeviation(Box::new(f))
    }

    #[test]
    fn suites_count_escape_and_tell_failures_from_errors() {
        let mut f = Failure::new(
            FailureKind::Mismatch,
            "sign <in>",
            "a.yaml:3:5",
            "InitiateAuth did not answer as expected",
        );
        f.details = vec!["ChallengeName: expected \"X\" & got 'Y'\u{1b}".into()];
        let unreachable = Failure::new(
            FailureKind::Target,
            "connect",
            "b.yaml",
            "could not reach the target: connection refused",
        );
        let mut skip = run("skip", vec![]);
        skip.skipped = Some("only on aws".into());
        let runs = [
            run("ok", vec![StepOutcome::Pass]),
            run("bad", vec![new(f)]),
            ScenarioRun::failed("down", "scenarios/down.yaml", unreachable),
            skip,
        ];
        let xml = render(&[suite_of_runs(
            "stub",
            &runs,
            &[("broken.yaml".into(), "x <y>".into())],
        )]);
        assert!(
            xml.contains("tests=\"5\" skipped=\"1\" failures=\"2\" errors=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"ok\" classname=\"scenarios/ok.yaml\" time=\"1.500\""),
            "{xml}"
        );
        assert!(
            xml.contains("message=\"step `sign &lt;in&gt;`: InitiateAuth did not answer as expected\" type=\"mismatch\""),
            "{xml}"
        );
        // A transport failure is an <error>, not a <failure type="mismatch">.
        assert!(
            xml.contains("<error message=\"step `connect`: could not reach the target: connection refused\" type=\"target\""),
            "{xml}"
        );
        assert!(
            xml.contains("expected &quot;X&quot; &amp; got &apos;Y&apos;\n"),
            "{xml}"
        );
        assert!(!xml.contains('\u{1b}'));
        assert!(xml.contains("<skipped message=\"only on aws\"/>"), "{xml}");
    }

    #[test]
    fn write_creates_the_folder() {
        let dir = std::env::temp_dir().join(format!("junit-{}", uuid::Uuid::new_v4().simple()));
        let file = dir.join("new/folder/junit.xml");
        write(
            &file,
            &[suite_of_runs(
                "stub",
                &[run("ok", vec![StepOutcome::Pass])],
                &[],
            )],
        )
        .unwrap();
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("<testcase name=\"ok\"")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// One test case per scenario, whose failure lists every failing step;
    /// blocked steps are named in its output, and do not fail it.
    #[test]
    fn a_failure_lists_every_failing_step() {
        let mismatch = |step: &str, message: &str| {
            let mut f = Failure::new(FailureKind::Mismatch, step, "a.yaml:3:5", message);
            f.details = vec![format!("{step}: a detail")];
            f
        };
        let blocked = StepOutcome::Blocked(Blocker {
            number: Some(1),
            title: "step-1".into(),
            missing: "`session`".into(),
        });
        let runs = [run(
            "bad",
            vec![
                new(mismatch(
                    "step-1",
                    "InitiateAuth did not answer as expected",
                )),
                blocked,
                new(mismatch("step-3", "GetUser did not answer as expected")),
            ],
        )];
        let xml = render(&[suite_of_runs("moto", &runs, &[])]);
        assert!(
            xml.contains("tests=\"1\" skipped=\"0\" failures=\"1\" errors=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("message=\"2 failures: `step-1`, `step-3`\" type=\"mismatch\""),
            "{xml}"
        );
        for shown in [
            "step 1: step-1",
            "InitiateAuth did not answer as expected",
            "- step-1: a detail",
            "step 3: step-3",
            "GetUser did not answer as expected",
            "- step-3: a detail",
            "step 2 `step-2`: blocked by step 1 (step-1), needing `session`",
        ] {
            assert!(xml.contains(shown), "{shown}: {xml}");
        }
    }
}
