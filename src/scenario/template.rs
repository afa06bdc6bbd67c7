//! `{{ … }}` templates in scenario values (minijinja, strict undefined).
//!
//! A string that is exactly one `{{ expression }}` keeps the expression's
//! type, so `MaxResults: "{{ 3 }}"` sends a number and a saved object stays an
//! object. Anything else renders to a string. Helpers fill in what no human
//! should type: `totp(secret)`, `secret_hash(username)`, `code(username)`,
//! `uuid()`, `random(n)`, `now()`, `env(NAME)`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use minijinja::value::{
    ArgType as _, Kwargs, Object, Rest, Value as MjValue, ValueKind, ValueOrKwargs,
};
use minijinja::{Environment, Error as MjError, ErrorKind, UndefinedBehavior};
use rand::RngExt as _;
use serde_json::{Map, Value};

use crate::auth::{secret_hash, totp};
use crate::clock::Clock;
use crate::scenario::diagnostic::did_you_mean;
use crate::scenario::yaml::{Node, NodeValue, Span};

/// Variables visible to templates (scenario vars, saves, `pool`, `client`,
/// `target`). Each value is converted for minijinja once, when it is set, and
/// templates read the set through a shared handle: a render costs what the
/// template reads, not the number of variables.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    json: Map<String, Value>,
    scope: Arc<Scope>,
    /// Values converted for minijinja so far (linear in what is set).
    conversions: usize,
}

/// The variables as minijinja values: the context every template sees.
#[derive(Debug, Clone, Default)]
struct Scope(HashMap<String, MjValue>);

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        self.0.get(key.as_str()?).cloned()
    }
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a variable, returning its previous value.
    pub fn insert(&mut self, name: String, value: Value) -> Option<Value> {
        let converted = MjValue::from(minijinja::value::Serde(&value));
        self.conversions += 1;
        // Copies the map only while a render still holds the scope (never, between steps).
        Arc::make_mut(&mut self.scope)
            .0
            .insert(name.clone(), converted);
        self.json.insert(name, value)
    }

    /// Removes a variable, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        Arc::make_mut(&mut self.scope).0.remove(name);
        self.json.remove(name)
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.json.get(name)
    }

    /// The variables' names, in the order they were first set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.json.keys().map(String::as_str)
    }

    /// How many values have been converted for minijinja (one per [`Vars::insert`]).
    pub fn conversions(&self) -> usize {
        self.conversions
    }

    fn context(&self) -> MjValue {
        MjValue::from_dyn_object(self.scope.clone())
    }
}

impl From<Map<String, Value>> for Vars {
    fn from(map: Map<String, Value>) -> Self {
        let mut vars = Vars::new();
        for (k, v) in map {
            vars.insert(k, v);
        }
        vars
    }
}

/// Deepest value a template may produce (as deep as JSON the runner parses):
/// everything after rendering recurses over values.
pub const MAX_VALUE_DEPTH: usize = 128;

/// A helper function's signature: what rendering accepts, and what
/// `validate` checks without running anything.
#[derive(Debug)]
pub struct Helper {
    pub name: &'static str,
    /// Positional parameters, all required.
    pub params: &'static [&'static str],
    /// Keyword arguments it accepts (all optional).
    pub kwargs: &'static [&'static str],
}

/// The helper functions, so they are never reported as undefined variables.
pub const HELPERS: &[Helper] = &[
    Helper {
        name: "totp",
        params: &["secret"],
        kwargs: &["offset", "reuse"],
    },
    Helper {
        name: "secret_hash",
        params: &["username"],
        kwargs: &["client_id", "client_secret"],
    },
    Helper {
        name: "code",
        params: &["username"],
        kwargs: &[],
    },
    Helper {
        name: "uuid",
        params: &[],
        kwargs: &[],
    },
    Helper {
        name: "random",
        params: &["n"],
        kwargs: &[],
    },
    Helper {
        name: "now",
        params: &[],
        kwargs: &[],
    },
    Helper {
        name: "env",
        params: &["name"],
        kwargs: &["default"],
    },
];

/// The most characters `random(n)` makes.
pub const RANDOM_MAX: u64 = 4096;

/// The helper called `name`.
pub fn helper(name: &str) -> Option<&'static Helper> {
    HELPERS.iter().find(|h| h.name == name)
}

