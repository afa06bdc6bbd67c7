//! Checks a loaded scenario for what a run would find, without running it:
//! every template (syntax, variables in the order they become defined,
//! helpers, their arguments and filters) and the member names of every
//! request and fixture, against the SDK's model.
//!
//! The variables visible at a point are those a run has there: built-ins
//! (`target`, `run_id`), `vars` in order, the fixture's `pool.*` and
//! `client.*` once it exists, flow parameters inside a flow, and what earlier
//! steps `save` (a step skipped on some targets still counts).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;

use minijinja::{Environment, ErrorKind};
use serde_json::Value;

use super::diagnostic::{Diagnostic, did_you_mean, location};
use super::model::*;
use super::yaml::{Node, NodeValue, Span};
use crate::api;
use crate::scenario::template::{self, HELPERS, RenderError, has_template, helper};

/// Variables every scenario sees.
const BUILTINS: &[&str] = &["target", "run_id"];
/// minijinja's own global functions.
const GLOBAL_FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug"];
/// minijinja's built-in filters, for did-you-mean (whether one exists is asked of minijinja).
const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];
/// Words that look like calls in `{% … %}` but are not.
const KEYWORDS: &[&str] = &[
    "if", "elif", "else", "for", "in", "and", "or", "not", "is", "set", "with", "macro", "call",
    "filter", "block", "import", "from", "include", "extends", "return",
];
/// The fixture's own keys in `pool:`.
const FIXTURE_KEYS: &[&str] = &["client", "users", "existing"];
const POOL_FIELDS: &[&str] = &["id", "name"];
const EXISTING_POOL_FIELDS: &[&str] = &["id"];
const CLIENT_FIELDS: &[&str] = &["id", "secret"];
const CLIENT_NO_SECRET_FIELDS: &[&str] = &["id"];

/// What is known about a variable's value.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Anything (a var, a saved response value, a parameter).
    Any,
    /// An object with exactly these fields (`pool`, `client`).
    Fields(&'static [&'static str]),
}

/// The variables visible at one point of a scenario.
#[derive(Debug, Clone, Default)]
struct Scope {
    vars: BTreeMap<String, Shape>,
}

impl Scope {
    fn builtins() -> Scope {
        let mut scope = Scope::default();
        for b in BUILTINS {
            scope.define(b, Shape::Any);
        }
        scope
    }

    fn define(&mut self, name: &str, shape: Shape) {
        self.vars.insert(name.to_string(), shape);
    }

    /// The fixture's `pool` and `client`.
    fn fixture(&mut self, pool: &'static [&'static str], client: &'static [&'static str]) {
        self.define("pool", Shape::Fields(pool));
        self.define("client", Shape::Fields(client));
    }

    /// `Err` with the runtime's wording when `dotted` (`pool.id`) is not defined.
    fn lookup(&self, dotted: &str) -> Result<(), RenderError> {
        let mut parts = dotted.split('.');
        let first = parts.next().unwrap_or_default();
        let undefined = |name: String, part: &str, names: Vec<String>| RenderError::Undefined {
            name,
            suggestion: did_you_mean(part, names.iter().map(String::as_str)).map(str::to_string),
            defined: names,
        };
        match self.vars.get(first) {
            None => Err(undefined(
                first.to_string(),
                first,
                self.vars.keys().cloned().collect(),
            )),
            Some(Shape::Any) => Ok(()),
            Some(Shape::Fields(fields)) => match parts.next() {
                Some(field) if !fields.contains(&field) => Err(undefined(
                    format!("{first}.{field}"),
                    field,
                    fields.iter().map(|f| f.to_string()).collect(),
                )),
                _ => Ok(()),
            },
        }
    }
}

/// Collects the problems of one scenario or flow.
pub(super) struct Checker {
    env: Environment<'static>,
    filters: HashMap<String, bool>,
    diags: Vec<Diagnostic>,
    seen: HashSet<(PathBuf, usize, usize, String)>,
    /// Where each variable is first saved, for "saved only later" hints.
    saved_at: HashMap<String, String>,
    /// Report undefined variables (off when loading already failed, so a
    /// dropped step's `save` does not cause a cascade of errors).
    undefined: bool,
    /// Whether there is a `pool:` fixture (for hints).
    fixture: bool,
    /// Flows whose saves were collected.
    visited: HashSet<usize>,
    /// What each flow saves.
    saves_of: HashMap<usize, Vec<String>>,
    /// Flows checked, with the names visible inside.
    checked: HashSet<(usize, Vec<String>)>,
}

impl Checker {
    fn new(undefined: bool) -> Checker {
        Checker {
            env: Environment::new(),
            filters: HashMap::new(),
            diags: Vec::new(),
            seen: HashSet::new(),
            saved_at: HashMap::new(),
            undefined,
            fixture: true,
            visited: HashSet::new(),
            saves_of: HashMap::new(),
            checked: HashSet::new(),
        }
    }

