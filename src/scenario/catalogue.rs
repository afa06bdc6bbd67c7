//! The check catalogue (`checks/catalogue.yaml`, compiled in): the Cognito
//! rules that steps verify, each with where it applies and what backs it.
//! A step names its rules with `check:`; the loader refuses unknown ids.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::diagnostic::location;
use super::model::{Action, Scenario, Step};
use super::yaml::{self, Node, NodeValue, Span};

/// What backs a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// An AWS documentation page.
    AwsDocs,
    /// A peer's test run against real Cognito.
    AwsVerifiedTest,
    /// Real Cognito output: a recording, or a response quoted from AWS.
    AwsRecording,
    /// Our conclusion; the note says why.
    Inferred,
}

impl EvidenceKind {
    /// Every kind with its name in the catalogue.
    pub const ALL: [(EvidenceKind, &'static str); 4] = [
        (EvidenceKind::AwsDocs, "aws-docs"),
        (EvidenceKind::AwsVerifiedTest, "aws-verified-test"),
        (EvidenceKind::AwsRecording, "aws-recording"),
        (EvidenceKind::Inferred, "inferred"),
    ];

    /// The catalogue's name for this kind.
    pub fn name(self) -> &'static str {
        EvidenceKind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("inferred", |(_, n)| n)
    }
}

/// One piece of evidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub kind: EvidenceKind,
    /// A URL or a named test; `None` only for `inferred`.
    pub source: Option<String>,
    pub note: Option<String>,
}

/// One rule of Cognito's that a step can verify.
#[derive(Debug, Clone)]
pub struct Check {
    /// `totp.reuse-refused`, `secret-hash.required.SignUp`, …
    pub id: String,
    /// What AWS does.
    pub rule: String,
    /// The operations and flows it applies to.
    pub applies: Vec<String>,
    /// Whether a target that does not enforce it is a security gap.
    pub security: bool,
    pub evidence: Vec<Evidence>,
}

impl Check {
    /// The kinds of its evidence, each once, in catalogue order.
    pub fn evidence_kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = Vec::new();
        for e in &self.evidence {
            if !kinds.contains(&e.kind.name()) {
                kinds.push(e.kind.name());
            }
        }
        kinds
    }

    /// Whether only our own inference backs this check (the report marks it).
    pub fn inferred_only(&self) -> bool {
        self.evidence
            .iter()
            .all(|e| e.kind == EvidenceKind::Inferred)
    }
}

/// Every check, in catalogue order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    checks: Vec<Check>,
}

/// A problem in a catalogue file.
#[derive(Debug, Clone)]
pub struct CatalogueError {
    pub span: Span,
    pub message: String,
}

const TEXT: &str = include_str!("../../checks/catalogue.yaml");
const ENTRY_KEYS: &[&str] = &["rule", "applies", "security", "evidence"];

impl Catalogue {
    /// The catalogue shipped with this program.
    pub fn bundled() -> &'static Catalogue {
        static BUNDLED: OnceLock<Catalogue> = OnceLock::new();
        // A unit test proves the compiled-in text parses; were it ever not
        // to, no id would be known and the loader would say so at each use.
        BUNDLED.get_or_init(|| Catalogue::parse(TEXT).unwrap_or_default())
    }

    /// The check `id`.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Every check, in catalogue order.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Parses a catalogue; every problem is reported, with its position.
    pub fn parse(text: &str) -> Result<Catalogue, Vec<CatalogueError>> {
        let root = yaml::parse(text).map_err(|e| {
            vec![CatalogueError {
                span: e.span,
                message: e.message,
            }]
        })?;
        let mut errors = Vec::new();
        let mut err = |span: Span, message: String| errors.push(CatalogueError { span, message });
        let mut checks: Vec<Check> = Vec::new();
        let Some(entries) = root.as_map() else {
            err(root.span, "the catalogue is a mapping of check ids".into());
            return Err(errors);
        };
        for (key, node) in entries {
            let id = key.name.clone();
            let valid_id = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !valid_id {
                err(
                    key.span,
                    format!("`{id}` is not a check id (letters, digits, `.`, `-`, `_`)"),
                );
            }
            if checks.iter().any(|c| c.id == id) {
                err(key.span, format!("check `{id}` is listed twice"));
            }
            let Some(map) = node.as_map() else {
                err(node.span, format!("check `{id}` must be a mapping"));
                continue;
            };
            for (k, _) in map {
                if !ENTRY_KEYS.contains(&k.name.as_str()) {
                    err(k.span, format!("unknown key `{}` in check `{id}`", k.name));
                }
            }
            let text = |name: &str, err: &mut dyn FnMut(Span, String)| -> String {
                match node.get(name) {
                    Some(n) => match n.as_str() {
                        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
                        _ => {
                            err(n.span, format!("`{name}` of `{id}` must be text"));
                            String::new()
                        }
                    },
                    None => {
                        err(key.span, format!("check `{id}` needs `{name}`"));
                        String::new()
                    }
                }
            };
            let rule = text("rule", &mut err);
            let applies = match node.get("applies").map(|n| (n, n.as_seq())) {
                Some((_, Some(items))) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                Some((n, None)) => {
                    err(n.span, format!("`applies` of `{id}` is a list"));
                    Vec::new()
                }
                None => {
                    err(key.span, format!("check `{id}` needs `applies`"));
                    Vec::new()
                }
            };
            let security = match node.get("security").map(|n| (n, &n.value)) {
                Some((_, NodeValue::Bool(b))) => *b,
                Some((n, _)) => {
                    err(n.span, format!("`security` of `{id}` is true or false"));
                    false
                }
                None => {
                    err(key.span, format!("check `{id}` needs `security`"));
                    false
                }
            };
            let evidence = evidence(&id, key.span, node.get("evidence"), &mut err);
            checks.push(Check {
                id,
                rule,
                applies,
                security,
                evidence,
            });
        }
        if errors.is_empty() {
            Ok(Catalogue { checks })
        } else {
            Err(errors)
        }
    }
}

