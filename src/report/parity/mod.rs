//! Parity: the bundled suite on several targets, every step's normalised
//! answer compared with a reference snapshot, every difference classified
//! against the target's known deviations (`expectations/<target>.yaml`).
//!
//! The result is a scenario × target matrix of [`Status`]es with per-step,
//! per-path differences, a parity score and the parity debt per target. It is
//! written as Markdown, JSON (the [`ParityReport`] serialised; see
//! [`SCHEMA`]), one self-contained HTML page, and JUnit XML.
//!
//! Definitions:
//! - **compared steps** of a target: the reference's steps of every scenario
//!   that ran on it, minus steps skipped on that target and steps blocked
//!   there (not run because an earlier step, or the fixture, did not produce
//!   their inputs); a step that ran and was answered with an unsupported
//!   operation, or failed before an answer, counts as compared and unequal.
//! - **blocked steps**: counted apart, never scored.
//! - **parity score**: equal compared steps / compared steps (a step is equal
//!   when its normalised answer, `response` or `status` + `error`, equals the
//!   reference's; requests are not compared).
//! - **parity debt**: the deviations listed for the target (for the scenarios run).

pub mod html;
pub mod markdown;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::report::console::exit;
use crate::report::junit;
use crate::run::check_grid::{CheckRow, Verdict, check_grid};
use crate::run::compare::{Cell, Listed, Status, StepState, compare};
use crate::run::deviations::Deviations;
use crate::run::outcome::{Failure, FailureKind, ScenarioRun};
use crate::run::snapshot::{self, ReferenceSource, SnapshotMode};
use crate::run::suite::{self, RunOptions};
use crate::scenario::Scenario;
use crate::scenario::catalogue::Catalogue;
use crate::targets::{Target, TargetSpec};

/// The `schema` field of `parity.json`; bumped when a field changes meaning.
pub const SCHEMA: &str = "cognito-scenarios/parity/v2";

/// A target of a parity run: a label (which names its expectation file and
/// its column) and what to run on.
#[derive(Debug, Clone)]
pub struct ParityTarget {
    pub label: String,
    pub spec: TargetSpec,
    pub deviations: Arc<Deviations>,
}

/// Parses one `--targets` entry: a target as `run --target` takes it
/// (`stub`, `aws`, `endpoint=URL`, …), optionally labelled (`moto=endpoint=URL`).
/// The label defaults to the target's name.
pub fn parse_target(entry: &str) -> Result<(String, TargetSpec), String> {
    let entry = entry.trim();
    if let Ok(spec) = entry.parse::<TargetSpec>() {
        return Ok((spec.name().to_string(), spec));
    }
    if let Some((label, rest)) = entry.split_once('=')
        && !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && let Ok(spec) = rest.parse::<TargetSpec>()
    {
        return Ok((label.to_string(), spec));
    }
    Err(entry
        .parse::<TargetSpec>()
        .err()
        .unwrap_or_default()
        .replace("unknown target", "unknown target in --targets")
        + " (or LABEL=TARGET, e.g. moto=endpoint=http://127.0.0.1:5000)")
}

/// The reference a scenario was compared with.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceInfo {
    pub source: ReferenceSource,
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validated_on: Option<String>,
}

/// One row of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRow {
    pub file: PathBuf,
    pub name: String,
    /// `None` when the scenario has no reference snapshot (see `reference_problem`).
    pub reference: Option<ReferenceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_problem: Option<String>,
    /// One per target, in target order.
    pub cells: Vec<Cell>,
}

/// Totals of one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetSummary {
    pub name: String,
    /// The target as `run --target` takes it.
    pub spec: String,
    /// The expectation file read, if any.
    pub expectations: Option<PathBuf>,
    pub compared_steps: usize,
    pub equal_steps: usize,
    /// Reference steps not run because their inputs were missing (not scored).
    pub blocked_steps: usize,
    /// Percent of compared steps equal to the reference; `None` when nothing was compared.
    pub score: Option<f64>,
    /// Percent of compared steps with the reference's outcome (success with
    /// the same challenge or tokens, or an error with the same code).
    pub behaviour_score: Option<f64>,
    /// Percent of compared steps with the same outcome and the same fields.
    pub shape_score: Option<f64>,
    /// Percent of errors answered with the reference's code that have its text too.
    pub message_score: Option<f64>,
    /// Distinct deviations listed for the scenarios run (a target-wide entry counts once).
    pub debt: usize,
    /// Target-wide entries that occurred in none of the scenarios run (a
    /// warning: they may hold for scenarios this run left out).
    pub stale_wide: Vec<Listed>,
    /// Cells per status name.
    pub counts: BTreeMap<&'static str, usize>,
    /// Per cognito-idp operation the reference's steps call: how its steps fared here.
    pub operations: BTreeMap<String, OperationCoverage>,
}

