//! Loading a set of scenario files and running them concurrently on one target.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::run::compare::{self, Listed};
use crate::run::deviations::Deviations;
use crate::run::engine::{RunSettings, run_scenario};
use crate::run::outcome::{Failure, FailureKind, Outcome, ScenarioRun, StepOutcome};
use crate::run::snapshot::{self, ReferenceSource, SnapshotMode};
use crate::scenario::{Diagnostic, Loader, Scenario, discover, is_flow_file, suite_roots};
use crate::targets::slots::{JobSlot, JobSlots};
use crate::targets::{Target, TargetSpec};

/// Scenarios that loaded, and files that did not.
pub struct LoadedSuite {
    pub scenarios: Vec<Scenario>,
    pub invalid: Vec<Vec<Diagnostic>>,
    /// Flow files named in `paths` (in a `flows/` folder) that are valid.
    pub flows: usize,
}

/// Finds and loads scenario files; `filter` keeps scenarios whose name or
/// path relative to the folder given (without `.yaml`; see [`filter_path`])
/// contains it, or that have it as a tag (case-insensitive). Broken files are
/// collected, not fatal. `labels` are target names `only:`/`skip:` may use
/// besides the built-in ones (a parity run's labels). Flow files are checked
/// as flows. `use:` reads only files under the suite's roots
/// ([`suite_roots`]) unless `allow_outside_root`.
pub fn load(
    paths: &[PathBuf],
    filter: Option<&str>,
    labels: &[String],
    allow_outside_root: bool,
) -> Result<LoadedSuite, String> {
    let files = discover(paths)?;
    let mut loader = Loader::new().with_labels(labels.iter().cloned());
    if !allow_outside_root {
        loader = loader.confined_to(suite_roots(paths));
    }
    let mut suite = LoadedSuite {
        scenarios: Vec::new(),
        invalid: Vec::new(),
        flows: 0,
    };
    let filter = filter.map(str::to_lowercase);
    for file in files {
        if is_flow_file(&file) {
            match loader.load_flow(&file) {
                Ok(_) => suite.flows += 1,
                Err(diags) => suite.invalid.push(diags),
            }
            continue;
        }
        match loader.load_scenario(&file) {
            Ok(s) => {
                let keep = filter.as_ref().is_none_or(|f| {
                    s.name.to_lowercase().contains(f)
                        || filter_path(paths, &file).to_lowercase().contains(f)
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

/// What `--filter` matches of a file's path: the path below the folder it was
/// found in (`mfa/totp-required` for `scenarios/mfa/totp-required.yaml` found
/// in `scenarios`), or the file name of a file given directly, without the
/// extension: neither the folders above the suite nor `.yaml` (which every
/// file has) select anything.
pub fn filter_path(roots: &[PathBuf], file: &FsPath) -> String {
    let relative = roots
        .iter()
        .filter(|root| root.is_dir())
        .find_map(|root| file.strip_prefix(root).ok())
        .filter(|rel| !rel.as_os_str().is_empty())
        .map(FsPath::to_path_buf)
        .or_else(|| file.file_name().map(PathBuf::from))
        .unwrap_or_else(|| file.to_path_buf());
    relative.with_extension("").to_string_lossy().into_owned()
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
    /// The target's parity label, when it has one besides its name.
    pub label: Option<String>,
    /// Keep each run's transcript after its snapshot is checked (`parity`
    /// compares them at the end); `run` drops it, so memory does not grow
    /// with the number of scenarios by their responses.
    pub keep_transcripts: bool,
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
    let slots = JobSlots::new(options.jobs);
    let mut set = JoinSet::new();
    let count = scenarios.len();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let (slots, target, options) = (slots.clone(), target.clone(), options.clone());
        set.spawn(async move {
            let slot = slots.acquire().await;
            (index, run_one_in(&scenario, &target, &options, slot).await)
        });
    }
    let mut runs: Vec<Option<ScenarioRun>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, run)) => {
                on_done(&run);
                runs[index] = Some(run);
            }
            Err(e) => crate::errln!("internal error: a scenario task failed: {e}"),
        }
    }
    runs.into_iter().flatten().collect()
}

/// Runs one scenario, then checks its snapshot.
pub async fn run_one(scenario: &Scenario, target: &Target, options: &RunOptions) -> ScenarioRun {
    run_one_in(scenario, target, options, JobSlot::default()).await
}

/// [`run_one`] holding `slot`, which it gives back while it waits.
pub async fn run_one_in(
    scenario: &Scenario,
    target: &Target,
    options: &RunOptions,
    slot: JobSlot,
) -> ScenarioRun {
    let spec = target.spec();
    let settings = RunSettings {
        target: spec.name().to_string(),
        label: options.label.clone(),
        run_id: options.run_id.clone(),
        deviations: options.deviations.clone(),
        // The stub's state is thrown away with it; other targets' is not.
        guard_existing_pools: !options.allow_existing_pool
            && !matches!(spec, TargetSpec::Stub { .. }),
        cleanup_args: cleanup_args(spec, target.region()),
    };
    let mut conn = match target.connect().await {
        Ok(c) => c,
        Err(e) => {
            let failure = Failure::new(
                FailureKind::Target,
                "connect",
                scenario.source.path.display().to_string(),
                e.to_string(),
            );
            return ScenarioRun::failed(&scenario.name, &scenario.source.path, failure);
        }
    };
    conn.slot = slot;
    let mut run = run_scenario(scenario, &conn, &settings).await;
    drop(conn);
    if run.skipped.is_none() && !options.deviations.entries.is_empty() {
        judge_listed_deviations(&mut run, options);
    }
    // A transcript with blocked or unsupported steps is not whole: nothing to check.
    if run.outcome() == Outcome::Passed && run.complete() {
        let mode = options.snapshots;
        let target_name = spec.name();
        let validation = match (spec, mode, target.region()) {
            (TargetSpec::Aws { .. }, SnapshotMode::Update, Some(region)) => {
                Some(snapshot::AwsValidation::today(&region))
            }
            _ => None,
        };
        let dir = options.snapshot_dir.clone();
        let (file, name) = (scenario.source.path.clone(), scenario.name.clone());
        let transcript = run.transcript.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let snap = snapshot::snapshot_name(&file);
            let suffix = snapshot::suffix_for(&dir, &snap, target_name, mode);
            let entry =
                snapshot::Entry::new(&dir, &file, suffix.as_deref(), &name, validation.as_ref());
            snapshot::check(&entry, &transcript, mode)
        })
        .await
        .unwrap_or_else(|e| {
            Err(snapshot::Mismatch {
                message: format!("snapshot check failed: {e}"),
                details: Vec::new(),
                hint: None,
            })
        });
        if let Err(mismatch) = checked {
            let mut failure = Failure::new(
                FailureKind::Mismatch,
                "snapshot",
                scenario.source.path.display().to_string(),
                mismatch.message,
            );
            failure.details = mismatch.details;
            failure.hint = mismatch.hint;
            run.errors.push(failure);
        }
    }
    if !options.keep_transcripts {
        run.transcript = serde_json::Value::Null;
    }
    run
}

