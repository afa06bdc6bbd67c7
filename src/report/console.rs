//! What the user sees: one line per scenario, failure details with the YAML
//! location and the (normalised) request and response, a summary, and the
//! exit code.

use std::fmt::Write as _;
use std::time::Duration;

use console::style;

use crate::run::engine::{FailureKind, Outcome, ScenarioRun};
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

/// The line printed when a scenario finishes, plus details on failure.
pub fn scenario_result(run: &ScenarioRun) -> String {
    let mut out = String::new();
    let file = run.file.display();
    let time = secs(run.elapsed);
    match &run.outcome {
        Outcome::Passed => {
            let _ = writeln!(
                out,
                "{}  {file}  {} {}",
                style("PASS").green().bold(),
                run.name,
                style(time).dim()
            );
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(
                out,
                "{}  {file}  {} {}",
                style("SKIP").yellow().bold(),
                run.name,
                style(format!("({reason})")).dim()
            );
        }
        Outcome::Unsupported(f) => {
            let _ = writeln!(
                out,
                "{}  {file}  {} {}",
                style("UNSUPPORTED").yellow().bold(),
                run.name,
                style(time).dim()
            );
            let _ = writeln!(
                out,
                "      step {} ({}): {}",
                style(&f.step).bold(),
                style(&f.location).cyan(),
                f.message
            );
            for d in &f.details {
                let _ = writeln!(out, "        - {d}");
            }
            let _ = writeln!(
                out,
                "      {}",
                style("listed as unsupported: the scenario stopped there").dim()
            );
        }
        Outcome::Failed(f) => {
            let label = match f.kind {
                FailureKind::Unsupported => "UNSUPPORTED",
                _ => "FAIL",
            };
            let _ = writeln!(
                out,
                "{}  {file}  {} {}",
                style(label).red().bold(),
                run.name,
                style(time).dim()
            );
            let _ = writeln!(out, "      step {}", style(&f.step).bold());
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
    }
    for d in &run.known_deviations {
        let _ = writeln!(out, "      {} {d}", style("known deviation:").dim());
    }
    for w in &run.warnings {
        let _ = writeln!(out, "      {} {w}", style("warning:").yellow());
    }
    out
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

/// Counts of a finished run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Stopped at a step listed as unsupported by the target (not failures).
    pub unsupported: usize,
    pub invalid: usize,
}

impl Summary {
    /// Counts the runs and the invalid files.
    pub fn of(runs: &[ScenarioRun], invalid: usize) -> Summary {
        let mut s = Summary {
            invalid,
            ..Summary::default()
        };
        for r in runs {
            match r.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Skipped(_) => s.skipped += 1,
                Outcome::Failed(_) => s.failed += 1,
                Outcome::Unsupported(_) => s.unsupported += 1,
            }
        }
        s
    }

    /// `12 passed, 1 failed, 2 skipped` (and known-unsupported scenarios and invalid files, when any).
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        if self.unsupported > 0 {
            let _ = write!(line, ", {} known unsupported", self.unsupported);
        }
        if self.invalid > 0 {
            let _ = write!(line, ", {} invalid", self.invalid);
        }
        line
    }
}

/// The exit code: invalid files (2) weigh more than target failures (3),
/// which weigh more than mismatches (4), which weigh more than unlisted
/// unsupported operations (5). Listed unsupported steps do not fail.
pub fn exit_code(runs: &[ScenarioRun], invalid: usize) -> i32 {
    if invalid > 0 {
        return exit::INVALID_SCENARIO;
    }
    let worst = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(f) => Some(f.kind),
            _ => None,
        })
        .min();
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
    use crate::run::engine::Failure;

    fn run(outcome: Outcome) -> ScenarioRun {
        ScenarioRun {
            name: "n".into(),
            file: "f.yaml".into(),
            outcome,
            elapsed: Duration::ZERO,
            transcript: serde_json::Value::Null,
            skipped_steps: vec![],
            warnings: vec![],
            known_deviations: vec![],
        }
    }

    fn failed(kind: FailureKind) -> Outcome {
        Outcome::Failed(Box::new(Failure::new(kind, "s", "f.yaml:1:1", "m")))
    }

    #[test]
    fn exit_codes_by_failure_kind() {
        assert_eq!(exit_code(&[run(Outcome::Passed)], 0), 0);
        assert_eq!(exit_code(&[run(Outcome::Passed)], 1), 2);
        assert_eq!(exit_code(&[run(failed(FailureKind::Mismatch))], 0), 4);
        assert_eq!(
            exit_code(
                &[
                    run(failed(FailureKind::Mismatch)),
                    run(failed(FailureKind::Target))
                ],
                0
            ),
            3
        );
        assert_eq!(exit_code(&[run(failed(FailureKind::Scenario))], 0), 2);
        assert_eq!(exit_code(&[run(Outcome::Skipped("r".into()))], 0), 0);
        assert_eq!(exit_code(&[run(failed(FailureKind::Unsupported))], 0), 5);
        assert_eq!(
            exit_code(
                &[
                    run(failed(FailureKind::Unsupported)),
                    run(failed(FailureKind::Mismatch))
                ],
                0
            ),
            4
        );
        let known = Outcome::Unsupported(Box::new(Failure::new(
            FailureKind::Unsupported,
            "s",
            "f.yaml:1:1",
            "m",
        )));
        assert_eq!(exit_code(&[run(known)], 0), 0);
    }

    #[test]
    fn summary_line() {
        let runs = [
            run(Outcome::Passed),
            run(Outcome::Skipped("x".into())),
            run(failed(FailureKind::Target)),
        ];
        assert_eq!(
            Summary::of(&runs, 1).line(),
            "1 passed, 1 failed, 1 skipped, 1 invalid"
        );
        let known = Outcome::Unsupported(Box::new(Failure::new(
            FailureKind::Unsupported,
            "s",
            "f.yaml:1:1",
            "m",
        )));
        let runs = [run(Outcome::Passed), run(known)];
        assert_eq!(
            Summary::of(&runs, 0).line(),
            "1 passed, 0 failed, 0 skipped, 1 known unsupported"
        );
    }
}
