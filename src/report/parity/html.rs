//! `parity.html`: one self-contained page (inline CSS, no script, no network)
//! with a coloured scenario × target matrix; clicking a cell opens its
//! per-step, per-path differences (reference vs actual) and each listed
//! deviation's kind and reason. All text is escaped.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Cell, Listed, ParityReport, ScenarioRow, Status, StepState};
use crate::run::snapshot::ReferenceSource;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px} h3{font-size:15px;margin:0 0 8px}
.muted{color:#656d76} code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:normal;word-break:normal;max-height:260px;overflow:auto}
table{border-collapse:collapse} th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:180px}
.card .score{font-size:26px;font-weight:600}
.matrix td.c{padding:0;text-align:center;min-width:110px}
.matrix td.c a{display:block;padding:6px 8px;color:inherit;text-decoration:none;font-weight:600}
.matrix td.c a:hover{outline:2px solid #0969da;outline-offset:-2px}
.pass{background:#dafbe1} .known-deviation{background:#fff8c5} .new-deviation{background:#ffcecb}
.unexpected-pass{background:#ffd8b5} .unsupported{background:#eaeef2} .skipped{background:#f6f8fa;color:#656d76}
.detail{display:none;border:2px solid #0969da;border-radius:8px;padding:12px 16px;margin:16px 0}
.detail:target{display:block}
.listed{color:#7d4e00} .new{color:#cf222e;font-weight:600}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:4px}
.checks td.v{font-weight:600;white-space:nowrap} .checks td.why{font-weight:400;white-space:normal;max-width:28em}
.enforced{background:#dafbe1} .not-enforced{background:#ffcecb;color:#82071e} .not-tested{background:#f6f8fa;color:#656d76}
td.why small{display:block;font-weight:400;color:#424a53}
"#;

/// The security-check grid, first on the page: verdicts in words (and a
/// CSS class), with the deciding step and reason under each that is not "enforced".
fn checks_grid(report: &ParityReport, out: &mut String) {
    if report.checks.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"checks\">Security checks</h2>\n<p class=\"muted\">Each catalogued rule (<code>checks/catalogue.yaml</code>) on each target, from the steps that name it. NOT ENFORCED: listed <code>not-enforced</code>, the target lets through what AWS refuses. Not tested: blocked or skipped. (inferred): only our own inference backs the rule.</p>\n<table class=\"checks\"><tr><th>check</th>");
    for t in &report.targets {
        let _ = write!(out, "<th>{}</th>", esc(&t.name));
    }
    out.push_str("</tr>\n");
    for row in &report.checks {
        let mark = if row.inferred {
            " <span class=\"muted\">(inferred)</span>"
        } else {
            ""
        };
        let kind = if row.security {
            ""
        } else {
            " <span class=\"muted\">(not security)</span>"
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{kind}{mark}<br><small class=\"muted\">{}</small></td>",
            esc(&row.id),
            esc(&row.rule)
        );
        for cell in &row.cells {
            let class = cell.verdict.name();
            let why = cell
                .reason()
                .map(|r| format!("<small>{}</small>", esc(&r)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<td class=\"v why {class}\">{}{why}</td>",
                esc(cell.verdict.text())
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// A status in words: the page needs no emoji font (colour comes from CSS).
fn text_label(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::KnownDeviation => "known deviation",
        Status::NewDeviation => "NEW DEVIATION",
        Status::UnexpectedPass => "unexpected pass",
        Status::Unsupported => "unsupported",
        Status::Skipped => "skipped",
    }
}

/// The whole page.
pub fn render(report: &ParityReport) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Cognito parity report</title>\n<style>",
    );
    out.push_str(STYLE);
    out.push_str("</style></head><body>\n<h1>Cognito parity report</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"muted\">Reference: {}. Parity score: share of compared steps (the steps that ran) whose normalised answer equals the reference; blocked steps, not run because an earlier step or the fixture did not produce their inputs, are counted apart. Parity debt: listed deviations. Exit code {}.</p>",
        report.reference_text(),
        report.exit_code
    );

    checks_grid(report, &mut out);
    out.push_str("<h2>Behaviour parity</h2>\n<div class=\"cards\">\n");
    for t in &report.targets {
        let score = t.score_text();
        let _ = write!(
            out,
            "<div class=\"card\"><h3>{}</h3><div class=\"score\">{score}</div><div class=\"muted\">{}</div><div class=\"muted\">{} / {} steps equal · {} blocked · debt {}</div><div class=\"muted\"><code>{}</code></div><div>",
            esc(&t.name),
            esc(&t.aspects_text()),
            t.equal_steps,
            t.compared_steps,
            t.blocked_steps,
            t.debt,
            esc(&t.spec)
        );
        for s in Status::ALL {
            let n = t.counts.get(s.name()).copied().unwrap_or(0);
            if n > 0 {
                let _ = write!(
                    out,
                    "<span class=\"{}\">{} {n}</span> ",
                    s.name(),
                    esc(text_label(s))
                );
            }
        }
        out.push_str("</div></div>\n");
    }
    let _ = writeln!(
        out,
        "</div>\n<p><strong>Total parity debt: {}</strong> listed deviation(s).</p>",
        report.debt_total
    );

    out.push_str("<p class=\"legend\">");
    for s in Status::ALL {
        let _ = write!(
            out,
            "<span class=\"{}\">{}</span>",
            s.name(),
            esc(text_label(s))
        );
    }
    out.push_str("</p>\n<h2 id=\"matrix\">Matrix <span class=\"muted\">(click a cell)</span></h2>\n<table class=\"matrix\"><tr><th>scenario</th>");
    for t in &report.targets {
        let _ = write!(out, "<th>{}</th>", esc(&t.name));
    }
    out.push_str("</tr>\n");
    for (i, row) in report.scenarios.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td>{}<br><code class=\"muted\">{}</code>{}</td>",
            esc(&row.name),
            esc(&row.file.display().to_string()),
            reference_badge(row)
        );
        for (j, cell) in row.cells.iter().enumerate() {
            let _ = write!(
                out,
                "<td class=\"c {}\"><a href=\"#d-{i}-{j}\">{}</a></td>",
                cell.status.name(),
                esc(text_label(cell.status))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");

    for (i, row) in report.scenarios.iter().enumerate() {
        for (j, cell) in row.cells.iter().enumerate() {
            detail(&mut out, &format!("d-{i}-{j}"), row, cell);
        }
    }

    if !report.invalid.is_empty() {
        out.push_str("<h2>Invalid scenario files</h2>\n");
        for text in &report.invalid {
            let _ = writeln!(out, "<pre>{}</pre>", esc(text));
        }
    }

    out.push_str("<h2>Listed deviations</h2>\n<table><tr><th>target</th><th>scenario</th><th>step › path</th><th>kind</th><th>this run</th><th>reason</th></tr>\n");
    let mut any = false;
    for row in &report.scenarios {
        for cell in &row.cells {
            let entries = cell
                .known
                .iter()
                .map(|l| (l, "occurred"))
                .chain(cell.unexpected_passes.iter().map(|l| (l, "did not occur")));
            for (l, seen) in entries {
                any = true;
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{seen}</td><td>{}</td></tr>",
                    esc(&cell.target),
                    esc(&row.file.display().to_string()),
                    esc(&step_path(l)),
                    esc(l.kind),
                    esc(l.reason.trim())
                );
            }
        }
    }
    if !any {
        out.push_str("<tr><td colspan=\"6\" class=\"muted\">none</td></tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

fn reference_badge(row: &ScenarioRow) -> String {
    match &row.reference {
        Some(r) if r.source == ReferenceSource::Aws => format!(
            "<br><span class=\"muted\">AWS-validated{}</span>",
            r.validated_on
                .as_deref()
                .map(|d| format!(" {}", esc(d)))
                .unwrap_or_default()
        ),
        Some(_) => String::new(),
        None => "<br><span class=\"new\">no reference</span>".into(),
    }
}

fn detail(out: &mut String, id: &str, row: &ScenarioRow, cell: &Cell) {
    let _ = write!(
        out,
        "<section class=\"detail\" id=\"{id}\"><p><a href=\"#matrix\">← back to the matrix</a></p><h3>{} · {} <span class=\"{}\">{}</span></h3>\n<p class=\"muted\"><code>{}</code>",
        esc(&cell.target),
        esc(&row.name),
        cell.status.name(),
        esc(text_label(cell.status)),
        esc(&row.file.display().to_string())
    );
    if let Some(r) = &row.reference {
        let _ = write!(
            out,
            " · compared with <code>{}</code>",
            esc(&r.file.display().to_string())
        );
    }
    out.push_str("</p>\n");
    if let Some(note) = &cell.note {
        let _ = writeln!(out, "<p>{}</p>", esc(note));
    }
    for f in &cell.failures {
        let step = match f.number {
            Some(n) => format!("step {n} “{}”", esc(&f.step)),
            None => format!("“{}”", esc(&f.step)),
        };
        let _ = write!(
            out,
            "<p class=\"new\">{step} failed ({}): {}</p>",
            esc(&f.location),
            esc(&f.message)
        );
        if !f.details.is_empty() {
            out.push_str("<ul>");
            for d in &f.details {
                let _ = write!(out, "<li><code>{}</code></li>", esc(d));
            }
            out.push_str("</ul>\n");
        }
    }
    if !cell.steps.is_empty() {
        out.push_str("<table><tr><th>step</th><th>path</th><th>reference</th><th>actual</th><th>deviation</th></tr>\n");
        for step in &cell.steps {
            let title = format!(
                "{}{}",
                esc(&step.step),
                step.call
                    .as_deref()
                    .map(|c| format!("<br><code class=\"muted\">{}</code>", esc(c)))
                    .unwrap_or_default()
            );
            if step.differences.is_empty() {
                let state = match (step.state, &step.blocked_by) {
                    (StepState::Blocked, Some(b)) => esc(&format!("not run: {b}")),
                    (StepState::Equal, _) => "equal".into(),
                    (StepState::Unsupported, _) => "unsupported by the target".into(),
                    (StepState::Failed, _) => "failed before an answer (see above)".into(),
                    (StepState::Skipped, _) => "skipped on this target".into(),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{title}</td><td colspan=\"4\" class=\"muted\">{state}</td></tr>"
                );
                continue;
            }
            for d in &step.differences {
                let path = if d.difference.path.is_empty() {
                    "(whole step)".to_string()
                } else {
                    d.difference.path.clone()
                };
                let (reference, actual) = match step.state {
                    StepState::MissingInRun => ("the step".into(), "(no such step)".into()),
                    StepState::NotInReference => ("(no such step)".into(), "the step".into()),
                    _ => (value(&d.difference.reference), value(&d.difference.actual)),
                };
                let deviation = match &d.listed {
                    Some(l) => format!(
                        "<span class=\"listed\">known: {}</span><br>{}",
                        esc(l.kind),
                        esc(l.reason.trim())
                    ),
                    None => format!(
                        "<span class=\"new\">new (not listed)</span><br><span class=\"muted\">would be kind {}</span>",
                        esc(d.suggested_kind)
                    ),
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{title}</td><td><code>{}</code></td><td><pre>{}</pre></td><td><pre>{}</pre></td><td>{deviation}</td></tr>",
                    esc(&path),
                    esc(&reference),
                    esc(&actual)
                );
            }
        }
        out.push_str("</table>\n");
    }
    list(
        out,
        "Listed deviations that occurred",
        &cell.known,
        "listed",
    );
    list(
        out,
        "Listed deviations that did not occur (remove them from the expectation file)",
        &cell.unexpected_passes,
        "new",
    );
    out.push_str("</section>\n");
}

fn list(out: &mut String, heading: &str, entries: &[Listed], class: &str) {
    if entries.is_empty() {
        return;
    }
    let _ = write!(out, "<p class=\"{class}\">{}</p><ul>", esc(heading));
    for l in entries {
        let _ = write!(
            out,
            "<li><code>{}</code> ({}): {}</li>",
            esc(&step_path(l)),
            esc(l.kind),
            esc(l.reason.trim())
        );
    }
    out.push_str("</ul>\n");
}

fn step_path(l: &Listed) -> String {
    match &l.path {
        Some(p) => format!("{} › {p}", l.step),
        None => format!("{} (whole step)", l.step),
    }
}

fn value(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