    /// Every problem of `scenario`. `lost` names what steps the loader
    /// rejected would have defined (never reported as undefined); `None`
    /// when that is unknown (undefined variables are then not reported).
    pub(super) fn scenario(scenario: &Scenario, lost: Option<&[String]>) -> Vec<Diagnostic> {
        let mut c = Checker::new(lost.is_some());
        c.fixture = scenario.pool.is_some();
        c.collect_saves(&scenario.steps);
        let source = scenario.source.text.as_str();
        let file = &scenario.source.path;
        let mut scope = Scope::builtins();
        for name in lost.unwrap_or_default() {
            scope.define(name, Shape::Any);
        }
        for (key, node) in &scenario.vars {
            c.node(file, source, node, &scope);
            scope.define(&key.name, Shape::Any);
        }
        match &scenario.pool {
            None => {}
            Some(PoolFixture::Existing {
                id,
                client_id,
                client_secret,
                ..
            }) => {
                for n in [Some(id), Some(client_id), client_secret.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    c.node(file, source, n, &scope);
                }
                let client = if client_secret.is_some() {
                    CLIENT_FIELDS
                } else {
                    CLIENT_NO_SECRET_FIELDS
                };
                scope.fixture(EXISTING_POOL_FIELDS, client);
            }
            Some(PoolFixture::Create {
                pool,
                client,
                users,
                ..
            }) => {
                // The pool and its client are created before `pool`/`client` exist.
                c.node(file, source, pool, &scope);
                c.node(file, source, client, &scope);
                let members = api::input_members("CreateUserPool").unwrap_or_default();
                let allowed: Vec<&str> = members.to_vec();
                let mut candidates = allowed.clone();
                candidates.extend(FIXTURE_KEYS);
                c.keys(
                    file,
                    pool,
                    &allowed,
                    &candidates,
                    "`pool`",
                    "pool keys are CreateUserPool parameters and the fixture's own `client`, `users` and `existing`",
                );
                let members = api::input_members("CreateUserPoolClient").unwrap_or_default();
                let allowed: Vec<&str> = members
                    .iter()
                    .copied()
                    .filter(|m| *m != "UserPoolId")
                    .collect();
                c.keys(
                    file,
                    client,
                    &allowed,
                    &allowed,
                    "`client`",
                    "client keys are CreateUserPoolClient parameters (the fixture sets UserPoolId)",
                );
                let members = api::input_members("AdminCreateUser").unwrap_or_default();
                let mut allowed: Vec<&str> = members.to_vec();
                allowed.push("Password");
                let generates_secret = client
                    .get("GenerateSecret")
                    .is_some_and(|g| !matches!(g.value, NodeValue::Bool(false)));
                scope.fixture(
                    POOL_FIELDS,
                    if generates_secret {
                        CLIENT_FIELDS
                    } else {
                        CLIENT_NO_SECRET_FIELDS
                    },
                );
                for user in users {
                    c.keys(
                        file,
                        user,
                        &allowed,
                        &allowed,
                        "a fixture user",
                        "users take AdminCreateUser parameters plus `Password`",
                    );
                    c.node(file, source, user, &scope);
                }
            }
        }
        c.steps(&scenario.steps, &mut scope);
        c.diags
    }

    /// Every problem of a flow file on its own: its parameters, the fixture's
    /// `pool` and `client`, and the built-ins are defined.
    pub(super) fn flow(flow: &Flow) -> Vec<Diagnostic> {
        let mut c = Checker::new(true);
        c.collect_saves(&flow.steps);
        let mut scope = Scope::builtins();
        scope.fixture(POOL_FIELDS, CLIENT_FIELDS);
        for p in &flow.params {
            if let Some(default) = &p.default {
                c.node(&flow.source.path, &flow.source.text, default, &scope);
            }
        }
        for p in &flow.params {
            scope.define(&p.name, Shape::Any);
        }
        c.steps(&flow.steps, &mut scope);
        c.diags
    }

    fn collect_saves(&mut self, steps: &[Step]) {
        for step in steps {
            match &step.action {
                Action::Call(call) => {
                    for save in &call.save {
                        self.saved_at
                            .entry(save.var.clone())
                            .or_insert_with(|| location(&step.source.path, save.span));
                    }
                }
                // Each flow once, however often it is used.
                Action::Use(u) if self.visited.insert(flow_id(&u.flow)) => {
                    self.collect_saves(&u.flow.steps)
                }
                Action::Use(_) | Action::Wait(_) => {}
            }
        }
    }

    /// Every variable `flow` saves, its nested flows included (computed once per flow).
    fn flow_saves(&mut self, flow: &Flow) -> Vec<String> {
        if let Some(saves) = self.saves_of.get(&flow_id(flow)) {
            return saves.clone();
        }
        let mut saves = Vec::new();
        for step in &flow.steps {
            match &step.action {
                Action::Call(c) => saves.extend(c.save.iter().map(|s| s.var.clone())),
                Action::Use(u) => saves.extend(self.flow_saves(&u.flow)),
                Action::Wait(_) => {}
            }
        }
        self.saves_of.insert(flow_id(flow), saves.clone());
        saves
    }

