//! `parity.md`: the matrix, scores and debt, and every new deviation and
//! unexpected pass with its per-path differences (for CI summaries).

use std::fmt::Write as _;

use serde_json::Value;

use super::ParityReport;
use crate::run::compare::{Cell, FailureInfo, Listed, PathDifference, Status, StepComparison};
use crate::run::snapshot::ReferenceSource;

/// A short label with an emoji, for tables.
pub fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::KnownDeviation => "🟡 known",
        Status::NewDeviation => "❌ new",
        Status::UnexpectedPass => "⚠️ unexpected pass",
        Status::Unsupported => "⛔ unsupported",
        Status::Skipped => "⏭️ skipped",
    }
}

/// The header of a table with one column per target after `first`, and
/// its separator line (without the final newline).
fn target_columns(report: &ParityReport, first: &str) -> String {
    let mut out = format!("| {first} |");
    for t in &report.targets {
        let _ = write!(out, " {} |", cell_text(&t.name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(report.targets.len()));
    out
}

/// The security-check grid: check × target, each cell a verdict in words
/// with, where it is not "enforced", the step and reason that decided it.
fn checks_table(report: &ParityReport) -> String {
    let mut out = String::new();
    if report.checks.is_empty() {
        return out;
    }
    out.push_str("## Security checks\n\nEach catalogued rule (`checks/catalogue.yaml`) on each target, from the steps that name it: **enforced**, **NOT ENFORCED** (listed `not-enforced`: the target lets through what AWS refuses), **new deviation**, **unsupported**, or **not tested** (blocked or skipped). *(inferred)*: only our own inference backs the rule.\n\n");
    out.push_str(&target_columns(report, "check"));
    out.push('\n');
    for row in &report.checks {
        let mark = if row.inferred { " *(inferred)*" } else { "" };
        let kind = if row.security { "" } else { " (not security)" };
        let _ = write!(out, "| `{}`{kind}{mark} |", row.id);
        for cell in &row.cells {
            let verdict = cell.verdict.text();
            match cell.reason() {
                Some(reason) => {
                    let reason: String = reason.chars().take(140).collect();
                    let _ = write!(out, " **{verdict}**: {} |", cell_text(&reason));
                }
                None => {
                    let _ = write!(out, " {verdict} |");
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Per-operation coverage per target: implemented / unsupported / not
/// exercised, with equal / ran steps.
fn operations_table(report: &ParityReport) -> String {
    let mut ops: Vec<&String> = report
        .targets
        .iter()
        .flat_map(|t| t.operations.keys())
        .collect();
    ops.sort();
    ops.dedup();
    if ops.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Operations\n\nPer operation the reference's steps call: implemented (answered at least once as an implemented operation), unsupported, or not exercised (its steps were blocked or skipped), with equal / ran steps.\n\n",
    );
    out.push_str(&target_columns(report, "operation"));
    out.push('\n');
    for op in ops {
        let _ = write!(out, "| {op} |");
        for t in &report.targets {
            match t.operations.get(op) {
                Some(c) => {
                    let _ = write!(out, " {} ({} / {}) |", c.state(), c.equal, c.ran);
                }
                None => out.push_str(" not exercised |"),
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The whole Markdown document.
pub fn render(report: &ParityReport) -> String {
    let mut out = String::from("# Cognito parity report\n\n");
    let aws = report
        .scenarios
        .iter()
        .filter(|s| {
            s.reference
                .as_ref()
                .is_some_and(|r| r.source == ReferenceSource::Aws)
        })
        .count();
    let _ = writeln!(
        out,
        "Reference: {} ({aws} of {} scenarios compared with an AWS-validated snapshot).\n",
        report.reference_text(),
        report.scenarios.len()
    );
    out.push_str(&checks_table(report));
    out.push_str("## Behaviour parity\n\n");
    out.push_str(
        "| target | parity score | behaviour | shape | messages | equal / compared steps | blocked steps | parity debt | ",
    );
    out.push_str(&Status::ALL.map(label).join(" | "));
    out.push_str(" |\n|---|---|---|---|---|---|---|---|");
    out.push_str(&"---|".repeat(Status::ALL.len()));
    out.push('\n');
    for t in &report.targets {
        let score = t.score_text();
        let _ = write!(
            out,
            "| {} | {score} | {} | {} | {} | {} / {} | {} | {} |",
            cell_text(&t.name),
            super::percent_text(t.behaviour_score),
            super::percent_text(t.shape_score),
            super::percent_text(t.message_score),
            t.equal_steps,
            t.compared_steps,
            t.blocked_steps,
            t.debt
        );
        for s in Status::ALL {
            let _ = write!(out, " {} |", t.counts.get(s.name()).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n**Parity debt: {} listed deviation(s)** over all targets. Exit code {}.\n\n\
         Scores are over the steps that ran; blocked steps (not run because an \
         earlier step or the fixture did not produce their inputs) are counted apart. \
         Parity score: the whole answer equals the reference's. Behaviour: the same \
         outcome (success with the same challenge or tokens, or the same error code). \
         Shape: the same outcome and the same fields. Messages: of the errors with the \
         reference's code, those with its text too.\n",
        report.debt_total, report.exit_code
    );

    out.push_str(&operations_table(report));
    out.push_str("## Matrix\n\n");
    out.push_str(&target_columns(report, "scenario"));
    out.push('\n');
    for row in &report.scenarios {
        let _ = write!(
            out,
            "| {} <br>`{}` |",
            cell_text(&row.name),
            cell_text(&row.file.display().to_string())
        );
        for cell in &row.cells {
            let _ = write!(out, " {} |", label(cell.status));
        }
        out.push('\n');
    }

    if !report.invalid.is_empty() {
        out.push_str("\n## Invalid scenario files\n\n");
        for text in &report.invalid {
            let _ = writeln!(out, "```text\n{}\n```", text.trim_end());
        }
    }

    let failing: Vec<_> = report
        .scenarios
        .iter()
        .flat_map(|row| row.cells.iter().map(move |c| (row, c)))
        .filter(|(_, c)| c.status == Status::NewDeviation)
        .collect();
    if !failing.is_empty() {
        out.push_str("\n## New deviations\n\nNot listed in the target's expectation file: fix the target, or list them with a reason.\n");
        for (row, cell) in failing {
            let _ = writeln!(
                out,
                "\n### {} · {}\n",
                cell_text(&cell.target),
                row.file.display()
            );
            for f in &cell.failures {
                let _ = writeln!(
                    out,
                    "- {} failed ({}): {}",
                    failed_step(f),
                    f.location,
                    f.message
                );
                for d in &f.details {
                    let _ = writeln!(out, "  - {}", d.replace('\n', " "));
                }
            }
            for (step, d) in cell.new_differences() {
                let _ = writeln!(out, "- {}", difference_line(step, d));
            }
        }
    }

    let entries = suggested_entries(report);
    if !entries.is_empty() {
        out.push_str("\n<details><summary>Expectation-file entries for the new differences (write each reason before committing)</summary>\n\n```yaml\n");
        out.push_str(&entries);
        out.push_str("```\n\n</details>\n");
    }

    let unexpected: Vec<_> = report
        .scenarios
        .iter()
        .flat_map(|row| {
            row.cells
                .iter()
                .flat_map(move |c| c.unexpected_passes.iter().map(move |l| (row, c, l)))
        })
        .collect();
    if !unexpected.is_empty() {
        out.push_str("\n## Unexpected passes\n\nListed deviations that did not occur: remove them from the expectation file.\n\n");
        for (row, cell, listed) in unexpected {
            let _ = writeln!(
                out,
                "- {} · {} · {}",
                cell_text(&cell.target),
                row.file.display(),
                listed_line(listed)
            );
        }
    }

    let known: Vec<_> = report
        .scenarios
        .iter()
        .flat_map(|row| {
            row.cells
                .iter()
                .flat_map(move |c| c.known.iter().map(move |l| (row, c, l)))
        })
        .collect();
    if !known.is_empty() {
        let _ = writeln!(
            out,
            "\n## Known deviations\n\n<details><summary>{} listed deviation(s) occurred</summary>\n",
            known.len()
        );
        for (row, cell, listed) in known {
            let _ = writeln!(
                out,
                "- {} · {} · {}",
                cell_text(&cell.target),
                row.file.display(),
                listed_line(listed)
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// YAML entries, one per target, scenario, step and path of a new difference,
/// with an empty `reason` (the loader refuses it until someone writes why).
pub fn suggested_entries(report: &ParityReport) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for row in &report.scenarios {
        for cell in &row.cells {
            for (step, d) in cell.new_differences() {
                let key = (&cell.target, &row.file, &step.step, &d.difference.path);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let _ = writeln!(
                    out,
                    "# expectations/{}.yaml\n- scenario: {}\n  step: {}",
                    cell.target,
                    yaml_string(&row.file.display().to_string()),
                    yaml_string(&step.step)
                );
                if !d.difference.path.is_empty() {
                    let _ = writeln!(out, "  path: {}", yaml_string(&d.difference.path));
                }
                let _ = writeln!(out, "  kind: {}\n  reason:", d.suggested_kind);
            }
        }
    }
    out
}

/// A double-quoted YAML string (JSON's escaping is valid YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// `step › path (kind): reason`.
pub fn listed_line(l: &Listed) -> String {
    let path = l
        .path
        .as_deref()
        .map(|p| format!(" › {p}"))
        .unwrap_or_default();
    format!(
        "{}{path} ({}): {}",
        l.step,
        l.kind,
        l.reason.trim().replace('\n', " ")
    )
}

/// One difference as a line: where, how, reference → actual.
pub fn difference_line(step: &StepComparison, d: &PathDifference) -> String {
    let at = if d.difference.path.is_empty() {
        String::from("(whole step)")
    } else {
        code(&d.difference.path)
    };
    let what = match step.state {
        super::StepState::MissingInRun => {
            "the run has no such step (is the reference out of date?)".into()
        }
        super::StepState::NotInReference => {
            "the reference has no such step (is it out of date?)".into()
        }
        _ => format!(
            "{}: reference {} → actual {}",
            d.suggested_kind,
            d.difference
                .reference
                .as_ref()
                .map(|v| code(&compact(v)))
                .unwrap_or_else(|| "(absent)".into()),
            d.difference
                .actual
                .as_ref()
                .map(|v| code(&compact(v)))
                .unwrap_or_else(|| "(absent)".into()),
        ),
    };
    format!("step {} › {at}: {what}", code(&step.step))
}

/// `step 3 `sign in`` (or `` `pool fixture` `` for a failure outside the steps).
fn failed_step(f: &FailureInfo) -> String {
    match f.number {
        Some(n) => format!("step {n} {}", code(&f.step)),
        None => code(&f.step),
    }
}

/// A failing cell's summary line and details (for JUnit): every failure,
/// new difference and unexpected pass.
pub fn cell_problems(cell: &Cell) -> (String, String) {
    let mut details = String::new();
    for f in &cell.failures {
        let at = match f.number {
            Some(n) => format!("step {n} `{}`", f.step),
            None => format!("`{}`", f.step),
        };
        let _ = writeln!(details, "{at} failed ({}): {}", f.location, f.message);
        for d in &f.details {
            let _ = writeln!(details, "  - {d}");
        }
    }
    let mut new = 0;
    for (step, d) in cell.new_differences() {
        new += 1;
        let _ = writeln!(details, "new deviation: {}", difference_line(step, d));
    }
    for l in &cell.unexpected_passes {
        let _ = writeln!(
            details,
            "unexpected pass (remove from the expectation file): {}",
            listed_line(l)
        );
    }
    let message = match (cell.failures.as_slice(), cell.status) {
        ([f], _) => format!("step `{}`: {}", f.step, f.message),
        ([], Status::UnexpectedPass) => format!(
            "{} listed deviation(s) did not occur",
            cell.unexpected_passes.len()
        ),
        ([], _) => format!("{new} difference(s) from the reference not listed"),
        (failures, _) => format!(
            "{} failures: {}",
            failures.len(),
            failures
                .iter()
                .map(|f| format!("`{}`", f.step))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    (message, details)
}

/// Compact JSON, cut to a readable length.
fn compact(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

/// Inline code that survives backticks and table pipes inside.
fn code(text: &str) -> String {
    let text = text.replace('\n', " ").replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Text for a table cell.
fn cell_text(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}