/// A helper call that cannot work, with a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    pub message: String,
    pub hint: Option<String>,
}

impl Helper {
    /// `totp(secret, offset=…, reuse=…)`.
    pub fn usage(&self) -> String {
        let kwargs = self.kwargs.iter().map(|k| format!("{k}=…"));
        let all: Vec<String> = self
            .params
            .iter()
            .map(|p| p.to_string())
            .chain(kwargs)
            .collect();
        format!("{}({})", self.name, all.join(", "))
    }

    /// Checks a call's arguments: their number, keyword names, and the values
    /// that are known (`None`: only the run knows it). Rendering checks the
    /// same with every value known, so `validate` and a run agree.
    pub fn check(
        &self,
        positional: &[Option<Value>],
        kwargs: &[(&str, Option<Value>)],
    ) -> Result<(), CallError> {
        let fail = |message: String, hint: Option<String>| Err(CallError { message, hint });
        if positional.len() != self.params.len() {
            let takes = match self.params.len() {
                0 => "no arguments".to_string(),
                1 => format!("1 argument ({})", self.params[0]),
                n => format!("{n} arguments ({})", self.params.join(", ")),
            };
            return fail(
                format!("`{}` takes {takes}, not {}", self.name, positional.len()),
                Some(format!("call it as `{}`", self.usage())),
            );
        }
        for (name, _) in kwargs {
            if !self.kwargs.contains(name) {
                let hint = match did_you_mean(name, self.kwargs.iter().copied()) {
                    Some(s) => format!("did you mean `{s}=`?"),
                    None => format!("call it as `{}`", self.usage()),
                };
                return fail(
                    format!("`{}` has no keyword argument `{name}`", self.name),
                    Some(hint),
                );
            }
        }
        let args = self
            .params
            .iter()
            .copied()
            .zip(positional)
            .chain(kwargs.iter().map(|(k, v)| (*k, v)));
        for (param, value) in args {
            let Some(value) = value else { continue };
            let wanted = match (self.name, param) {
                ("random", "n") => match value.as_u64() {
                    Some(n) if (1..=RANDOM_MAX).contains(&n) => continue,
                    _ => {
                        // Only a number is shown: any other value could be a secret.
                        let given = match value {
                            Value::Number(n) => n.to_string(),
                            other => crate::scenario::path::kind_of(other).to_string(),
                        };
                        return fail(
                            format!(
                                "`random(n)` takes a whole number from 1 to {RANDOM_MAX}, not {given}"
                            ),
                            Some(format!(
                                "random strings are at most {RANDOM_MAX} characters"
                            )),
                        );
                    }
                },
                ("totp", "offset") if value.is_i64() => continue,
                ("totp", "offset") => "a whole number of 30-second windows",
                ("totp", "reuse") if value.is_boolean() => continue,
                ("totp", "reuse") => "true or false",
                (_, _) if value.is_string() => continue,
                (_, _) => "a string",
            };
            return fail(
                format!(
                    "`{}`'s `{param}` must be {wanted}, not {}",
                    self.name,
                    crate::scenario::path::kind_of(value)
                ),
                Some(format!("call it as `{}`", self.usage())),
            );
        }
        Ok(())
    }
}

/// A helper's arguments at run time, checked by [`Helper::check`]:
/// positional values and keyword arguments as JSON.
fn helper_args(
    name: &str,
    args: &[ValueOrKwargs],
) -> Result<(Vec<Value>, Map<String, Value>), MjError> {
    let helper = helper(name).expect("registered helpers are in HELPERS");
    let json = |v: &MjValue| {
        serde_json::to_value(v)
            .map_err(|e| MjError::new(ErrorKind::BadSerialization, e.to_string()))
    };
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (args, None),
    };
    let positional = positional
        .iter()
        .map(|v| json(v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut named = Map::new();
    if let Some(value) = kwargs {
        // Read through `Kwargs`, which marks each one used (minijinja refuses unused ones).
        let kwargs = Kwargs::from_value(Some(&**value))?;
        let names: Vec<String> = kwargs.args().map(str::to_string).collect();
        for name in names {
            let value: MjValue = kwargs.get(&name)?;
            named.insert(name, json(&value)?);
        }
    }
    let kwargs = named;
    let known: Vec<Option<Value>> = positional.iter().cloned().map(Some).collect();
    let named: Vec<(&str, Option<Value>)> = kwargs
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.clone())))
        .collect();
    helper
        .check(&known, &named)
        .map_err(|e| MjError::new(ErrorKind::InvalidOperation, e.message))?;
    Ok((positional, kwargs))
}