/// How the steps calling one operation fared on a target (the coverage table).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperationCoverage {
    /// Steps that ran (not blocked, not skipped).
    pub ran: usize,
    /// Of those, answered as an unsupported operation.
    pub unsupported: usize,
    /// Of those, equal to the reference.
    pub equal: usize,
}

impl OperationCoverage {
    /// `implemented`, `unsupported` or `not exercised`, for the table.
    pub fn state(&self) -> &'static str {
        if self.ran == 0 {
            "not exercised"
        } else if self.unsupported == self.ran {
            "unsupported"
        } else {
            "implemented"
        }
    }
}

impl TargetSummary {
    /// The score as shown in reports: `97.5%`, or `n/a` when nothing was compared.
    pub fn score_text(&self) -> String {
        percent_text(self.score)
    }

    /// `behaviour 60.0%, shape 20.0%, messages 45.0%`.
    pub fn aspects_text(&self) -> String {
        format!(
            "behaviour {}, shape {}, messages {}",
            percent_text(self.behaviour_score),
            percent_text(self.shape_score),
            percent_text(self.message_score)
        )
    }
}

fn percent_text(score: Option<f64>) -> String {
    score
        .map(|s| format!("{s:.1}%"))
        .unwrap_or_else(|| "n/a".into())
}

impl ParityReport {
    /// What the steps were compared with, in words.
    pub fn reference_text(&self) -> &'static str {
        match self.reference {
            ReferenceSource::Aws => "AWS-validated snapshots where recorded, otherwise the stub's",
            ReferenceSource::Stub => "the stub's snapshots",
        }
    }
}

/// Everything a parity run found; serialised as `parity.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ParityReport {
    pub schema: &'static str,
    /// The preferred reference (`aws` falls back to the stub's snapshot per scenario).
    pub reference: ReferenceSource,
    pub targets: Vec<TargetSummary>,
    /// Every catalogued check the run's steps name, judged per target
    /// (security checks first): the report's first screen.
    pub checks: Vec<CheckRow>,
    pub scenarios: Vec<ScenarioRow>,
    /// Listed deviations over all targets.
    pub debt_total: usize,
    /// Scenario files that did not load (rendered diagnostics, no colour).
    pub invalid: Vec<String>,
    /// What the command exits with (see the README's exit codes).
    pub exit_code: i32,
}

/// How to run parity.
#[derive(Debug, Clone)]
pub struct ParityOptions {
    pub reference: ReferenceSource,
    pub snapshot_dir: PathBuf,
    /// Scenarios run at once on each target (`None`: the target's default,
    /// [`TargetSpec::jobs`]).
    pub jobs: Option<usize>,
    pub run_id: String,
}

/// Runs `scenarios` on every target (targets in parallel), then compares.
pub async fn run(
    scenarios: Vec<Scenario>,
    targets: &[ParityTarget],
    options: &ParityOptions,
    invalid: Vec<String>,
    on_done: impl Fn(&str, &ScenarioRun) + Send + Sync + Clone + 'static,
) -> ParityReport {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, t) in targets.iter().enumerate() {
        let (t, scenarios, on_done) = (t.clone(), scenarios.clone(), on_done.clone());
        let run_options = RunOptions {
            jobs: t.spec.jobs(options.jobs),
            snapshots: SnapshotMode::Off,
            snapshot_dir: options.snapshot_dir.clone(),
            run_id: options.run_id.clone(),
            deviations: t.deviations.clone(),
            // The bundled suite makes its own pools; never touch anyone else's.
            allow_existing_pool: false,
            label: (t.label != t.spec.name()).then(|| t.label.clone()),
            keep_transcripts: true,
        };
        tasks.spawn(async move {
            let runs = match Target::open(t.spec.clone()).await {
                Ok(target) => {
                    if let Some(emulator) = target.emulator() {
                        crate::errln!("{}", emulator.announcement());
                    }
                    suite::run(scenarios, Arc::new(target), &run_options, |r| {
                        on_done(&t.label, r)
                    })
                    .await
                }
                Err(e) => scenarios
                    .iter()
                    .map(|s| unreachable_target(s, &t, &e.to_string()))
                    .collect(),
            };
            (index, runs)
        });
    }
    let mut runs: Vec<Vec<ScenarioRun>> = vec![Vec::new(); targets.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, r)) = joined {
            runs[index] = r;
        }
    }
    compare_runs(&scenarios, targets, &runs, options, invalid)
}