/// Adds the listed deviations that show only in the comparison with the
/// reference snapshot to `known_deviations` (and to the result of their
/// step, which passed its expectations), and warns about every listed one
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
    let file = run.file.clone();
    let listed = options.deviations.for_scenario(&file);
    for d in listed {
        let as_reported = Listed::from(d);
        if cell.known.contains(&as_reported) && !run.known_deviations.contains(d) {
            run.known_deviations.push(d.clone());
            // The steps whose differences it covered (a target-wide entry: many).
            let steps: Vec<&str> = cell
                .steps
                .iter()
                .filter(|c| {
                    c.differences
                        .iter()
                        .any(|x| x.listed.as_ref() == Some(&as_reported))
                })
                .map(|c| c.step.as_str())
                .collect();
            note_listed(run, d, &steps);
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

/// Makes the passing or listed steps titled `steps` a known deviation (or
/// not enforced) that `d` covers.
fn note_listed(run: &mut ScenarioRun, d: &crate::run::deviations::Deviation, steps: &[&str]) {
    for step in run
        .steps
        .iter_mut()
        .filter(|s| steps.contains(&s.title.as_str()))
    {
        let mut listed = match &step.outcome {
            StepOutcome::Pass => Vec::new(),
            StepOutcome::KnownDeviation(l) | StepOutcome::NotEnforced(l) => l.clone(),
            _ => continue,
        };
        if !listed.contains(d) {
            listed.push(d.clone());
        }
        step.outcome = StepOutcome::listed(listed);
    }
}

/// The `cleanup` arguments for pools a run left on `spec` (`None`: the stub
/// and managed emulators take their pools with them).
fn cleanup_args(spec: &TargetSpec, region: Option<String>) -> Option<String> {
    match spec {
        TargetSpec::Aws { profile, .. } => {
            let mut args = "--target aws".to_string();
            if let Some(region) = region {
                args.push_str(&format!(" --region {region}"));
            }
            if let Some(profile) = profile {
                args.push_str(&format!(" --profile {profile}"));
            }
            Some(args)
        }
        TargetSpec::Endpoint { .. } => Some(format!("--target {spec}")),
        TargetSpec::Stub { .. } | TargetSpec::Moto | TargetSpec::CognitoLocal => None,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Five scenarios that wait at once on one slot: possible only because a
    /// waiting scenario gives its slot back (the barrier opens when all five
    /// wait; holding the slot, the first would wait alone forever).
    #[tokio::test]
    async fn waiting_scenarios_do_not_hold_their_slot() {
        let slots = JobSlots::new(1);
        let barrier = Arc::new(tokio::sync::Barrier::new(5));
        let mut set = JoinSet::new();
        for _ in 0..5 {
            let (slots, barrier) = (slots.clone(), barrier.clone());
            set.spawn(async move {
                let slot = slots.acquire().await;
                slot.released_while(barrier.wait()).await;
                // Working again: the slot is held.
                assert_eq!(slots.free(), 0);
            });
        }
        let all = async { while set.join_next().await.transpose().unwrap().is_some() {} };
        // Only a guard against a hang when slots are held while waiting.
        tokio::time::timeout(Duration::from_secs(60), all)
            .await
            .expect("the waiting scenarios never all waited at once: each held its slot");
        assert_eq!(slots.most_waiting(), 5);
        assert_eq!(slots.free(), 1);
    }

    /// One scenario at a time, no snapshots, no known deviations.
    fn one_job(label: Option<&str>) -> RunOptions {
        RunOptions {
            jobs: 1,
            snapshots: SnapshotMode::Off,
            snapshot_dir: PathBuf::from("snapshots"),
            run_id: new_run_id(),
            deviations: Arc::default(),
            allow_existing_pool: false,
            label: label.map(str::to_string),
            keep_transcripts: false,
        }
    }

    /// A parity label named in `skip:` is honoured at run time, not only
    /// accepted by the loader; without the label the scenario runs.
    #[tokio::test]
    async fn a_skip_naming_the_targets_label_skips_it() {
        let labels = ["moto2".to_string()];
        let fixture = [PathBuf::from("tests/fixtures/labels/skip-label.yaml")];
        let loaded = load(&fixture, None, &labels, false).unwrap();
        assert!(loaded.invalid.is_empty());
        let target = Target::open(TargetSpec::Stub { real_clock: false })
            .await
            .unwrap();
        let mut options = one_job(Some("moto2"));
        let run = run_one(&loaded.scenarios[0], &target, &options).await;
        assert_eq!(
            run.outcome(),
            Outcome::Skipped("not on the second moto".into())
        );
        options.label = None;
        let run = run_one(&loaded.scenarios[0], &target, &options).await;
        assert_eq!(run.outcome(), Outcome::Passed, "{run:?}");
    }

    /// `run` drops each transcript once its snapshot is checked (memory
    /// does not grow with the responses); `parity` keeps them to compare.
    #[tokio::test]
    async fn transcripts_are_kept_only_when_asked() {
        let fixture = [PathBuf::from("tests/fixtures/waits/b-quick.yaml")];
        let loaded = load(&fixture, None, &[], false).unwrap();
        let target = Target::open(TargetSpec::Stub { real_clock: false })
            .await
            .unwrap();
        let mut options = one_job(None);
        let run = run_one(&loaded.scenarios[0], &target, &options).await;
        assert_eq!(run.outcome(), Outcome::Passed, "{run:?}");
        assert!(run.transcript.is_null());
        options.keep_transcripts = true;
        let run = run_one(&loaded.scenarios[0], &target, &options).await;
        assert!(
            run.transcript["steps"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{:?}",
            run.transcript
        );
    }

    /// Through the engine: with one job, a scenario that does not wait
    /// finishes while the first one (started first) waits on a real clock.
    #[tokio::test]
    async fn a_real_wait_lets_the_next_scenario_run() {
        let loaded = load(&[PathBuf::from("tests/fixtures/waits")], None, &[], false).unwrap();
        let loaded = LoadedSuite {
            scenarios: loaded
                .scenarios
                .into_iter()
                .filter(|s| !s.needs_virtual_clock)
                .collect(),
            ..loaded
        };
        assert_eq!(loaded.scenarios.len(), 2);
        assert_eq!(loaded.scenarios[0].name, "Waits two seconds of real time");
        let target = Arc::new(
            Target::open(TargetSpec::Stub { real_clock: true })
                .await
                .unwrap(),
        );
        let options = one_job(None);
        let mut finished = Vec::new();
        let runs = run(loaded.scenarios, target, &options, |r| {
            finished.push(r.name.clone())
        })
        .await;
        assert!(
            runs.iter().all(|r| r.outcome() == Outcome::Passed),
            "{runs:?}"
        );
        assert_eq!(
            finished,
            ["Does not wait", "Waits two seconds of real time"]
        );
    }

    #[test]
    fn the_filter_sees_the_path_below_the_suite_root() {
        let roots = [PathBuf::from("scenarios")];
        let file = FsPath::new("scenarios/mfa/totp-required.yaml");
        assert_eq!(filter_path(&roots, file), "mfa/totp-required");
        let given = [PathBuf::from("scenarios/mfa/totp-required.yaml")];
        assert_eq!(filter_path(&given, file), "totp-required");
    }
}
