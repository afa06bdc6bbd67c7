//! Where scenarios run: the built-in stub (default), real AWS, an emulator
//! the runner starts and stops itself (moto, cognito-local), or any
//! Cognito-compatible endpoint (an emulator someone already runs).

pub mod aws;
pub mod emulator;
pub mod slots;
pub mod wire;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::clock::Clock;
use crate::scenario::template::{CodeSource, NoCodes};
use crate::stub::{Outbox, Stub, StubOptions};
use crate::targets::emulator::{Emulator, EmulatorError, EmulatorKind};
use crate::targets::wire::{WireClient, WireConfig, WireError, WireKind};
use slots::JobSlot;

/// A target as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A fresh in-process stub per scenario.
    Stub { real_clock: bool },
    /// Real AWS through the standard configuration chain.
    Aws {
        profile: Option<String>,
        region: Option<String>,
    },
    /// moto, installed, started and stopped by the runner.
    Moto,
    /// cognito-local, installed, started and stopped by the runner.
    CognitoLocal,
    /// Any endpoint speaking cognito-idp (moto, cognito-local, …).
    Endpoint { url: String },
}

impl TargetSpec {
    /// The name scenarios use in `only:` / `skip:`.
    pub fn name(&self) -> &'static str {
        match self {
            TargetSpec::Stub { .. } => "stub",
            TargetSpec::Aws { .. } => "aws",
            TargetSpec::Moto => EmulatorKind::Moto.name(),
            TargetSpec::CognitoLocal => EmulatorKind::CognitoLocal.name(),
            TargetSpec::Endpoint { .. } => "endpoint",
        }
    }

    /// The emulator the runner manages for this target, if any.
    pub fn emulator_kind(&self) -> Option<EmulatorKind> {
        match self {
            TargetSpec::Moto => Some(EmulatorKind::Moto),
            TargetSpec::CognitoLocal => Some(EmulatorKind::CognitoLocal),
            _ => None,
        }
    }

    /// Scenarios run at once when `--jobs` is not given, on a machine with
    /// `cores` cores. The in-process stub gets four per core: its scenarios
    /// spend part of their time waiting on the loopback between runner and
    /// stub (1,000 generated scenarios on 2 cores: 5.6 s with 2 jobs, 4.9 s
    /// with 4, 4.4 s with 6, 4.1–4.3 s with 8, 4.1 s with 16). Emulators and
    /// AWS get one per core: they are separate
    /// servers (moto and cognito-local answer one request at a time) and AWS
    /// throttles per account.
    pub fn default_jobs(&self, cores: usize) -> usize {
        let cores = cores.max(1);
        match self {
            TargetSpec::Stub { .. } => 4 * cores,
            _ => cores,
        }
    }

    /// `--jobs` when given, else [`default_jobs`](Self::default_jobs) for
    /// this machine's cores.
    pub fn jobs(&self, given: Option<usize>) -> usize {
        given.unwrap_or_else(|| self.default_jobs(cores()))
    }

    fn of_emulator(kind: EmulatorKind) -> TargetSpec {
        match kind {
            EmulatorKind::Moto => TargetSpec::Moto,
            EmulatorKind::CognitoLocal => TargetSpec::CognitoLocal,
        }
    }
}

/// The cores this process may use (2 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Endpoint { url } => write!(f, "endpoint={url}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for TargetSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stub" => Ok(TargetSpec::Stub { real_clock: false }),
            "aws" => Ok(TargetSpec::Aws {
                profile: None,
                region: None,
            }),
            "moto" => Ok(TargetSpec::Moto),
            "cognito-local" => Ok(TargetSpec::CognitoLocal),
            _ => match s.strip_prefix("endpoint=") {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Ok(TargetSpec::Endpoint {
                        url: url.trim_end_matches('/').to_string(),
                    })
                }
                Some(url) => Err(format!(
                    "`{url}` is not an http(s) URL (e.g. endpoint=http://127.0.0.1:5000)"
                )),
                None => Err(format!(
                    "unknown target `{s}`: use stub, aws, moto, cognito-local or endpoint=URL"
                )),
            },
        }
    }
}

