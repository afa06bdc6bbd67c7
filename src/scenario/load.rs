//! Finding scenario files and turning them into checked [`Scenario`]s.
//!
//! Every problem found is reported (not just the first), each with its
//! file:line:col and, where possible, a did-you-mean hint.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::check::Checker;
use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::*;
use super::yaml::{self, Key, Node, NodeValue, Span};
use crate::api;
use crate::scenario::template::has_template;

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "tags",
    "only",
    "skip",
    "clock",
    "pool",
    "vars",
    "steps",
];
const STEP_KEYS: &[&str] = &[
    "name", "call", "use", "wait", "with", "expect", "save", "only", "skip", "snapshot", "check",
];
const FLOW_KEYS: &[&str] = &["description", "params", "steps"];
const EXISTING_KEYS: &[&str] = &["id", "client_id", "client_secret"];

/// Directory names holding reusable flows rather than scenarios.
pub const FLOW_DIR: &str = "flows";

/// `clock: virtual` (true) or `clock: any` (false, the default).
fn clock_need(ctx: &mut Ctx, node: &Node) -> bool {
    match ctx.string(node, "`clock`").as_deref() {
        Some("virtual") => true,
        Some("any") | None => false,
        Some(other) => {
            ctx.hint(
                node.span,
                format!("unknown clock `{other}`"),
                Some(
                    "write `clock: virtual` for a scenario that can only run on the stub's \
                     virtual clock (it waits too long for real time), or leave it out"
                        .into(),
                ),
            );
            false
        }
    }
}

/// Whether `path` is a flow file: its folder is named `flows`.
pub fn is_flow_file(path: &FsPath) -> bool {
    path.parent()
        .and_then(FsPath::file_name)
        .is_some_and(|dir| dir == FLOW_DIR)
}

/// Finds scenario files under `paths` (files are taken as given; directories
/// are searched for `*.yaml`/`*.yml`, skipping `flows/` and hidden folders).
/// Sorted, so runs list scenarios in a stable order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_file() {
            found.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0
                    || !(e.file_type().is_dir() && (name == FLOW_DIR || name.starts_with('.')))
            });
        for entry in walker.filter_map(Result::ok) {
            let p = entry.path();
            if entry.file_type().is_file()
                && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            {
                found.push(p.to_path_buf());
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Largest scenario or flow file read, in bytes (16 MiB: far beyond any
/// hand-written suite, small enough to load in seconds).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Loads scenarios, caching flows shared between them.
#[derive(Default)]
pub struct Loader {
    flows: HashMap<PathBuf, Result<Arc<Flow>, Vec<Diagnostic>>>,
    /// Flows being loaded, to report `use:` cycles.
    loading: Vec<PathBuf>,
    /// Target labels `only:`/`skip:` may name besides [`TARGET_NAMES`].
    labels: Vec<String>,
    /// Folders (canonical) that `use:` may read from; `None`: anywhere.
    roots: Option<Vec<PathBuf>>,
}

/// The folders a suite's `use:` paths stay in: the current directory, each
/// folder given, and the folder of each file given.
pub fn suite_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
    for path in paths {
        if path.is_dir() {
            roots.push(path.clone());
        } else if let Some(parent) = path.parent() {
            roots.push(if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_path_buf()
            });
        }
    }
    roots
}

/// What a file was read as, for messages and for deciding whether it is ours.
#[derive(Clone, Copy)]
enum Kind {
    Scenario,
    Flow,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Flow => "flow",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Scenario => SCENARIO_KEYS,
            Kind::Flow => FLOW_KEYS,
        }
    }
}

/// Collects diagnostics for one file.
struct Ctx {
    source: Arc<Source>,
    diags: Vec<Diagnostic>,
    /// Variables a rejected step or `save` would have defined: not reported
    /// as undefined later, so one mistake gives one error.
    lost: Vec<String>,
    /// A dropped `use:` step: what it defines is unknown.
    incomplete: bool,
}

