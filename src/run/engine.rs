//! Runs one scenario against one connection: fixtures, steps, captures,
//! expectations, and a teardown that always runs.
//!
//! Everything the engine hands back for display (failure messages, request
//! and response bodies, the snapshot transcript) has gone through the
//! scenario's [`Normalizer`], so no secret leaves this module.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::run::deviations::{Deviation, Deviations};
use crate::run::outcome::{Blocker, Failure, FailureKind, ScenarioRun, StepOutcome, StepResult};

use crate::auth::fill::fill_secret_hash;
use crate::auth::jwt;
use crate::auth::srp_fill::{SrpAssistant, SrpContext, SrpFillError};
use crate::run::normalize::{Known, Normalizer};
use crate::scenario::diagnostic::location;
use crate::scenario::expect::Observed;
use crate::scenario::template::{ClientCredentials, HelperState, RenderError, Templates, Vars};
use crate::scenario::yaml::{Node, Span};
use crate::scenario::{Action, Call, PoolFixture, Scenario, Step, Use, humanize};
use crate::targets::Connection;
use crate::targets::aws::cleanup::{POOL_PREFIX, RUN_TAG, pool_name};
use crate::targets::wire::{WireError, WireResponse};

/// Settings shared by every scenario of a run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The target name scenarios see (`stub`, `aws`, `endpoint`).
    pub target: String,
    /// The target's label in a parity run (`moto2` in `--targets moto2=endpoint=…`),
    /// which `only:`/`skip:` may name too.
    pub label: Option<String>,
    /// Identifies this run in resource names (pool names start with `cognito-scenarios-<run_id>`).
    pub run_id: String,
    /// Known deviations of this target from AWS (empty for the stub and AWS).
    pub deviations: Arc<Deviations>,
    /// Refuse writes to pools this run did not create (see [`crate::targets::aws::guard`]);
    /// on for AWS and endpoints unless `--allow-existing-pool`, off for the stub.
    pub guard_existing_pools: bool,
    /// The `cognito-scenarios cleanup` arguments that delete this target's
    /// leftover pools (`--target endpoint=http://… `); `None` where pools
    /// cannot outlive the run (the stub, managed emulators).
    pub cleanup_args: Option<String>,
}

impl RunSettings {
    /// The names `only:`/`skip:` may know this target by: its name and label.
    pub fn names(&self) -> Vec<&str> {
        std::iter::once(self.target.as_str())
            .chain(self.label.as_deref())
            .collect()
    }
}

/// Operations whose answers the SRP assistant learns challenges and devices from.
const SRP_SOURCES: &[&str] = &[
    "InitiateAuth",
    "AdminInitiateAuth",
    "RespondToAuthChallenge",
    "AdminRespondToAuthChallenge",
    "ConfirmDevice",
];

/// Operations that deliver the confirmation codes `code()` reads, or use them up.
const CODE_SOURCES: &[&str] = &[
    "ConfirmSignUp",
    "ConfirmForgotPassword",
    "VerifyUserAttribute",
    "SignUp",
    "ResendConfirmationCode",
    "ForgotPassword",
    "AdminCreateUser",
    "AdminResetUserPassword",
    "UpdateUserAttributes",
    "AdminUpdateUserAttributes",
    "GetUserAttributeVerificationCode",
];

/// Runs `scenario` on `conn`. Every step runs where its inputs exist; a
/// failed setup blocks every step; teardown always runs.
pub async fn run_scenario(
    scenario: &Scenario,
    conn: &Connection,
    settings: &RunSettings,
) -> ScenarioRun {
    let started = Instant::now();
    let mut run = ScenarioRun::new(scenario.name.clone(), scenario.source.path.clone());
    if let Some(reason) = scenario.targets.skip_reason_for(&settings.names()) {
        run.skipped = Some(reason);
        return run;
    }
    if scenario.needs_virtual_clock && !conn.clock.is_virtual() {
        run.skipped = Some(format!(
            "`clock: virtual`: needs the stub's virtual clock, {} runs on real time",
            settings.target
        ));
        return run;
    }
    let mut runner = Runner::new(scenario, conn, settings);
    match runner.setup().await {
        Ok(()) => runner.run_steps(&scenario.steps, &[]).await,
        Err(failure) => {
            let title = if failure.step == "pool fixture" {
                "pool fixture".to_string()
            } else {
                format!("scenario setup (`{}`)", failure.step)
            };
            let blocker = Blocker {
                number: None,
                title,
                missing: String::new(),
            };
            runner.block_all(&scenario.steps, &blocker);
            run.errors.push(failure);
        }
    }
    let teardown = runner.teardown().await;
    run.steps = std::mem::take(&mut runner.results);
    if let Err(t) = teardown {
        if run.failures().next().is_some() {
            // The failure is the outcome; what teardown left behind, and
            // how to delete it, must not be lost with it.
            let hint = t.hint.map(|h| format!("; {h}")).unwrap_or_default();
            run.warnings.push(format!("{}{hint}", t.message));
        } else {
            run.errors.push(t);
        }
    }
    run.transcript = json!({ "scenario": scenario.name, "steps": runner.transcript });
    // Whether every listed deviation still occurs is judged by the suite,
    // which also compares with the reference snapshot (see suite::run_one).
    run.known_deviations = runner.known;
    run.elapsed = started.elapsed();
    run
}

