//! JUnit XML, so CI systems show scenario results natively: one
//! `<testsuite>` per target, one `<testcase>` per scenario, `<failure>` with
//! the step and details, `<skipped>` with the reason.
//!
//! Everything written comes from normalised, scrubbed run data.

use std::fmt::Write as _;

use crate::run::engine::{Outcome, ScenarioRun};

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
    Failed { message: String, details: String },
    Skipped(String),
}

/// The suite of one `run`: a case per scenario and a failed case per file that did not load.
pub fn suite_of_runs(target: &str, runs: &[ScenarioRun], invalid: &[(String, String)]) -> Suite {
    let mut cases: Vec<Case> = runs
        .iter()
        .map(|run| {
            let result = match &run.outcome {
                Outcome::Passed => CaseResult::Passed,
                Outcome::Skipped(reason) => CaseResult::Skipped(reason.clone()),
                Outcome::Unsupported(f) => {
                    CaseResult::Skipped(format!("known unsupported at `{}`: {}", f.step, f.message))
                }
                Outcome::Failed(f) => {
                    let mut details = format!("step: {}\nat: {}\n", f.step, f.location);
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
                    CaseResult::Failed {
                        message: format!("step `{}`: {}", f.step, f.message),
                        details,
                    }
                }
            };
            let mut out = String::new();
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
            },
            system_out: None,
        });
    }
    Suite {
        name: target.to_string(),
        cases,
    }
}

/// The XML document for `suites`.
pub fn render(suites: &[Suite]) -> String {
    let count = |f: fn(&CaseResult) -> bool| -> usize {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| f(&c.result))
            .count()
    };
    let total: usize = suites.iter().map(|s| s.cases.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cognito-scenarios\" tests=\"{total}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        count(|r| matches!(r, CaseResult::Failed { .. })),
        count(|r| matches!(r, CaseResult::Skipped(_))),
    );
    for suite in suites {
        let failures = suite
            .cases
            .iter()
            .filter(|c| matches!(c.result, CaseResult::Failed { .. }))
            .count();
        let skipped = suite
            .cases
            .iter()
            .filter(|c| matches!(c.result, CaseResult::Skipped(_)))
            .count();
        // (An empty f64 sum is -0.0.)
        let time = suite
            .cases
            .iter()
            .filter_map(|c| c.time)
            .fold(0.0_f64, |a, b| a + b);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            attr(&suite.name),
            suite.cases.len(),
        );
        for case in &suite.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                attr(&case.name),
                attr(&case.classname)
            );
            if let Some(t) = case.time {
                let _ = write!(out, " time=\"{t:.3}\"");
            }
            out.push_str(">\n");
            match &case.result {
                CaseResult::Passed => {}
                CaseResult::Failed { message, details } => {
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"mismatch\">{}</failure>",
                        attr(message),
                        escape(details)
                    );
                }
                CaseResult::Skipped(reason) => {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(reason));
                }
            }
            if let Some(text) = &case.system_out {
                let _ = writeln!(out, "      <system-out>{}</system-out>", escape(text));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for element content, dropping characters XML 1.0 cannot hold.
pub fn escape(text: &str) -> String {
    escape_xml(text, false)
}

/// Escapes an attribute value (line breaks kept as `&#10;`).
fn attr(text: &str) -> String {
    escape_xml(text, true)
}

fn escape_xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\n' => out.push('\n'),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::engine::Failure;

    fn run(name: &str, outcome: Outcome) -> ScenarioRun {
        ScenarioRun {
            name: name.into(),
            file: format!("scenarios/{name}.yaml").into(),
            outcome,
            elapsed: std::time::Duration::from_millis(1500),
            transcript: serde_json::Value::Null,
            skipped_steps: vec![],
            warnings: vec![],
            known_deviations: vec![],
        }
    }

    #[test]
    fn suites_count_and_escape() {
        let mut f = Failure::new(
            crate::run::engine::FailureKind::Mismatch,
            "sign <in>",
            "a.yaml:3:5",
            "InitiateAuth did not answer as expected",
        );
        f.details = vec!["ChallengeName: expected \"X\" & got 'Y'\u{1b}".into()];
        let runs = [
            run("ok", Outcome::Passed),
            run("bad", Outcome::Failed(Box::new(f))),
            run("skip", Outcome::Skipped("only on aws".into())),
        ];
        let xml = render(&[suite_of_runs(
            "stub",
            &runs,
            &[("broken.yaml".into(), "x <y>".into())],
        )]);
        assert!(xml.contains("tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"1\""));
        assert!(
            xml.contains("<testcase name=\"ok\" classname=\"scenarios/ok.yaml\" time=\"1.500\">")
        );
        assert!(xml.contains(
            "message=\"step `sign &lt;in&gt;`: InitiateAuth did not answer as expected\""
        ));
        assert!(xml.contains("expected &quot;X&quot; &amp; got &apos;Y&apos;\n"));
        assert!(!xml.contains('\u{1b}'));
        assert!(xml.contains("<skipped message=\"only on aws\"/>"));
    }
}