impl Ctx {
    fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::new(self.source.path.clone(), span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn hint(&mut self, span: Span, message: impl Into<String>, hint: Option<String>) {
        let d = self.error(span, message);
        d.hint = hint;
    }

    /// Reports keys of `map` not in `allowed`, with suggestions.
    fn check_keys(&mut self, map: &[(Key, Node)], allowed: &[&str], what: &str) {
        for (k, _) in map {
            if !allowed.contains(&k.name.as_str()) {
                let hint = match did_you_mean(&k.name, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{what} keys are: {}", allowed.join(", ")),
                };
                self.hint(
                    k.span,
                    format!("unknown key `{}` in {what}", k.name),
                    Some(hint),
                );
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            NodeValue::String { value, .. } => Some(value.clone()),
            NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_) => {
                // A plain scalar: accept it as its text.
                Some(node.to_json().to_string())
            }
            _ => {
                self.error(
                    node.span,
                    format!("{what} must be a string, not {}", node.kind()),
                );
                None
            }
        }
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Key, Node)]> {
        match &node.value {
            NodeValue::Map(m) => Some(m),
            NodeValue::Null => Some(&[]),
            _ => {
                self.error(
                    node.span,
                    format!("{what} must be a mapping (key: value), not {}", node.kind()),
                );
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, what: &str) -> Vec<String> {
        match &node.value {
            NodeValue::Seq(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            NodeValue::String { value, .. } => vec![value.clone()],
            _ => {
                self.error(
                    node.span,
                    format!("{what} must be a list of strings, not {}", node.kind()),
                );
                Vec::new()
            }
        }
    }

    fn targets(&mut self, only: Option<&Node>, skip: Option<&Node>) -> TargetFilter {
        let mut filter = TargetFilter::default();
        if let Some(only) = only {
            filter.only = Some(self.string_list(only, "`only`"));
        }
        if let Some(skip) = skip {
            match &skip.value {
                NodeValue::Map(entries) => {
                    for (k, reason) in entries {
                        match reason.as_str().map(str::trim) {
                            Some(r) if !r.is_empty() => {
                                filter.skip.push((k.name.clone(), r.to_string()))
                            }
                            _ => self.hint(
                                reason.span,
                                format!("skipping target `{}` needs a reason", k.name),
                                Some(format!("write `{}: \"why it cannot run there\"`", k.name)),
                            ),
                        }
                    }
                }
                _ => self.hint(
                    skip.span,
                    "`skip` must map target names to reasons",
                    Some(
                        "for example `skip: { moto: \"moto does not validate TOTP codes\" }`"
                            .into(),
                    ),
                ),
            }
        }
        filter
    }
}

impl Loader {
    /// A loader with an empty flow cache whose `use:` may read any file.
    pub fn new() -> Self {
        Self::default()
    }

    /// A loader that also accepts these target labels in `only:`/`skip:`
    /// (a parity run's `--targets label=…`).
    pub fn with_labels(mut self, labels: impl IntoIterator<Item = String>) -> Self {
        self.labels = labels.into_iter().collect();
        self
    }

    /// A loader whose `use:` paths must stay inside `roots` (see [`suite_roots`]).
    pub fn confined_to(mut self, roots: impl IntoIterator<Item = PathBuf>) -> Self {
        self.roots = Some(
            roots
                .into_iter()
                .map(|r| r.canonicalize().unwrap_or(r))
                .collect(),
        );
        self
    }

    /// Reads and checks one scenario file, including everything a run
    /// would find (templates, variables, member names).
    pub fn load_scenario(&mut self, path: &FsPath) -> Result<Scenario, Vec<Diagnostic>> {
        let (mut ctx, root) = read(path, Kind::Scenario)?;
        let scenario = self.scenario(&mut ctx, &root);
        if let Some(s) = &scenario {
            let lost = (!ctx.incomplete).then_some(ctx.lost.as_slice());
            let found = Checker::scenario(s, lost);
            ctx.diags.extend(found);
            // In file order: this file's problems first, then each flow's.
            let own = ctx.source.path.clone();
            ctx.diags
                .sort_by_key(|d| (d.file != own, d.file.clone(), d.span.line, d.span.col));
        }
        match scenario {
            Some(s) if ctx.diags.is_empty() => Ok(s),
            _ => Err(ctx.diags),
        }
    }

    /// Reads and checks one flow file on its own (as `validate` does for a
    /// flow named on the command line).
    pub fn load_flow(&mut self, path: &FsPath) -> Result<Arc<Flow>, Vec<Diagnostic>> {
        let flow = self.flow(path)?;
        let diags = Checker::flow(&flow);
        if diags.is_empty() {
            Ok(flow)
        } else {
            Err(diags)
        }
    }

    /// Reports target names in `only:`/`skip:` that no run knows.
    fn check_targets(&self, ctx: &mut Ctx, only: Option<&Node>, skip: Option<&Node>) {
        let mut names: Vec<(&str, Span)> = Vec::new();
        match only.map(|n| &n.value) {
            Some(NodeValue::Seq(items)) => {
                names.extend(items.iter().filter_map(|i| i.as_str().map(|s| (s, i.span))))
            }
            Some(NodeValue::String { value, .. }) => {
                names.push((value, only.map_or_else(Span::default, |n| n.span)))
            }
            _ => {}
        }
        if let Some(entries) = skip.and_then(Node::as_map) {
            names.extend(entries.iter().map(|(k, _)| (k.name.as_str(), k.span)));
        }
        let known: Vec<&str> = TARGET_NAMES
            .iter()
            .copied()
            .chain(self.labels.iter().map(String::as_str))
            .collect();
        for (name, span) in names {
            if !known.contains(&name) {
                let hint = match did_you_mean(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("targets are {}", known.join(", ")),
                };
                ctx.hint(span, format!("unknown target `{name}`"), Some(hint));
            }
        }
    }

    fn scenario(&mut self, ctx: &mut Ctx, root: &Node) -> Option<Scenario> {
        let map = ours(ctx, root, Kind::Scenario)?;
        ctx.check_keys(map, SCENARIO_KEYS, "a scenario");
        let name = match root.get("name") {
            Some(n) => ctx.string(n, "`name`").unwrap_or_default(),
            None => {
                ctx.hint(
                    Span::at(1, 1),
                    "a scenario needs a `name`",
                    Some("add `name: What this scenario checks`".into()),
                );
                String::new()
            }
        };
        let description = root
            .get("description")
            .and_then(|n| ctx.string(n, "`description`"));
        let tags = root
            .get("tags")
            .map(|n| ctx.string_list(n, "`tags`"))
            .unwrap_or_default();
        let targets = ctx.targets(root.get("only"), root.get("skip"));
        let needs_virtual_clock = root.get("clock").is_some_and(|n| clock_need(ctx, n));
        self.check_targets(ctx, root.get("only"), root.get("skip"));
        let pool = root.get("pool").and_then(|n| pool_fixture(ctx, n));
        if pool.is_none() && root.get("pool").is_some() {
            ctx.lost.extend(["pool".to_string(), "client".to_string()]);
        }
        let vars = match root.get("vars") {
            Some(n) => ctx.map(n, "`vars`").map(<[_]>::to_vec).unwrap_or_default(),
            None => Vec::new(),
        };
        let steps = match root.get("steps") {
            Some(n) => self.steps(ctx, n),
            None => {
                ctx.hint(
                    Span::at(1, 1),
                    "a scenario needs `steps`",
                    Some("add `steps:` with at least one `- call: …`".into()),
                );
                Vec::new()
            }
        };
        Some(Scenario {
            source: ctx.source.clone(),
            name,
            description,
            tags,
            targets,
            needs_virtual_clock,
            pool,
            vars,
            steps,
        })
    }

    fn steps(&mut self, ctx: &mut Ctx, node: &Node) -> Vec<Step> {
        let Some(items) = node.as_seq() else {
            ctx.hint(
                node.span,
                format!("`steps` must be a list, not {}", node.kind()),
                Some("each step starts with `- call:`".into()),
            );
            return Vec::new();
        };
        if items.is_empty() {
            ctx.error(node.span, "`steps` is empty");
        }
        let mut steps = Vec::new();
        for item in items {
            match self.step(ctx, item) {
                Some(step) => steps.push(step),
                None => {
                    ctx.incomplete |= item.get("use").is_some();
                    let saves = item.get("save").and_then(Node::as_map).unwrap_or_default();
                    ctx.lost.extend(saves.iter().map(|(k, _)| k.name.clone()));
                }
            }
        }
        steps
    }

    fn step(&mut self, ctx: &mut Ctx, node: &Node) -> Option<Step> {
        let Some(map) = node.as_map() else {
            ctx.hint(
                node.span,
                format!("a step must be a mapping, not {}", node.kind()),
                Some("for example `- call: SignUp`".into()),
            );
            return None;
        };
        ctx.check_keys(map, STEP_KEYS, "a step");
        let name = node.get("name").and_then(|n| ctx.string(n, "`name`"));
        let targets = ctx.targets(node.get("only"), node.get("skip"));
        self.check_targets(ctx, node.get("only"), node.get("skip"));
        let kinds: Vec<&Key> = map
            .iter()
            .map(|(k, _)| k)
            .filter(|k| ["call", "use", "wait"].contains(&k.name.as_str()))
            .collect();
        if kinds.len() > 1 {
            ctx.error(
                kinds[1].span,
                format!(
                    "a step does one thing: it has both `{}` and `{}`",
                    kinds[0].name, kinds[1].name
                ),
            );
            return None;
        }
        let action = if let Some(op) = node.get("call") {
            Action::Call(Box::new(self.call(ctx, node, op)?))
        } else if let Some(flow) = node.get("use") {
            for key in ["expect", "save", "snapshot", "check"] {
                if let Some((k, _)) = map.iter().find(|(k, _)| k.name == key) {
                    ctx.hint(
                        k.span,
                        format!("`{key}` belongs on the flow's own steps, not on `use:`"),
                        None,
                    );
                }
            }
            Action::Use(self.use_flow(ctx, node, flow)?)
        } else if let Some(wait) = node.get("wait") {
            let text = ctx.string(wait, "`wait`")?;
            match parse_duration(&text) {
                Some(d) => Action::Wait(d),
                None => {
                    ctx.hint(
                        wait.span,
                        format!("`{text}` is not a duration"),
                        Some("write e.g. `30s`, `4m`, `1m30s` or `500ms`".into()),
                    );
                    return None;
                }
            }
        } else {
            ctx.hint(
                node.span,
                "a step needs `call:`, `use:` or `wait:`",
                Some("for example `- call: InitiateAuth`".into()),
            );
            return None;
        };
        if let (Action::Wait(_), Some((k, _))) =
            (&action, map.iter().find(|(k, _)| k.name == "check"))
        {
            ctx.hint(
                k.span,
                "a `wait:` step verifies nothing: put `check` on the step that calls Cognito",
                None,
            );
        }
        let checks = node
            .get("check")
            .map(|c| checks(ctx, c))
            .unwrap_or_default();
        Some(Step {
            name,
            source: ctx.source.clone(),
            span: node.span,
            targets,
            checks,
            action,
        })
    }

    fn call(&mut self, ctx: &mut Ctx, step: &Node, op: &Node) -> Option<Call> {
        let name = ctx.string(op, "`call`")?;
        let operation = match api::canonical(&name) {
            Some(o) if o == name => o,
            found => {
                let hint = found.or_else(|| api::suggest(&name)).map(|s| format!("did you mean `{s}`?")).unwrap_or_else(|| {
                    "operation names are the cognito-idp API names, e.g. InitiateAuth, AdminCreateUser (`cognito-scenarios list --operations` lists them)".into()
                });
                ctx.hint(op.span, format!("unknown operation `{name}`"), Some(hint));
                return None;
            }
        };
        let with = match step.get("with") {
            Some(w) => {
                ctx.map(w, "`with`")?;
                w.clone()
            }
            None => Node {
                value: NodeValue::Map(Vec::new()),
                span: op.span,
            },
        };
        let expect = match step.get("expect") {
            Some(e) => match crate::scenario::expect::compile(e) {
                Ok(x) => Some(x),
                Err(errors) => {
                    for e in errors {
                        ctx.hint(e.span, e.message, e.hint);
                    }
                    None
                }
            },
            None => None,
        };
        let expects_error = expect.as_ref().is_some_and(|e| e.expects_error());
        let mut save = Vec::new();
        if let Some(node) = step.get("save") {
            for (k, v) in ctx.map(node, "`save`").unwrap_or_default() {
                check_var_name(ctx, k);
                let Some(text) = ctx.string(v, "a `save` path") else {
                    continue;
                };
                if has_template(&text) {
                    ctx.hint(
                        v.span,
                        format!("`save` takes a response path, not a template: `{text}`"),
                        Some(format!(
                            "write where in {name}'s response the value is, e.g. `{}`",
                            example_path(operation)
                        )),
                    );
                    continue;
                }
                match crate::scenario::path::Path::parse(&text) {
                    Ok(path) if !expects_error && !is_response_path(&path, operation) => {
                        let members = api::output_members(operation).unwrap_or_default();
                        let first = path.first_key().unwrap_or_default();
                        let hint = match did_you_mean(first, members.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if members.is_empty() => format!(
                                "{name} answers with an empty object: there is nothing to save"
                            ),
                            None => {
                                format!("{name}'s response members are: {}", members.join(", "))
                            }
                        };
                        ctx.hint(
                            v.span,
                            format!("`{text}` is not in {name}'s response"),
                            Some(hint),
                        );
                    }
                    Ok(path) => save.push(Save {
                        var: k.name.clone(),
                        path,
                        span: v.span,
                    }),
                    Err(e) => {
                        let span = Span {
                            col: v.span.col + e.column_offset,
                            ..v.span
                        };
                        ctx.hint(span, format!("bad path `{text}`: {}", e.message), Some("paths look like `AuthenticationResult.AccessToken` or `Users[0].Username`".into()));
                    }
                }
            }
            for (k, _) in node.as_map().unwrap_or_default() {
                if !save.iter().any(|s| s.var == k.name) {
                    ctx.lost.push(k.name.clone());
                }
            }
        }
        let snapshot = match step.get("snapshot") {
            None => true,
            Some(Node {
                value: NodeValue::Bool(b),
                ..
            }) => *b,
            Some(n) => {
                ctx.error(
                    n.span,
                    format!("`snapshot` must be true or false, not {}", n.kind()),
                );
                true
            }
        };
        Some(Call {
            operation,
            operation_span: op.span,
            with,
            expect,
            save,
            snapshot,
        })
    }

    fn use_flow(&mut self, ctx: &mut Ctx, step: &Node, target: &Node) -> Option<Use> {
        let rel = ctx.string(target, "`use`")?;
        let base = ctx.source.path.parent().unwrap_or(FsPath::new("."));
        let candidates = [base.join(&rel), PathBuf::from(&rel)];
        let Some(path) = candidates.iter().find(|p| p.exists()).cloned() else {
            ctx.hint(
                target.span,
                format!("flow file `{rel}` not found"),
                Some(format!("paths are relative to {}", base.display())),
            );
            return None;
        };
        if let Some(roots) = &self.roots {
            let inside = path
                .canonicalize()
                .is_ok_and(|p| roots.iter().any(|r| p.starts_with(r)));
            if !inside {
                let roots: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
                ctx.hint(
                    target.span,
                    format!("flow file `{rel}` is outside the suite's root"),
                    Some(format!(
                        "`use:` reads files under {}; pass --allow-outside-root to read others",
                        roots.join(", ")
                    )),
                );
                return None;
            }
        }
        if path.is_dir() {
            ctx.hint(
                target.span,
                format!("`{rel}` is a directory, not a flow file"),
                Some("`use:` names one flow file, e.g. `use: flows/sign-in.yaml`".into()),
            );
            return None;
        }
        let flow = match self.flow(&path) {
            Ok(f) => f,
            Err(diags) => {
                if diags
                    .iter()
                    .any(|d| d.message.starts_with("flow `use:` cycle"))
                    && !self.loading.is_empty()
                {
                    ctx.diags.extend(diags);
                } else {
                    ctx.hint(
                        target.span,
                        format!("flow `{rel}` has errors (shown above)"),
                        None,
                    );
                    ctx.diags.extend(diags);
                }
                return None;
            }
        };
        let args = match step.get("with") {
            Some(w) => ctx.map(w, "`with`").map(<[_]>::to_vec).unwrap_or_default(),
            None => Vec::new(),
        };
        let names: Vec<&str> = flow.params.iter().map(|p| p.name.as_str()).collect();
        for (k, _) in &args {
            if !names.contains(&k.name.as_str()) {
                let hint = match did_you_mean(&k.name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => "this flow takes no parameters".into(),
                    None => format!("its parameters are: {}", names.join(", ")),
                };
                ctx.hint(
                    k.span,
                    format!("flow `{rel}` has no parameter `{}`", k.name),
                    Some(hint),
                );
            }
        }
        for p in flow.params.iter().filter(|p| p.default.is_none()) {
            if !args.iter().any(|(k, _)| k.name == p.name) {
                ctx.hint(
                    target.span,
                    format!("flow `{rel}` needs parameter `{}`", p.name),
                    Some(format!("add `with: {{ {}: … }}`", p.name)),
                );
            }
        }
        Some(Use { flow, args })
    }

    fn flow(&mut self, path: &FsPath) -> Result<Arc<Flow>, Vec<Diagnostic>> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(cached) = self.flows.get(&key) {
            return cached.clone();
        }
        if self.loading.contains(&key) {
            return Err(vec![Diagnostic::new(
                path,
                Span::at(1, 1),
                "flow `use:` cycle: this flow uses itself (directly or through other flows)",
            )]);
        }
        self.loading.push(key.clone());
        let result = (|| {
            let (mut ctx, root) = read(path, Kind::Flow)?;
            let Some(map) = ours(&mut ctx, &root, Kind::Flow) else {
                return Err(ctx.diags);
            };
            ctx.check_keys(map, FLOW_KEYS, "a flow");
            let description = root
                .get("description")
                .and_then(|n| ctx.string(n, "`description`"));
            let params = root
                .get("params")
                .map(|n| params(&mut ctx, n))
                .unwrap_or_default();
            let steps = match root.get("steps") {
                Some(n) => self.steps(&mut ctx, n),
                None => {
                    ctx.error(Span::at(1, 1), "a flow needs `steps`");
                    Vec::new()
                }
            };
            if ctx.diags.is_empty() {
                Ok(Arc::new(Flow {
                    source: ctx.source.clone(),
                    description,
                    params,
                    steps,
                }))
            } else {
                Err(ctx.diags)
            }
        })();
        self.loading.pop();
        self.flows.insert(key, result.clone());
        result
    }
}

/// Reads and parses a scenario or flow file. A file that is too big, not
/// text, or not YAML that looks like a scenario or flow is reported without
/// quoting it: `use:` can name any file, and its content may be secret.
fn read(path: &FsPath, kind: Kind) -> Result<(Ctx, Node), Vec<Diagnostic>> {
    let what = kind.name();
    let opaque = |span: Span, reason: String| {
        vec![
            Diagnostic::new(path, span, format!("not a {what} file: {reason}"))
                .with_hint("its content is not shown")
                .without_source(),
        ]
    };
    let cannot_read = |e: std::io::Error| opaque(Span::at(1, 1), format!("cannot read it: {e}"));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
        &mut bytes,
    )
    .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(opaque(
            Span::at(1, 1),
            format!(
                "it is larger than {} MiB, the most a {what} file may hold",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| opaque(Span::at(1, 1), "it is not UTF-8 text".into()))?;
    let root = yaml::parse(&text).map_err(|e| {
        // Bounds (depth, aliases) quote nothing; a syntax error in a file
        // without a top-level `steps:` may be any file's content.
        let ours = text.lines().any(|l| l.starts_with("steps:"));
        match e.hint {
            Some(hint) if ours => vec![Diagnostic::new(path, e.span, e.message).with_hint(hint)],
            Some(_) => opaque(e.span, e.message),
            None if ours => vec![
                Diagnostic::new(path, e.span, format!("YAML syntax: {}", e.message)).with_hint(
                    "check indentation and that every `{`/`[`/quote is closed; quote values that contain `: ` or start with `{`",
                ),
            ],
            None => opaque(e.span, "it is not valid YAML".into()),
        }
    })?;
    let source = Arc::new(Source {
        path: path.to_path_buf(),
        text,
    });
    Ok((
        Ctx {
            source,
            diags: Vec::new(),
            lost: Vec::new(),
            incomplete: false,
        },
        root,
    ))
}

/// The top-level mapping of a scenario or flow file, or `None` (reported)
/// when the file is not one: a mapping none of whose keys is (or is close
/// to) a scenario's or flow's is reported without quoting the file.
fn ours<'n>(ctx: &mut Ctx, root: &'n Node, kind: Kind) -> Option<&'n [(Key, Node)]> {
    let keys = kind.keys();
    let map = root
        .as_map()
        .filter(|map| map.iter().any(|(k, _)| keys.contains(&k.name.as_str())));
    if map.is_none() {
        let found = match root.as_map() {
            Some(_) => "a mapping without any of its keys".to_string(),
            None => root.kind().to_string(),
        };
        let d = Diagnostic::new(
            ctx.source.path.clone(),
            root.span,
            format!("not a {} file: it is {found}", kind.name()),
        )
        .with_hint(format!(
            "a {} file is a mapping with {}; its content is not shown",
            kind.name(),
            match kind {
                Kind::Scenario => "`name:` and `steps:`",
                Kind::Flow => "`params:` and `steps:`",
            }
        ))
        .without_source();
        ctx.diags.push(d);
    }
    map
}

fn pool_fixture(ctx: &mut Ctx, node: &Node) -> Option<PoolFixture> {
    let map = ctx.map(node, "`pool`")?;
    if let Some(existing) = node.get("existing") {
        if map.len() > 1 {
            ctx.error(
                node.span,
                "`pool: { existing: … }` cannot be combined with pool parameters",
            );
        }
        let entries = ctx.map(existing, "`existing`")?;
        ctx.check_keys(entries, EXISTING_KEYS, "`existing`");
        let id = existing.get("id").cloned();
        let client_id = existing.get("client_id").cloned();
        if id.is_none() || client_id.is_none() {
            ctx.hint(existing.span, "`existing` needs `id` and `client_id`", Some("e.g. `existing: { id: \"{{ env('POOL_ID') }}\", client_id: \"{{ env('CLIENT_ID') }}\" }`".into()));
            return None;
        }
        return Some(PoolFixture::Existing {
            id: id?,
            client_id: client_id?,
            client_secret: existing.get("client_secret").cloned(),
            span: existing.span,
        });
    }
    let mut pool_params = Vec::new();
    let mut client = Node {
        value: NodeValue::Map(Vec::new()),
        span: node.span,
    };
    let mut users = Vec::new();
    for (k, v) in map {
        match k.name.as_str() {
            "client" => {
                ctx.map(v, "`client`");
                client = v.clone();
            }
            "users" => match v.as_seq() {
                Some(items) => {
                    for u in items {
                        if u.as_map().is_none() {
                            ctx.error(u.span, format!("each user must be a mapping (AdminCreateUser parameters), not {}", u.kind()));
                        } else if u.get("Username").is_none() {
                            ctx.hint(u.span, "a fixture user needs `Username`", Some("users take AdminCreateUser parameters plus `Password` (set permanently)".into()));
                        } else {
                            users.push(u.clone());
                        }
                    }
                }
                None => {
                    ctx.error(v.span, format!("`users` must be a list, not {}", v.kind()));
                }
            },
            first if first.starts_with(|c: char| c.is_ascii_lowercase()) => {
                let hint = did_you_mean(first, ["client", "users", "existing"]).map(|s| format!("did you mean `{s}`?")).unwrap_or_else(|| {
                    "pool parameters are CreateUserPool's (PascalCase, e.g. MfaConfiguration); `client`, `users` and `existing` are the fixture's own keys".into()
                });
                ctx.hint(
                    k.span,
                    format!("unknown key `{first}` in `pool`"),
                    Some(hint),
                );
            }
            _ => pool_params.push((k.clone(), v.clone())),
        }
    }
    Some(PoolFixture::Create {
        pool: Node {
            value: NodeValue::Map(pool_params),
            span: node.span,
        },
        client,
        users,
        span: node.span,
    })
}

/// Whether `path` starts with a member of `operation`'s response.
fn is_response_path(path: &crate::scenario::path::Path, operation: &str) -> bool {
    match (path.first_key(), api::output_members(operation)) {
        (Some(first), Some(members)) => members.contains(&first),
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

/// A path into `operation`'s response, for hints.
fn example_path(operation: &str) -> &'static str {
    match api::output_members(operation).unwrap_or_default() {
        [] => "AuthenticationResult.AccessToken",
        members if members.contains(&"AuthenticationResult") => "AuthenticationResult.AccessToken",
        members => members[0],
    }
}

fn params(ctx: &mut Ctx, node: &Node) -> Vec<Param> {
    match &node.value {
        NodeValue::Seq(items) => items
            .iter()
            .filter_map(|i| ctx.string(i, "a parameter name"))
            .map(|name| Param {
                name,
                default: None,
            })
            .collect(),
        NodeValue::Map(entries) => entries
            .iter()
            .map(|(k, v)| Param {
                name: k.name.clone(),
                default: (!matches!(v.value, NodeValue::Null)).then(|| v.clone()),
            })
            .collect(),
        _ => {
            ctx.hint(node.span, "`params` must be a list of names or a mapping of name: default", Some("`params: [username, password]` or `params: { username: ~, device_name: phone }` (`~` = required)".into()));
            Vec::new()
        }
    }
}

/// The ids of `check:` (one id or a list), each known to the catalogue.
fn checks(ctx: &mut Ctx, node: &Node) -> Vec<String> {
    let catalogue = crate::scenario::catalogue::Catalogue::bundled();
    let items: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    let mut ids = Vec::new();
    for item in items {
        let Some(id) = ctx.string(item, "a check id") else {
            continue;
        };
        if catalogue.get(&id).is_some() {
            ids.push(id);
            continue;
        }
        let near = crate::scenario::diagnostic::did_you_mean(
            &id,
            catalogue.checks().iter().map(|c| c.id.as_str()),
        );
        let hint = match near {
            Some(n) => format!("did you mean `{n}`?"),
            None => "`cognito-scenarios checks` lists the catalogue (checks/catalogue.yaml)".into(),
        };
        ctx.hint(item.span, format!("unknown check `{id}`"), Some(hint));
    }
    ids
}

fn check_var_name(ctx: &mut Ctx, k: &Key) {
    let valid = k
        .name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        ctx.hint(
            k.span,
            format!("`{}` is not a usable variable name", k.name),
            Some("use letters, digits and `_`, starting with a letter".into()),
        );
    } else if ["pool", "client", "target", "run_id"].contains(&k.name.as_str()) {
        ctx.hint(
            k.span,
            format!(
                "`{}` is a built-in variable and cannot be overwritten",
                k.name
            ),
            None,
        );
    }
}

/// Parses `30s`, `4m`, `1m30s`, `500ms`, `2h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            _ => return None,
        };
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "cognito-scenarios-load-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn check_ids_come_from_the_catalogue_and_sit_on_calls() {
        let text = "\
name: checks
steps:
  - call: ListUserPools
    check: [totp.reuse-refused, session.single-use]
  - call: ListUserPools
    check: totp.reuse-refuse
  - call: ListUserPools
    check: no.such.rule
  - wait: 1s
    check: session.expires