fn unreachable_target(scenario: &Scenario, target: &ParityTarget, error: &str) -> ScenarioRun {
    let failure = Failure::new(
        FailureKind::Target,
        "connect",
        scenario.source.path.display().to_string(),
        format!("target {}: {error}", target.spec),
    );
    ScenarioRun::failed(&scenario.name, &scenario.source.path, failure)
}

/// Builds the report from finished runs (`runs[t]` holds target `t`'s runs).
pub fn compare_runs(
    scenarios: &[Scenario],
    targets: &[ParityTarget],
    runs: &[Vec<ScenarioRun>],
    options: &ParityOptions,
    invalid: Vec<String>,
) -> ParityReport {
    let mut rows = Vec::new();
    let mut references = BTreeMap::new();
    for scenario in scenarios {
        let file = &scenario.source.path;
        let (reference, reference_problem) =
            match snapshot::load_reference(&options.snapshot_dir, file, options.reference) {
                Ok(Some(r)) => (Some(r), None),
                Ok(None) => (
                    None,
                    Some(format!(
                        "no reference snapshot for {} in {}",
                        file.display(),
                        options.snapshot_dir.display()
                    )),
                ),
                Err(e) => (None, Some(e)),
            };
        let cells = targets
            .iter()
            .zip(runs)
            .map(|(t, runs)| {
                let missing;
                let run = match runs.iter().find(|r| &r.file == file) {
                    Some(run) => run,
                    None => {
                        missing = unreachable_target(scenario, t, "internal error: no result");
                        &missing
                    }
                };
                let mut cell = compare(
                    run,
                    reference.as_ref().map(|r| &r.transcript),
                    &t.deviations,
                );
                cell.target = t.label.clone();
                if cell.note.is_none() && cell.status != Status::Skipped {
                    cell.note = reference_problem.clone();
                }
                cell
            })
            .collect();
        if let Some(r) = &reference {
            references.insert(file.clone(), r.clone());
        }
        rows.push(ScenarioRow {
            file: file.clone(),
            name: scenario.name.clone(),
            reference: reference.map(|r| ReferenceInfo {
                source: r.source,
                file: r.file,
                validated_on: r.validated_on,
            }),
            reference_problem,
            cells,
        });
    }
    let summaries: Vec<TargetSummary> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| summarise(t, i, &rows, scenarios))
        .collect();
    let exit_code = exit_code(&rows, !invalid.is_empty());
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    ParityReport {
        schema: SCHEMA,
        reference: options.reference,
        debt_total: summaries.iter().map(|s| s.debt).sum(),
        checks: check_grid(Catalogue::bundled(), &labels, runs, |file| {
            references.get(file).map(|r| &r.transcript)
        }),
        targets: summaries,
        scenarios: rows,
        invalid,
        exit_code,
    }
}

