//! The `cognito-scenarios` command line.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use clap::{Parser, Subcommand, ValueEnum};
use cognito_scenarios::api;
use cognito_scenarios::clock::Clock;
use cognito_scenarios::report;
use cognito_scenarios::report::console::{Summary, exit};
use cognito_scenarios::report::junit;
use cognito_scenarios::report::parity::{self, ParityOptions, ParityTarget};
use cognito_scenarios::run::deviations::Deviations;
use cognito_scenarios::run::outcome::{Outcome, StepKind};
use cognito_scenarios::run::snapshot::{self, ReferenceSource, SnapshotMode, review};
use cognito_scenarios::run::suite::{self, LoadedSuite, RunOptions};
use cognito_scenarios::stub::{Stub, StubOptions};
use cognito_scenarios::targets::aws::cleanup;
use cognito_scenarios::targets::{Target, TargetSpec};
use cognito_scenarios::term;
use cognito_scenarios::{err, errln, out, outln};

#[derive(Parser)]
#[command(
    name = "cognito-scenarios",
    version,
    about = "Run Amazon Cognito auth-flow scenarios (YAML) against AWS, an emulator, or the built-in stub"
)]
struct Cli {
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum StubClock {
    /// Time moves only when the runner moves it (instant TOTP windows and expiries).
    Virtual,
    /// Wall-clock time.
    Real,
}

#[derive(Clone, Copy, ValueEnum)]
enum Reference {
    Aws,
    Stub,
}

#[derive(Clone, Copy, ValueEnum)]
enum Snapshots {
    Check,
    Update,
    Off,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (default: everything under scenarios/ on the stub).
    Run {
        /// Scenario files or folders.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// stub (default), aws, moto or cognito-local (started and stopped by the runner),
        /// or endpoint=URL (any cognito-idp endpoint, e.g. an emulator you run).
        #[arg(long, short, default_value = "stub")]
        target: String,
        /// Only scenarios whose name or path contains this text, or that have this tag.
        #[arg(long, short)]
        filter: Option<String>,
        /// Scenarios run at once (default: four per CPU core on the stub, one per core elsewhere; at least 1).
        #[arg(long, short, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Write snapshots instead of comparing them.
        #[arg(long)]
        update_snapshots: bool,
        /// Snapshot handling (default: check on the stub, off on other targets).
        #[arg(long, value_enum, conflicts_with = "update_snapshots")]
        snapshots: Option<Snapshots>,
        /// Where snapshots live.
        #[arg(long, default_value = "snapshots")]
        snapshot_dir: PathBuf,
        /// The stub's clock.
        #[arg(long, value_enum, default_value_t = StubClock::Virtual)]
        stub_clock: StubClock,
        /// Known deviations of the target from AWS, each with a reason
        /// (default for moto and cognito-local: expectations/<target>.yaml when it exists).
        #[arg(long)]
        expectations: Option<PathBuf>,
        /// AWS profile for --target aws (default: the standard chain, AWS_PROFILE).
        #[arg(long)]
        profile: Option<String>,
        /// AWS region for --target aws (default: the standard chain, AWS_REGION).
        #[arg(long)]
        region: Option<String>,
        /// Let scenarios change user pools this run did not create (e.g. a `pool: { existing: … }`).
        /// Without it, writes to such pools on aws and endpoint targets are refused.
        #[arg(long)]
        allow_existing_pool: bool,
        /// Also write the results as JUnit XML to this file (for CI systems;
        /// its folder is created).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Print only failures (and scenarios with warnings) and the summary.
        #[arg(long, short)]
        quiet: bool,
        /// Let `use:` read files outside the suite's root (the current directory
        /// and the folders given).
        #[arg(long)]
        allow_outside_root: bool,
    },
    /// Delete user pools that runs left behind: named cognito-scenarios-… AND tagged
    /// cognito-scenarios:run. Exit 0: done (or nothing to do); 3: a listing or deletion failed.
    Cleanup {
        /// aws, or endpoint=URL.
        #[arg(long, short)]
        target: String,
        /// AWS profile (default: the standard chain, AWS_PROFILE).
        #[arg(long)]
        profile: Option<String>,
        /// AWS region (default: the standard chain, AWS_REGION).
        #[arg(long)]
        region: Option<String>,
        /// Only pools created at least this long ago (30m, 12h, 7d), sparing runs in progress.
        #[arg(long)]
        older_than: Option<String>,
        /// Print what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the suite on several targets and compare every step with the
    /// reference snapshot: a scenario × target matrix (Markdown, JSON, HTML, JUnit).
    Parity {
        /// Scenario files or folders.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Comma-separated targets as `run --target` takes them, optionally
        /// labelled: stub,moto=endpoint=http://127.0.0.1:5000
        #[arg(long, default_value = "stub")]
        targets: String,
        /// The reference: AWS-validated snapshots where recorded, else the stub's (aws); or the stub's (stub).
        #[arg(long, value_enum, default_value_t = Reference::Aws)]
        reference: Reference,
        /// Only scenarios whose name or path contains this text, or that have this tag.
        #[arg(long, short)]
        filter: Option<String>,
        /// Scenarios run at once on each target (default: four per CPU core on the stub, one per core elsewhere; at least 1).
        #[arg(long, short, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Where the reports go.
        #[arg(long, default_value = "target/parity")]
        out: PathBuf,
        /// Where snapshots live.
        #[arg(long, default_value = "snapshots")]
        snapshot_dir: PathBuf,
        /// Known deviations are read from <DIR>/<target label>.yaml when present.
        #[arg(long, default_value = "expectations")]
        expectations_dir: PathBuf,
        /// The expectation file of one target instead (LABEL=FILE; repeatable).
        #[arg(long)]
        expectations: Vec<String>,
        /// AWS profile for an aws target.
        #[arg(long)]
        profile: Option<String>,
        /// AWS region for an aws target.
        #[arg(long)]
        region: Option<String>,
        /// Print only failed scenarios and the summary.
        #[arg(long, short)]
        quiet: bool,
        /// Let `use:` read files outside the suite's root (the current directory
        /// and the folders given).
        #[arg(long)]
        allow_outside_root: bool,
    },
    /// List scenarios (or, with --operations, the cognito-idp operations a step can call).
    List {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        #[arg(long, short)]
        filter: Option<String>,
        /// List the operation names instead.
        #[arg(long)]
        operations: bool,
        /// Let `use:` read files outside the suite's root (the current directory
        /// and the folders given).
        #[arg(long)]
        allow_outside_root: bool,
    },
    /// List the check catalogue: the Cognito rules steps verify (`check:`), what backs
    /// each, and the steps under the given folders that verify it.
    Checks {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Show each check's rule, evidence and steps.
        #[arg(long, short)]
        verbose: bool,
        /// Let `use:` read files outside the suite's root (the current directory
        /// and the folders given).
        #[arg(long)]
        allow_outside_root: bool,
    },
    /// Check scenario files without running them.
    Validate {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Let `use:` read files outside the suite's root (the current directory
        /// and the folders given).
        #[arg(long)]
        allow_outside_root: bool,
    },
    /// Accept or reject the new snapshots (`.snap.new`) that mismatching runs wrote:
    /// one by one with their diff on a terminal, or all at once with --accept / --reject.
    Review {
        /// Snapshot names (mfa__totp-required), .snap / .snap.new files or
        /// scenario files (default: every pending snapshot).
        names: Vec<String>,
        /// Accept them without asking: each .snap.new becomes the .snap.
        #[arg(long, conflicts_with = "reject")]
        accept: bool,
        /// Reject them without asking: each .snap.new is deleted.
        #[arg(long)]
        reject: bool,
        /// Where snapshots live.
        #[arg(long, default_value = "snapshots")]
        snapshot_dir: PathBuf,
    },
    /// Serve the stub for any client (an app, boto3, the AWS CLI) until Ctrl-C.
    Stub {
        /// Port on 127.0.0.1 (default: a free one).
        #[arg(long, short)]
        port: Option<u16>,
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    match cli.color {
        Color::Always => console::set_colors_enabled(true),
        Color::Never => console::set_colors_enabled(false),
        Color::Auto => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::TARGET as u8);
        }
    };
    let code = runtime.block_on(dispatch(cli.command));
    ExitCode::from(code as u8)
}

async fn dispatch(command: Command) -> i32 {
    match command {
        Command::Run {
            paths,
            target,
            filter,
            jobs,
            update_snapshots,
            snapshots,
            snapshot_dir,
            stub_clock,
            expectations,
            profile,
            region,
            allow_existing_pool,
            junit,
            quiet,
            allow_outside_root,
        } => {
            term::set_quiet(quiet);
            let mut spec: TargetSpec = match target.parse() {
                Ok(s) => s,
                Err(e) => {
                    errln!("error: {e}");
                    return exit::USAGE;
                }
            };
            match &mut spec {
                TargetSpec::Stub { real_clock } => {
                    *real_clock = matches!(stub_clock, StubClock::Real)
                }
                TargetSpec::Aws {
                    profile: p,
                    region: r,
                } => {
                    *p = profile;
                    *r = region;
                }
                TargetSpec::Endpoint { .. } | TargetSpec::Moto | TargetSpec::CognitoLocal => {}
            }
            let mode = match (update_snapshots, snapshots) {
                (true, _) | (_, Some(Snapshots::Update)) => SnapshotMode::Update,
                (_, Some(Snapshots::Check)) => SnapshotMode::Check,
                (_, Some(Snapshots::Off)) => SnapshotMode::Off,
                _ => suite::default_snapshot_mode(&spec),
            };
            let expectations = expectations.or_else(|| {
                let default = PathBuf::from(format!("expectations/{}.yaml", spec.name()));
                (spec.emulator_kind().is_some() && default.is_file()).then_some(default)
            });
            let deviations = match load_deviations(expectations.as_deref()) {
                Ok(d) => d,
                Err(code) => return code,
            };
            let jobs = spec.jobs(jobs);
            run(
                paths,
                spec,
                filter,
                RunOptions {
                    jobs,
                    snapshots: mode,
                    snapshot_dir,
                    run_id: suite::new_run_id(),
                    deviations,
                    allow_existing_pool,
                    label: None,
                    keep_transcripts: false,
                },
                junit,
                allow_outside_root,
            )
            .await
        }
        Command::Parity {
            paths,
            targets,
            reference,
            filter,
            jobs,
            out,
            snapshot_dir,
            expectations_dir,
            expectations,
            profile,
            region,
            quiet,
            allow_outside_root,
        } => {
            term::set_quiet(quiet);
            let reference = match reference {
                Reference::Aws => ReferenceSource::Aws,
                Reference::Stub => ReferenceSource::Stub,
            };
            parity(ParityArgs {
                paths,
                targets,
                reference,
                filter,
                jobs,
                out,
                snapshot_dir,
                expectations_dir,
                expectations,
                profile,
                region,
                allow_outside_root,
            })
            .await
        }
        Command::List {
            paths,
            filter,
            operations: ops,
            allow_outside_root,
        } => {
            if ops {
                for op in api::OPERATIONS {
                    let auth = if api::is_public(op) {
                        "public (unsigned)"
                    } else {
                        "signed (IAM)"
                    };
                    outln!("{op:<40} {auth}");
                }
                return exit::OK;
            }
            list(paths, filter, allow_outside_root)
        }
        Command::Checks {
            paths,
            verbose,
            allow_outside_root,
        } => checks(paths, verbose, allow_outside_root),
        Command::Cleanup {
            target,
            profile,
            region,
            older_than,
            dry_run,
        } => {
            // `--target moto|cognito-local` starts an emulator: interrupts stop it.
            let what = target.clone();
            interruptible(&what, cleanup(target, profile, region, older_than, dry_run)).await
        }
        Command::Validate {
            paths,
            allow_outside_root,
        } => validate(paths, allow_outside_root),
        Command::Review {
            names,
            accept,
            reject,
            snapshot_dir,
        } => review(&snapshot_dir, &names, accept, reject),
        Command::Stub { port, region } => serve_stub(port, region).await,
    }
}

/// `--jobs`: a whole number of at least 1 (0 would run nothing at a time).
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

async fn run(
    paths: Vec<PathBuf>,
    spec: TargetSpec,
    filter: Option<String>,
    options: RunOptions,
    junit_file: Option<PathBuf>,
    allow_outside_root: bool,
) -> i32 {
    let started = Instant::now();
    let loaded = match load(&paths, filter.as_deref(), &[], allow_outside_root) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if loaded.scenarios.is_empty() && loaded.invalid.is_empty() {
        errln!(
            "error: no scenarios found{}",
            filter
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        );
        return exit::USAGE;
    }
    if options.snapshots != SnapshotMode::Off && snapshot_names_clash(&loaded) {
        return exit::INVALID_SCENARIO;
    }
    let what = spec.to_string();
    let work = async {
        let target = match Target::open(spec.clone()).await {
            Ok(t) => Arc::new(t),
            Err(e) => {
                errln!("error: target {spec}: {e}");
                return exit::TARGET;
            }
        };
        if let Some(emulator) = target.emulator() {
            errln!("{}", emulator.announcement());
        }
        if !term::quiet() {
            outln!(
                "running {} scenario(s) on {spec} ({} at a time)",
                loaded.scenarios.len(),
                options.jobs
            );
            if let Some(file) = &options.deviations.file {
                outln!("known deviations from {}", file.display());
            }
        }
        let invalid = plain_diagnostics(&loaded);
        let runs = suite::run(loaded.scenarios, target, &options, |r| {
            let failed = r.is_failed() || !r.warnings.is_empty();
            if failed || !term::quiet() {
                out!("{}", report::console::scenario_result(r))
            }
        })
        .await;
        let summary = Summary::of(&runs, loaded.invalid.len());
        outln!(
            "\n{} ({:.1}s)",
            summary.line(),
            started.elapsed().as_secs_f64()
        );
        let code = report::console::exit_code(&runs, invalid.len());
        if let Some(file) = junit_file {
            let suite = junit::suite_of_runs(&spec.to_string(), &runs, &invalid);
            if let Err(e) = junit::write(&file, &[suite]) {
                errln!("error: cannot write {}: {e}", file.display());
                // A failed run keeps its own (more telling) exit code.
                return if code == exit::OK { exit::USAGE } else { code };
            }
        }
        code
    };
    interruptible(&what, work).await
}

/// Runs `work` (which may start emulators) so that Ctrl-C (exit 130) or
/// SIGTERM (143) stops every emulator and removes its state folder instead
/// of killing the runner: the same for every subcommand that starts one.
async fn interruptible(what: &str, work: impl std::future::Future<Output = i32>) -> i32 {
    // Signal handlers first, so a signal while an emulator starts is caught too.
    let mut interrupts = Interrupts::install();
    tokio::select! {
        code = work => code,
        code = interrupts.recv() => {
            // Not eprintln!: a closed stderr must not keep the emulator alive.
            let _ = writeln!(std::io::stderr(), "\ninterrupted: stopping {what}");
            cognito_scenarios::targets::emulator::stop_all();
            code
        }
    }
}

/// Prints an error for each set of scenarios that would share one snapshot file.
fn snapshot_names_clash(loaded: &LoadedSuite) -> bool {
    let clashes =
        snapshot::name_collisions(loaded.scenarios.iter().map(|s| s.source.path.as_path()));
    for clash in &clashes {
        errln!("error: {clash}");
    }
    !clashes.is_empty()
}

/// `review`: accept or reject pending snapshots; asks for each when stdin is a
/// terminal, lists them otherwise.
fn review(dir: &std::path::Path, names: &[String], accept: bool, reject: bool) -> i32 {
    use std::io::IsTerminal as _;
    let pending = match review::pending(dir).and_then(|p| review::select(p, names)) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return exit::USAGE;
        }
    };
    if pending.is_empty() {
        outln!("no pending snapshots in {}", dir.display());
        return exit::OK;
    }
    if accept || reject {
        let (verb, act): (&str, fn(&review::Pending) -> std::io::Result<()>) = if accept {
            ("accepted", review::Pending::accept)
        } else {
            ("rejected", review::Pending::reject)
        };
        for p in &pending {
            if let Err(e) = act(p) {
                errln!("error: {}: {e}", p.new_file.display());
                return exit::USAGE;
            }
            outln!("{verb} {}", p.snapshot.display());
        }
        return exit::OK;
    }
    if !std::io::stdin().is_terminal() {
        outln!(
            "{} pending snapshot(s) in {}:",
            pending.len(),
            dir.display()
        );
        for p in &pending {
            outln!("  {}", p.new_file.display());
        }
        outln!(
            "accept with `cognito-scenarios review --accept [NAME...]`, reject with `--reject`, \
             or run `cognito-scenarios review` on a terminal to see each diff"
        );
        return exit::OK;
    }
    let color = console::colors_enabled();
    let mut stdin = std::io::stdin().lock();
    match review::interactive(&pending, &mut stdin, &mut std::io::stdout(), color) {
        Ok(tally) => {
            outln!("{}", tally.line());
            exit::OK
        }
        Err(e) => {
            errln!("error: {e}");
            exit::USAGE
        }
    }
}

