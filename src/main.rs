//! The `cognito-scenarios` command line.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use cognito_scenarios::clock::Clock;
use cognito_scenarios::deviations::Deviations;
use cognito_scenarios::report::{self, Summary, exit};
use cognito_scenarios::snapshot::SnapshotMode;
use cognito_scenarios::stub::{Stub, StubOptions};
use cognito_scenarios::suite::{self, LoadedSuite, RunOptions};
use cognito_scenarios::target::{Target, TargetSpec};
use cognito_scenarios::wire::operations;

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
        /// Scenarios run at once (default: number of CPU cores).
        #[arg(long, short)]
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
    },
    /// Check scenario files without running them.
    Validate {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
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
    if let Command::Run {
        update_snapshots,
        snapshots,
        ..
    } = &cli.command
        && (*update_snapshots || matches!(snapshots, Some(Snapshots::Update)))
    {
        // insta reads this once; set it before any thread exists.
        // SAFETY: single-threaded here: the async runtime is not built yet.
        unsafe { std::env::set_var("INSTA_UPDATE", "always") };
    }
    if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none()
        && let Ok(cwd) = std::env::current_dir()
    {
        // Without it insta shells out to `cargo metadata`; users run this outside cargo.
        // SAFETY: as above, no other thread exists yet.
        unsafe { std::env::set_var("INSTA_WORKSPACE_ROOT", cwd) };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
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
        } => {
            let mut spec: TargetSpec = match target.parse() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
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
            let deviations = match expectations {
                Some(path) => match Deviations::load(&path) {
                    Ok(d) => Arc::new(d),
                    Err(diags) => {
                        eprint!("{}", report::diagnostics(&diags));
                        return exit::INVALID_SCENARIO;
                    }
                },
                None => Arc::default(),
            };
            let jobs = jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
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
                },
            )
            .await
        }
        Command::List {
            paths,
            filter,
            operations: ops,
        } => {
            if ops {
                for op in operations::ALL {
                    let auth = if operations::is_public(op) {
                        "public (unsigned)"
                    } else {
                        "signed (IAM)"
                    };
                    println!("{op:<40} {auth}");
                }
                return exit::OK;
            }
            list(paths, filter)
        }
        Command::Validate { paths } => validate(paths),
        Command::Stub { port, region } => serve_stub(port, region).await,
    }
}

async fn run(
    paths: Vec<PathBuf>,
    spec: TargetSpec,
    filter: Option<String>,
    options: RunOptions,
) -> i32 {
    let started = Instant::now();
    let loaded = match load(&paths, filter.as_deref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if loaded.scenarios.is_empty() && loaded.invalid.is_empty() {
        eprintln!(
            "error: no scenarios found{}",
            filter
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        );
        return exit::USAGE;
    }
    // Signal handlers first, so Ctrl-C while the emulator starts or the
    // scenarios run stops the emulator instead of killing the runner.
    let mut interrupts = Interrupts::install();
    let work = async {
        let target = match Target::open(spec.clone()).await {
            Ok(t) => Arc::new(t),
            Err(e) => {
                eprintln!("error: target {spec}: {e}");
                return exit::TARGET;
            }
        };
        if let Some(emulator) = target.emulator() {
            eprintln!(
                "started {} on {} (pid {}); it stops when the run ends",
                emulator.kind(),
                emulator.endpoint(),
                emulator.pid()
            );
        }
        println!(
            "running {} scenario(s) on {spec} ({} at a time)",
            loaded.scenarios.len(),
            options.jobs
        );
        if let Some(file) = &options.deviations.file {
            println!("known deviations from {}", file.display());
        }
        let runs = suite::run(loaded.scenarios, target, &options, |r| {
            print!("{}", report::scenario_result(r))
        })
        .await;
        let summary = Summary::of(&runs, loaded.invalid.len());
        println!(
            "\n{} ({:.1}s)",
            summary.line(),
            started.elapsed().as_secs_f64()
        );
        report::exit_code(&runs, loaded.invalid.len())
    };
    tokio::select! {
        code = work => code,
        code = interrupts.recv() => {
            // Not eprintln!: a closed stderr must not keep the emulator alive.
            let _ = writeln!(std::io::stderr(), "\ninterrupted: stopping {spec}");
            cognito_scenarios::emulator::stop_all();
            code
        }
    }
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

/// Loads scenarios and prints every problem of the broken files; `Err` is the exit code.
fn load(paths: &[PathBuf], filter: Option<&str>) -> Result<LoadedSuite, i32> {
    let loaded = suite::load(paths, filter).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    for diags in &loaded.invalid {
        eprint!("{}", report::diagnostics(diags));
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

fn list(paths: Vec<PathBuf>, filter: Option<String>) -> i32 {
    let loaded = match load(&paths, filter.as_deref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for s in &loaded.scenarios {
        let tags = if s.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", s.tags.join(", "))
        };
        println!("{}  {}{tags}", s.source.path.display(), s.name);
    }
    load_exit(&loaded)
}

fn validate(paths: Vec<PathBuf>) -> i32 {
    let loaded = match load(&paths, None) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let problems: usize = loaded.invalid.iter().map(Vec::len).sum();
    println!(
        "{} valid, {} invalid file(s), {problems} problem(s)",
        loaded.scenarios.len(),
        loaded.invalid.len()
    );
    load_exit(&loaded)
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
            eprintln!("error: cannot start the stub: {e}");
            return exit::TARGET;
        }
    };
    println!("cognito-scenarios stub listening on {}", stub.endpoint());
    println!(
        "export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={}",
        stub.endpoint()
    );
    println!(
        "(any credentials work for signed calls, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test; Ctrl-C stops)"
    );
    let _ = tokio::signal::ctrl_c().await;
    exit::OK
}
