//! Finding scenario files and turning them into checked [`Scenario`]s.
//!
//! Every problem found is reported (not just the first), each with its
//! file:line:col and, where possible, a did-you-mean hint.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::*;
use super::yaml::{self, Key, Node, NodeValue, Span};
use crate::api;

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "tags",
    "only",
    "skip",
    "pool",
    "vars",
    "steps",
];
const STEP_KEYS: &[&str] = &[
    "name", "call", "use", "wait", "with", "expect", "save", "only", "skip", "snapshot",
];
const FLOW_KEYS: &[&str] = &["description", "params", "steps"];
const EXISTING_KEYS: &[&str] = &["id", "client_id", "client_secret"];

/// Directory names holding reusable flows rather than scenarios.
pub const FLOW_DIR: &str = "flows";

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

/// Loads scenarios, caching flows shared between them.
#[derive(Default)]
pub struct Loader {
    flows: HashMap<PathBuf, Result<Arc<Flow>, Vec<Diagnostic>>>,
    /// Flows being loaded, to report `use:` cycles.
    loading: Vec<PathBuf>,
}

/// Collects diagnostics for one file.
struct Ctx {
    source: Arc<Source>,
    diags: Vec<Diagnostic>,
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
    /// A loader with an empty flow cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and checks one scenario file.
    pub fn load_scenario(&mut self, path: &FsPath) -> Result<Scenario, Vec<Diagnostic>> {
        let (mut ctx, root) = read(path)?;
        let scenario = self.scenario(&mut ctx, &root);
        match scenario {
            Some(s) if ctx.diags.is_empty() => Ok(s),
            _ => Err(ctx.diags),
        }
    }

    fn scenario(&mut self, ctx: &mut Ctx, root: &Node) -> Option<Scenario> {
        let Some(map) = root.as_map() else {
            ctx.hint(
                root.span,
                format!("a scenario file must be a mapping, not {}", root.kind()),
                Some("start with `name:` and `steps:`".into()),
            );
            return None;
        };
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
        let pool = root.get("pool").and_then(|n| pool_fixture(ctx, n));
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
        items
            .iter()
            .filter_map(|item| self.step(ctx, item))
            .collect()
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
            for key in ["expect", "save", "snapshot"] {
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
        Some(Step {
            name,
            source: ctx.source.clone(),
            span: node.span,
            targets,
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
        let mut save = Vec::new();
        if let Some(node) = step.get("save") {
            for (k, v) in ctx.map(node, "`save`").unwrap_or_default() {
                check_var_name(ctx, k);
                let Some(text) = ctx.string(v, "a `save` path") else {
                    continue;
                };
                match crate::scenario::path::Path::parse(&text) {
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
        let Some(path) = candidates.iter().find(|p| p.is_file()).cloned() else {
            ctx.hint(
                target.span,
                format!("flow file `{rel}` not found"),
                Some(format!("paths are relative to {}", base.display())),
            );
            return None;
        };
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
            let (mut ctx, root) = read(path)?;
            let Some(map) = root.as_map() else {
                ctx.error(
                    root.span,
                    format!(
                        "a flow file must be a mapping with `params` and `steps`, not {}",
                        root.kind()
                    ),
                );
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

fn read(path: &FsPath) -> Result<(Ctx, Node), Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            path,
            Span::at(1, 1),
            format!("cannot read file: {e}"),
        )]
    })?;
    let source = Arc::new(Source {
        path: path.to_path_buf(),
        text,
    });
    let root = yaml::parse(&source.text).map_err(|e| {
        vec![Diagnostic::new(path, e.span, format!("YAML syntax: {}", e.message)).with_hint(
            "check indentation and that every `{`/`[`/quote is closed; quote values that contain `: ` or start with `{`",
        )]
    })?;
    Ok((
        Ctx {
            source,
            diags: Vec::new(),
        },
        root,
    ))
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