    /// Checks `steps` in order, defining what they save in `scope`.
    fn steps(&mut self, steps: &[Step], scope: &mut Scope) {
        for step in steps {
            let file = &step.source.path;
            let source = step.source.text.as_str();
            match &step.action {
                Action::Call(call) => {
                    self.node(file, source, &call.with, scope);
                    if let Some(expect) = &call.expect {
                        for node in expect.template_nodes() {
                            self.node(file, source, node, scope);
                        }
                    }
                    let members = api::input_members(call.operation).unwrap_or_default();
                    let hint = format!(
                        "{}'s request members are: {}",
                        call.operation,
                        members.join(", ")
                    );
                    self.keys(
                        file,
                        &call.with,
                        members,
                        members,
                        &format!("{}'s request", call.operation),
                        &hint,
                    );
                    for save in &call.save {
                        scope.define(&save.var, Shape::Any);
                    }
                }
                Action::Use(u) => {
                    // Arguments and defaults are rendered where the flow is used.
                    for (_, arg) in &u.args {
                        self.node(file, source, arg, scope);
                    }
                    for p in &u.flow.params {
                        if let (Some(default), false) =
                            (&p.default, u.args.iter().any(|(k, _)| k.name == p.name))
                        {
                            self.node(&u.flow.source.path, &u.flow.source.text, default, scope);
                        }
                    }
                    let mut inner = scope.clone();
                    for p in &u.flow.params {
                        inner.define(&p.name, Shape::Any);
                    }
                    // A flow is checked once per set of visible names (not once
                    // per use: flows using flows would multiply the work).
                    let names: Vec<String> = inner.vars.keys().cloned().collect();
                    if self.checked.insert((flow_id(&u.flow), names)) {
                        self.steps(&u.flow.steps, &mut inner);
                    }
                    // What the flow saves stays visible; its parameters do not.
                    for name in self.flow_saves(&u.flow) {
                        scope.define(&name, Shape::Any);
                    }
                }
                Action::Wait(_) => {}
            }
        }
    }

    fn report(&mut self, d: Diagnostic) {
        let key = (d.file.clone(), d.span.line, d.span.col, d.message.clone());
        if self.seen.insert(key) {
            self.diags.push(d);
        }
    }

