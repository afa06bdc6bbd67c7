//! Every bundled scenario as an ordinary test: `cargo test` runs them,
//! `cargo test -- signup` filters, `cargo nextest run --partition count:1/2`
//! shards them. Trials are named `<target>::<scenario path>`.
//!
//! On the stub every scenario runs and its snapshot is checked. Against a
//! real moto server (installed by scripts/tools.sh) the new-password flows
//! run through `--target endpoint=…`, proving the runner works with an
//! implementation we did not write.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cognito_scenarios::deviations::Deviations;
use cognito_scenarios::engine::Outcome;
use cognito_scenarios::report;
use cognito_scenarios::scenario::Scenario;
use cognito_scenarios::snapshot::SnapshotMode;
use cognito_scenarios::suite::{self, RunOptions};
use cognito_scenarios::target::{Target, TargetSpec};
use libtest_mimic::{Arguments, Failed, Trial};

/// Scenario folders run against moto as well (flow 1 of the runner's issue).
const MOTO_FOLDERS: &[&str] = &["scenarios/new-password/"];

fn main() {
    let args = Arguments::from_args();
    let root = support::root();
    std::env::set_current_dir(&root).expect("cd to the crate root");
    let loaded = suite::load(&[PathBuf::from("scenarios")], None).expect("load bundled scenarios");
    let mut trials = Vec::new();
    for diags in loaded.invalid {
        let file = diags[0].file.display().to_string();
        let text = report::diagnostics(&diags);
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
        let path = scenario.source.path.to_string_lossy().into_owned();
        if MOTO_FOLDERS.iter().any(|f| path.starts_with(f)) {
            trials.push(Trial::test(format!("moto::{name}"), move || {
                let deviations = Deviations::load(Path::new("expectations/moto.yaml"))
                    .map_err(|d| report::diagnostics(&d))?;
                let moto = support::Server::moto();
                run(
                    &scenario,
                    TargetSpec::Endpoint { url: moto.url() },
                    SnapshotMode::Off,
                    Arc::new(deviations),
                )
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
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
    runtime.block_on(async {
        let target = Arc::new(Target::open(spec).await.map_err(|e| e.to_string())?);
        let options = RunOptions {
            jobs: 1,
            snapshots,
            snapshot_dir: support::root().join("snapshots"),
            run_id: suite::new_run_id(),
            deviations,
            allow_existing_pool: false,
        };
        let run = suite::run_one(scenario, &target, &options).await;
        match run.outcome {
            // A listed deviation that no longer occurs must be removed from the list.
            Outcome::Passed if !run.warnings.is_empty() => {
                Err(Failed::from(report::scenario_result(&run)))
            }
            Outcome::Passed | Outcome::Skipped(_) => Ok(()),
            Outcome::Failed(_) => Err(Failed::from(report::scenario_result(&run))),
        }
    })
}