/// A checked string argument.
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Where confirmation codes come from (the stub's outbox, an emulator's state files, …).
pub trait CodeSource: Send + Sync {
    /// The latest code delivered to `username` in `pool_id`; `Err` when the target cannot tell.
    fn latest_code(&self, pool_id: &str, username: &str) -> Result<Option<String>, String>;
}

/// A target that cannot provide codes.
pub struct NoCodes(pub String);

impl CodeSource for NoCodes {
    fn latest_code(&self, _: &str, _: &str) -> Result<Option<String>, String> {
        Err(format!(
            "target `{}` cannot provide confirmation codes; use a stub-only step or pass the code in a variable",
            self.0
        ))
    }
}

/// The app client templates compute SECRET_HASH for.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// Per-scenario state behind the helpers.
pub struct HelperState {
    clock: Clock,
    codes: Arc<dyn CodeSource>,
    /// Last TOTP window handed out per secret: Cognito accepts each code once.
    totp_ledger: Mutex<HashMap<String, u64>>,
    /// Set when `totp()` found its window used: the step must wait until then.
    totp_wait_until: Mutex<Option<u64>>,
    /// Set when `code()` found that the target cannot provide codes: why.
    code_unavailable: Mutex<Option<String>>,
    /// Set when `code()` found no code delivered to the user: who.
    code_missing: Mutex<Option<String>>,
    client: Mutex<Option<ClientCredentials>>,
    pool_id: Mutex<Option<String>>,
}

impl HelperState {
    /// State for one scenario run.
    pub fn new(clock: Clock, codes: Arc<dyn CodeSource>) -> Arc<Self> {
        Arc::new(HelperState {
            clock,
            codes,
            totp_ledger: Mutex::default(),
            totp_wait_until: Mutex::default(),
            code_unavailable: Mutex::default(),
            code_missing: Mutex::default(),
            client: Mutex::default(),
            pool_id: Mutex::default(),
        })
    }

    /// Sets the pool and client used by `secret_hash()` and `code()`.
    pub fn set_fixture(&self, pool_id: Option<String>, client: Option<ClientCredentials>) {
        *lock(&self.pool_id) = pool_id;
        *lock(&self.client) = client;
    }

    /// The fixture's client, if any.
    pub fn client(&self) -> Option<ClientCredentials> {
        lock(&self.client).clone()
    }

    /// The clock shared with the target.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn totp(
        &self,
        secret: &str,
        offset: Option<i64>,
        reuse: Option<bool>,
    ) -> Result<String, MjError> {
        let step = totp::step_of(self.clock.now_secs());
        let fail = |e: totp::TotpError| MjError::new(ErrorKind::InvalidOperation, e.to_string());
        if reuse == Some(true) {
            // The code handed out last for this secret, again: for "a code works only once" tests.
            let last = lock(&self.totp_ledger)
                .get(&totp::normalize_secret(secret))
                .copied();
            let last = last.ok_or_else(|| {
                MjError::new(
                    ErrorKind::InvalidOperation,
                    "totp(secret, reuse=true) needs an earlier totp(secret) to reuse",
                )
            })?;
            return totp::code_for_step(secret, last).map_err(fail);
        }
        if let Some(offset) = offset.filter(|o| *o != 0) {
            // A deliberately stale or future code, for negative tests: not recorded.
            let step = step.checked_add_signed(offset).unwrap_or(0);
            return totp::code_for_step(secret, step).map_err(fail);
        }
        let key = totp::normalize_secret(secret);
        let mut ledger = lock(&self.totp_ledger);
        if let Some(&last) = ledger.get(&key)
            && last >= step
        {
            *lock(&self.totp_wait_until) = Some((last + 1) * totp::STEP_SECS);
            return Err(MjError::new(ErrorKind::InvalidOperation, TOTP_WAIT));
        }
        let code = totp::code_for_step(secret, step).map_err(fail)?;
        ledger.insert(key, step);
        Ok(code)
    }

    fn secret_hash(
        &self,
        username: &str,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Result<String, MjError> {
        let client = self.client();
        let client_id = client_id.or_else(|| client.as_ref().map(|c| c.client_id.clone()));
        let client_secret = client_secret.or_else(|| client.and_then(|c| c.client_secret));
        match (client_id, client_secret) {
            (Some(id), Some(secret)) => Ok(secret_hash::secret_hash(&secret, username, &id)),
            _ => Err(MjError::new(
                ErrorKind::InvalidOperation,
                "secret_hash() needs a client with a secret: use a `pool:` fixture whose client has GenerateSecret: true, or pass client_id= and client_secret=",
            )),
        }
    }

    fn code(&self, username: &str) -> Result<String, MjError> {
        let pool = lock(&self.pool_id).clone().unwrap_or_default();
        match self.codes.latest_code(&pool, username) {
            Ok(Some(code)) => Ok(code),
            Ok(None) => {
                *lock(&self.code_missing) = Some(username.to_string());
                Err(MjError::new(ErrorKind::InvalidOperation, CODE_MISSING))
            }
            Err(why) => {
                *lock(&self.code_unavailable) = Some(why);
                Err(MjError::new(ErrorKind::InvalidOperation, CODE_UNAVAILABLE))
            }
        }
    }
}

