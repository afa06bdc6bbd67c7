//! Every bundled scenario as an ordinary test: `cargo test` runs them,
//! `cargo test -- signup` filters, `cargo nextest run --partition count:1/2`
//! shards them. Trials are named `<target>::<scenario path>`.
//!
//! On the stub every scenario runs and its snapshot is checked. Every
//! scenario also runs on the managed emulators (`moto::…`, `cognito-local::…`,
//! installed by scripts/tools.sh), each started once for this test binary,
//! with the known deviations of `expectations/<target>.yaml`: an unlisted
//! difference fails, and so does a listed one that no longer occurs.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cognito_scenarios::report;
use cognito_scenarios::run::deviations::Deviations;
use cognito_scenarios::run::outcome::Outcome;
use cognito_scenarios::run::snapshot::SnapshotMode;
use cognito_scenarios::run::suite::{self, RunOptions};
use cognito_scenarios::scenario::Scenario;
use cognito_scenarios::targets::emulator::{self, Emulator, EmulatorKind};
use cognito_scenarios::targets::{Target, TargetSpec};
use libtest_mimic::{Arguments, Failed, Trial};

/// The managed emulators every scenario also runs on.
const EMULATORS: [EmulatorKind; 2] = [EmulatorKind::Moto, EmulatorKind::CognitoLocal];

fn main() {
    let args = Arguments::from_args();
    let root = support::root();
    std::env::set_current_dir(&root).expect("cd to the crate root");
    let loaded = suite::load(&[PathBuf::from("scenarios")], None, &[], false)
        .expect("load bundled scenarios");
    let mut trials = Vec::new();
    for diags in loaded.invalid {
        let file = diags[0].file.display().to_string();
        let text = report::console::diagnostics(&diags);
        trials.push(Trial::test(format!("valid::{file}"), move || {
            Err(Failed::from(text))
        }));
    }
    for scenario in loaded.scenarios {
        let name = trial_name(&scenario.source.path);
        let stub_skip = scenario.targets.skip_reason("stub").is_some();
        let s = scenario.clone();
        trials.push(
            Trial::test(format!("stub::{name}"), move || {
                run(
                    &s,
                    TargetSpec::Stub { real_clock: false },
                    SnapshotMode::Check,
                    Default::default(),
                )
            })
            .with_ignored_flag(stub_skip),
        );
        for kind in EMULATORS {
            let skip = scenario.targets.skip_reason(kind.name()).is_some();
            let s = scenario.clone();
            trials.push(
                Trial::test(format!("{kind}::{name}"), move || {
                    let file = format!("expectations/{kind}.yaml");
                    let deviations = Deviations::load(Path::new(&file))
                        .map_err(|d| report::console::diagnostics(&d))?;
                    run_on_emulator(&s, kind, Arc::new(deviations))
                })
                .with_ignored_flag(skip),
            );
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // The shared emulators live in a static: stop them (and remove their folders) before exiting.
    emulator::stop_all();
    conclusion.exit();
}

/// One emulator of each kind for the whole test binary, started on first use.
fn shared_emulator(kind: EmulatorKind) -> Result<Arc<Emulator>, Failed> {
    type Started = Result<Arc<Emulator>, String>;
    static SHARED: Mutex<Option<HashMap<EmulatorKind, Started>>> = Mutex::new(None);
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    let started = shared
        .get_or_insert_with(HashMap::new)
        .entry(kind)
        .or_insert_with(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(Emulator::start(kind))
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
    started.clone().map_err(Failed::from)
}

fn run_on_emulator(
    scenario: &Scenario,
    kind: EmulatorKind,
    deviations: Arc<Deviations>,
) -> Result<(), Failed> {
    let emulator = shared_emulator(kind)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let target = runtime
        .block_on(Target::on_emulator(emulator))
        .map_err(|e| e.to_string())?;
    finish(runtime, scenario, target, SnapshotMode::Off, deviations)
}

fn trial_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    let text = text.strip_prefix("scenarios/").unwrap_or(&text);
    text.strip_suffix(".yaml").unwrap_or(text).to_string()
}

fn run(
    scenario: &Scenario,
    spec: TargetSpec,
    snapshots: SnapshotMode,
    deviations: Arc<Deviations>,
) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let target = runtime
        .block_on(Target::open(spec))
        .map_err(|e| e.to_string())?;
    finish(runtime, scenario, target, snapshots, deviations)
}

/// Runs `scenario` on `target`; a listed deviation that no longer occurs fails.
fn finish(
    runtime: tokio::runtime::Runtime,
    scenario: &Scenario,
    target: Target,
    snapshots: SnapshotMode,
    deviations: Arc<Deviations>,
) -> Result<(), Failed> {
    runtime.block_on(async {
        let target = Arc::new(target);
        let options = RunOptions {
            jobs: 1,
            snapshots,
            snapshot_dir: support::root().join("snapshots"),
            run_id: suite::new_run_id(),
            deviations,
            allow_existing_pool: false,
            label: None,
            keep_transcripts: false,
        };
        let run = suite::run_one(scenario, &target, &options).await;
        match run.outcome() {
            // A listed deviation that no longer occurs must be removed from the list.
            Outcome::Passed if !run.warnings.is_empty() => {
                Err(Failed::from(report::console::scenario_result(&run)))
            }
            Outcome::Passed | Outcome::Skipped(_) => Ok(()),
            Outcome::Failed(_) => Err(Failed::from(report::console::scenario_result(&run))),
        }
    })
}