/// A step that names a check: `file:line:col` and its title (with the
/// scenario that uses it, for steps of a flow).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckedStep {
    pub location: String,
    pub title: String,
}

/// The steps of `scenarios` (flows they use included, once each) that
/// verify each check, by check id.
pub fn steps_by_check(scenarios: &[Scenario]) -> BTreeMap<String, Vec<CheckedStep>> {
    fn walk(steps: &[Step], out: &mut BTreeMap<String, Vec<CheckedStep>>) {
        for step in steps {
            for id in &step.checks {
                let entry = CheckedStep {
                    location: location(&step.source.path, step.span),
                    title: step.title(),
                };
                let list = out.entry(id.clone()).or_default();
                if !list.contains(&entry) {
                    list.push(entry);
                }
            }
            if let Action::Use(u) = &step.action {
                walk(&u.flow.steps, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    for s in scenarios {
        walk(&s.steps, &mut out);
    }
    out
}

fn evidence(
    id: &str,
    at: Span,
    node: Option<&Node>,
    err: &mut dyn FnMut(Span, String),
) -> Vec<Evidence> {
    let Some(items) = node.and_then(Node::as_seq).filter(|s| !s.is_empty()) else {
        err(
            node.map_or(at, |n| n.span),
            format!("check `{id}` needs `evidence`: a list of at least one"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let field = |name: &str| item.get(name).and_then(Node::as_str).map(str::to_string);
        if let Some(map) = item.as_map() {
            for (k, _) in map {
                if !["kind", "source", "note"].contains(&k.name.as_str()) {
                    err(
                        k.span,
                        format!("unknown key `{}` in evidence of `{id}`", k.name),
                    );
                }
            }
        }
        let kind_name = field("kind").unwrap_or_default();
        let Some(kind) = EvidenceKind::ALL
            .iter()
            .find(|(_, n)| *n == kind_name)
            .map(|(k, _)| *k)
        else {
            let names: Vec<&str> = EvidenceKind::ALL.iter().map(|(_, n)| *n).collect();
            err(
                item.span,
                format!(
                    "evidence of `{id}` needs `kind`: one of {}",
                    names.join(", ")
                ),
            );
            continue;
        };
        let (source, note) = (field("source"), field("note"));
        if kind == EvidenceKind::Inferred && note.is_none() {
            err(
                item.span,
                format!("inferred evidence of `{id}` needs a `note` saying why"),
            );
        }
        if kind != EvidenceKind::Inferred && source.is_none() {
            err(
                item.span,
                format!("{kind_name} evidence of `{id}` needs a `source`"),
            );
        }
        if kind == EvidenceKind::AwsDocs
            && !source
                .as_deref()
                .is_some_and(|s| s.starts_with("https://docs.aws.amazon.com/"))
        {
            err(
                item.span,
                format!("aws-docs evidence of `{id}` is a https://docs.aws.amazon.com/ link"),
            );
        }
        out.push(Evidence { kind, source, note });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalogue_parses_and_every_check_has_evidence() {
        let catalogue = Catalogue::parse(TEXT).unwrap_or_else(|errors| {
            panic!(
                "checks/catalogue.yaml: {}",
                errors
                    .iter()
                    .map(|e| format!("{}:{}: {}", e.span.line, e.span.col, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        });
        assert!(catalogue.checks().len() >= 30);
        assert_eq!(
            Catalogue::bundled().checks().len(),
            catalogue.checks().len()
        );
        for c in catalogue.checks() {
            assert!(!c.evidence.is_empty(), "{}", c.id);
            assert!(!c.rule.is_empty() && !c.applies.is_empty(), "{}", c.id);
        }
        let reuse = catalogue.get("totp.reuse-refused").unwrap();
        assert!(reuse.security && !reuse.inferred_only());
    }

    #[test]
    fn mistakes_are_reported_with_their_position() {
        let text = "\
ok.check:
  rule: a rule
  applies: [SignUp]
  security: true
  evidence: [{kind: inferred, note: because}]
bad check:
  rule: r
  applies: SignUp
  security: maybe
  evidence:
    - {kind: aws-docs, source: https://example.com/}
    - {kind: rumour, source: x}
    - {kind: inferred}
  colour: red
no.evidence:
  rule: r
  applies: [SignUp]
  security: false
";
        let errors = Catalogue::parse(text).unwrap_err();
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.span.line, e.message.as_str()))
            .collect();
        let has = |line: usize, part: &str| {
            assert!(
                found.iter().any(|(l, m)| *l == line && m.contains(part)),
                "no error at line {line} containing {part:?} in {found:#?}"
            )
        };
        has(6, "is not a check id");
        has(8, "`applies` of `bad check` is a list");
        has(9, "true or false");
        has(11, "https://docs.aws.amazon.com/");
        has(
            12,
            "one of aws-docs, aws-verified-test, aws-recording, inferred",
        );
        has(13, "needs a `note`");
        has(14, "unknown key `colour`");
        has(15, "needs `evidence`");
        let ok = Catalogue::parse(&text.lines().take(5).collect::<Vec<_>>().join("\n")).unwrap();
        assert!(ok.get("ok.check").unwrap().inferred_only());
    }
}
