//! What the user sees: one line per scenario, failure details with the YAML
//! location and the (normalised) request and response, a summary, and the
//! exit code.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use console::style;

use crate::run::deviations::DeviationKind;
use crate::run::outcome::{
    Blocker, Failure, FailureKind, Outcome, ScenarioRun, StepKind, StepOutcome,
};
use crate::scenario::Diagnostic;

/// Exit codes, as Hurl uses them.
pub mod exit {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 1;
    pub const INVALID_SCENARIO: i32 = 2;
    pub const TARGET: i32 = 3;
    pub const MISMATCH: i32 = 4;
    /// The target does not implement a step's operation, and its expectation file does not say so.
    pub const UNSUPPORTED: i32 = 5;
    /// Stopped by Ctrl-C (the emulator, if any, is stopped first).
    pub const INTERRUPTED: i32 = 130;
    /// Stopped by SIGTERM.
    pub const TERMINATED: i32 = 143;
}

/// The line printed when a scenario finishes, then every failing step (and
/// setup, teardown or snapshot failure) in detail, the steps that were
/// blocked or unsupported, and the step counts.
pub fn scenario_result(run: &ScenarioRun) -> String {
    let mut out = String::new();
    let file = run.file.display();
    let time = secs(run.elapsed);
    let header = |out: &mut String, label: console::StyledObject<&str>, tail: String| {
        let _ = writeln!(out, "{label}  {file}  {} {tail}", run.name);
    };
    match run.outcome() {
        Outcome::Skipped(reason) => {
            let reason = style(format!("({reason})")).dim().to_string();
            header(&mut out, style("SKIP").yellow().bold(), reason);
            return out;
        }
        Outcome::Passed => header(&mut out, style("PASS").green().bold(), dim(&time)),
        Outcome::Failed(FailureKind::Unsupported) => {
            header(&mut out, style("UNSUPPORTED").red().bold(), dim(&time))
        }
        Outcome::Failed(_) => header(&mut out, style("FAIL").red().bold(), dim(&time)),
    }
    let numbers: Vec<Option<usize>> = run
        .steps
        .iter()
        .filter(|s| s.outcome.failure().is_some())
        .map(|s| Some(s.number))
        .chain(run.errors.iter().map(|_| None))
        .collect();
    for (failure, number) in run.failures().zip(numbers) {
        failure_block(&mut out, failure, number);
    }
    for step in &run.steps {
        if let StepOutcome::Unsupported {
            failure,
            listed: Some(_),
        } = &step.outcome
        {
            let _ = writeln!(
                out,
                "      step {} {} ({}): {} {}",
                step.number,
                style(format!("`{}`", step.title)).bold(),
                style(&failure.location).cyan(),
                failure.message,
                style("(listed as unsupported)").dim()
            );
        }
    }
    blocked_lines(&mut out, run);
    for d in &run.known_deviations {
        let label = match d.kind {
            DeviationKind::NotEnforced => "not enforced:",
            DeviationKind::Unsupported => "known unsupported:",
            _ => "known deviation:",
        };
        let _ = writeln!(out, "      {} {d}", style(label).dim());
    }
    for w in &run.warnings {
        let _ = writeln!(out, "      {} {w}", style("warning:").yellow());
    }
    if run.steps.iter().any(|s| s.outcome.kind() != StepKind::Pass) {
        let counts: Vec<String> = StepKind::ALL
            .iter()
            .filter_map(|k| {
                let n = run.count(*k);
                (n > 0).then(|| format!("{n} {}", k.name()))
            })
            .collect();
        let _ = writeln!(
            out,
            "      {}",
            style(format!("steps: {}", counts.join(", "))).dim()
        );
    }
    out
}

/// One failure in full: where, the source line, the message, the checks
/// that failed, the hint, the (normalised) request and response.
fn failure_block(out: &mut String, f: &Failure, number: Option<usize>) {
    match number {
        Some(n) => {
            let _ = writeln!(
                out,
                "      step {n} {}",
                style(format!("`{}`", f.step)).bold()
            );
        }
        None => {
            let _ = writeln!(out, "      {}", style(&f.step).bold());
        }
    }
    let _ = writeln!(out, "        at {}", style(&f.location).cyan());
    if let Some(snippet) = source_line(&f.location) {
        out.push_str(&snippet);
    }
    for from in f.called_from.iter().rev() {
        let _ = writeln!(out, "        used from {}", style(from).cyan());
    }
    let _ = writeln!(out, "      {}", style(&f.message).red());
    for d in &f.details {
        let _ = writeln!(out, "        - {d}");
    }
    if let Some(hint) = &f.hint {
        let _ = writeln!(out, "      {} {hint}", style("hint:").cyan());
    }
    for (label, value) in [("request", &f.request), ("response", &f.response)] {
        if let Some(v) = value {
            let _ = writeln!(
                out,
                "      {} (secrets and dynamic values replaced):",
                style(label).bold()
            );
            for line in serde_json::to_string_pretty(v).unwrap_or_default().lines() {
                let _ = writeln!(out, "        {}", style(line).dim());
            }
        }
    }
}