struct Runner<'a> {
    scenario: &'a Scenario,
    conn: &'a Connection,
    templates: Templates,
    vars: Vars,
    normalizer: Normalizer,
    transcript: Vec<Value>,
    /// Every step's result so far.
    results: Vec<StepResult>,
    /// Refresh token → the username it was issued for (for SECRET_HASH on refresh).
    refresh_users: HashMap<String, String>,
    /// Pools this run created (the fixture's and any made by a step), deleted at teardown.
    created_pools: Vec<String>,
    /// SRP sign-ins and tracked devices, to answer their challenges.
    srp: SrpAssistant,
    /// Variables saved, or left missing, so far (a flow's saves outlive its parameters).
    written: Vec<String>,
    /// Variables a step did not produce (it failed, was unsupported or
    /// blocked, or a listed deviation left the value out), with that step:
    /// a step that reads one is blocked by it.
    missing: HashMap<String, Blocker>,
    /// Set when nothing after a step can run (the target failed, a wait was
    /// not waited): every later step is blocked by it.
    stopped: Option<Blocker>,
    /// The latest step that could have given the SRP assistant a challenge or
    /// device and did not pass.
    srp_blocker: Option<Blocker>,
    /// The latest sign-in or challenge answer, when it did not answer (it
    /// failed, was unsupported or blocked): the SRP challenge a later step
    /// answers would have come from it, not from an older sign-in.
    srp_pending: Option<Blocker>,
    /// The latest step that could have delivered a confirmation code (or used
    /// one up) and did not pass: a listed deviation too, since a target that
    /// accepts a code it should refuse uses the code up.
    code_blocker: Option<Blocker>,
    /// Listed deviations that occurred.
    known: Vec<Deviation>,
    /// Listed deviations that covered the current step's differences.
    step_listed: Vec<Deviation>,
    /// Whether the current step's exchange went into the transcript.
    step_recorded: bool,
    /// Whether the current step was answered with an error.
    step_errored: bool,
    settings: &'a RunSettings,
}

type StepFuture<'b> = Pin<Box<dyn Future<Output = ()> + Send + 'b>>;

/// How a call step ended when it did not fail.
enum Called {
    /// Answered; differences, if any, were all listed (see `Runner::step_listed`).
    Answered,
    /// Not sent: an input is missing.
    Blocked(Blocker),
}

impl<'a> Runner<'a> {
    fn new(scenario: &'a Scenario, conn: &'a Connection, settings: &'a RunSettings) -> Self {
        let state = HelperState::new(conn.clock.clone(), conn.codes.clone());
        let mut vars = Vars::new();
        vars.insert("target".into(), Value::String(settings.target.clone()));
        vars.insert("run_id".into(), Value::String(settings.run_id.clone()));
        Runner {
            scenario,
            conn,
            templates: Templates::new(state),
            vars,
            normalizer: Normalizer::new(),
            transcript: Vec::new(),
            results: Vec::new(),
            refresh_users: HashMap::new(),
            created_pools: Vec::new(),
            srp: SrpAssistant::new(),
            written: Vec::new(),
            missing: HashMap::new(),
            stopped: None,
            srp_blocker: None,
            srp_pending: None,
            code_blocker: None,
            known: Vec::new(),
            step_listed: Vec::new(),
            step_recorded: false,
            step_errored: false,
            settings,
        }
    }

    fn scenario_failure(&self, span: Span, err: &RenderError, what: &str) -> Failure {
        let at = location(&self.scenario.source.path, span);
        // A target that cannot provide a confirmation code lacks a feature; the scenario is fine.
        let kind = match err {
            RenderError::CodeUnavailable(_) => FailureKind::Unsupported,
            _ => FailureKind::Scenario,
        };
        let mut f = Failure::new(kind, what, at, self.normalizer.scrub(&err.to_string()));
        f.hint = err.hint();
        f
    }

    /// Renders a node, waiting out used TOTP windows (by advancing a virtual
    /// clock, or sleeping asynchronously on a real one).
    async fn render(&self, node: &Node) -> Result<Value, (Span, RenderError)> {
        loop {
            match self.templates.render(node, &self.vars) {
                Err((_, RenderError::TotpWait(until))) => {
                    let what = format!("{}: the next TOTP window", self.scenario.name);
                    self.conn
                        .wait(self.conn.clock.until_secs(until), &what)
                        .await
                }
                other => return other,
            }
        }
    }