const TOTP_WAIT: &str = "\u{0}totp-window-used";
const CODE_UNAVAILABLE: &str = "\u{0}code-unavailable";
const CODE_MISSING: &str = "\u{0}code-missing";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a value could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("undefined variable `{name}`")]
    Undefined {
        name: String,
        suggestion: Option<String>,
        defined: Vec<String>,
    },
    #[error("{0}")]
    Template(String),
    /// `totp()` was called in a window whose code was already used; wait until this Unix second and render again.
    #[error("the current TOTP window's code was already used")]
    TotpWait(u64),
    /// `code()` was called on a target that cannot provide confirmation codes (says why).
    #[error("{0}")]
    CodeUnavailable(String),
    /// `code(username)` found no code delivered to that user (yet).
    #[error("no confirmation code has been delivered to `{0}` yet")]
    CodeNotDelivered(String),
}

impl RenderError {
    /// A hint for the user, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            RenderError::Undefined {
                suggestion: Some(s),
                ..
            } => Some(format!("did you mean `{s}`?")),
            RenderError::Undefined { defined, .. } if defined.is_empty() => {
                Some("no variables are defined here; add them under `vars:`".into())
            }
            RenderError::Undefined { defined, .. } => {
                Some(format!("defined here: {}", defined.join(", ")))
            }
            _ => None,
        }
    }
}

/// Renders template strings for one scenario.
pub struct Templates {
    env: Environment<'static>,
    state: Arc<HelperState>,
}

impl Templates {
    /// A template environment whose helpers use `state`.
    pub fn new(state: Arc<HelperState>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Values go into JSON, not HTML: never escape.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let s = state.clone();
        env.add_function("totp", move |args: Rest<ValueOrKwargs>| {
            let (args, kwargs) = helper_args("totp", &args)?;
            let offset = kwargs.get("offset").and_then(Value::as_i64);
            let reuse = kwargs.get("reuse").and_then(Value::as_bool);
            s.totp(text(&args[0]), offset, reuse)
        });
        let s = state.clone();
        env.add_function("secret_hash", move |args: Rest<ValueOrKwargs>| {
            let (args, kwargs) = helper_args("secret_hash", &args)?;
            let given = |k: &str| kwargs.get(k).map(|v| text(v).to_string());
            s.secret_hash(text(&args[0]), given("client_id"), given("client_secret"))
        });
        let s = state.clone();
        env.add_function("code", move |args: Rest<ValueOrKwargs>| {
            let (args, _) = helper_args("code", &args)?;
            s.code(text(&args[0]))
        });
        env.add_function("uuid", |args: Rest<ValueOrKwargs>| {
            helper_args("uuid", &args)?;
            Ok(uuid::Uuid::new_v4().to_string())
        });
        env.add_function("random", |args: Rest<ValueOrKwargs>| {
            let (args, _) = helper_args("random", &args)?;
            Ok(random_alnum(args[0].as_u64().unwrap_or_default() as usize))
        });
        let s = state.clone();
        env.add_function("now", move |args: Rest<ValueOrKwargs>| {
            helper_args("now", &args)?;
            Ok(
                chrono::DateTime::from_timestamp_millis(s.clock.now_millis() as i64)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
            )
        });
        env.add_function("env", |args: Rest<ValueOrKwargs>| -> Result<String, MjError> {
            let (args, kwargs) = helper_args("env", &args)?;
            let name = text(&args[0]);
            let default = kwargs.get("default").map(|v| text(v).to_string());
            std::env::var(name).or_else(|_| default.ok_or(())).map_err(|_| {
                MjError::new(
                    ErrorKind::InvalidOperation,
                    format!("environment variable `{name}` is not set (pass default=\"…\" to make it optional)"),
                )
            })
        });
        Templates { env, state }
    }