fn summarise(
    t: &ParityTarget,
    index: usize,
    rows: &[ScenarioRow],
    scenarios: &[Scenario],
) -> TargetSummary {
    let cells: Vec<&Cell> = rows.iter().filter_map(|r| r.cells.get(index)).collect();
    let compared: usize = cells.iter().map(|c| c.compared_steps).sum();
    let equal: usize = cells.iter().map(|c| c.equal_steps).sum();
    let blocked: usize = cells.iter().map(|c| c.blocked_steps).sum();
    let percent =
        |part: usize, whole: usize| (whole > 0).then(|| 100.0 * part as f64 / whole as f64);
    let sum = |f: fn(&Cell) -> usize| cells.iter().map(|c| f(c)).sum::<usize>();
    let behaviour_score = percent(sum(|c| c.behaviour_equal), compared);
    let shape_score = percent(sum(|c| c.shape_equal), compared);
    let message_score = percent(sum(|c| c.message_equal), sum(|c| c.message_steps));
    let mut operations: BTreeMap<String, OperationCoverage> = BTreeMap::new();
    for step in cells.iter().flat_map(|c| &c.steps) {
        let Some(op) = &step.call else { continue };
        let entry = operations.entry(op.clone()).or_default();
        match step.state {
            StepState::Blocked | StepState::Skipped | StepState::NotInReference => {}
            StepState::Equal => {
                entry.ran += 1;
                entry.equal += 1;
            }
            StepState::Unsupported => {
                entry.ran += 1;
                entry.unsupported += 1;
            }
            _ => entry.ran += 1,
        }
    }
    let mut counts = BTreeMap::new();
    for status in Status::ALL {
        counts.insert(
            status.name(),
            cells.iter().filter(|c| c.status == status).count(),
        );
    }
    // Distinct entries: a target-wide one counts once, however many steps it covers.
    let applying: Vec<&crate::run::deviations::Deviation> = t
        .deviations
        .entries
        .iter()
        .filter(|d| {
            scenarios
                .iter()
                .any(|s| d.names_scenario(&s.source.path.to_string_lossy()))
        })
        .collect();
    let debt = applying.len();
    // A target-wide entry that occurred in no scenario run may no longer hold.
    let stale_wide = applying
        .iter()
        .filter(|d| d.is_wide())
        .map(|d| Listed::from(*d))
        .filter(|l| !cells.iter().any(|c| c.known.contains(l)))
        .collect();
    TargetSummary {
        name: t.label.clone(),
        spec: t.spec.to_string(),
        expectations: t.deviations.file.clone(),
        compared_steps: compared,
        equal_steps: equal,
        blocked_steps: blocked,
        score: percent(equal, compared),
        behaviour_score,
        shape_score,
        message_score,
        debt,
        stale_wide,
        counts,
        operations,
    }
}

/// 2 when files are invalid, 3 when a target failed, 4 on a new deviation or
/// unexpected pass, 0 otherwise.
fn exit_code(rows: &[ScenarioRow], invalid: bool) -> i32 {
    let cells = || rows.iter().flat_map(|r| &r.cells);
    let any_failure = |kind: &str| cells().any(|c| c.failures.iter().any(|f| f.kind == kind));
    if invalid || any_failure("scenario") {
        exit::INVALID_SCENARIO
    } else if any_failure("target") {
        exit::TARGET
    } else if cells().any(|c| c.status.fails()) {
        exit::MISMATCH
    } else {
        exit::OK
    }
}