/// Each invalid file with its diagnostics rendered without colour.
fn plain_diagnostics(loaded: &LoadedSuite) -> Vec<(String, String)> {
    loaded
        .invalid
        .iter()
        .filter_map(|diags| {
            let file = diags.first()?.file.clone();
            let source = std::fs::read_to_string(&file).ok();
            let text = diags
                .iter()
                .map(|d| d.render(source.as_deref(), false))
                .collect::<Vec<_>>()
                .join("\n");
            Some((file.display().to_string(), text))
        })
        .collect()
}

struct ParityArgs {
    paths: Vec<PathBuf>,
    targets: String,
    reference: ReferenceSource,
    filter: Option<String>,
    jobs: Option<usize>,
    out: PathBuf,
    snapshot_dir: PathBuf,
    expectations_dir: PathBuf,
    expectations: Vec<String>,
    profile: Option<String>,
    region: Option<String>,
    allow_outside_root: bool,
}

async fn parity(args: ParityArgs) -> i32 {
    let started = Instant::now();
    let mut overrides = Vec::new();
    for e in &args.expectations {
        match e.split_once('=') {
            Some((label, file)) if !label.is_empty() && !file.is_empty() => {
                overrides.push((label.to_string(), PathBuf::from(file)))
            }
            _ => {
                errln!("error: --expectations takes LABEL=FILE, e.g. moto=expectations/moto.yaml");
                return exit::USAGE;
            }
        }
    }
    let mut targets: Vec<ParityTarget> = Vec::new();
    for entry in args.targets.split(',').filter(|e| !e.trim().is_empty()) {
        let (label, mut spec) = match parity::parse_target(entry) {
            Ok(t) => t,
            Err(e) => {
                errln!("error: {e}");
                return exit::USAGE;
            }
        };
        if targets.iter().any(|t| t.label == label) {
            errln!("error: target `{label}` is named twice in --targets (label one: NAME=TARGET)");
            return exit::USAGE;
        }
        if let TargetSpec::Aws { profile, region } = &mut spec {
            *profile = args.profile.clone();
            *region = args.region.clone();
        }
        let file = overrides
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, f)| f.clone())
            .or_else(|| {
                let f = args.expectations_dir.join(format!("{label}.yaml"));
                f.exists().then_some(f)
            });
        let deviations = match load_deviations(file.as_deref()) {
            Ok(d) => d,
            Err(code) => return code,
        };
        targets.push(ParityTarget {
            label,
            spec,
            deviations,
        });
    }
    if let Some((label, _)) = overrides
        .iter()
        .find(|(l, _)| !targets.iter().any(|t| t.label == *l))
    {
        errln!("error: --expectations names `{label}`, which is not in --targets");
        return exit::USAGE;
    }
    if targets.is_empty() {
        errln!("error: --targets is empty");
        return exit::USAGE;
    }
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let loaded = match load(
        &args.paths,
        args.filter.as_deref(),
        &labels,
        args.allow_outside_root,
    ) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if loaded.scenarios.is_empty() && loaded.invalid.is_empty() {
        errln!("error: no scenarios found");
        return exit::USAGE;
    }
    if snapshot_names_clash(&loaded) {
        return exit::INVALID_SCENARIO;
    }
    let invalid = plain_diagnostics(&loaded)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let labels = targets
        .iter()
        .map(|t| t.label.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let at_a_time = targets
        .iter()
        .map(|t| format!("{} {}", t.label, t.spec.jobs(args.jobs)))
        .collect::<Vec<_>>()
        .join(", ");
    outln!(
        "parity: {} scenario(s) on {labels} (at a time: {at_a_time})",
        loaded.scenarios.len(),
    );
    let options = ParityOptions {
        reference: args.reference,
        snapshot_dir: args.snapshot_dir,
        jobs: args.jobs,
        run_id: suite::new_run_id(),
    };
    let work = parity::run(loaded.scenarios, &targets, &options, invalid, |label, r| {
        let outcome = match r.outcome() {
            Outcome::Passed => "ran",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        };
        let blocked = match r.count(StepKind::Blocked) {
            0 => String::new(),
            n => format!(" ({n} step(s) blocked)"),
        };
        if !term::quiet() || r.is_failed() {
            outln!("  [{label}] {outcome:<7} {}{blocked}", r.file.display());
        }
    });
    let mut finished = None;
    let code = interruptible(&labels, async {
        finished = Some(work.await);
        exit::OK
    })
    .await;
    let Some(report) = finished else {
        return code;
    };
    out!("{}", parity::summary(&report));
    match parity::write_outputs(&report, &args.out) {
        Ok(files) => {
            for f in files {
                outln!("wrote {}", f.display());
            }
        }
        Err(e) => {
            errln!(
                "error: cannot write the reports to {}: {e}",
                args.out.display()
            );
            return exit::USAGE;
        }
    }
    outln!("({:.1}s)", started.elapsed().as_secs_f64());
    report.exit_code
}