    /// The helper state (for the engine: TOTP waits, fixture client).
    pub fn state(&self) -> &Arc<HelperState> {
        &self.state
    }

    /// The top-level variable names the templates in `node` read (helpers
    /// left out), added to `out`. A template that does not compile adds
    /// nothing: rendering reports it.
    pub fn variables_in(&self, node: &Node, out: &mut BTreeSet<String>) {
        match &node.value {
            NodeValue::String { value, .. } if has_template(value) => {
                let names = match sole_expression(value) {
                    Some(expr) => self
                        .env
                        .compile_expression(expr)
                        .map(|e| e.undeclared_variables(false)),
                    None => self
                        .env
                        .template_from_str(value)
                        .map(|t| t.undeclared_variables(false)),
                };
                out.extend(names.into_iter().flatten().filter(|n| helper(n).is_none()));
            }
            NodeValue::Seq(items) => items.iter().for_each(|n| self.variables_in(n, out)),
            NodeValue::Map(entries) => entries.iter().for_each(|(_, n)| self.variables_in(n, out)),
            _ => {}
        }
    }

    /// Renders every string in `node`, returning JSON. Errors carry the span of the string.
    pub fn render(&self, node: &Node, vars: &Vars) -> Result<Value, (Span, RenderError)> {
        self.render_at(node, vars, 0)
    }

    /// [`Templates::render`] at `depth` levels down: deeper than a scenario
    /// file may nest is refused (such a node was not parsed from a file).
    fn render_at(
        &self,
        node: &Node,
        vars: &Vars,
        depth: usize,
    ) -> Result<Value, (Span, RenderError)> {
        let max = crate::scenario::yaml::MAX_DEPTH;
        if depth > max {
            let message = format!("the value is nested more than {max} levels deep");
            return Err((node.span, RenderError::Template(message)));
        }
        Ok(match &node.value {
            NodeValue::String { value, quoted } => self
                .render_str(value, vars)
                .map_err(|e| (span_of_error(node, value, *quoted, &e), e))?,
            NodeValue::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|n| self.render_at(n, vars, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            NodeValue::Map(entries) => {
                let mut out = Map::new();
                for (k, v) in entries {
                    out.insert(k.name.clone(), self.render_at(v, vars, depth + 1)?);
                }
                Value::Object(out)
            }
            _ => node.to_json(),
        })
    }

    /// Renders one string: typed if it is exactly one `{{ expression }}`.
    pub fn render_str(&self, text: &str, vars: &Vars) -> Result<Value, RenderError> {
        if !has_template(text) {
            return Ok(Value::String(text.to_string()));
        }
        let ctx = vars.context();
        let result = match sole_expression(text) {
            Some(expr) => {
                let compiled = self.env.compile_expression(expr).map_err(syntax_error)?;
                check_defined(compiled.undeclared_variables(true), vars)?;
                compiled.eval(ctx).and_then(|v| {
                    if deeper_than(&v, MAX_VALUE_DEPTH) {
                        return Err(MjError::new(
                            ErrorKind::InvalidOperation,
                            format!("the value is nested more than {MAX_VALUE_DEPTH} levels deep"),
                        ));
                    }
                    serde_json::to_value(&v)
                        .map_err(|e| MjError::new(ErrorKind::BadSerialization, e.to_string()))
                })
            }
            None => {
                let tmpl = self.env.template_from_str(text).map_err(syntax_error)?;
                check_defined(tmpl.undeclared_variables(true), vars)?;
                tmpl.render(ctx).map(Value::String)
            }
        };
        result.map_err(|e| self.runtime_error(e))
    }

    fn runtime_error(&self, e: MjError) -> RenderError {
        if e.detail() == Some(TOTP_WAIT)
            && let Some(until) = lock(&self.state.totp_wait_until).take()
        {
            return RenderError::TotpWait(until);
        }
        if e.detail() == Some(CODE_UNAVAILABLE)
            && let Some(why) = lock(&self.state.code_unavailable).take()
        {
            return RenderError::CodeUnavailable(why);
        }
        if e.detail() == Some(CODE_MISSING)
            && let Some(user) = lock(&self.state.code_missing).take()
        {
            return RenderError::CodeNotDelivered(user);
        }
        // The helper's own message, without minijinja's template dump (which could hold values).
        RenderError::Template(match e.detail() {
            Some(d) => d.to_string(),
            None => e.kind().to_string(),
        })
    }
}

/// Whether a value nests lists and maps more than `limit` levels deep
/// (recursing at most `limit` levels).
fn deeper_than(value: &MjValue, limit: usize) -> bool {
    if !matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
    ) {
        return false;
    }
    if limit == 0 {
        return true;
    }
    let Ok(items) = value.try_iter() else {
        return false;
    };
    let is_map = value.kind() == ValueKind::Map;
    for item in items {
        let child = if is_map {
            value.get_item(&item).unwrap_or_default()
        } else {
            item
        };
        if deeper_than(&child, limit - 1) {
            return true;
        }
    }
    false
}