/// What the console shows after a parity run: per target score, debt and
/// counts, then every new deviation and unexpected pass.
pub fn summary(report: &ParityReport) -> String {
    use std::fmt::Write as _;
    let mut out = check_summary(report);
    for t in &report.targets {
        let score = t.score_text();
        let counts: Vec<String> = Status::ALL
            .iter()
            .filter_map(|s| {
                let n = t.counts.get(s.name()).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {}", s.name()))
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<14} parity {score:>6} ({}/{} steps, {} blocked; {}), debt {}: {}",
            t.name,
            t.equal_steps,
            t.compared_steps,
            t.blocked_steps,
            t.aspects_text(),
            t.debt,
            counts.join(", ")
        );
    }
    for row in &report.scenarios {
        for cell in row.cells.iter().filter(|c| c.status.fails()) {
            let (message, details) = markdown::cell_problems(cell);
            let _ = writeln!(
                out,
                "\n{} [{}] {}: {message}",
                cell.status.name().to_uppercase(),
                cell.target,
                row.file.display()
            );
            for line in details.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    for t in &report.targets {
        for l in &t.stale_wide {
            let at = l
                .path
                .as_deref()
                .map(|p| format!(" › {p}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "\nwarning: [{}] target-wide entry `{}`{at} occurred in none of the {} scenario(s) run; remove it if it occurs nowhere",
                t.name,
                l.step,
                report.scenarios.len()
            );
        }
    }
    let _ = writeln!(
        out,
        "\nparity debt: {} listed deviation(s); exit code {}",
        report.debt_total, report.exit_code
    );
    out
}

/// The security-check grid as text: one line per check, one column per target.
fn check_summary(report: &ParityReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("\n");
    if report.checks.is_empty() {
        return out;
    }
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let columns: Vec<usize> = report
        .targets
        .iter()
        .map(|t| t.name.len().max("NOT ENFORCED".len()))
        .collect();
    let _ = write!(out, "{:<width$}", "security check");
    for (t, w) in report.targets.iter().zip(&columns) {
        let _ = write!(out, "  {:<w$}", t.name);
    }
    out.push('\n');
    for row in report.checks.iter().filter(|r| r.security) {
        let mark = if row.inferred { " (inferred)" } else { "" };
        let _ = write!(out, "{:<width$}", row.id);
        for (cell, w) in row.cells.iter().zip(&columns) {
            let _ = write!(out, "  {:<w$}", cell.verdict.text());
        }
        let _ = writeln!(out, "{mark}");
    }
    for (i, t) in report.targets.iter().enumerate() {
        let count = |v: Verdict| {
            report
                .checks
                .iter()
                .filter(|r| r.security && r.cells.get(i).is_some_and(|c| c.verdict == v))
                .count()
        };
        let not_enforced = count(Verdict::NotEnforced);
        if not_enforced
            + count(Verdict::NewDeviation)
            + count(Verdict::Unsupported)
            + count(Verdict::NotTested)
            == 0
        {
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} enforced, {not_enforced} NOT ENFORCED, {} new deviation, {} unsupported, {} not tested",
            t.name,
            count(Verdict::Enforced),
            count(Verdict::NewDeviation),
            count(Verdict::Unsupported),
            count(Verdict::NotTested)
        );
    }
    out.push('\n');
    out
}

/// Writes `parity.md`, `parity.json`, `parity.html` and `junit.xml` into `dir`.
pub fn write_outputs(report: &ParityReport, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    let files = [
        ("parity.md", markdown::render(report)),
        ("parity.json", json + "\n"),
        ("parity.html", html::render(report)),
        ("junit.xml", junit::render(&junit_suites(report))),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// One JUnit test suite per target, one test case per scenario.
pub fn junit_suites(report: &ParityReport) -> Vec<junit::Suite> {
    report
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| junit::Suite {
            name: format!("parity.{}", t.name),
            cases: report
                .scenarios
                .iter()
                .filter_map(|row| {
                    let cell = row.cells.get(i)?;
                    let result = match cell.status {
                        Status::Skipped => junit::CaseResult::Skipped(
                            cell.note
                                .clone()
                                .unwrap_or_else(|| cell.status.name().into()),
                        ),
                        s if s.fails() => {
                            let (message, details) = markdown::cell_problems(cell);
                            let kinds = || cell.failures.iter().map(|f| f.kind);
                            junit::CaseResult::Failed {
                                message,
                                details,
                                kind: if kinds().any(|k| k == "scenario") {
                                    junit::Problem::Scenario
                                } else if kinds().any(|k| k == "target") {
                                    junit::Problem::Error
                                } else {
                                    junit::Problem::Mismatch
                                },
                            }
                        }
                        // Ran: listed unsupported steps are noted, not skipped.
                        _ => junit::CaseResult::Passed,
                    };
                    let notes = cell
                        .note
                        .iter()
                        .filter(|_| cell.status == Status::Unsupported);
                    let blocked = cell.steps.iter().filter_map(|s| {
                        s.blocked_by
                            .as_ref()
                            .map(|b| format!("step `{}`: {b}", s.step))
                    });
                    let out = notes
                        .map(|n| format!("unsupported: {n}"))
                        .chain(blocked)
                        .chain(
                            cell.known
                                .iter()
                                .map(|k| format!("known deviation: {}", markdown::listed_line(k))),
                        )
                        .collect::<Vec<_>>()
                        .join("\n");
                    Some(junit::Case {
                        name: row.name.clone(),
                        classname: row.file.display().to_string(),
                        time: None,
                        result,
                        system_out: (!out.is_empty()).then_some(out),
                    })
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_optional_labels() {
        assert_eq!(parse_target("stub").unwrap().0, "stub");
        let (label, spec) = parse_target("moto=endpoint=http://127.0.0.1:5000").unwrap();
        assert_eq!(label, "moto");
        assert_eq!(
            spec,
            TargetSpec::Endpoint {
                url: "http://127.0.0.1:5000".into()
            }
        );
        assert_eq!(
            parse_target("endpoint=http://127.0.0.1:1").unwrap().0,
            "endpoint"
        );
        let err = parse_target("mot").unwrap_err();
        assert!(err.contains("LABEL=TARGET"), "{err}");
    }
}