/// The blocked steps, one line per blocker and what it did not produce.
fn blocked_lines(out: &mut String, run: &ScenarioRun) {
    let mut groups: Vec<(&Blocker, Vec<String>)> = Vec::new();
    for step in &run.steps {
        let StepOutcome::Blocked(b) = &step.outcome else {
            continue;
        };
        let shown = format!("step {} `{}`", step.number, step.title);
        match groups.iter_mut().find(|(g, _)| *g == b) {
            Some((_, steps)) => steps.push(shown),
            None => groups.push((b, vec![shown])),
        }
    }
    for (blocker, steps) in groups {
        let needing = blocker.needing();
        let _ = writeln!(
            out,
            "      {} by {blocker}{needing}: {}",
            style(format!("{} step(s) blocked", steps.len())).yellow(),
            steps.join(", ")
        );
    }
}

fn dim(text: &str) -> String {
    style(text).dim().to_string()
}

/// Renders every diagnostic of a broken file.
pub fn diagnostics(diags: &[Diagnostic]) -> String {
    let color = console::colors_enabled();
    let mut out = String::new();
    for d in diags {
        let source = std::fs::read_to_string(&d.file).ok();
        out.push_str(&d.render(source.as_deref(), color));
        out.push('\n');
    }
    out
}

/// Counts of a finished run: scenarios, and steps that did not simply pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub invalid: usize,
    /// Steps per kind, over every scenario that ran.
    pub steps: BTreeMap<StepKind, usize>,
}

impl Summary {
    /// Counts the runs and the invalid files.
    pub fn of(runs: &[ScenarioRun], invalid: usize) -> Summary {
        let mut s = Summary {
            invalid,
            ..Summary::default()
        };
        for r in runs {
            match r.outcome() {
                Outcome::Passed => s.passed += 1,
                Outcome::Skipped(_) => s.skipped += 1,
                Outcome::Failed(_) => s.failed += 1,
            }
            for step in &r.steps {
                *s.steps.entry(step.outcome.kind()).or_default() += 1;
            }
        }
        s
    }

    /// `12 passed, 1 failed, 2 skipped` (and invalid files, when any), then
    /// the steps that were new or known deviations, not enforced,
    /// unsupported or blocked, when any.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        if self.invalid > 0 {
            let _ = write!(line, ", {} invalid", self.invalid);
        }
        let steps: Vec<String> = StepKind::ALL
            .iter()
            .filter(|k| !matches!(k, StepKind::Pass | StepKind::Skipped))
            .filter_map(|k| {
                let n = self.steps.get(k).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {}", k.name()))
            })
            .collect();
        if !steps.is_empty() {
            let _ = write!(line, "; steps: {}", steps.join(", "));
        }
        line
    }
}

/// The exit code: invalid files (2) weigh more than target failures (3),
/// which weigh more than mismatches (4), which weigh more than unlisted
/// unsupported operations (5), over every failing step of every scenario.
/// Listed unsupported, not enforced and blocked steps do not fail.
pub fn exit_code(runs: &[ScenarioRun], invalid: usize) -> i32 {
    if invalid > 0 {
        return exit::INVALID_SCENARIO;
    }
    let worst = runs.iter().flat_map(|r| r.failures()).map(|f| f.kind).min();
    match worst {
        None => exit::OK,
        Some(FailureKind::Scenario) => exit::INVALID_SCENARIO,
        Some(FailureKind::Target) => exit::TARGET,
        Some(FailureKind::Mismatch) => exit::MISMATCH,
        Some(FailureKind::Unsupported) => exit::UNSUPPORTED,
    }
}

/// The source line of a `file:line:col` location with a caret under the column.
fn source_line(location: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let col: usize = parts.next()?.parse().ok()?;
    let line: usize = parts.next()?.parse().ok()?;
    let text = std::fs::read_to_string(parts.next()?).ok()?;
    let source = text.lines().nth(line.checked_sub(1)?)?;
    let caret = format!("{}^", " ".repeat(col.saturating_sub(1)));
    Some(format!(
        "        | {source}\n        | {}\n",
        style(caret).red().bold()
    ))
}