/// Narrows an undefined variable's span to the name inside a one-line string,
/// so the caret sits under the misspelt name rather than the whole value.
fn span_of_error(node: &Node, text: &str, quoted: bool, err: &RenderError) -> Span {
    let RenderError::Undefined { name, .. } = err else {
        return node.span;
    };
    let first = name.split('.').next().unwrap_or(name);
    let single_line = node.span.line == node.span.end_line && !text.contains('\n');
    match text.find(first) {
        Some(offset) if single_line && !text[..offset].contains('\\') => {
            let col = node.span.col + usize::from(quoted) + text[..offset].chars().count();
            Span {
                col,
                end_col: col + name.chars().count(),
                ..node.span
            }
        }
        _ => node.span,
    }
}

/// Whether a string contains template syntax.
pub fn has_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// The expression of a string that is exactly one `{{ … }}`.
pub(crate) fn sole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

fn syntax_error(e: MjError) -> RenderError {
    RenderError::Template(format!(
        "template syntax error: {}",
        e.detail().unwrap_or("invalid expression")
    ))
}

/// Checks every variable the template reads exists, so the error names it
/// (minijinja's strict mode only says "undefined value").
fn check_defined(used: impl IntoIterator<Item = String>, vars: &Vars) -> Result<(), RenderError> {
    let mut used: Vec<String> = used.into_iter().collect();
    used.sort();
    for name in used {
        let mut parts = name.split('.');
        let Some(first) = parts.next() else { continue };
        if helper(first).is_some() {
            continue;
        }
        let mut level = &vars.json;
        let mut path = String::new();
        let mut current = Some(first);
        while let Some(part) = current {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
            match level.get(part) {
                Some(Value::Object(inner)) => level = inner,
                Some(_) => break, // attributes of non-objects: minijinja decides
                None => {
                    let names: Vec<&str> = level.keys().map(String::as_str).collect();
                    return Err(RenderError::Undefined {
                        name: path,
                        suggestion: did_you_mean(part, names.iter().copied()).map(str::to_string),
                        defined: names.iter().map(|s| s.to_string()).collect(),
                    });
                }
            }
            current = parts.next();
        }
    }
    Ok(())
}

fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn templates(clock: Clock) -> Templates {
        Templates::new(HelperState::new(clock, Arc::new(NoCodes("test".into()))))
    }

    fn vars(v: Value) -> Vars {
        Vars::from(v.as_object().cloned().unwrap())
    }

    #[test]
    fn sole_expressions_keep_their_type() {
        let t = templates(Clock::virtual_now());
        let v = vars(json!({"n": 3, "obj": {"a": [1]}, "name": "jane"}));
        assert_eq!(t.render_str("{{ n }}", &v).unwrap(), json!(3));
        assert_eq!(t.render_str("{{ obj }}", &v).unwrap(), json!({"a": [1]}));
        assert_eq!(t.render_str("{{ n > 2 }}", &v).unwrap(), json!(true));
        assert_eq!(t.render_str("id-{{ n }}", &v).unwrap(), json!("id-3"));
        assert_eq!(
            t.render_str("a&b {{ name }}", &v).unwrap(),
            json!("a&b jane")
        );
        assert_eq!(t.render_str("plain", &v).unwrap(), json!("plain"));
    }

    #[test]
    fn undefined_variables_are_named_with_a_suggestion() {
        let t = templates(Clock::virtual_now());
        let v = vars(json!({"username": "u", "pool": {"id": "p"}}));
        let err = t.render_str("{{ usrname }}", &v).unwrap_err();
        assert_eq!(err.to_string(), "undefined variable `usrname`");
        assert_eq!(err.hint().as_deref(), Some("did you mean `username`?"));
        let err = t.render_str("x-{{ pool.idd }}", &v).unwrap_err();
        assert_eq!(err.to_string(), "undefined variable `pool.idd`");
        assert_eq!(err.hint().as_deref(), Some("did you mean `id`?"));
    }

    #[test]
    fn totp_codes_are_never_handed_out_twice_in_one_window() {
        let clock = Clock::virtual_at_millis(1_000_000_000_000);
        let t = templates(clock.clone());
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let v = vars(json!({"secret": secret}));
        let first = t.render_str("{{ totp(secret) }}", &v).unwrap();
        let step = totp::step_of(clock.now_secs());
        assert_eq!(first, json!(totp::code_for_step(secret, step).unwrap()));
        match t.render_str("{{ totp(secret) }}", &v) {
            Err(RenderError::TotpWait(until)) => assert_eq!(until, (step + 1) * 30),
            other => panic!("expected a wait, got {other:?}"),
        }
        clock.advance(std::time::Duration::from_secs(30));
        let second = t.render_str("{{ totp(secret) }}", &v).unwrap();
        assert_eq!(
            second,
            json!(totp::code_for_step(secret, step + 1).unwrap())
        );
        let stale = t.render_str("{{ totp(secret, offset=-3) }}", &v).unwrap();
        assert_eq!(
            stale,
            json!(totp::code_for_step(secret, step + 1 - 3).unwrap())
        );
    }

    #[test]
    fn secret_hash_uses_the_fixture_client() {
        let t = templates(Clock::virtual_now());
        let v = Vars::new();
        assert!(matches!(
            t.render_str("{{ secret_hash('jane') }}", &v),
            Err(RenderError::Template(_))
        ));
        t.state().set_fixture(
            None,
            Some(ClientCredentials {
                client_id: "client123".into(),
                client_secret: Some("secret".into()),
            }),
        );
        assert_eq!(
            t.render_str("{{ secret_hash('jane') }}", &v).unwrap(),
            json!(secret_hash::secret_hash("secret", "jane", "client123"))
        );
    }

    #[test]
    fn helpers_and_errors() {
        let t = templates(Clock::virtual_at_millis(0));
        let v = Vars::new();
        assert_eq!(
            t.render_str("{{ random(12) }}", &v)
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            12
        );
        assert_eq!(
            t.render_str("{{ uuid() }}", &v)
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            36
        );
        assert_eq!(
            t.render_str("{{ now() }}", &v).unwrap(),
            json!("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            t.render_str("{{ env('COGNITO_SCENARIOS_UNSET', default='d') }}", &v)
                .unwrap(),
            json!("d")
        );
        let err = t
            .render_str("{{ env('COGNITO_SCENARIOS_UNSET') }}", &v)
            .unwrap_err();
        assert!(err.to_string().contains("COGNITO_SCENARIOS_UNSET"), "{err}");
        let err = t.render_str("{{ code('bob') }}", &v).unwrap_err();
        assert!(
            matches!(&err, RenderError::CodeUnavailable(m) if m.contains("cannot provide confirmation codes")),
            "{err}"
        );
        assert!(
            matches!(t.render_str("{{ 1 + }}", &v), Err(RenderError::Template(m)) if m.starts_with("template syntax error"))
        );
    }

    #[test]
    fn helper_calls_are_checked_at_run_time_as_validate_checks_them() {
        let t = templates(Clock::virtual_now());
        let v = vars(json!({"n": 5000, "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}));
        let message = |text: &str| match t.render_str(text, &v) {
            Err(RenderError::Template(m)) => m,
            other => panic!("{text}: expected an error, got {other:?}"),
        };
        // Above the cap is an error, not a silently shorter string.
        assert_eq!(
            message("{{ random(n) }}"),
            "`random(n)` takes a whole number from 1 to 4096, not 5000"
        );
        assert_eq!(
            message("{{ random(-1) }}"),
            "`random(n)` takes a whole number from 1 to 4096, not -1"
        );
        // A value that is not a number is named by its kind, never shown.
        assert_eq!(
            message("{{ random(secret) }}"),
            "`random(n)` takes a whole number from 1 to 4096, not a string"
        );
        assert_eq!(
            message("{{ totp() }}"),
            "`totp` takes 1 argument (secret), not 0"
        );
        assert_eq!(
            message("{{ totp(secret, ofset=1) }}"),
            "`totp` has no keyword argument `ofset`"
        );
        assert_eq!(message("{{ uuid(1) }}"), "`uuid` takes no arguments, not 1");
        assert_eq!(
            t.render_str("{{ random(4096) }}", &v)
                .unwrap()
                .as_str()
                .map(str::len),
            Some(4096)
        );
        assert!(t.render_str("{{ totp(secret, offset=-1) }}", &v).is_ok());
    }

    #[test]
    fn render_reports_the_span_of_the_failing_string() {
        let t = templates(Clock::virtual_now());
        let node = crate::scenario::yaml::parse("a: ok\nb: [x, \"{{ nope }}\"]\n").unwrap();
        let (span, err) = t.render(&node, &Vars::new()).unwrap_err();
        assert_eq!(
            (span.line, span.col, span.end_col),
            (2, 12, 16),
            "the caret sits under `nope`"
        );
        assert!(matches!(err, RenderError::Undefined { .. }));
    }

    #[test]
    fn variables_are_converted_once_however_many_templates_read_them() {
        let t = templates(Clock::virtual_now());
        let mut v = Vars::new();
        for i in 0..1_000 {
            v.insert(format!("v{i}"), json!(format!("value-{i}")));
            let rendered = t.render_str(&format!("{{{{ v{i} }}}}-{{{{ v0 }}}}"), &v);
            assert_eq!(rendered.unwrap(), json!(format!("value-{i}-value-0")));
        }
        assert_eq!(v.conversions(), 1_000, "one conversion per variable set");
    }

    #[test]
    fn values_nested_too_deeply_are_refused() {
        let t = templates(Clock::virtual_now());
        let mut v = Vars::new();
        v.insert("x0".into(), json!(1));
        for i in 1..=MAX_VALUE_DEPTH {
            let value = t
                .render_str(&format!("{{{{ [x{}] }}}}", i - 1), &v)
                .unwrap();
            v.insert(format!("x{i}"), value);
        }
        let err = t
            .render_str(&format!("{{{{ [x{MAX_VALUE_DEPTH}] }}}}"), &v)
            .unwrap_err();
        assert!(
            matches!(&err, RenderError::Template(m) if m.contains("nested more than 128 levels")),
            "{err}"
        );
        let literal = format!("{{{{ {}1{} }}}}", "[".repeat(140), "]".repeat(140));
        assert!(t.render_str(&literal, &v).is_err());
        // A node deeper than any file may nest (built, not parsed) is refused too.
        let mut node = Node::synthetic(NodeValue::Null);
        for _ in 0..10_000 {
            node = Node::synthetic(NodeValue::Seq(vec![node]));
        }
        let (_, err) = t.render(&node, &v).unwrap_err();
        assert!(err.to_string().contains("nested more than 64"), "{err}");
        // Dropping it recursively would overflow the stack as well: take it apart.
        let mut items = vec![node];
        while let Some(n) = items.pop() {
            if let NodeValue::Seq(inner) = n.value {
                items.extend(inner);
            }
        }
    }
}