/// SIGINT (Ctrl-C, exit code 130) and SIGTERM (143), caught from the moment
/// they are installed.
struct Interrupts {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn install() -> Interrupts {
        use tokio::signal::unix::{SignalKind, signal};
        Interrupts {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The exit code for the first signal that arrives.
    async fn recv(&mut self) -> i32 {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.int) => exit::INTERRUPTED,
            _ = next(&mut self.term) => exit::TERMINATED,
        }
    }
}

/// Reads a target's expectation file (none: no known deviations) and prints
/// every problem of a broken one; `Err` is the exit code.
fn load_deviations(file: Option<&std::path::Path>) -> Result<Arc<Deviations>, i32> {
    match file.map(Deviations::load) {
        None => Ok(Arc::default()),
        Some(Ok(d)) => Ok(Arc::new(d)),
        Some(Err(diags)) => {
            err!("{}", report::console::diagnostics(&diags));
            Err(exit::INVALID_SCENARIO)
        }
    }
}

/// Loads scenarios and prints every problem of the broken files; `Err` is the exit code.
fn load(
    paths: &[PathBuf],
    filter: Option<&str>,
    labels: &[String],
    allow_outside_root: bool,
) -> Result<LoadedSuite, i32> {
    let loaded = suite::load(paths, filter, labels, allow_outside_root).map_err(|e| {
        errln!("error: {e}");
        exit::USAGE
    })?;
    for diags in &loaded.invalid {
        err!("{}", report::console::diagnostics(diags));
    }
    Ok(loaded)
}