/// Failure to reach or set up a target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("could not start the stub: {0}")]
    Stub(String),
    #[error("{0}")]
    Emulator(#[from] EmulatorError),
    #[error("{0}")]
    Wire(#[from] WireError),
}

/// An opened target, shared by all scenarios of a run.
pub struct Target {
    spec: TargetSpec,
    /// One client for AWS, emulators and endpoints; the stub gets one per scenario.
    shared: Option<WireClient>,
    /// The stub's: what each scenario's client is made from (one
    /// configuration and connection pool for the run), aimed at its own stub.
    stub_wire: Option<WireClient>,
    /// The managed emulator, stopped when the target is dropped.
    emulator: Option<Arc<Emulator>>,
}

/// What one scenario talks to.
pub struct Connection {
    pub wire: WireClient,
    pub clock: Clock,
    pub codes: Arc<dyn CodeSource>,
    /// When set, the engine appends every raw request and response here, and
    /// the secrets it makes up itself (device passwords, SRP `a`) as
    /// `{operation, hidden}` (tests use it to prove that no secret reaches output).
    pub recorder: Option<Recorder>,
    /// The scenario's `--jobs` slot, given back while it waits on a real clock.
    pub slot: JobSlot,
    /// Keeps a per-scenario stub alive for as long as the scenario runs.
    _stub: Option<Stub>,
}

impl Target {
    /// Prepares a target (for AWS: loads configuration and credentials once;
    /// for an emulator: installs it on first use and starts it).
    pub async fn open(spec: TargetSpec) -> Result<Target, TargetError> {
        if let Some(kind) = spec.emulator_kind() {
            let emulator = Arc::new(Emulator::start(kind).await?);
            return Target::on_emulator(emulator).await;
        }
        let stub_wire = match &spec {
            TargetSpec::Stub { .. } => Some(
                WireClient::new(&WireConfig {
                    // Each connection aims it at its own stub.
                    endpoint: Some("http://127.0.0.1:9".into()),
                    region: None,
                    profile: None,
                    kind: WireKind::Local,
                })
                .await?,
            ),
            _ => None,
        };
        let shared = match &spec {
            TargetSpec::Stub { .. } | TargetSpec::Moto | TargetSpec::CognitoLocal => None,
            TargetSpec::Aws { profile, region } => Some(
                WireClient::new(&WireConfig {
                    endpoint: None,
                    region: region.clone(),
                    profile: profile.clone(),
                    kind: WireKind::Aws,
                })
                .await?,
            ),
            TargetSpec::Endpoint { url } => Some(
                WireClient::new(&WireConfig {
                    endpoint: Some(url.clone()),
                    region: None,
                    profile: None,
                    kind: WireKind::Local,
                })
                .await?,
            ),
        };
        Ok(Target {
            spec,
            shared,
            stub_wire,
            emulator: None,
        })
    }

    /// A target on an emulator that is already running (shared by several
    /// targets, e.g. test trials); it stops when the last holder drops it.
    pub async fn on_emulator(emulator: Arc<Emulator>) -> Result<Target, TargetError> {
        let wire = WireClient::new(&WireConfig {
            endpoint: Some(emulator.endpoint()),
            region: None,
            profile: None,
            kind: WireKind::Local,
        })
        .await?;
        Ok(Target {
            spec: TargetSpec::of_emulator(emulator.kind()),
            shared: Some(wire),
            stub_wire: None,
            emulator: Some(emulator),
        })
    }

    /// The managed emulator, if the target is one.
    pub fn emulator(&self) -> Option<&Arc<Emulator>> {
        self.emulator.as_ref()
    }

    /// The target as given.
    pub fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    /// The resolved region of AWS and endpoint targets (`None` for the stub).
    pub fn region(&self) -> Option<String> {
        self.shared.as_ref().map(WireClient::region)
    }

    /// A connection for one scenario. The stub gets a fresh instance (own
    /// state, own virtual clock) so scenarios cannot disturb each other.
    pub async fn connect(&self) -> Result<Connection, TargetError> {
        if let Some(wire) = &self.shared {
            let codes: Arc<dyn CodeSource> = match &self.emulator {
                Some(emulator) => emulator.code_source(),
                None => Arc::new(NoCodes(self.spec.to_string())),
            };
            return Ok(Connection {
                wire: wire.clone(),
                clock: Clock::real(),
                codes,
                recorder: None,
                slot: JobSlot::default(),
                _stub: None,
            });
        }
        let TargetSpec::Stub { real_clock } = self.spec else {
            unreachable!("only the stub has no shared client")
        };
        let clock = if real_clock {
            Clock::real()
        } else {
            Clock::virtual_now()
        };
        let stub = Stub::start(StubOptions {
            clock: clock.clone(),
            ..StubOptions::default()
        })
        .await
        .map_err(|e| TargetError::Stub(e.to_string()))?;
        let wire = self
            .stub_wire
            .as_ref()
            .expect("a stub target has its client")
            .with_endpoint(&stub.endpoint())?;
        Ok(Connection {
            wire,
            clock,
            codes: Arc::new(StubCodes(stub.outbox())),
            recorder: None,
            slot: JobSlot::default(),
            _stub: Some(stub),
        })
    }
}

impl Connection {
    /// Waits `d` for `what` on the connection's clock, without holding the
    /// scenario's job slot on a real clock (see [`JobSlot::wait`]).
    pub async fn wait(&self, d: std::time::Duration, what: &str) {
        self.slot.wait(&self.clock, d, what).await
    }
}

/// Raw traffic of a connection: `{operation, request, response}` objects.
pub type Recorder = Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// Confirmation codes from the stub's outbox.
struct StubCodes(Outbox);

impl CodeSource for StubCodes {
    fn latest_code(&self, pool_id: &str, username: &str) -> Result<Option<String>, String> {
        Ok(self.0.latest_code(pool_id, username))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_jobs_follow_the_target_kind() {
        let stub = TargetSpec::Stub { real_clock: false };
        assert_eq!(stub.default_jobs(2), 8);
        assert_eq!(TargetSpec::Moto.default_jobs(2), 2);
        assert_eq!(TargetSpec::CognitoLocal.default_jobs(8), 8);
        let aws = TargetSpec::Aws {
            profile: None,
            region: None,
        };
        assert_eq!(aws.default_jobs(2), 2);
        // Never zero, whatever the machine reports.
        assert_eq!(stub.default_jobs(0), 4);
        assert_eq!(TargetSpec::Moto.default_jobs(0), 1);
    }

    #[test]
    fn parses_target_names() {
        assert_eq!("stub".parse::<TargetSpec>().unwrap().name(), "stub");
        assert_eq!("aws".parse::<TargetSpec>().unwrap().name(), "aws");
        assert_eq!("moto".parse::<TargetSpec>().unwrap(), TargetSpec::Moto);
        assert_eq!(
            "cognito-local".parse::<TargetSpec>().unwrap().to_string(),
            "cognito-local"
        );
        assert_eq!(
            "endpoint=http://127.0.0.1:5000/"
                .parse::<TargetSpec>()
                .unwrap(),
            TargetSpec::Endpoint {
                url: "http://127.0.0.1:5000".into()
            }
        );
        assert!("endpoint=localhost:5000".parse::<TargetSpec>().is_err());
        for spec in ["stub", "aws", "moto", "cognito-local", "endpoint=http://x"] {
            let name = spec.parse::<TargetSpec>().unwrap().name();
            assert!(crate::scenario::TARGET_NAMES.contains(&name), "{name}");
        }
        assert!(
            "moto2"
                .parse::<TargetSpec>()
                .unwrap_err()
                .contains("unknown target")
        );
    }
}