    /// Reports keys of the mapping `node` that are not in `allowed`
    /// (templated keys are not checked).
    fn keys(
        &mut self,
        file: &PathBuf,
        node: &Node,
        allowed: &[&str],
        candidates: &[&str],
        what: &str,
        fallback: &str,
    ) {
        let Some(entries) = node.as_map() else { return };
        for (k, _) in entries {
            if allowed.contains(&k.name.as_str()) || has_template(&k.name) {
                continue;
            }
            let exact = candidates
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&k.name))
                .copied();
            let hint = match exact.or_else(|| did_you_mean(&k.name, candidates.iter().copied())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => fallback.to_string(),
            };
            self.report(
                Diagnostic::new(file, k.span, format!("unknown key `{}` in {what}", k.name))
                    .with_hint(hint),
            );
        }
    }

    /// Checks every template string in `node`.
    fn node(&mut self, file: &PathBuf, source: &str, node: &Node, scope: &Scope) {
        match &node.value {
            NodeValue::String { value, quoted } if has_template(value) => {
                self.template(file, source, node, value, *quoted, scope)
            }
            NodeValue::Seq(items) => {
                for item in items {
                    self.node(file, source, item, scope);
                }
            }
            NodeValue::Map(entries) => {
                for (_, v) in entries {
                    self.node(file, source, v, scope);
                }
            }
            _ => {}
        }
    }

    fn template(
        &mut self,
        file: &PathBuf,
        source: &str,
        node: &Node,
        text: &str,
        quoted: bool,
        scope: &Scope,
    ) {
        let at = |range: Range<usize>| span_in(source, node, text, quoted, range);
        // Compiled as rendering compiles it: a sole expression, or a template.
        let (compiled, base) = match template::sole_expression(text) {
            Some(expr) => {
                let base = expr.as_ptr() as usize - text.as_ptr() as usize;
                let result = self
                    .env
                    .compile_expression(expr)
                    .map(|e| e.undeclared_variables(true));
                (result, base)
            }
            None => (
                self.env
                    .template_from_str(text)
                    .map(|t| t.undeclared_variables(true)),
                0,
            ),
        };
        let used = match compiled {
            Ok(used) => used,
            Err(e) => {
                let span = match e.range() {
                    Some(r) if r.end <= text.len() - base => at(base + r.start..base + r.end),
                    _ => node.span,
                };
                let detail = e.detail().unwrap_or("invalid expression");
                self.report(
                    Diagnostic::new(file, span, format!("template syntax error: {detail}"))
                        .with_hint("templates are minijinja: `{{ username }}`, `{{ totp(secret) }}`, `x-{{ random(8) | upper }}`"),
                );
                return;
            }
        };
        let tokens = lex(text);
        let mut called = HashSet::new();
        for call in calls(&tokens) {
            called.insert(call.name.clone());
            let span = at(call.range.clone());
            match helper(&call.name) {
                Some(h) => {
                    if let Err(e) = h.check(&call.positional, &call.kwargs_ref()) {
                        let mut d = Diagnostic::new(file, span, e.message);
                        d.hint = e.hint;
                        self.report(d);
                    }
                }
                None if GLOBAL_FUNCTIONS.contains(&call.name.as_str()) => {}
                None => {
                    let names = HELPERS.iter().map(|h| h.name);
                    let hint = match did_you_mean(&call.name, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "the helpers are {}",
                            HELPERS
                                .iter()
                                .map(|h| h.usage())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.report(
                        Diagnostic::new(
                            file,
                            at(call.name_range),
                            format!("unknown helper `{}`", call.name),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        for (name, range) in filters(&tokens) {
            if !self.filter_exists(&name) {
                let hint = match did_you_mean(&name, FILTERS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "filters are minijinja's built-ins, e.g. `upper`, `lower`, `length`, `default`".into(),
                };
                self.report(
                    Diagnostic::new(file, at(range), format!("unknown filter `{name}`"))
                        .with_hint(hint),
                );
            }
        }
        if !self.undefined {
            return;
        }
        let mut used: Vec<String> = used.into_iter().collect();
        used.sort();
        for name in used {
            let first = name.split('.').next().unwrap_or_default();
            if helper(first).is_some()
                || GLOBAL_FUNCTIONS.contains(&first)
                || called.contains(first)
            {
                continue;
            }
            if let Err(err) = scope.lookup(&name) {
                let RenderError::Undefined {
                    name: undefined, ..
                } = &err
                else {
                    continue;
                };
                let span = match variable_range(&tokens, undefined) {
                    Some(r) => at(r),
                    None => node.span,
                };
                let hint = match self.saved_at.get(first) {
                    Some(at) if undefined == first => Some(format!(
                        "`{first}` is saved only later (at {at}); a variable can be used after the step that saves it"
                    )),
                    _ if undefined == "client.secret" => Some(
                        "the fixture's client has no secret: add `GenerateSecret: true` to `client`".into(),
                    ),
                    _ if undefined == first && (first == "pool" || first == "client") => {
                        Some(match self.fixture {
                            true => "`pool` and `client` (the fixture) exist in the fixture's `users` and in steps, not in `vars` or the pool and client parameters".into(),
                            false => "`pool` and `client` come from a `pool:` fixture, which this scenario does not have".into(),
                        })
                    }
                    _ => err.hint(),
                };
                let mut d = Diagnostic::new(file, span, err.to_string());
                d.hint = hint;
                self.report(d);
            }
        }
    }

    /// Whether minijinja knows the filter `name` (asked, not assumed).
    fn filter_exists(&mut self, name: &str) -> bool {
        if let Some(known) = self.filters.get(name) {
            return *known;
        }
        let known = match self.env.compile_expression(&format!("none | {name}")) {
            Ok(expr) => !matches!(expr.eval(()), Err(e) if e.kind() == ErrorKind::UnknownFilter),
            Err(_) => true,
        };
        self.filters.insert(name.to_string(), known);
        known
    }
}

/// Identifies a loaded flow (the loader shares one `Arc` per file).
fn flow_id(flow: &Flow) -> usize {
    flow as *const Flow as usize
}

/// The span of `range` (bytes of `text`, the value of `node`) in the file:
/// exact when the string is on one line as written (no escapes), else the
/// whole value.
fn span_in(source: &str, node: &Node, text: &str, quoted: bool, range: Range<usize>) -> Span {
    let span = node.span;
    if span.line != span.end_line || text.contains('\n') || range.end > text.len() {
        return span;
    }
    // minijinja's byte offsets may fall inside a character: widen to whole ones.
    let mut range = range;
    while !text.is_char_boundary(range.start) {
        range.start -= 1;
    }
    while !text.is_char_boundary(range.end) {
        range.end += 1;
    }
    let Some(line) = source.lines().nth(span.line.saturating_sub(1)) else {
        return span;
    };
    let chars: Vec<char> = line.chars().collect();
    let (start, end) = (span.col.saturating_sub(1), span.end_col.saturating_sub(1));
    if start >= end || end > chars.len() {
        return span;
    }
    let q = usize::from(quoted);
    let written: String = chars[start..end].iter().collect();
    let inner = if quoted && written.chars().count() >= 2 {
        written
            .chars()
            .skip(1)
            .take(written.chars().count() - 2)
            .collect()
    } else {
        written.clone()
    };
    let wanted = &text[range.clone()];
    let offset = if inner == text {
        text[..range.start].chars().count()
    } else if inner.matches(wanted).count() == 1 {
        let at = inner.find(wanted).unwrap_or_default();
        inner[..at].chars().count()
    } else {
        return span;
    };
    let col = span.col + q + offset;
    Span {
        line: span.line,
        col,
        end_line: span.line,
        end_col: col + wanted.chars().count().max(1),
    }
}

/// A token inside `{{ … }}` or `{% … %}`.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    /// One punctuation character (`(`, `,`, `|`, `.`, `=`, `-`, …); `==`, `!=`, `<=`, `>=` are `Op`.
    Punct(char),
    Op,
    /// The end of one tag: tokens of different tags never combine.
    End,
}

/// Tokens of the tags of `text`, with their byte ranges.
fn lex(text: &str) -> Vec<(Tok, Range<usize>)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        // Bytes, not `&str` slices: `i` may sit inside a multi-byte character here.
        let close = match (bytes[i], bytes[i + 1]) {
            (b'{', b'{') => "}}",
            (b'{', b'%') => "%}",
            (b'{', b'#') => {
                i = text[i..].find("#}").map_or(bytes.len(), |j| i + j + 2);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        i += 2;
        while i < bytes.len() {
            if text[i..].starts_with(close) {
                i += 2;
                break;
            }
            let c = text[i..].chars().next().unwrap_or(' ');
            let start = i;
            if c.is_whitespace() {
                i += c.len_utf8();
            } else if c == '\'' || c == '"' {
                let mut value = String::new();
                i += 1;
                while i < bytes.len() {
                    let d = text[i..].chars().next().unwrap_or(c);
                    i += d.len_utf8();
                    if d == '\\' {
                        if let Some(e) = text[i..].chars().next() {
                            value.push(e);
                            i += e.len_utf8();
                        }
                    } else if d == c {
                        break;
                    } else {
                        value.push(d);
                    }
                }
                out.push((Tok::Str(value), start..i));
            } else if c.is_ascii_digit() {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    i += 1;
                }
                out.push((Tok::Num(text[start..i].to_string()), start..i));
            } else if c.is_ascii_alphabetic() || c == '_' {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident(text[start..i].to_string()), start..i));
            } else if ["==", "!=", "<=", ">=", "//", "**"]
                .iter()
                .any(|op| text[i..].starts_with(op))
            {
                i += 2;
                out.push((Tok::Op, start..i));
            } else {
                i += c.len_utf8();
                out.push((Tok::Punct(c), start..i));
            }
        }
        out.push((Tok::End, i..i));
    }
    out
}

/// A function call found in a template.
struct CallSite {
    name: String,
    name_range: Range<usize>,
    /// From the name to the closing parenthesis.
    range: Range<usize>,
    /// Each positional argument's value when it is a constant.
    positional: Vec<Option<Value>>,
    kwargs: Vec<(String, Option<Value>)>,
}

impl CallSite {
    fn kwargs_ref(&self) -> Vec<(&str, Option<Value>)> {
        self.kwargs
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect()
    }
}

/// Calls of plain names (`totp(…)`), not methods (`x.upper()`), filters or tests.
fn calls(tokens: &[(Tok, Range<usize>)]) -> Vec<CallSite> {
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let (Tok::Ident(name), name_range) = &tokens[i] else {
            continue;
        };
        if tokens.get(i + 1).map(|t| &t.0) != Some(&Tok::Punct('('))
            || KEYWORDS.contains(&name.as_str())
        {
            continue;
        }
        let prev = i.checked_sub(1).map(|j| &tokens[j].0);
        let before = i.checked_sub(2).map(|j| &tokens[j].0);
        let not_a_call = matches!(prev, Some(Tok::Punct('.' | '|')))
            || matches!(prev, Some(Tok::Ident(w)) if w == "is" || w == "macro" || w == "call")
            || matches!((prev, before), (Some(Tok::Ident(n)), Some(Tok::Ident(is))) if n == "not" && is == "is");
        if not_a_call {
            continue;
        }
        // The arguments, split at top-level commas.
        let mut depth = 0usize;
        let mut args: Vec<Vec<&Tok>> = vec![Vec::new()];
        let mut end = None;
        for (tok, range) in &tokens[i + 2..] {
            match tok {
                Tok::End => break,
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')') if depth == 0 => {
                    end = Some(range.end);
                    break;
                }
                Tok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
                Tok::Punct(',') if depth == 0 => {
                    args.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            if let Some(last) = args.last_mut() {
                last.push(tok);
            }
        }
        let Some(end) = end else { continue };
        let mut site = CallSite {
            name: name.clone(),
            name_range: name_range.clone(),
            range: name_range.start..end,
            positional: Vec::new(),
            kwargs: Vec::new(),
        };
        for arg in args.into_iter().filter(|a| !a.is_empty()) {
            match arg.as_slice() {
                [Tok::Ident(k), Tok::Punct('='), rest @ ..] => {
                    site.kwargs.push((k.clone(), constant(rest)))
                }
                rest => site.positional.push(constant(rest)),
            }
        }
        out.push(site);
    }
    out
}

/// The value of an argument that is a literal (`12`, `-1`, `'x'`, `true`).
fn constant(tokens: &[&Tok]) -> Option<Value> {
    let number = |text: &str, negative: bool| {
        let text = text.replace('_', "");
        let sign = if negative { "-" } else { "" };
        serde_json::from_str::<Value>(&format!("{sign}{text}")).ok()
    };
    match tokens {
        [Tok::Num(n)] => number(n, false),
        [Tok::Punct('-'), Tok::Num(n)] => number(n, true),
        [Tok::Str(s)] => Some(Value::String(s.clone())),
        [Tok::Ident(w)] => match w.as_str() {
            "true" | "True" => Some(Value::Bool(true)),
            "false" | "False" => Some(Value::Bool(false)),
            "none" | "None" => Some(Value::Null),
            _ => None,
        },
        _ => None,
    }
}

/// Filter names (`x | upper`) with their ranges.
fn filters(tokens: &[(Tok, Range<usize>)]) -> Vec<(String, Range<usize>)> {
    tokens
        .windows(2)
        .filter_map(|w| match (&w[0].0, &w[1]) {
            (Tok::Punct('|'), (Tok::Ident(name), range)) => Some((name.clone(), range.clone())),
            _ => None,
        })
        .collect()
}

/// Where the variable `dotted` (`pool.idd`, `usrname`) is first read.
fn variable_range(tokens: &[(Tok, Range<usize>)], dotted: &str) -> Option<Range<usize>> {
    let parts: Vec<&str> = dotted.split('.').collect();
    (0..tokens.len()).find_map(|i| {
        if i > 0 && tokens[i - 1].0 == Tok::Punct('.') {
            return None;
        }
        let mut end = None;
        for (n, part) in parts.iter().enumerate() {
            let j = i + 2 * n;
            if n > 0 && tokens.get(j - 1).map(|t| &t.0) != Some(&Tok::Punct('.')) {
                return None;
            }
            match tokens.get(j) {
                Some((Tok::Ident(name), range)) if name == part => end = Some(range.end),
                _ => return None,
            }
        }
        end.map(|end| tokens[i].1.start..end)
    })
}

#[cfg(test)]
mod tests {
    use super::super::load::Loader;
    use super::*;

    /// Writes `files` (name, text) into a fresh folder and loads `main.yaml`
    /// (a scenario, or with `flow` the flow `flows/main.yaml`) with `labels`.
    fn load(files: &[(&str, &str)], labels: &[&str]) -> Vec<Diagnostic> {
        let dir = std::env::temp_dir().join(format!("cs-check-{}", uuid::Uuid::new_v4()));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut loader = Loader::new().with_labels(labels.iter().map(|l| l.to_string()));
        let main = dir.join("main.yaml");
        let result = if main.exists() {
            loader.load_scenario(&main).err()
        } else {
            loader.load_flow(&dir.join("flows/main.yaml")).err()
        };
        let _ = std::fs::remove_dir_all(&dir);
        result.unwrap_or_default()
    }

    fn scenario(text: &str) -> Vec<Diagnostic> {
        load(&[("main.yaml", text)], &[])
    }

    /// The one problem found: (line, col, message, hint).
    fn one(diags: &[Diagnostic]) -> (usize, usize, &str, &str) {
        assert_eq!(diags.len(), 1, "{diags:#?}");
        let d = &diags[0];
        (
            d.span.line,
            d.span.col,
            d.message.as_str(),
            d.hint.as_deref().unwrap_or_default(),
        )
    }

    const STEP: &str = "steps:\n  - call: AdminGetUser\n    with: { UserPoolId: \"{{ pool_id }}\", Username: \"{{ username }}\" }\n";

    fn with_vars(vars: &str) -> String {
        format!("name: t\nvars:\n  pool_id: p\n  username: u\n{vars}{STEP}")
    }

    #[test]
    fn a_clean_scenario_has_no_problems() {
        assert_eq!(scenario(&with_vars("")), vec![]);
        let text = "name: t\npool:\n  MfaConfiguration: \"OFF\"\n  client: { GenerateSecret: true, ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH] }\n  users:\n    - { Username: ann, Password: \"P-{{ random(12) }}\", UserAttributes: [] }\nsteps:\n  - call: InitiateAuth\n    only: [stub, aws]\n    with: { ClientId: \"{{ client.id }}\", AuthFlow: USER_PASSWORD_AUTH, AuthParameters: { USERNAME: ann, SECRET_HASH: \"{{ secret_hash('ann', client_secret=client.secret) }}\" }, \"{{ 'Templated' }}\": 1 }\n    save: { token: AuthenticationResult.AccessToken }\n  - call: GetUser\n    with: { AccessToken: \"{{ token | trim }}-{{ target }}{{ run_id }}{{ now() }}{{ env('HOME', default='') }}{{ totp('GEZDGNBVGY3TQOJQ', offset=-1) }}\" }\n    expect: { Username: \"{{ pool.name }}\" }\n";
        assert_eq!(scenario(text), vec![]);
    }

    #[test]
    fn template_syntax_errors_point_into_the_string() {
        let d = scenario(&with_vars("  bad: \"x-{{ username + }}\"\n"));
        let (line, col, message, hint) = one(&d);
        assert_eq!(
            (line, message),
            (5, "template syntax error: unexpected end of variable block")
        );
        assert!(col > 8, "inside the string: {col}");
        assert!(hint.contains("minijinja"), "{hint}");
    }

    #[test]
    fn variables_are_defined_in_order() {
        // A var may use earlier vars only.
        let d = scenario(&with_vars("  a: \"{{ b }}\"\n  b: x\n"));
        assert_eq!(
            one(&d),
            (
                5,
                10,
                "undefined variable `b`",
                "defined here: pool_id, run_id, target, username"
            )
        );
        // A step may use only what earlier steps saved; a skipped step's save counts.
        let text = "name: t\nsteps:\n  - call: GetUser\n    with: { AccessToken: \"{{ token }}\" }\n  - call: InitiateAuth\n    skip: { aws: why }\n    with: { ClientId: c, AuthFlow: USER_PASSWORD_AUTH }\n    save: { token: AuthenticationResult.AccessToken }\n  - call: GetUser\n    with: { AccessToken: \"{{ token }}\" }\n";
        let d = scenario(text);
        let (line, col, message, hint) = one(&d);
        assert_eq!((line, col, message), (4, 30, "undefined variable `token`"));
        assert!(hint.contains("saved only later"), "{hint}");
        // The fixture exists in steps and users, not in vars; pool.idd is misspelt.
        let text = "name: t\npool: {}\nvars:\n  early: \"{{ pool.id }}\"\nsteps:\n  - call: AdminGetUser\n    with: { UserPoolId: \"{{ pool.idd }}\", Username: \"{{ client.secret }}\" }\n";
        let d = scenario(text);
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].message, "undefined variable `pool`");
        assert!(d[0].hint.as_deref().unwrap().contains("not in `vars`"));
        assert_eq!(d[1].message, "undefined variable `pool.idd`");
        assert_eq!(d[1].hint.as_deref(), Some("did you mean `id`?"));
        assert_eq!(d[2].message, "undefined variable `client.secret`");
        assert!(d[2].hint.as_deref().unwrap().contains("GenerateSecret"));
    }

    #[test]
    fn flow_parameters_and_saves() {
        let flow = "params: { username: ~, device: phone }\nsteps:\n  - call: AdminGetUser\n    with: { UserPoolId: \"{{ pool.id }}\", Username: \"{{ username }}-{{ device }}\" }\n    save: { status: UserStatus }\n";
        let main = "name: t\npool: {}\nsteps:\n  - use: flows/f.yaml\n    with: { username: ann }\n  - call: AdminGetUser\n    with: { UserPoolId: \"{{ status }}\", Username: \"{{ device }}\" }\n";
        let d = load(&[("main.yaml", main), ("flows/f.yaml", flow)], &[]);
        // What the flow saves stays visible; its parameters do not.
        assert_eq!(one(&d).2, "undefined variable `device`");
        // A flow on its own: its parameters and the fixture are defined.
        assert_eq!(load(&[("flows/main.yaml", flow)], &[]), vec![]);
        let broken = flow.replace("{{ device }}", "{{ devise }}");
        let d = load(&[("flows/main.yaml", &broken)], &[]);
        let (line, _, message, hint) = one(&d);
        assert_eq!(
            (line, message, hint),
            (4, "undefined variable `devise`", "did you mean `device`?")
        );
        // Used from a scenario, a flow's problems are reported at the flow.
        let d = load(&[("main.yaml", main), ("flows/f.yaml", &broken)], &[]);
        assert!(
            d.iter()
                .any(|x| x.file.ends_with("flows/f.yaml")
                    && x.message == "undefined variable `devise`"),
            "{d:#?}"
        );
    }

    #[test]
    fn helpers_filters_arity_and_constant_arguments() {
        let cases = [
            (
                "{{ totpp('A') }}",
                "unknown helper `totpp`",
                "did you mean `totp`?",
            ),
            (
                "{{ uuid() | uper }}",
                "unknown filter `uper`",
                "did you mean `upper`?",
            ),
            (
                "{{ uuid(1) }}",
                "`uuid` takes no arguments, not 1",
                "call it as `uuid()`",
            ),
            (
                "{{ totp() }}",
                "`totp` takes 1 argument (secret), not 0",
                "call it as `totp(secret, offset=…, reuse=…)`",
            ),
            (
                "{{ totp('A', ofset=1) }}",
                "`totp` has no keyword argument `ofset`",
                "did you mean `offset=`?",
            ),
            (
                "{{ totp('A', reuse=1) }}",
                "`totp`'s `reuse` must be true or false, not a number",
                "call it as `totp(secret, offset=…, reuse=…)`",
            ),
            (
                "{{ random(-1) }}",
                "`random(n)` takes a whole number from 1 to 4096, not -1",
                "random strings are at most 4096 characters",
            ),
            (
                "{{ random(4097) }}",
                "`random(n)` takes a whole number from 1 to 4096, not 4097",
                "random strings are at most 4096 characters",
            ),
            (
                "{{ code(3) }}",
                "`code`'s `username` must be a string, not a number",
                "call it as `code(username)`",
            ),
        ];
        for (template, message, hint) in cases {
            let d = scenario(&with_vars(&format!("  x: \"{template}\"\n")));
            let (line, col, m, h) = one(&d);
            assert_eq!((line, m, h), (5, message, hint), "{template}");
            assert!(col >= 9, "{template}: the caret points into the template");
        }
        // Arguments only the run knows are not judged; the largest random is fine.
        assert_eq!(
            scenario(&with_vars(
                "  x: \"{{ random(4096) }}{{ random(username | length) }}{{ code(username) }}\"\n"
            )),
            vec![]
        );
    }

    #[test]
    fn saves_and_expectations() {
        let step = |extra: &str| {
            format!(
                "name: t\nsteps:\n  - call: InitiateAuth\n    with: {{ ClientId: c, AuthFlow: USER_PASSWORD_AUTH }}\n{extra}"
            )
        };
        let d = scenario(&step("    save: { s: Sesion }\n"));
        assert_eq!(
            one(&d),
            (
                5,
                16,
                "`Sesion` is not in InitiateAuth's response",
                "did you mean `Session`?"
            )
        );
        let d = scenario(&step("    save: { s: \"{{ x }}\" }\n"));
        assert!(
            one(&d)
                .2
                .starts_with("`save` takes a response path, not a template")
        );
        let d = scenario(&step(
            "    expect: { error: NotAuthorizedException, challenge: NEW_PASSWORD_REQUIRED }\n",
        ));
        assert_eq!(
            one(&d).2,
            "`error` and `challenge` cannot both hold: a call that fails answers no challenge"
        );
        assert_eq!(
            scenario(&step(
                "    expect: { error: NotAuthorizedException, challenge: null }\n"
            )),
            vec![]
        );
        // Templates in expectations are checked too.
        let d = scenario(&step(
            "    expect: { Session: { not: \"{{ sesion }}\" } }\n",
        ));
        assert_eq!(one(&d).2, "undefined variable `sesion`");
    }

    #[test]
    fn target_names_are_built_in_or_labels_of_the_run() {
        let text = "name: t\nonly: [stubb]\nsteps:\n  - call: ListUserPools\n    with: { MaxResults: 1 }\n    skip: { moto2: why }\n";
        let d = scenario(text);
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!(
            (d[0].span.line, d[0].span.col, d[0].message.as_str()),
            (2, 8, "unknown target `stubb`")
        );
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `stub`?"));
        assert_eq!(d[1].message, "unknown target `moto2`");
        let d = load(&[("main.yaml", &text.replace("stubb", "stub"))], &["moto2"]);
        assert_eq!(d, vec![]);
    }

    #[test]
    fn fixture_and_request_members_come_from_the_sdk_model() {
        let text = "name: t\npool:\n  MfaConfig: \"OFF\"\n  client: { ExplicitAuthFlow: [], UserPoolId: x }\n  users:\n    - { Username: ann, Passwrd: x }\nsteps:\n  - call: InitiateAuth\n    with: { ClientId: c, AuthFlow: USER_PASSWORD_AUTH, AuthParameter: {}, clientId: c }\n";
        let d = scenario(text);
        let got: Vec<(usize, &str, &str)> = d
            .iter()
            .map(|d| {
                (
                    d.span.line,
                    d.message.as_str(),
                    d.hint.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    3,
                    "unknown key `MfaConfig` in `pool`",
                    "did you mean `MfaConfiguration`?"
                ),
                (
                    4,
                    "unknown key `ExplicitAuthFlow` in `client`",
                    "did you mean `ExplicitAuthFlows`?"
                ),
                (
                    4,
                    "unknown key `UserPoolId` in `client`",
                    "client keys are CreateUserPoolClient parameters (the fixture sets UserPoolId)"
                ),
                (
                    6,
                    "unknown key `Passwrd` in a fixture user",
                    "did you mean `Password`?"
                ),
                (
                    9,
                    "unknown key `AuthParameter` in InitiateAuth's request",
                    "did you mean `AuthParameters`?"
                ),
                (
                    9,
                    "unknown key `clientId` in InitiateAuth's request",
                    "did you mean `ClientId`?"
                ),
            ]
        );
    }

    #[test]
    fn non_ascii_text_and_odd_templates_do_not_trip_the_checker() {
        for x in [
            "ünï {{ username }} ✓ {{ 'ß' ~ username }}",
            "{{ ñame }}",
            "é{# c #}{{ username }}{% if username %}ü{% endif %}",
            "{{ username }",
            "{{",
        ] {
            let _ = scenario(&with_vars(&format!("  x: \"{x}\"\n")));
        }
        assert_eq!(
            scenario(&with_vars("  x: \"ünï {{ username }} ✓\"\n")),
            vec![]
        );
    }

    #[test]
    fn spans_map_template_offsets_to_columns() {
        let source = "a: \"x {{ y }}\"\nb: x {{ y }}\n";
        let root = crate::scenario::yaml::parse(source).unwrap();
        let quoted = root.get("a").unwrap();
        let plain = root.get("b").unwrap();
        let s = span_in(source, quoted, "x {{ y }}", true, 5..6);
        assert_eq!((s.line, s.col, s.end_col), (1, 10, 11));
        let s = span_in(source, plain, "x {{ y }}", false, 5..6);
        assert_eq!((s.line, s.col, s.end_col), (2, 9, 10));
    }
}