    async fn setup(&mut self) -> Result<(), Failure> {
        for (key, node) in &self.scenario.vars {
            let value = self
                .render(node)
                .await
                .map_err(|(span, e)| self.scenario_failure(span, &e, "vars"))?;
            let kind = if is_secret_name(&key.name) {
                Known::Secret
            } else {
                Known::Variable
            };
            self.normalizer.add_known(&key.name, &value, kind);
            self.vars.insert(key.name.clone(), value);
        }
        match self.scenario.pool.clone() {
            None => Ok(()),
            Some(PoolFixture::Existing {
                id,
                client_id,
                client_secret,
                span,
            }) => {
                let fail = |s: &Self, (sp, e): (Span, RenderError)| {
                    s.scenario_failure(sp, &e, "pool fixture")
                };
                let id = self.render(&id).await.map_err(|e| fail(self, e))?;
                let client_id = self.render(&client_id).await.map_err(|e| fail(self, e))?;
                let secret = match &client_secret {
                    Some(n) => Some(self.render(n).await.map_err(|e| fail(self, e))?),
                    None => None,
                };
                let (Some(id), Some(client_id)) = (id.as_str(), client_id.as_str()) else {
                    return Err(self.fixture_failure(
                        span,
                        "`existing` pool id and client id must be strings".into(),
                    ));
                };
                let secret = secret
                    .as_ref()
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                self.set_fixture(id, None, client_id, secret);
                Ok(())
            }
            Some(PoolFixture::Create {
                pool,
                client,
                users,
                span,
            }) => self.create_fixture(&pool, &client, &users, span).await,
        }
    }

    fn set_fixture(
        &mut self,
        pool_id: &str,
        pool_name: Option<&str>,
        client_id: &str,
        client_secret: Option<&str>,
    ) {
        let mut pool = Map::new();
        pool.insert("id".into(), json!(pool_id));
        if let Some(name) = pool_name {
            pool.insert("name".into(), json!(name));
            self.normalizer
                .add_known("pool.name", &json!(name), Known::Variable);
        }
        self.vars.insert("pool".into(), Value::Object(pool));
        let mut client = Map::new();
        client.insert("id".into(), json!(client_id));
        if let Some(secret) = client_secret {
            client.insert("secret".into(), json!(secret));
            self.normalizer
                .add_known("client.secret", &json!(secret), Known::Secret);
        }
        self.vars.insert("client".into(), Value::Object(client));
        self.normalizer
            .add_known("pool.id", &json!(pool_id), Known::Variable);
        self.normalizer
            .add_known("client.id", &json!(client_id), Known::Variable);
        self.templates.state().set_fixture(
            Some(pool_id.to_string()),
            Some(ClientCredentials {
                client_id: client_id.into(),
                client_secret: client_secret.map(str::to_string),
            }),
        );
    }

    fn fixture_failure(&self, span: Span, message: String) -> Failure {
        let at = location(&self.scenario.source.path, span);
        Failure::new(
            FailureKind::Target,
            "pool fixture",
            at,
            self.normalizer.scrub(&message),
        )
    }

    /// Sends one call, recording the raw exchange when the connection has a recorder.
    async fn send(&self, op: &str, body: &Value) -> Result<WireResponse, WireError> {
        let answer = self.conn.wire.call(op, body).await;
        if let (Some(recorder), Ok(response)) = (&self.conn.recorder, &answer) {
            let raw = json!({ "operation": op, "request": body, "response": response.body });
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(raw);
        }
        answer
    }

    /// A fixture call: must succeed.
    async fn fixture_call(&mut self, op: &str, body: Value, span: Span) -> Result<Value, Failure> {
        match self.send(op, &body).await {
            Ok(WireResponse {
                error: None, body, ..
            }) => Ok(body),
            Ok(r) if r.unsupported().is_some() => {
                let mut f = self.fixture_failure(
                    span,
                    format!(
                        "fixture {op} is unsupported by {}: {}",
                        self.settings.target,
                        r.unsupported().unwrap_or_default()
                    ),
                );
                f.kind = FailureKind::Unsupported;
                Err(f)
            }
            Ok(WireResponse { error: Some(e), .. }) => Err(self.fixture_failure(
                span,
                format!(
                    "fixture {op} failed: {}: {}",
                    e.code,
                    e.message.unwrap_or_default()
                ),
            )),
            Err(e) => Err(self.fixture_failure(
                span,
                format!("fixture {op} failed: {}", transport_message(&e)),
            )),
        }
    }

