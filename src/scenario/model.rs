//! What a scenario file means, once loaded and checked.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::yaml::{Key, Node, Span};
use crate::scenario::expect::Expectation;
use crate::scenario::path::Path;

/// A source file, kept for error messages.
#[derive(Debug)]
pub struct Source {
    /// The path as the user gave it (relative paths stay relative).
    pub path: PathBuf,
    pub text: String,
}

/// The built-in target names a scenario's `only:`/`skip:` may use (a run
/// can add labels, e.g. parity's `--targets label=…`).
pub const TARGET_NAMES: &[&str] = &["stub", "aws", "moto", "cognito-local", "endpoint"];

/// One scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub source: Arc<Source>,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub targets: TargetFilter,
    /// `clock: virtual`: the scenario waits longer than real time allows, so it
    /// runs only where time is virtual (the stub's default clock) and is
    /// skipped, with that reason, on every real-clock target.
    pub needs_virtual_clock: bool,
    pub pool: Option<PoolFixture>,
    /// `vars:` in file order (later ones may use earlier ones).
    pub vars: Vec<(Key, Node)>,
    pub steps: Vec<Step>,
}

/// Which targets a scenario or step runs on.
#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    /// Run only on these targets (`only:`).
    pub only: Option<Vec<String>>,
    /// Skip on these targets, with the reason (`skip:`).
    pub skip: Vec<(String, String)>,
}

impl TargetFilter {
    /// Why this does not run on `target`, or `None` when it does.
    pub fn skip_reason(&self, target: &str) -> Option<String> {
        self.skip_reason_for(&[target])
    }

    /// Why this does not run on a target known by any of `names` (its name
    /// and, in a parity run, its label), or `None` when it does.
    pub fn skip_reason_for(&self, names: &[&str]) -> Option<String> {
        if let Some((_, reason)) = self.skip.iter().find(|(t, _)| names.contains(&t.as_str())) {
            return Some(reason.clone());
        }
        match &self.only {
            Some(only) if !only.iter().any(|t| names.contains(&t.as_str())) => {
                Some(format!("runs only on {}", only.join(", ")))
            }
            _ => None,
        }
    }
}

/// The user pool a scenario runs in.
#[derive(Debug, Clone)]
pub enum PoolFixture {
    /// A fresh pool and app client, deleted afterwards.
    Create {
        /// CreateUserPool parameters (without `client` and `users`).
        pool: Node,
        /// CreateUserPoolClient parameters.
        client: Node,
        /// Users created before the steps (AdminCreateUser parameters plus `Password`).
        users: Vec<Node>,
        span: Span,
    },
    /// A pool and client that already exist (never modified or deleted by fixtures).
    Existing {
        id: Node,
        client_id: Node,
        client_secret: Option<Node>,
        span: Span,
    },
}

/// One step of a scenario or flow.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: Option<String>,
    /// The file the step is written in (a flow's steps live in the flow file).
    pub source: Arc<Source>,
    pub span: Span,
    pub targets: TargetFilter,
    /// Ids of the catalogued rules this step verifies (`check:`; see [`super::catalogue`]).
    pub checks: Vec<String>,
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    Call(Box<Call>),
    Use(Use),
    Wait(Duration),
}

/// A cognito-idp call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The API name, as the SDK spells it.
    pub operation: &'static str,
    pub operation_span: Span,
    /// The request body (templated).
    pub with: Node,
    pub expect: Option<Expectation>,
    pub save: Vec<Save>,
    /// Whether the step appears in the snapshot.
    pub snapshot: bool,
}

/// A `save:` entry: a response value into a variable.
#[derive(Debug, Clone)]
pub struct Save {
    pub var: String,
    pub path: Path,
    pub span: Span,
}

/// A `use:` step: a reusable flow with arguments.
#[derive(Debug, Clone)]
pub struct Use {
    pub flow: Arc<Flow>,
    pub args: Vec<(Key, Node)>,
}

/// A reusable group of steps (`scenarios/flows/*.yaml`).
#[derive(Debug)]
pub struct Flow {
    pub source: Arc<Source>,
    pub description: Option<String>,
    pub params: Vec<Param>,
    pub steps: Vec<Step>,
}

/// A flow parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// `None` when the parameter is required.
    pub default: Option<Node>,
}

impl Step {
    /// The name shown in output: the step's `name:` or its operation.
    pub fn title(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.action {
            Action::Call(c) => c.operation.to_string(),
            Action::Use(u) => format!("use {}", u.flow.source.path.display()),
            Action::Wait(d) => format!("wait {}", humanize(*d)),
        }
    }
}

/// `90s`, `4m`, `1m30s`, `250ms`.
pub fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}
