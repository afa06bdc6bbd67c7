//! Loading a set of scenario files and running them concurrently on one target.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::run::compare::{self, Listed};
use crate::run::deviations::Deviations;
use crate::run::engine::{Failure, FailureKind, Outcome, RunSettings, ScenarioRun, run_scenario};
use crate::run::snapshot::{self, ReferenceSource, SnapshotMode};
use crate::scenario::{Diagnostic, Loader, Scenario, discover};
use crate::targets::{Target, TargetSpec};

/// Scenarios that loaded, and files that did not.
pub struct LoadedSuite {
    pub scenarios: Vec<Scenario>,
    pub invalid: Vec<Vec<Diagnostic>>,
}

/// Finds and loads scenario files; `filter` keeps scenarios whose name, path
/// or tags contain it (case-insensitive). Broken files are collected, not fatal.
pub fn load(paths: &[PathBuf], filter: Option<&str>) -> Result<LoadedSuite, String> {
    let files = discover(paths)?;
    let mut loader = Loader::new();
    let mut suite = LoadedSuite {
        scenarios: Vec::new(),
        invalid: Vec::new(),
    };
    let filter = filter.map(str::to_lowercase);
    for file in files {
        match loader.load_scenario(&file) {
            Ok(s) => {
                let keep = filter.as_ref().is_none_or(|f| {
                    s.name.to_lowercase().contains(f)
                        || file.to_string_lossy().to_lowercase().contains(f)
                        || s.tags.iter().any(|t| t.to_lowercase() == *f)
                });
                if keep {
                    suite.scenarios.push(s);
                }
            }
            Err(diags) => suite.invalid.push(diags),
        }
    }
    Ok(suite)
}

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub jobs: usize,
    pub snapshots: SnapshotMode,
    pub snapshot_dir: PathBuf,
    pub run_id: String,
    /// Known deviations of the target (`--expectations`).
    pub deviations: Arc<Deviations>,
    /// Let scenarios change pools the run did not create (`--allow-existing-pool`).
    pub allow_existing_pool: bool,
}

/// A fresh run id: short, unique enough, valid in pool names.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Runs every scenario on `target`, at most `jobs` at once, calling
/// `on_done` as each finishes (in completion order). Returns runs in suite order.
pub async fn run(
    scenarios: Vec<Scenario>,
    target: Arc<Target>,
    options: &RunOptions,
    mut on_done: impl FnMut(&ScenarioRun),
) -> Vec<ScenarioRun> {
    let limit = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut set = JoinSet::new();
    let count = scenarios.len();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let (limit, target, options) = (limit.clone(), target.clone(), options.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            (index, run_one(&scenario, &target, &options).await)
        });
    }
    let mut runs: Vec<Option<ScenarioRun>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, run)) => {
                on_done(&run);
                runs[index] = Some(run);
            }
            Err(e) => eprintln!("internal error: a scenario task failed: {e}"),
        }
    }
    runs.into_iter().flatten().collect()
}

/// Runs one scenario, then checks its snapshot.
pub async fn run_one(scenario: &Scenario, target: &Target, options: &RunOptions) -> ScenarioRun {
    let spec = target.spec();
    let settings = RunSettings {
        target: spec.name().to_string(),
        run_id: options.run_id.clone(),
        deviations: options.deviations.clone(),
        // The stub's state is thrown away with it; other targets' is not.
        guard_existing_pools: !options.allow_existing_pool
            && !matches!(spec, TargetSpec::Stub { .. }),
    };
    let conn = match target.connect().await {
        Ok(c) => c,
        Err(e) => {
            return ScenarioRun {
                name: scenario.name.clone(),
                file: scenario.source.path.clone(),
                outcome: Outcome::Failed(Box::new(Failure::new(
                    FailureKind::Target,
                    "connect",
                    scenario.source.path.display().to_string(),
                    e.to_string(),
                ))),
                elapsed: Default::default(),
                transcript: serde_json::Value::Null,
                skipped_steps: Vec::new(),
                warnings: Vec::new(),
                known_deviations: Vec::new(),
            };
        }
    };
    let mut run = run_scenario(scenario, &conn, &settings).await;
    drop(conn);
    if matches!(run.outcome, Outcome::Passed) && !options.deviations.entries.is_empty() {
        judge_listed_deviations(&mut run, options);
    }
    if matches!(run.outcome, Outcome::Passed) {
        let mode = options.snapshots;
        let target_name = spec.name();
        let validation = match (spec, mode, target.region()) {
            (TargetSpec::Aws { .. }, SnapshotMode::Update, Some(region)) => {
                Some(snapshot::AwsValidation::today(&region))
            }
            _ => None,
        };
        let (dir, file, name) = (
            options.snapshot_dir.clone(),
            scenario.source.path.clone(),
            scenario.name.clone(),
        );
        let transcript = run.transcript.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let snap = snapshot::snapshot_name(&file);
            let suffix = snapshot::suffix_for(&dir, &snap, target_name, mode);
            snapshot::check_with_info(
                &dir,
                &snap,
                suffix.as_deref(),
                &file,
                &name,
                &transcript,
                mode,
                validation.as_ref(),
            )
        })
        .await
        .unwrap_or_else(|e| Err(format!("snapshot check failed: {e}")));
        if let Err(message) = checked {
            run.outcome = Outcome::Failed(Box::new(Failure::new(
                FailureKind::Mismatch,
                "snapshot",
                scenario.source.path.display().to_string(),
                message,
            )));
        }
    }
    run
}

/// Adds the listed deviations that show only in the comparison with the
/// reference snapshot to `known_deviations`, and warns about every listed one
/// that occurred neither there nor as a failed expectation (so the list shrinks).
fn judge_listed_deviations(run: &mut ScenarioRun, options: &RunOptions) {
    let reference =
        snapshot::load_reference(&options.snapshot_dir, &run.file, ReferenceSource::Aws)
            .ok()
            .flatten();
    let cell = compare::compare(
        run,
        reference.as_ref().map(|r| &r.transcript),
        &options.deviations,
    );
    let listed = options.deviations.for_scenario(&run.file);
    for d in listed {
        let as_reported = Listed::from(d);
        if cell.known.contains(&as_reported) && !run.known_deviations.contains(d) {
            run.known_deviations.push(d.clone());
        }
        if cell.unexpected_passes.contains(&as_reported) {
            let file = options
                .deviations
                .file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            let at = d
                .path
                .as_deref()
                .map(|p| format!(" › {p}"))
                .unwrap_or_default();
            run.warnings.push(format!(
                "listed deviation no longer occurs, remove it from {file}: {}{at}",
                d.step
            ));
        }
    }
}

/// The default snapshot mode for a target: the stub is the reference and is
/// always checked; other targets are compared only when asked.
pub fn default_snapshot_mode(spec: &TargetSpec) -> SnapshotMode {
    match spec {
        TargetSpec::Stub { .. } => SnapshotMode::Check,
        _ => SnapshotMode::Off,
    }
}