/// 0 when every file loaded, 2 otherwise.
fn load_exit(loaded: &LoadedSuite) -> i32 {
    if loaded.invalid.is_empty() {
        exit::OK
    } else {
        exit::INVALID_SCENARIO
    }
}

fn list(paths: Vec<PathBuf>, filter: Option<String>, allow_outside_root: bool) -> i32 {
    let loaded = match load(&paths, filter.as_deref(), &[], allow_outside_root) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for s in &loaded.scenarios {
        let tags = if s.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", s.tags.join(", "))
        };
        outln!("{}  {}{tags}", s.source.path.display(), s.name);
    }
    load_exit(&loaded)
}

fn checks(paths: Vec<PathBuf>, verbose: bool, allow_outside_root: bool) -> i32 {
    use cognito_scenarios::scenario::catalogue::{Catalogue, steps_by_check};
    let loaded = match load(&paths, None, &[], allow_outside_root) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let catalogue = Catalogue::bundled();
    let steps = steps_by_check(&loaded.scenarios);
    let width = catalogue
        .checks()
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    let mut unverified = Vec::new();
    for c in catalogue.checks() {
        let verified_by = steps.get(&c.id).map_or(&[][..], Vec::as_slice);
        if verified_by.is_empty() {
            unverified.push(c.id.as_str());
        }
        outln!(
            "{:<width$}  {:<8}  {:>2} step(s)  evidence: {}",
            c.id,
            if c.security { "security" } else { "" },
            verified_by.len(),
            c.evidence_kinds().join(", ")
        );
        if verbose {
            outln!("    {}", c.rule);
            outln!("    applies to: {}", c.applies.join("; "));
            for e in &c.evidence {
                let what = [e.source.as_deref(), e.note.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" — ");
                outln!("    {}: {what}", e.kind.name());
            }
            for s in verified_by {
                outln!("    step: {}  {}", s.location, s.title);
            }
            outln!();
        }
    }
    let security = catalogue.checks().iter().filter(|c| c.security).count();
    outln!(
        "\n{} checks ({security} security), {} verified by a step under {}",
        catalogue.checks().len(),
        catalogue.checks().len() - unverified.len(),
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !unverified.is_empty() {
        outln!("not verified by any step: {}", unverified.join(", "));
    }
    load_exit(&loaded)
}

fn validate(paths: Vec<PathBuf>, allow_outside_root: bool) -> i32 {
    let loaded = match load(&paths, None, &[], allow_outside_root) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let problems: usize = loaded.invalid.iter().map(Vec::len).sum();
    outln!(
        "{} valid, {} invalid file(s), {problems} problem(s)",
        loaded.scenarios.len() + loaded.flows,
        loaded.invalid.len()
    );
    load_exit(&loaded)
}

async fn cleanup(
    target: String,
    profile: Option<String>,
    region: Option<String>,
    older_than: Option<String>,
    dry_run: bool,
) -> i32 {
    let spec = match target.parse::<TargetSpec>() {
        Ok(TargetSpec::Stub { .. }) => {
            errln!(
                "error: the stub keeps nothing between runs; cleanup is for --target aws or endpoint=URL"
            );
            return exit::USAGE;
        }
        Ok(TargetSpec::Aws { .. }) => TargetSpec::Aws { profile, region },
        Ok(other) => other,
        Err(e) => {
            errln!("error: {e}");
            return exit::USAGE;
        }
    };
    let older_than = match older_than.as_deref().map(cleanup::parse_age).transpose() {
        Ok(age) => age,
        Err(e) => {
            errln!("error: --older-than {e}");
            return exit::USAGE;
        }
    };
    let wire = match Target::open(spec.clone()).await {
        Ok(t) => match t.connect().await {
            Ok(conn) => conn.wire,
            Err(e) => {
                errln!("error: target {spec}: {e}");
                return exit::TARGET;
            }
        },
        Err(e) => {
            errln!("error: target {spec}: {e}");
            return exit::TARGET;
        }
    };
    let region = wire.region();
    let leftovers = match cleanup::find_leftovers(&wire, older_than, SystemTime::now()).await {
        Ok(l) => l,
        Err(e) => {
            errln!("error: cannot list user pools on {spec} ({region}): {e}");
            return exit::TARGET;
        }
    };
    if leftovers.is_empty() {
        outln!("no leftover pools on {spec} ({region})");
        return exit::OK;
    }
    let verb = if dry_run { "would delete" } else { "deleting" };
    outln!(
        "{verb} {} leftover pool(s) on {spec} ({region}):",
        leftovers.len()
    );
    let mut failed = 0;
    for pool in &leftovers {
        let label = format!("{}  {}  (run {})", pool.id, pool.name, pool.run);
        if dry_run {
            outln!("  {label}");
            continue;
        }
        match cleanup::delete_pool(&wire, &pool.id).await {
            Ok(done) => {
                let mut notes = Vec::new();
                if done.unprotected {
                    notes.push("deletion protection switched off".to_string());
                }
                for domain in &done.domains {
                    notes.push(format!("domain {domain} deleted"));
                }
                if done.already_gone {
                    notes.push("already gone".to_string());
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", notes.join(", "))
                };
                outln!("  deleted {label}{notes}");
            }
            Err(e) => {
                failed += 1;
                outln!("  FAILED  {label}: {e}");
            }
        }
    }
    if failed > 0 {
        errln!("error: {failed} pool(s) could not be deleted");
        return exit::TARGET;
    }
    exit::OK
}

async fn serve_stub(port: Option<u16>, region: String) -> i32 {
    let stub = match Stub::start(StubOptions {
        clock: Clock::real(),
        region,
        port,
    })
    .await
    {
        Ok(s) => s,
        Err(e) => {
            errln!("error: cannot start the stub: {e}");
            return exit::TARGET;
        }
    };
    outln!("cognito-scenarios stub listening on {}", stub.endpoint());
    outln!(
        "export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={}",
        stub.endpoint()
    );
    outln!(
        "(any credentials work for signed calls, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test; Ctrl-C stops)"
    );
    let _ = tokio::signal::ctrl_c().await;
    exit::OK
}