";
        let path = scratch_file("checks.yaml", text.as_bytes());
        let diags = Loader::new().load_scenario(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let found: Vec<(usize, usize, &str, Option<&str>)> = diags
            .iter()
            .map(|d| {
                (
                    d.span.line,
                    d.span.col,
                    d.message.as_str(),
                    d.hint.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    6,
                    12,
                    "unknown check `totp.reuse-refuse`",
                    Some("did you mean `totp.reuse-refused`?")
                ),
                (
                    8,
                    12,
                    "unknown check `no.such.rule`",
                    Some("`cognito-scenarios checks` lists the catalogue (checks/catalogue.yaml)")
                ),
                (
                    10,
                    5,
                    "a `wait:` step verifies nothing: put `check` on the step that calls Cognito",
                    None
                ),
            ]
        );
        let good = scratch_file(
            "good-checks.yaml",
            text.lines()
                .take(4)
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        );
        let scenario = Loader::new().load_scenario(&good).unwrap();
        std::fs::remove_file(&good).unwrap();
        assert_eq!(
            scenario.steps[0].checks,
            ["totp.reuse-refused", "session.single-use"]
        );
    }

    #[test]
    fn a_file_over_the_size_limit_is_invalid_and_not_quoted() {
        let mut text = b"name: big\nsteps:\n  - call: ListUserPools\n#".to_vec();
        text.resize(MAX_FILE_BYTES as usize + 1, b'x');
        let path = scratch_file("big.yaml", &text);
        let diags = Loader::new().load_scenario(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("larger than 16 MiB"), "{diags:?}");
        assert!(!diags[0].show_source);
    }

    #[test]
    fn a_file_that_is_not_a_scenario_is_reported_without_its_content() {
        for (name, text) in [
            ("map.yaml", "password: hunter2\nuser: admin\n"),
            ("list.yaml", "- hunter2\n"),
            ("ini.yaml", "[default]\nkey = hunter2\n"),
        ] {
            let path = scratch_file(name, text.as_bytes());
            let diags = Loader::new().load_scenario(&path).unwrap_err();
            std::fs::remove_file(&path).unwrap();
            assert_eq!(diags.len(), 1, "{name}: {diags:?}");
            assert!(
                diags[0].message.starts_with("not a scenario file"),
                "{diags:?}"
            );
            let shown = diags[0].render(Some(text), false);
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        // A scenario with a syntax error is still quoted, caret and all.
        let text = "name: x\nsteps:\n  - call: [unclosed\n";
        let path = scratch_file("broken.yaml", text.as_bytes());
        let diags = Loader::new().load_scenario(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(diags[0].message.starts_with("YAML syntax"), "{diags:?}");
        assert!(diags[0].show_source);
    }
}