    async fn create_fixture(
        &mut self,
        pool: &Node,
        client: &Node,
        users: &[Node],
        span: Span,
    ) -> Result<(), Failure> {
        let fail =
            |s: &Self, (sp, e): (Span, RenderError)| s.scenario_failure(sp, &e, "pool fixture");
        let mut params = self.render(pool).await.map_err(|e| fail(self, e))?;
        let obj = params.as_object_mut().expect("pool fixture is a mapping");
        let name = obj
            .entry("PoolName")
            .or_insert_with(|| json!(pool_name(&self.settings.run_id, &self.scenario.name)))
            .as_str()
            .unwrap_or_default()
            .to_string();
        let tags = obj.entry("UserPoolTags").or_insert_with(|| json!({}));
        if let Some(tags) = tags.as_object_mut() {
            tags.insert(RUN_TAG.into(), json!(self.settings.run_id));
        }
        let created = self.fixture_call("CreateUserPool", params, span).await?;
        let Some(pool_id) = created
            .pointer("/UserPool/Id")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(
                self.fixture_failure(span, "CreateUserPool answered without UserPool.Id".into())
            );
        };
        self.created_pools.push(pool_id.clone());
        let mut client_params = self.render(client).await.map_err(|e| fail(self, e))?;
        if let Some(obj) = client_params.as_object_mut() {
            obj.insert("UserPoolId".into(), json!(pool_id));
            obj.entry("ClientName")
                .or_insert_with(|| json!("cognito-scenarios"));
        }
        let created = self
            .fixture_call("CreateUserPoolClient", client_params, client.span)
            .await?;
        let client_id = created
            .pointer("/UserPoolClient/ClientId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(client_id) = client_id else {
            return Err(self.fixture_failure(
                client.span,
                "CreateUserPoolClient answered without UserPoolClient.ClientId".into(),
            ));
        };
        let secret = created
            .pointer("/UserPoolClient/ClientSecret")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.set_fixture(&pool_id, Some(&name), &client_id, secret.as_deref());
        for user in users {
            let mut params = self.render(user).await.map_err(|e| fail(self, e))?;
            let obj = params.as_object_mut().expect("fixture users are mappings");
            let password = obj.remove("Password");
            obj.insert("UserPoolId".into(), json!(pool_id));
            obj.entry("MessageAction")
                .or_insert_with(|| json!("SUPPRESS"));
            let username = obj.get("Username").cloned().unwrap_or(Value::Null);
            self.fixture_call("AdminCreateUser", params, user.span)
                .await?;
            if let Some(password) = password {
                let body = json!({"UserPoolId": pool_id, "Username": username, "Password": password, "Permanent": true});
                self.fixture_call("AdminSetUserPassword", body, user.span)
                    .await?;
            }
        }
        Ok(())
    }

    /// Deletes every pool the run created, newest first, even after a failed
    /// step. A pool the scenario already deleted is fine; deletion protection
    /// or a domain on a pool we made is removed first.
    async fn teardown(&mut self) -> Result<(), Failure> {
        let span = match &self.scenario.pool {
            Some(PoolFixture::Create { span, .. }) => *span,
            _ => Span::at(1, 1),
        };
        let mut first_failure = None;
        while let Some(pool_id) = self.created_pools.pop() {
            let body = json!({ "UserPoolId": pool_id });
            let deleted = match self.send("DeleteUserPool", &body).await {
                Ok(WireResponse { error: None, .. }) => Ok(()),
                Ok(WireResponse { error: Some(e), .. })
                    if e.code == "ResourceNotFoundException" =>
                {
                    Ok(())
                }
                Ok(WireResponse { error: Some(e), .. })
                    if e.code == "InvalidParameterException" =>
                {
                    crate::targets::aws::cleanup::delete_pool(&self.conn.wire, &pool_id)
                        .await
                        .map(|_| ())
                }
                Ok(WireResponse { error: Some(e), .. }) => {
                    Err(format!("{}: {}", e.code, e.message.unwrap_or_default()))
                }
                Err(e) => Err(transport_message(&e)),
            };
            if let Err(message) = deleted
                && first_failure.is_none()
            {
                let mut f = self
                    .fixture_failure(span, format!("teardown DeleteUserPool failed: {message}"));
                f.step = "teardown".into();
                let run_id = &self.settings.run_id;
                // Pool and run ids are not secrets: the hint is not scrubbed.
                f.hint = Some(match &self.settings.cleanup_args {
                    Some(args) => format!(
                        "pool {pool_id} (run {run_id}) may be left behind; delete it with \
                         `cognito-scenarios cleanup {args}` (it deletes pools named \
                         {POOL_PREFIX}* tagged {RUN_TAG})"
                    ),
                    None => format!(
                        "pool {pool_id} (run {run_id}) goes away with the {} when the run ends",
                        self.settings.target
                    ),
                });
                first_failure = Some(f);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    fn run_steps<'b>(&'b mut self, steps: &'b [Step], trail: &'b [String]) -> StepFuture<'b> {
        Box::pin(async move {
            for step in steps {
                if let Some(reason) = step.targets.skip_reason_for(&self.settings.names()) {
                    self.skip(step, reason);
                    continue;
                }
                if let Some(blocker) = self.stopped.clone() {
                    self.block(step, &blocker);
                    continue;
                }
                match &step.action {
                    Action::Call(call) => self.call_step(step, call, trail).await,
                    Action::Wait(d) => {
                        let number = self.results.len() + 1;
                        let title = step.title();
                        let outcome = match self.known_unsupported(&title) {
                            // Listed as unsupported (e.g. the target never expires
                            // what it waits for): not waited, and what follows
                            // needs the time to have passed.
                            Some(listed) => {
                                self.stopped = Some(Blocker {
                                    number: Some(number),
                                    title: title.clone(),
                                    missing: format!("the {} wait", humanize(*d)),
                                });
                                let mut failure = Failure::new(
                                    FailureKind::Unsupported,
                                    title.clone(),
                                    location(&step.source.path, step.span),
                                    format!(
                                        "not waiting: {} lists this step as unsupported",
                                        self.settings.target
                                    ),
                                );
                                failure.called_from = trail.to_vec();
                                StepOutcome::Unsupported {
                                    failure: Box::new(failure),
                                    listed: Some(listed),
                                }
                            }
                            None => {
                                let what = format!("{}: {title}", self.scenario.name);
                                self.conn.wait(*d, &what).await;
                                StepOutcome::Pass
                            }
                        };
                        self.push(step, title, None, outcome);
                    }
                    Action::Use(u) => self.use_flow(step, u, trail).await,
                }
            }
        })
    }

    /// Records the next step's result.
    fn push(
        &mut self,
        step: &Step,
        title: String,
        call: Option<&'static str>,
        outcome: StepOutcome,
    ) {
        self.results.push(StepResult {
            number: self.results.len() + 1,
            title,
            call,
            checks: step.checks.clone(),
            in_transcript: std::mem::take(&mut self.step_recorded),
            outcome,
        });
    }

    /// Records `step` (every step of a flow) as skipped on this target.
    fn skip(&mut self, step: &Step, reason: String) {
        let call = match &step.action {
            Action::Call(c) => Some(c.operation),
            _ => None,
        };
        self.push(step, step.title(), call, StepOutcome::Skipped(reason));
    }

    /// Records `step` as blocked by `blocker` (a flow: each of its steps),
    /// leaving what it would have saved missing.
    fn block(&mut self, step: &Step, blocker: &Blocker) {
        match &step.action {
            Action::Call(call) => {
                for save in &call.save {
                    self.mark_missing(&save.var, blocker);
                }
                self.push(
                    step,
                    step.title(),
                    Some(call.operation),
                    StepOutcome::Blocked(blocker.clone()),
                );
            }
            Action::Wait(_) => self.push(
                step,
                step.title(),
                None,
                StepOutcome::Blocked(blocker.clone()),
            ),
            Action::Use(u) => self.block_all(&u.flow.steps, blocker),
        }
    }

    /// Records every one of `steps` as blocked by `blocker` (or skipped, where it is).
    fn block_all(&mut self, steps: &[Step], blocker: &Blocker) {
        for step in steps {
            match step.targets.skip_reason_for(&self.settings.names()) {
                Some(reason) => self.skip(step, reason),
                None => self.block(step, blocker),
            }
        }
    }

    /// `var` was not produced: `by` (a blocked step's blocker) owns it, so a
    /// step that reads it is blocked by that step.
    fn mark_missing(&mut self, var: &str, by: &Blocker) {
        self.vars.remove(var);
        let blocker = Blocker {
            missing: format!("`{var}`"),
            ..by.clone()
        };
        self.missing.insert(var.to_string(), blocker);
        self.written.push(var.to_string());
    }

    /// The first variable `nodes` read that an earlier step did not produce, with that step.
    fn missing_input<'n>(&self, nodes: impl IntoIterator<Item = &'n Node>) -> Option<Blocker> {
        if self.missing.is_empty() {
            return None;
        }
        let mut used = std::collections::BTreeSet::new();
        for node in nodes {
            self.templates.variables_in(node, &mut used);
        }
        used.iter()
            .filter(|name| self.vars.get(name).is_none())
            .find_map(|name| self.missing.get(name).cloned())
    }

    /// Runs one call step and records its result.
    async fn call_step(&mut self, step: &Step, call: &Call, trail: &[String]) {
        let number = self.results.len() + 1;
        let title = step.title();
        let here = |missing: &str| Blocker {
            number: Some(number),
            title: title.clone(),
            missing: missing.to_string(),
        };
        self.step_listed.clear();
        self.step_recorded = false;
        self.step_errored = false;
        let outcome = match self.call(step, call, number).await {
            Ok(Called::Answered) => StepOutcome::listed(std::mem::take(&mut self.step_listed)),
            Ok(Called::Blocked(blocker)) => StepOutcome::Blocked(blocker),
            Err(mut failure) => {
                if !trail.is_empty() && failure.called_from.is_empty() {
                    failure.called_from = trail.to_vec();
                }
                // A step listed as unsupported is a known gap, whether the target
                // said so or answered something the scenario cannot go on from.
                let answered = matches!(
                    failure.kind,
                    FailureKind::Unsupported | FailureKind::Mismatch
                );
                let listed = answered.then(|| self.known_unsupported(&title)).flatten();
                if listed.is_some() || failure.kind == FailureKind::Unsupported {
                    failure.kind = FailureKind::Unsupported;
                    StepOutcome::Unsupported {
                        failure: Box::new(failure),
                        listed,
                    }
                } else {
                    if failure.kind == FailureKind::Target {
                        // Unreachable or broken: nothing after this can be trusted to run.
                        self.stopped = Some(here("an answer from the target"));
                    }
                    StepOutcome::NewDeviation(Box::new(failure))
                }
            }
        };
        // The step a later step's missing input is put down to.
        let owner = match &outcome {
            StepOutcome::Pass => None,
            StepOutcome::Blocked(b) => Some(b.clone()),
            _ => Some(here("")),
        };
        // A listed deviation answered, and saved what it could.
        let answered = matches!(
            outcome,
            StepOutcome::Pass | StepOutcome::KnownDeviation(_) | StepOutcome::NotEnforced(_)
        );
        // A sign-in that did not pass and was answered with an error (listed
        // or not) brought no challenge either.
        if SRP_SOURCES.contains(&call.operation) {
            let brought_nothing = !answered || (owner.is_some() && self.step_errored);
            self.srp_pending = if brought_nothing { owner.clone() } else { None };
        }
        if let Some(owner) = owner {
            // What a step that failed (or did not run) would have saved is missing.
            if !answered {
                for save in &call.save {
                    self.mark_missing(&save.var, &owner);
                }
            }
            if SRP_SOURCES.contains(&call.operation) {
                self.srp_blocker = Some(owner.clone());
            }
            if CODE_SOURCES.contains(&call.operation) {
                self.code_blocker = Some(owner);
            }
        }
        self.push(step, title, Some(call.operation), outcome);
    }

    async fn use_flow(&mut self, step: &Step, flow_use: &Use, trail: &[String]) {
        let here = location(&step.source.path, step.span);
        let mut bound = Vec::new();
        for param in &flow_use.flow.params {
            let given = flow_use
                .args
                .iter()
                .find(|(k, _)| k.name == param.name)
                .map(|(_, v)| v);
            let Some(node) = given.or(param.default.as_ref()) else {
                continue;
            };
            // An argument made of what an earlier step did not produce is
            // missing inside the flow too: only the flow's steps that read it are blocked.
            if let Some(blocker) = self.missing_input([node]) {
                bound.push((param.name.clone(), Err(blocker)));
                continue;
            }
            match self.render(node).await {
                Ok(value) => bound.push((param.name.clone(), Ok(value))),
                Err((span, e)) => {
                    let mut f = self.scenario_failure(span, &e, &step.title());
                    f.location = location(&step.source.path, span);
                    f.called_from = trail.to_vec();
                    // The flow cannot start: its steps are blocked by this `use:`.
                    let blocker = Blocker {
                        number: Some(self.results.len() + 1),
                        title: step.title(),
                        missing: format!("the flow's parameter `{}`", param.name),
                    };
                    self.push(
                        step,
                        step.title(),
                        None,
                        StepOutcome::NewDeviation(Box::new(f)),
                    );
                    self.block_all(&flow_use.flow.steps, &blocker);
                    return;
                }
            }
        }
        // Parameters shadow variables of the same name for the flow's duration;
        // values the flow saves stay visible afterwards, even under a parameter's name.
        let mut shadowed = Vec::new();
        for (name, value) in bound {
            let previous = (self.vars.remove(&name), self.missing.remove(&name));
            match value {
                Ok(value) => {
                    let kind = if is_secret_name(&name) {
                        Known::Secret
                    } else {
                        Known::Variable
                    };
                    self.normalizer.add_known(&name, &value, kind);
                    self.vars.insert(name.clone(), value);
                }
                Err(blocker) => {
                    self.missing.insert(name.clone(), blocker);
                }
            }
            shadowed.push((name, previous));
        }
        let mut inner_trail = trail.to_vec();
        inner_trail.push(here);
        let written_before = self.written.len();
        self.run_steps(&flow_use.flow.steps, &inner_trail).await;
        let written_inside: Vec<String> = self.written[written_before..].to_vec();
        for (name, (value, blocker)) in shadowed
            .into_iter()
            .filter(|(n, _)| !written_inside.contains(n))
        {
            self.vars.remove(&name);
            self.missing.remove(&name);
            if let Some(v) = value {
                self.vars.insert(name.clone(), v);
            }
            if let Some(b) = blocker {
                self.missing.insert(name, b);
            }
        }
    }

    async fn call(&mut self, step: &Step, call: &Call, number: usize) -> Result<Called, Failure> {
        let title = step.title();
        // A step that needs what an earlier step did not produce is not sent.
        let templated =
            std::iter::once(&call.with).chain(call.expect.iter().flat_map(|e| e.template_nodes()));
        if let Some(blocker) = self.missing_input(templated) {
            return Ok(Called::Blocked(blocker));
        }
        let failure = |kind, span: Span, message: String| {
            Failure::new(
                kind,
                title.clone(),
                location(&step.source.path, span),
                message,
            )
        };
        let mut body = match self.render(&call.with).await {
            Ok(b) => b,
            Err((span, e)) => {
                // No code, because the step that would have sent it did not pass.
                if let (RenderError::CodeNotDelivered(user), Some(b)) = (&e, &self.code_blocker) {
                    return Ok(Called::Blocked(Blocker {
                        missing: self
                            .normalizer
                            .scrub(&format!("a confirmation code for `{user}`")),
                        ..b.clone()
                    }));
                }
                return Err(self.scenario_failure(span, &e, &title));
            }
        };
        // The challenge this step answers would have come from the sign-in
        // or answer just before, which did not answer: blocked by it.
        if let Some(b) = &self.srp_pending
            && srp_challenge_answer(call.operation, &body)
        {
            return Ok(Called::Blocked(Blocker {
                missing: "the SRP challenge or device it answers".into(),
                ..b.clone()
            }));
        }
        if let Err(e) = self.fill_srp(call.operation, &mut body) {
            // No challenge or device to answer, because the step that would
            // have brought it did not pass: blocked by that step.
            if let (SrpFillError::Scenario(..), Some(b)) = (&e, &self.srp_blocker) {
                return Ok(Called::Blocked(Blocker {
                    missing: "the SRP challenge or device it answers".into(),
                    ..b.clone()
                }));
            }
            let (kind, message, hint) = match e {
                SrpFillError::Scenario(m, h) => (FailureKind::Scenario, m, Some(h)),
                SrpFillError::Target(m) => (FailureKind::Mismatch, m, None),
            };
            let mut f = failure(kind, call.with.span, self.normalizer.scrub(&message));
            f.hint = hint;
            f.request = Some(self.normalizer.normalize(&body));
            return Err(f);
        }
        if let Some(client) = self.templates.state().client() {
            fill_secret_hash(
                call.operation,
                &mut body,
                &client.client_id,
                client.client_secret.as_deref(),
                &self.refresh_users,
            );
        }
        if self.settings.guard_existing_pools
            && let Some(pool_id) = crate::targets::aws::guard::foreign_pool_write(
                call.operation,
                &body,
                &self.created_pools,
            )
        {
            let mut f = failure(
                FailureKind::Scenario,
                call.operation_span,
                self.normalizer.scrub(&format!(
                    "refusing {} on user pool {pool_id}: this run did not create it",
                    call.operation
                )),
            );
            f.hint = Some(format!(
                "on {} the runner only changes pools it created; pass --allow-existing-pool \
                 to let scenarios change existing pools",
                self.settings.target
            ));
            return Err(f);
        }
        if call.operation == "CreateUserPool"
            && let Some(obj) = body.as_object_mut()
        {
            // Tagged like fixture pools, so `cleanup` finds it if teardown cannot run.
            let tags = obj.entry("UserPoolTags").or_insert_with(|| json!({}));
            if let Some(tags) = tags.as_object_mut() {
                tags.entry(RUN_TAG)
                    .or_insert_with(|| json!(self.settings.run_id));
            }
        }
        let request = self.normalizer.normalize(&body);
        let response = match self.send(call.operation, &body).await {
            Ok(r) => r,
            Err(e) => {
                let mut f = failure(
                    FailureKind::Target,
                    step.span,
                    self.normalizer.scrub(&transport_message(&e)),
                );
                f.request = Some(request);
                return Err(f);
            }
        };
        self.remember_refresh_user(&response.body);
        self.track_created_pools(call.operation, &body, &response);
        self.srp
            .observe(call.operation, &response.body, response.error.is_none());
        let shown = self.normalizer.normalize(&response.body);
        if let Some(why) = response.unsupported() {
            let mut f = failure(
                FailureKind::Unsupported,
                call.operation_span,
                format!(
                    "{} is unsupported by {}: {why}",
                    call.operation, self.settings.target
                ),
            );
            f.hint = Some(format!(
                "if {} is known not to implement this, list the step in its expectation file with `kind: unsupported`",
                self.settings.target
            ));
            f.request = Some(request);
            f.response = Some(json!({ "status": response.status, "body": shown }));
            return Err(f);
        }
        let mut entry = Map::new();
        entry.insert("step".into(), json!(title));
        entry.insert("call".into(), json!(call.operation));
        entry.insert("request".into(), request.clone());
        self.step_errored = response.error.is_some();
        if response.error.is_some() {
            entry.insert("status".into(), json!(response.status));
            entry.insert("error".into(), shown.clone());
        } else {
            entry.insert("response".into(), shown.clone());
        }
        if call.snapshot {
            self.transcript.push(Value::Object(entry));
            self.step_recorded = true;
        }

        let observed = Observed {
            status: response.status,
            body: &response.body,
            error: response
                .error
                .as_ref()
                .map(|e| (e.code.as_str(), e.message.as_deref())),
        };
        let failures = match &call.expect {
            Some(expect) => {
                let templates = &self.templates;
                let vars = &self.vars;
                expect.evaluate(&observed, &mut |node: &Node| {
                    templates.render(node, vars).map_err(|(_, e)| e.to_string())
                })
            }
            None => Vec::new(),
        };
        let failures = self.without_known_deviations(&title, failures);
        let mut details: Vec<String> = failures
            .iter()
            .map(|f| {
                let at = location(&step.source.path, f.span);
                let path = if f.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", f.path)
                };
                self.normalizer
                    .scrub(&format!("{path}{} ({at})", f.message))
            })
            .collect();
        let unexpected_error =
            call.expect.as_ref().is_none_or(|e| !e.expects_error()) && failures.is_empty();
        let error_listed = response.error.is_some() && self.is_known_deviation(&title, "");
        if let (true, Some(e), false) = (unexpected_error, &response.error, error_listed) {
            details.push(self.normalizer.scrub(&format!(
                "the call failed with {}: {} (add `expect: {{ error: {} }}` if this is what should happen)",
                e.code,
                e.message.as_deref().unwrap_or(""),
                e.code
            )));
        }
        if !details.is_empty() {
            let span = failures
                .first()
                .map(|f| f.span)
                .unwrap_or(call.operation_span);
            let mut f = failure(
                FailureKind::Mismatch,
                span,
                format!("{} did not answer as expected", call.operation),
            );
            f.details = details;
            f.request = Some(request);
            f.response = Some(json!({ "status": response.status, "body": shown }));
            return Err(f);
        }
        for save in &call.save {
            match save.path.resolve(&response.body) {
                Some(v) => {
                    self.vars.insert(save.var.clone(), v);
                    self.missing.remove(&save.var);
                    self.written.push(save.var.clone());
                }
                // Listed as absent: later steps that need it are blocked by this one.
                None if self.is_known_deviation(&title, save.path.as_str()) => {
                    let blocker = Blocker {
                        number: Some(number),
                        title: title.clone(),
                        missing: String::new(),
                    };
                    self.mark_missing(&save.var, &blocker);
                }
                None => {
                    let mut f = failure(
                        FailureKind::Mismatch,
                        save.span,
                        format!(
                            "cannot save `{}`: the response has nothing at `{}`",
                            save.var,
                            save.path.as_str()
                        ),
                    );
                    f.request = Some(request);
                    f.response = Some(json!({ "status": response.status, "body": shown }));
                    return Err(f);
                }
            }
        }
        Ok(Called::Answered)
    }

    /// Records and reports whether a difference at `path` in step `title` is listed for this target.
    fn is_known_deviation(&mut self, title: &str, path: &str) -> bool {
        let Some(d) = self
            .settings
            .deviations
            .find(&self.scenario.source.path, title, path)
        else {
            return false;
        };
        if !self.known.contains(d) {
            self.known.push(d.clone());
        }
        if !self.step_listed.contains(d) {
            self.step_listed.push(d.clone());
        }
        true
    }

    /// Records and returns the entry listing step `title` as unsupported by this target.
    fn known_unsupported(&mut self, title: &str) -> Option<Deviation> {
        let d = self
            .settings
            .deviations
            .find_unsupported(&self.scenario.source.path, title)?;
        if !self.known.contains(d) {
            self.known.push(d.clone());
        }
        Some(d.clone())
    }

    fn without_known_deviations(
        &mut self,
        title: &str,
        failures: Vec<crate::scenario::expect::Failure>,
    ) -> Vec<crate::scenario::expect::Failure> {
        failures
            .into_iter()
            .filter(|f| !self.is_known_deviation(title, &f.path))
            .collect()
    }

    /// Keeps [`Runner::created_pools`] in step with pools that steps create or delete.
    fn track_created_pools(&mut self, operation: &str, body: &Value, response: &WireResponse) {
        if response.error.is_some() {
            return;
        }
        match operation {
            "CreateUserPool" => {
                if let Some(id) = response
                    .body
                    .pointer("/UserPool/Id")
                    .and_then(Value::as_str)
                {
                    self.created_pools.push(id.to_string());
                }
            }
            "DeleteUserPool" => {
                if let Some(id) = body.get("UserPoolId").and_then(Value::as_str) {
                    self.created_pools.retain(|p| p != id);
                }
            }
            _ => {}
        }
    }

    /// Fills SRP values and device verifiers (see [`SrpAssistant`]); the
    /// secrets it makes up are registered so they can never be shown.
    fn fill_srp(&mut self, operation: &str, body: &mut Value) -> Result<(), SrpFillError> {
        let pool_id = self
            .vars
            .get("pool")
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let ctx = SrpContext {
            pool_id: pool_id.as_deref(),
            now_millis: self.conn.clock.now_millis(),
        };
        let result = self.srp.prepare(operation, body, ctx);
        for hidden in self.srp.take_hidden() {
            let value = Value::String(hidden.value);
            self.normalizer
                .add_known(hidden.name, &value, Known::Secret);
            if let Some(recorder) = &self.conn.recorder {
                let made = json!({ "operation": "(made by the runner)", "hidden": { hidden.name: value } });
                recorder
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(made);
            }
        }
        result
    }

    /// Remembers which user a refresh token belongs to, from the ID token beside it.
    fn remember_refresh_user(&mut self, body: &Value) {
        let Some(result) = body.get("AuthenticationResult") else {
            return;
        };
        let (Some(refresh), Some(id_token)) = (
            result.get("RefreshToken").and_then(Value::as_str),
            result.get("IdToken").and_then(Value::as_str),
        ) else {
            return;
        };
        if let Some(user) = jwt::decode(id_token).and_then(|t| {
            t.claims
                .get("cognito:username")
                .and_then(Value::as_str)
                .map(str::to_string)
        }) {
            self.refresh_users.insert(refresh.to_string(), user);
        }
    }
}

/// Whether a request answers a challenge whose SRP values the runner fills
/// (PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER).
fn srp_challenge_answer(operation: &str, body: &Value) -> bool {
    matches!(
        operation,
        "RespondToAuthChallenge" | "AdminRespondToAuthChallenge"
    ) && matches!(
        body.get("ChallengeName").and_then(Value::as_str),
        Some("PASSWORD_VERIFIER" | "DEVICE_SRP_AUTH" | "DEVICE_PASSWORD_VERIFIER")
    )
}

/// Variables whose values must never be shown, whatever they hold.
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["password", "secret", "token", "session", "code"]
        .iter()
        .any(|w| lower.contains(w))
}

fn transport_message(e: &WireError) -> String {
    match e {
        WireError::Transport(m) => format!("could not reach the target: {m}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variable_names() {
        for n in [
            "password",
            "temp_password",
            "clientSecret",
            "access_token",
            "session",
            "confirmation_code",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        assert!(!is_secret_name("username"));
    }
}