fn secs(d: Duration) -> String {
    format!("({:.2}s)", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::deviations::Deviation;

    fn run(steps: Vec<StepOutcome>) -> ScenarioRun {
        ScenarioRun::with_steps("n", "f.yaml", steps)
    }

    fn failure(kind: FailureKind, step: &str, message: &str) -> Box<Failure> {
        Box::new(Failure::new(kind, step, "f.yaml:1:1", message))
    }

    fn new(kind: FailureKind) -> StepOutcome {
        StepOutcome::NewDeviation(failure(kind, "s", "m"))
    }

    fn unsupported(listed: bool) -> StepOutcome {
        StepOutcome::Unsupported {
            failure: failure(FailureKind::Unsupported, "s", "X is unsupported by moto"),
            listed: listed.then(|| Deviation {
                scenario: "f.yaml".into(),
                step: "s".into(),
                path: None,
                kind: DeviationKind::Unsupported,
                reason: "r".into(),
            }),
        }
    }

    fn blocked(by: usize) -> StepOutcome {
        StepOutcome::Blocked(Blocker {
            number: Some(by),
            title: format!("step-{by}"),
            missing: "`session`".into(),
        })
    }

    fn skipped() -> ScenarioRun {
        let mut r = run(vec![]);
        r.skipped = Some("r".into());
        r
    }

    #[test]
    fn exit_codes_by_failure_kind() {
        let pass = || run(vec![StepOutcome::Pass]);
        let failed = |kind| run(vec![new(kind)]);
        assert_eq!(exit_code(&[pass()], 0), 0);
        assert_eq!(exit_code(&[pass()], 1), 2);
        assert_eq!(exit_code(&[failed(FailureKind::Mismatch)], 0), 4);
        assert_eq!(
            exit_code(
                &[failed(FailureKind::Mismatch), failed(FailureKind::Target)],
                0
            ),
            3
        );
        assert_eq!(exit_code(&[failed(FailureKind::Scenario)], 0), 2);
        assert_eq!(exit_code(&[skipped()], 0), 0);
        assert_eq!(exit_code(&[run(vec![unsupported(false)])], 0), 5);
        assert_eq!(
            exit_code(
                &[run(vec![unsupported(false)]), failed(FailureKind::Mismatch)],
                0
            ),
            4
        );
        // Every failing step counts, not only the first.
        assert_eq!(
            exit_code(
                &[run(vec![unsupported(false), new(FailureKind::Mismatch)])],
                0
            ),
            4
        );
        // Listed unsupported and blocked steps do not fail.
        assert_eq!(exit_code(&[run(vec![unsupported(true), blocked(1)])], 0), 0);
    }

    #[test]
    fn summary_line() {
        let runs = [
            run(vec![StepOutcome::Pass]),
            skipped(),
            run(vec![new(FailureKind::Target)]),
        ];
        assert_eq!(
            Summary::of(&runs, 1).line(),
            "1 passed, 1 failed, 1 skipped, 1 invalid; steps: 1 new deviation"
        );
        let runs = [
            run(vec![StepOutcome::Pass]),
            run(vec![unsupported(true), blocked(1), blocked(1)]),
        ];
        assert_eq!(
            Summary::of(&runs, 0).line(),
            "2 passed, 0 failed, 0 skipped; steps: 1 unsupported, 2 blocked"
        );
    }

    /// Every failing step is shown in full, after the first too; blocked
    /// steps are listed with the step that blocked them, and counted.
    #[test]
    fn every_failing_step_and_the_blocked_ones_are_shown() {
        console::set_colors_enabled(false);
        let r = run(vec![
            unsupported(true),
            StepOutcome::NewDeviation(failure(
                FailureKind::Mismatch,
                "step-2",
                "GetUser did not answer as expected",
            )),
            blocked(1),
            StepOutcome::Pass,
            StepOutcome::NewDeviation(failure(
                FailureKind::Mismatch,
                "step-5",
                "AdminGetUser did not answer as expected",
            )),
        ]);
        let shown = scenario_result(&r);
        assert!(shown.starts_with("FAIL  f.yaml  n"), "{shown}");
        let second = shown.find("step 2 `step-2`").expect(&shown);
        let fifth = shown.find("step 5 `step-5`").expect(&shown);
        assert!(second < fifth, "{shown}");
        assert!(
            shown.contains("AdminGetUser did not answer as expected"),
            "{shown}"
        );
        assert!(
            shown.contains("X is unsupported by moto (listed as unsupported)"),
            "{shown}"
        );
        assert!(
            shown.contains(
                "1 step(s) blocked by step 1 (step-1), needing `session`: step 3 `step-3`"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("steps: 1 pass, 2 new deviation, 1 unsupported, 1 blocked"),
            "{shown}"
        );
    }
}
