//! Expectations: what a step's raw JSON response must contain.
//!
//! A step's `expect:` mapping is compiled when the scenario is loaded (so
//! `validate` reports every mistake with its position) and evaluated after
//! the call. Reference (also in the README):
//!
//! ```yaml
//! expect:
//!   challenge: NEW_PASSWORD_REQUIRED     # ChallengeName equals this (`challenge: null`: no challenge)
//!   authenticated: true                  # AuthenticationResult.AccessToken present (false: AuthenticationResult absent)
//!   error: CodeMismatchException         # the call must fail with this code …
//!   error: { code: NotAuthorizedException, message: "Incorrect username.*" }  # … and a message matching (search)
//!   status: 400                          # HTTP status
//!   ChallengeParameters: { USER_ID_FOR_SRP: { exists: true } }   # any other key: a response path, subset match
//!   AuthenticationResult.AccessToken.claims: { token_use: access }
//!   Users: { length: 1 }
//! ```
//!
//! Reserved keys are lowercase; every other key is a response path (see
//! [`crate::scenario::path`]). A mapping whose keys are all matcher keywords is a
//! matcher: `exists`, `absent`, `regex`, `one_of`, `length`, `type`,
//! `equals`, `not`, `contains`; several keywords must all hold. Any other
//! mapping is a subset match (extra actual keys are fine), a list matches a
//! list of the same length item by item, scalars compare equal (`1 == 1.0`,
//! `"1" != 1`).

use regex::Regex;
use serde_json::Value;

use crate::scenario::diagnostic::did_you_mean;
use crate::scenario::path::{Path, kind_of};
use crate::scenario::yaml::{Key, Node, NodeValue, Span};

/// Top-level keys that are not response paths.
pub const RESERVED_KEYS: [&str; 4] = ["challenge", "authenticated", "error", "status"];

/// Keys that make a mapping a matcher.
pub const MATCHER_KEYWORDS: [&str; 9] = [
    "exists", "absent", "regex", "one_of", "length", "type", "equals", "not", "contains",
];

/// Values accepted by `type:`.
pub const TYPE_NAMES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

use crate::api::CHALLENGE_NAMES as CHALLENGES;

/// Error codes Cognito is known to return; used only to catch typos.
const ERROR_CODES: [&str; 58] = [
    "AccessDeniedException",
    "AliasExistsException",
    "CodeDeliveryFailureException",
    "CodeMismatchException",
    "ConcurrentModificationException",
    "DeviceKeyExistsException",
    "DuplicateProviderException",
    "EnableSoftwareTokenMFAException",
    "ExpiredCodeException",
    "FeatureUnavailableInTierException",
    "ForbiddenException",
    "GroupExistsException",
    "InternalErrorException",
    "InternalServerException",
    "InvalidEmailRoleAccessPolicyException",
    "InvalidLambdaResponseException",
    "InvalidOAuthFlowException",
    "InvalidParameterException",
    "InvalidPasswordException",
    "InvalidSmsRoleAccessPolicyException",
    "InvalidSmsRoleTrustRelationshipException",
    "InvalidUserPoolConfigurationException",
    "LimitExceededException",
    "MFAMethodNotFoundException",
    "ManagedLoginBrandingExistsException",
    "NotAuthorizedException",
    "PasswordHistoryPolicyViolationException",
    "PasswordResetRequiredException",
    "PreconditionNotMetException",
    "RefreshTokenReuseException",
    "ResourceNotFoundException",
    "ScopeDoesNotExistException",
    "SerializationException",
    "ServiceQuotaExceededException",
    "SoftwareTokenMFANotFoundException",
    "TermsExistsException",
    "TierChangeNotAllowedException",
    "TooManyFailedAttemptsException",
    "TooManyRequestsException",
    "UnauthorizedException",
    "UnexpectedLambdaException",
    "UnknownOperationException",
    "UnsupportedIdentityProviderException",
    "UnsupportedOperationException",
    "UnsupportedTokenTypeException",
    "UnsupportedUserStateException",
    "UserImportInProgressException",
    "UserLambdaValidationException",
    "UserNotConfirmedException",
    "UserNotFoundException",
    "UserPoolAddOnNotEnabledException",
    "UserPoolTaggingException",
    "UsernameExistsException",
    "ValidationException",
    "WebAuthnChallengeNotFoundException",
    "WebAuthnClientMismatchException",
    "WebAuthnConfigurationMissingException",
    "WebAuthnNotEnabledException",
];

/// Deeper expectations are refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 64;

/// A compiled `expect:` mapping. Keeps the YAML positions for failures.
#[derive(Debug, Clone)]
pub struct Expectation {
    span: Span,
    error: Option<ErrorExpectation>,
    status: Option<(u16, Span)>,
    checks: Vec<TopCheck>,
}

/// A problem in an `expect:` mapping, found at load time.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

/// What the call produced, as the expectation sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// HTTP status.
    pub status: u16,
    /// The raw JSON response, or the error body when the call failed.
    pub body: &'a Value,
    /// `(code, message)` when the call failed.
    pub error: Option<(&'a str, Option<&'a str>)>,
}

/// One unmet expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The innermost YAML node that failed.
    pub span: Span,
    /// The full response path (`ChallengeParameters.USER_ID_FOR_SRP`); empty for the status.
    pub path: String,
    /// One readable line, e.g. `expected "CONFIRMED", got "UNCONFIRMED"`.
    pub message: String,
    /// The expected value, when there is one.
    pub expected: Option<Value>,
    /// The raw actual value (not redacted), when there is one.
    pub actual: Option<Value>,
}

#[derive(Debug, Clone)]
struct ErrorExpectation {
    span: Span,
    code: String,
    code_span: Span,
    message: Option<(Pattern, Span)>,
}

#[derive(Debug, Clone)]
enum TopCheck {
    Field(Check),
    Authenticated(bool, Span),
}

#[derive(Debug, Clone)]
struct Check {
    path: Path,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// A scalar (possibly a `{{ template }}`): equal after rendering.
    Value(Node),
    /// A mapping of fields: subset match.
    Fields { span: Span, fields: Vec<Check> },
    /// A list: same length, item by item.
    List { span: Span, items: Vec<Matcher> },
    /// A mapping of matcher keywords: all must hold.
    All(Vec<Rule>),
}

#[derive(Debug, Clone)]
struct Rule {
    span: Span,
    kind: RuleKind,
}

#[derive(Debug, Clone)]
enum RuleKind {
    Exists(bool),
    Regex(Pattern),
    OneOf(Vec<Matcher>),
    Length { min: Option<u64>, max: Option<u64> },
    Type(&'static str),
    Equals(Node),
    Not(Box<Matcher>),
    Contains(Box<Matcher>),
}

#[derive(Debug, Clone)]
enum Pattern {
    Compiled(Regex),
    /// Holds `{{ … }}`: rendered and compiled at evaluation time.
    Template(Node),
}

impl Pattern {
    fn source(&self) -> String {
        match self {
            Pattern::Compiled(re) => re.as_str().to_string(),
            Pattern::Template(node) => node.as_str().unwrap_or_default().to_string(),
        }
    }
}

// ---------------------------------------------------------------- compile

/// Compiles the value of a step's `expect:` (a mapping, or null for "the
/// call must succeed"). Collects every problem, not just the first.
pub fn compile(node: &Node) -> Result<Expectation, Vec<CompileError>> {
    let mut c = Compiler { errors: Vec::new() };
    let expectation = c.top(node);
    if c.errors.is_empty() {
        Ok(expectation)
    } else {
        Err(c.errors)
    }
}

struct Compiler {
    errors: Vec<CompileError>,
}

fn has_template(node: &Node) -> bool {
    node.as_str().is_some_and(|s| s.contains("{{"))
}

impl Compiler {
    fn error(&mut self, span: Span, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(CompileError {
            span,
            message: message.into(),
            hint,
        });
    }

    fn top(&mut self, node: &Node) -> Expectation {
        let mut expectation = Expectation {
            span: node.span,
            error: None,
            status: None,
            checks: Vec::new(),
        };
        let entries = match &node.value {
            NodeValue::Null => return expectation,
            NodeValue::Map(entries) => entries,
            _ => {
                self.error(
                    node.span,
                    format!("`expect` must be a mapping of checks, not {}", node.kind()),
                    Some("for example `expect: { challenge: NEW_PASSWORD_REQUIRED }`".into()),
                );
                return expectation;
            }
        };
        let error_key = entries.iter().find(|(k, _)| k.name == "error");
        // (`challenge: null` with an error is redundant, not contradictory.)
        let challenge_key = entries
            .iter()
            .find(|(k, v)| k.name == "challenge" && !matches!(v.value, NodeValue::Null));
        if let (Some((error, _)), Some((challenge, _))) = (error_key, challenge_key) {
            let (first, second) = if error.span.line <= challenge.span.line {
                (error, challenge)
            } else {
                (challenge, error)
            };
            self.error(
                second.span,
                format!(
                    "`{}` and `{}` cannot both hold: a call that fails answers no challenge",
                    first.name, second.name
                ),
                Some("expect the error, or the challenge, in separate steps".into()),
            );
        }
        for (key, value) in entries {
            match key.name.as_str() {
                "challenge" => {
                    if let Some(matcher) = self.challenge(value) {
                        expectation.checks.push(TopCheck::Field(Check {
                            path: Path::root().join("ChallengeName"),
                            matcher,
                        }));
                    }
                }
                "authenticated" => match value.value {
                    NodeValue::Bool(b) => {
                        expectation
                            .checks
                            .push(TopCheck::Authenticated(b, value.span));
                    }
                    _ => self.error(
                        value.span,
                        format!("`authenticated` takes true or false, not {}", value.kind()),
                        Some(
                            "write `true` or `false` (YAML's yes/no/on/off are plain text)".into(),
                        ),
                    ),
                },
                "error" => expectation.error = self.error_expectation(key, value),
                "status" => match value.value {
                    NodeValue::Int(code) if (100..=599).contains(&code) => {
                        expectation.status = Some((code as u16, value.span));
                    }
                    _ => self.error(
                        value.span,
                        "`status` takes an HTTP status code such as 400",
                        None,
                    ),
                },
                name if MATCHER_KEYWORDS.contains(&name) => self.error(
                    key.span,
                    format!("`{name}` is a matcher and needs a response field to apply to"),
                    Some(format!(
                        "write it under a field, e.g. `UserStatus: {{ {name}: … }}`"
                    )),
                ),
                name => {
                    let lower = name.starts_with(|c: char| c.is_ascii_lowercase());
                    let candidates = RESERVED_KEYS.iter().chain(MATCHER_KEYWORDS.iter());
                    if lower && let Some(s) = did_you_mean(name, candidates.copied()) {
                        self.error(
                            key.span,
                            format!("unknown expectation `{name}`"),
                            Some(format!(
                                "did you mean `{s}`? (response fields are written as Cognito spells them, e.g. `ChallengeName`)"
                            )),
                        );
                        continue;
                    }
                    if let Some(path) = self.key_path(key) {
                        let matcher = self.matcher(value, 0);
                        expectation
                            .checks
                            .push(TopCheck::Field(Check { path, matcher }));
                    }
                }
            }
        }
        expectation
    }

    fn challenge(&mut self, value: &Node) -> Option<Matcher> {
        match &value.value {
            NodeValue::Null => Some(Matcher::All(vec![Rule {
                span: value.span,
                kind: RuleKind::Exists(false),
            }])),
            NodeValue::String { value: name, .. } if !has_template(value) => {
                if CHALLENGES.contains(&name.as_str()) {
                    return Some(Matcher::Value(value.clone()));
                }
                let hint = match did_you_mean(name, CHALLENGES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("Cognito's challenges are {}", CHALLENGES.join(", ")),
                };
                self.error(
                    value.span,
                    format!("unknown challenge `{name}`"),
                    Some(hint),
                );
                None
            }
            _ => Some(self.matcher(value, 0)),
        }
    }

    fn error_expectation(&mut self, key: &Key, value: &Node) -> Option<ErrorExpectation> {
        let (code_node, message_node) = match &value.value {
            NodeValue::String { .. } => (value, None),
            NodeValue::Map(entries) => {
                let mut code = None;
                let mut message = None;
                for (k, v) in entries {
                    match k.name.as_str() {
                        "code" => code = Some(v),
                        "message" => message = Some(v),
                        other => {
                            let hint = did_you_mean(other, ["code", "message"])
                                .map(|s| format!("did you mean `{s}`?"))
                                .unwrap_or_else(|| "`error` takes `code` and `message`".into());
                            self.error(
                                k.span,
                                format!("unknown key `{other}` in `error`"),
                                Some(hint),
                            );
                        }
                    }
                }
                match code {
                    Some(code) => (code, message),
                    None => {
                        self.error(
                            value.span,
                            "`error` needs a `code`",
                            Some("for example `error: { code: NotAuthorizedException, message: \"Incorrect.*\" }`".into()),
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    value.span,
                    format!(
                        "`error` takes an error code or {{ code, message }}, not {}",
                        value.kind()
                    ),
                    Some("for example `error: CodeMismatchException`".into()),
                );
                return None;
            }
        };
        let Some(code) = code_node.as_str() else {
            self.error(
                code_node.span,
                format!("the error code must be text, not {}", code_node.kind()),
                None,
            );
            return None;
        };
        if !ERROR_CODES.contains(&code) && !code.contains("{{") {
            let with_suffix = format!("{code}Exception");
            let suggestion = if ERROR_CODES.contains(&with_suffix.as_str()) {
                Some(with_suffix)
            } else {
                did_you_mean(code, ERROR_CODES).map(str::to_string)
            };
            if let Some(s) = suggestion {
                self.error(
                    code_node.span,
                    format!("unknown error code `{code}`"),
                    Some(format!("did you mean `{s}`?")),
                );
                return None;
            }
        }
        let message = match message_node {
            None => None,
            Some(node) => Some((self.pattern(node, "message")?, node.span)),
        };
        Some(ErrorExpectation {
            span: key.span,
            code: code.to_string(),
            code_span: code_node.span,
            message,
        })
    }

    fn pattern(&mut self, node: &Node, what: &str) -> Option<Pattern> {
        let Some(text) = node.as_str() else {
            self.error(
                node.span,
                format!(
                    "`{what}` takes a regular expression in quotes, not {}",
                    node.kind()
                ),
                None,
            );
            return None;
        };
        if has_template(node) {
            return Some(Pattern::Template(node.clone()));
        }
        match Regex::new(text) {
            Ok(re) => Some(Pattern::Compiled(re)),
            Err(e) => {
                self.error(
                    node.span,
                    format!("invalid regular expression: {}", regex_error_line(&e)),
                    Some("special characters such as `.`, `(`, `[`, `*`, `?` need a `\\` before them to be taken literally".into()),
                );
                None
            }
        }
    }

    /// A mapping key as a path; reports a positioned error when it is not one.
    fn key_path(&mut self, key: &Key) -> Option<Path> {
        match Path::parse(&key.name) {
            Ok(path) => Some(path),
            Err(e) => {
                let width = key.name.chars().count();
                let quoted = key.span.line == key.span.end_line
                    && key.span.end_col.saturating_sub(key.span.col) == width + 2;
                let col = key.span.col + usize::from(quoted) + e.column_offset;
                self.error(
                    Span {
                        line: key.span.line,
                        col,
                        end_line: key.span.line,
                        end_col: col + 1,
                    },
                    format!("invalid response path `{}`: {}", key.name, e.message),
                    Some("paths look like `AuthenticationResult.AccessToken`, `Users[0].Username`, `UserAttributes[?Name=email].Value` or `ChallengeParameters[\"cognito:username\"]`".into()),
                );
                None
            }
        }
    }

    fn matcher(&mut self, node: &Node, depth: usize) -> Matcher {
        if depth > MAX_DEPTH {
            self.error(node.span, "expectation nested too deeply", None);
            return Matcher::Value(Node::synthetic(NodeValue::Null));
        }
        match &node.value {
            NodeValue::Map(entries) => self.mapping(node, entries, depth),
            NodeValue::Seq(items) => Matcher::List {
                span: node.span,
                items: items.iter().map(|i| self.matcher(i, depth + 1)).collect(),
            },
            _ => Matcher::Value(node.clone()),
        }
    }

    fn mapping(&mut self, node: &Node, entries: &[(Key, Node)], depth: usize) -> Matcher {
        let mut keywords = Vec::new();
        let mut fields = Vec::new();
        let mut misspelt = false;
        for entry in entries {
            let name = entry.0.name.as_str();
            if MATCHER_KEYWORDS.contains(&name) {
                keywords.push(entry);
            } else if let Some(s) = misspelt_keyword(name) {
                misspelt = true;
                self.error(
                    entry.0.span,
                    format!("unknown matcher `{name}`"),
                    Some(format!("did you mean `{s}`?")),
                );
            } else {
                fields.push(entry);
            }
        }
        if !keywords.is_empty() && !fields.is_empty() {
            let (field, _) = fields[0];
            let (keyword, _) = keywords[0];
            self.error(
                field.span,
                format!(
                    "this mapping mixes the matcher `{}` with the response field `{}`",
                    keyword.name, field.name
                ),
                Some(format!(
                    "a mapping is either a matcher or fields to check; put the matcher under the field it is about, e.g. `{}: {{ {}: … }}`",
                    field.name, keyword.name
                )),
            );
            return Matcher::All(Vec::new());
        }
        if !keywords.is_empty() || misspelt {
            let rules = keywords
                .into_iter()
                .filter_map(|(k, v)| self.rule(k, v, depth))
                .collect();
            return Matcher::All(rules);
        }
        let fields = fields
            .into_iter()
            .filter_map(|(k, v)| {
                let path = self.key_path(k)?;
                let matcher = self.matcher(v, depth + 1);
                Some(Check { path, matcher })
            })
            .collect();
        Matcher::Fields {
            span: node.span,
            fields,
        }
    }

    fn rule(&mut self, key: &Key, value: &Node, depth: usize) -> Option<Rule> {
        let span = value.span;
        let kind = match key.name.as_str() {
            "exists" | "absent" => match value.value {
                NodeValue::Bool(b) => RuleKind::Exists(if key.name == "exists" { b } else { !b }),
                _ => {
                    self.error(
                        span,
                        format!("`{}` takes true or false, not {}", key.name, value.kind()),
                        None,
                    );
                    return None;
                }
            },
            "regex" => RuleKind::Regex(self.pattern(value, "regex")?),
            "one_of" => match value.as_seq() {
                Some(items) if !items.is_empty() => {
                    RuleKind::OneOf(items.iter().map(|i| self.matcher(i, depth + 1)).collect())
                }
                _ => {
                    self.error(
                        span,
                        "`one_of` takes a non-empty list",
                        Some("for example `one_of: [CONFIRMED, FORCE_CHANGE_PASSWORD]`".into()),
                    );
                    return None;
                }
            },
            "length" => self.length(value)?,
            "type" => {
                let name = value.as_str().unwrap_or_default();
                let canonical = match name {
                    "bool" => "boolean",
                    "list" | "sequence" => "array",
                    "map" | "mapping" | "dict" => "object",
                    "int" => "integer",
                    "str" | "text" => "string",
                    other => TYPE_NAMES
                        .iter()
                        .copied()
                        .find(|t| *t == other)
                        .unwrap_or(""),
                };
                if canonical.is_empty() {
                    let hint = did_you_mean(name, TYPE_NAMES)
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("types are {}", TYPE_NAMES.join(", ")));
                    self.error(
                        span,
                        format!("unknown type `{}`", display_node(value)),
                        Some(hint),
                    );
                    return None;
                }
                RuleKind::Type(canonical)
            }
            "equals" => {
                if node_depth(value) > MAX_DEPTH {
                    self.error(span, "expectation nested too deeply", None);
                    return None;
                }
                RuleKind::Equals(value.clone())
            }
            "not" => RuleKind::Not(Box::new(self.matcher(value, depth + 1))),
            "contains" => RuleKind::Contains(Box::new(self.matcher(value, depth + 1))),
            _ => return None,
        };
        Some(Rule { span, kind })
    }

    fn length(&mut self, value: &Node) -> Option<RuleKind> {
        let count = |n: &Node| match n.value {
            NodeValue::Int(i) => u64::try_from(i).ok(),
            _ => None,
        };
        let bad = |c: &mut Compiler| {
            c.error(
                value.span,
                "`length` takes a count such as `1`, or `{ min: 1, max: 3 }`",
                None,
            );
            None
        };
        match &value.value {
            NodeValue::Int(_) => {
                let Some(n) = count(value) else {
                    return bad(self);
                };
                Some(RuleKind::Length {
                    min: Some(n),
                    max: Some(n),
                })
            }
            NodeValue::Map(entries) if !entries.is_empty() => {
                let (mut min, mut max) = (None, None);
                for (k, v) in entries {
                    let slot = match k.name.as_str() {
                        "min" => &mut min,
                        "max" => &mut max,
                        other => {
                            let hint = did_you_mean(other, ["min", "max"])
                                .map(|s| format!("did you mean `{s}`?"))
                                .unwrap_or_else(|| "`length` takes `min` and `max`".into());
                            self.error(
                                k.span,
                                format!("unknown key `{other}` in `length`"),
                                Some(hint),
                            );
                            continue;
                        }
                    };
                    match count(v) {
                        Some(n) => *slot = Some(n),
                        None => self.error(
                            v.span,
                            format!("`{}` takes a whole number ≥ 0, not {}", k.name, v.kind()),
                            None,
                        ),
                    }
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    self.error(
                        value.span,
                        format!("`min` ({lo}) is larger than `max` ({hi})"),
                        None,
                    );
                    return None;
                }
                if min.is_none() && max.is_none() {
                    return None;
                }
                Some(RuleKind::Length { min, max })
            }
            _ => bad(self),
        }
    }
}

/// A lowercase key that is almost a matcher keyword (`exist`, `regx`,
/// `oneof`). Deliberately strict, so JWT claims (`iat`, `nbf`, `exp`) pass.
fn misspelt_keyword(word: &str) -> Option<&'static str> {
    if !word.starts_with(|c: char| c.is_ascii_lowercase()) {
        return None;
    }
    let squash = |s: &str| s.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let squashed = squash(word);
    MATCHER_KEYWORDS
        .iter()
        .copied()
        .map(|k| (strsim::damerau_levenshtein(&squashed, &squash(k)), k))
        .filter(|&(d, k)| {
            d == 0 || d == 1 && k.len() > 3 || d == 2 && k.len() >= 6 && word.len() >= 5
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn regex_error_line(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .unwrap_or(text)
}

fn node_depth(node: &Node) -> usize {
    // Iterative, so hostile input cannot overflow the stack here.
    let mut max = 0;
    let mut stack = vec![(node, 1usize)];
    while let Some((n, d)) = stack.pop() {
        max = max.max(d);
        match &n.value {
            NodeValue::Seq(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            NodeValue::Map(entries) => stack.extend(entries.iter().map(|(_, v)| (v, d + 1))),
            _ => {}
        }
    }
    max
}

fn display_node(node: &Node) -> String {
    match node.as_str() {
        Some(s) => s.to_string(),
        None => node.to_json().to_string(),
    }
}

// ---------------------------------------------------------------- evaluate

/// The actual value at a path, or why there is none.
enum Actual<'v> {
    Present(&'v Value),
    Missing(String),
}

struct Evaluator<'r, 'f> {
    render: &'r mut (dyn FnMut(&Node) -> Result<Value, String> + 'f),
}

impl Expectation {
    /// Every node that is rendered before matching (templated values and
    /// regexes), so `validate` can check their templates.
    pub fn template_nodes(&self) -> Vec<&Node> {
        fn matcher<'a>(m: &'a Matcher, out: &mut Vec<&'a Node>) {
            match m {
                Matcher::Value(node) => out.push(node),
                Matcher::Fields { fields, .. } => {
                    fields.iter().for_each(|c| matcher(&c.matcher, out))
                }
                Matcher::List { items, .. } => items.iter().for_each(|i| matcher(i, out)),
                Matcher::All(rules) => {
                    for rule in rules {
                        match &rule.kind {
                            RuleKind::Equals(node) | RuleKind::Regex(Pattern::Template(node)) => {
                                out.push(node)
                            }
                            RuleKind::OneOf(ms) => ms.iter().for_each(|m| matcher(m, out)),
                            RuleKind::Not(m) | RuleKind::Contains(m) => matcher(m, out),
                            _ => {}
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        if let Some(ErrorExpectation {
            message: Some((Pattern::Template(node), _)),
            ..
        }) = &self.error
        {
            out.push(node);
        }
        for check in &self.checks {
            if let TopCheck::Field(c) = check {
                matcher(&c.matcher, &mut out);
            }
        }
        out
    }

    /// True when the step expects the call to fail.
    pub fn expects_error(&self) -> bool {
        self.error.is_some()
    }

    /// Checks the observed call. `render` turns a string node holding
    /// `{{ … }}` into its value; it is called only for such nodes.
    pub fn evaluate(
        &self,
        observed: &Observed,
        render: &mut dyn FnMut(&Node) -> Result<Value, String>,
    ) -> Vec<Failure> {
        let mut out = Vec::new();
        let mut ev = Evaluator { render };
        match (&self.error, observed.error) {
            (Some(expected), None) => {
                out.push(Failure {
                    span: expected.span,
                    path: String::new(),
                    message: format!("expected error {} but the call succeeded", expected.code),
                    expected: Some(Value::String(expected.code.clone())),
                    actual: None,
                });
                return out;
            }
            (None, Some((code, message))) => {
                out.push(Failure {
                    span: self.span,
                    path: String::new(),
                    message: match message {
                        Some(m) => format!("the call failed with {}: {m}", clean_code(code)),
                        None => format!("the call failed with {}", clean_code(code)),
                    },
                    expected: None,
                    actual: Some(
                        serde_json::json!({ "code": clean_code(code), "message": message }),
                    ),
                });
                return out;
            }
            (Some(expected), Some((code, message))) => {
                ev.error(expected, clean_code(code), message, &mut out);
            }
            (None, None) => {}
        }
        if let Some((status, span)) = self.status
            && status != observed.status
        {
            out.push(Failure {
                span,
                path: String::new(),
                message: format!("expected HTTP status {status}, got {}", observed.status),
                expected: Some(Value::from(status)),
                actual: Some(Value::from(observed.status)),
            });
        }
        let root = Path::root();
        for check in &self.checks {
            match check {
                TopCheck::Field(check) => ev.field(check, observed.body, &root, &mut out),
                TopCheck::Authenticated(want, span) => {
                    authenticated(*want, *span, observed.body, &mut out)
                }
            }
        }
        out
    }
}

/// `com.amazon.coral#NotAuthorizedException:http://…` → `NotAuthorizedException`.
fn clean_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code).trim()
}

fn authenticated(want: bool, span: Span, body: &Value, out: &mut Vec<Failure>) {
    let tokens = body.get("AuthenticationResult");
    let access = tokens.and_then(|t| t.get("AccessToken"));
    if want && access.is_none() {
        let why = match (body.get("ChallengeName"), tokens) {
            (Some(Value::String(c)), _) => format!("the response is a {c} challenge"),
            (_, None) => "`AuthenticationResult` is missing".to_string(),
            (_, Some(_)) => "`AuthenticationResult.AccessToken` is missing".to_string(),
        };
        out.push(Failure {
            span,
            path: "AuthenticationResult.AccessToken".into(),
            message: format!("expected tokens (`AuthenticationResult.AccessToken`), but {why}"),
            expected: None,
            actual: body.get("ChallengeName").cloned(),
        });
    } else if !want && let Some(t) = tokens {
        out.push(Failure {
            span,
            path: "AuthenticationResult".into(),
            message: "expected no tokens, but `AuthenticationResult` is present".into(),
            expected: None,
            actual: Some(t.clone()),
        });
    }
}

impl Evaluator<'_, '_> {
    fn error(
        &mut self,
        expected: &ErrorExpectation,
        code: &str,
        message: Option<&str>,
        out: &mut Vec<Failure>,
    ) {
        if code != expected.code {
            let message_part = message.map(|m| format!(": {m}")).unwrap_or_default();
            out.push(Failure {
                span: expected.code_span,
                path: "__type".into(),
                message: format!("expected error {}, got {code}{message_part}", expected.code),
                expected: Some(Value::String(expected.code.clone())),
                actual: Some(Value::String(code.to_string())),
            });
        }
        if let Some((pattern, span)) = &expected.message {
            let Some(re) = self.regex(pattern, *span, "message", out) else {
                return;
            };
            let actual = message.map(|m| Value::String(m.to_string()));
            let failure = |text: String| Failure {
                span: *span,
                path: "message".into(),
                message: text,
                expected: Some(Value::String(re.as_str().to_string())),
                actual: actual.clone(),
            };
            match message {
                None => out.push(failure(format!(
                    "expected an error message matching /{}/, but the error has no message",
                    re.as_str()
                ))),
                Some(m) if !re.is_match(m) => out.push(failure(format!(
                    "expected an error message matching /{}/, got {}",
                    re.as_str(),
                    show(&Value::String(m.to_string()))
                ))),
                Some(_) => {}
            }
        }
    }

    fn field(&mut self, check: &Check, base: &Value, base_path: &Path, out: &mut Vec<Failure>) {
        let path = base_path.then(&check.path);
        match check.path.resolve_detailed(base) {
            Ok(value) => self.matcher(&check.matcher, Actual::Present(&value), &path, out),
            Err(miss) => {
                let reason = miss.describe(base_path);
                self.matcher(&check.matcher, Actual::Missing(reason), &path, out)
            }
        }
    }

    fn passes(&mut self, matcher: &Matcher, actual: Actual, path: &Path) -> bool {
        let mut scratch = Vec::new();
        self.matcher(matcher, actual, path, &mut scratch);
        scratch.is_empty()
    }

    /// Renders a scalar expectation (templates through the callback).
    fn value(&mut self, node: &Node) -> Result<Value, String> {
        if has_template(node) {
            (self.render)(node)
        } else {
            Ok(node.to_json())
        }
    }

    /// Renders every template inside a node (for `equals`).
    fn materialize(&mut self, node: &Node) -> Result<Value, (Span, String)> {
        match &node.value {
            NodeValue::Seq(items) => items
                .iter()
                .map(|i| self.materialize(i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            NodeValue::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.name.clone(), self.materialize(v)?);
                }
                Ok(Value::Object(map))
            }
            _ => self.value(node).map_err(|e| (node.span, e)),
        }
    }

    fn regex(
        &mut self,
        pattern: &Pattern,
        span: Span,
        path: &str,
        out: &mut Vec<Failure>,
    ) -> Option<Regex> {
        match pattern {
            Pattern::Compiled(re) => Some(re.clone()),
            Pattern::Template(node) => {
                let rendered = self.value(node).and_then(|v| match v {
                    Value::String(s) => Regex::new(&s).map_err(|e| {
                        format!(
                            "the rendered pattern is not a valid regular expression: {}",
                            regex_error_line(&e)
                        )
                    }),
                    other => Ok(Regex::new(&regex::escape(&text_of(&other)))
                        .unwrap_or_else(|_| Regex::new("$^").expect("constant regex"))),
                });
                match rendered {
                    Ok(re) => Some(re),
                    Err(e) => {
                        out.push(template_failure(span, path, e));
                        None
                    }
                }
            }
        }
    }

    fn matcher(&mut self, matcher: &Matcher, actual: Actual, path: &Path, out: &mut Vec<Failure>) {
        match matcher {
            Matcher::Value(node) => self.equal(node, actual, path, out),
            Matcher::Fields { span, fields } => match actual {
                Actual::Present(Value::Object(_)) | Actual::Missing(_) if fields.is_empty() => {
                    if let Actual::Missing(reason) = actual {
                        out.push(failure(*span, path, reason, None, None));
                    }
                }
                Actual::Present(value @ Value::Object(_)) => {
                    for check in fields {
                        self.field(check, value, path, out);
                    }
                }
                Actual::Missing(reason) => {
                    // Fine when every field only asks to be absent.
                    let all_absent = fields.iter().all(|check| {
                        self.passes(&check.matcher, Actual::Missing(reason.clone()), path)
                    });
                    if !all_absent {
                        out.push(failure(*span, path, reason, None, None));
                    }
                }
                Actual::Present(other) => {
                    let hint = view_hint(other, path);
                    out.push(failure(
                        *span,
                        path,
                        format!("expected an object, got {}{hint}", show(other)),
                        None,
                        Some(other.clone()),
                    ));
                }
            },
            Matcher::List { span, items } => match actual {
                Actual::Missing(reason) => out.push(failure(*span, path, reason, None, None)),
                Actual::Present(Value::Array(actual_items)) => {
                    if actual_items.len() != items.len() {
                        out.push(failure(
                            *span,
                            path,
                            format!(
                                "expected a list of {} item(s), got {} (lists are compared item by item; use `contains:` to look for one item or `length:` to count)",
                                items.len(),
                                actual_items.len()
                            ),
                            None,
                            Some(Value::Array(actual_items.clone())),
                        ));
                        return;
                    }
                    for (i, (m, a)) in items.iter().zip(actual_items).enumerate() {
                        self.matcher(m, Actual::Present(a), &path.index(i), out);
                    }
                }
                Actual::Present(other) => {
                    let hint = view_hint(other, path);
                    out.push(failure(
                        *span,
                        path,
                        format!("expected a list, got {}{hint}", show(other)),
                        None,
                        Some(other.clone()),
                    ));
                }
            },
            Matcher::All(rules) => {
                for rule in rules {
                    let actual = match &actual {
                        Actual::Present(v) => Actual::Present(v),
                        Actual::Missing(r) => Actual::Missing(r.clone()),
                    };
                    self.rule(rule, actual, path, out);
                }
            }
        }
    }

    fn equal(&mut self, node: &Node, actual: Actual, path: &Path, out: &mut Vec<Failure>) {
        let expected = match self.value(node) {
            Ok(v) => v,
            Err(e) => return out.push(template_failure(node.span, path.as_str(), e)),
        };
        match actual {
            Actual::Missing(reason) => {
                let message = if expected.is_null() {
                    format!(
                        "expected null, but {reason} (use `absent: true` to require a missing field)"
                    )
                } else {
                    format!("expected {}, but {reason}", show(&expected))
                };
                out.push(failure(node.span, path, message, Some(expected), None));
            }
            Actual::Present(a) => {
                if json_matches(&expected, a, true, 0) {
                    return;
                }
                let hint = if matches!(expected, Value::Object(_) | Value::Array(_)) {
                    String::new()
                } else {
                    view_hint(a, path)
                };
                let message = if kind_of(&expected) != kind_of(a) && !expected.is_null() {
                    format!(
                        "expected {} ({}), got {} ({}){hint}",
                        show(&expected),
                        kind_of(&expected),
                        show(a),
                        kind_of(a)
                    )
                } else {
                    format!("expected {}, got {}{hint}", show(&expected), show(a))
                };
                out.push(failure(
                    node.span,
                    path,
                    message,
                    Some(expected),
                    Some(a.clone()),
                ));
            }
        }
    }

    fn rule(&mut self, rule: &Rule, actual: Actual, path: &Path, out: &mut Vec<Failure>) {
        let span = rule.span;
        // Presence rules first: they are the only ones a missing value can pass.
        if let RuleKind::Exists(want) = rule.kind {
            match (want, actual) {
                (true, Actual::Missing(reason)) => {
                    out.push(failure(span, path, reason, None, None));
                }
                (false, Actual::Present(v)) => out.push(failure(
                    span,
                    path,
                    format!("expected `{path}` to be absent, got {}", show(v)),
                    None,
                    Some(v.clone()),
                )),
                _ => {}
            }
            return;
        }
        if let RuleKind::Not(inner) = &rule.kind {
            if let Actual::Missing(reason) = &actual
                && !is_presence(inner)
            {
                let message = format!("expected anything but {}, but {reason}", describe(inner));
                return out.push(failure(span, path, message, None, None));
            }
            let present = match &actual {
                Actual::Present(v) => Some((*v).clone()),
                Actual::Missing(_) => None,
            };
            if self.passes(inner, actual, path) {
                let got = present
                    .as_ref()
                    .map(show)
                    .unwrap_or_else(|| "nothing".into());
                let message = format!("expected anything but {}, got {got}", describe(inner));
                out.push(failure(span, path, message, None, present));
            }
            return;
        }
        let value = match actual {
            Actual::Present(v) => v,
            // `one_of: [X, { absent: true }]`: an alternative may accept a missing value.
            Actual::Missing(reason)
                if matches!(&rule.kind, RuleKind::OneOf(options) if options.iter().any(|m| {
                    self.passes(m, Actual::Missing(reason.clone()), path)
                })) =>
            {
                return;
            }
            Actual::Missing(reason) => {
                let message = format!("expected {}, but {reason}", describe_rule(rule));
                return out.push(failure(span, path, message, None, None));
            }
        };
        let fail = |message: String, expected: Option<Value>| {
            failure(span, path, message, expected, Some(value.clone()))
        };
        match &rule.kind {
            RuleKind::Exists(_) | RuleKind::Not(_) => {}
            RuleKind::Regex(pattern) => {
                let Some(re) = self.regex(pattern, span, path.as_str(), out) else {
                    return;
                };
                let expected = Some(Value::String(re.as_str().to_string()));
                match value {
                    Value::Object(_) | Value::Array(_) => out.push(fail(
                        format!(
                            "expected text matching /{}/, got {}",
                            re.as_str(),
                            show(value)
                        ),
                        expected,
                    )),
                    _ if !re.is_match(&text_of(value)) => out.push(fail(
                        format!(
                            "expected text matching /{}/, got {}",
                            re.as_str(),
                            show(value)
                        ),
                        expected,
                    )),
                    _ => {}
                }
            }
            RuleKind::OneOf(options) => {
                if !options
                    .iter()
                    .any(|m| self.passes(m, Actual::Present(value), path))
                {
                    let list: Vec<String> = options.iter().map(describe).collect();
                    out.push(fail(
                        format!("expected one of [{}], got {}", list.join(", "), show(value)),
                        None,
                    ));
                }
            }
            RuleKind::Length { min, max } => {
                let len = match value {
                    Value::Array(a) => a.len(),
                    Value::String(s) => s.chars().count(),
                    Value::Object(o) => o.len(),
                    other => {
                        return out.push(fail(
                            format!(
                                "expected something with a length (a list, text or an object), got {}",
                                show(other)
                            ),
                            None,
                        ));
                    }
                } as u64;
                if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
                    let what = match value {
                        Value::String(_) => "character(s)",
                        Value::Object(_) => "key(s)",
                        _ => "item(s)",
                    };
                    out.push(fail(
                        format!("expected {}, got {len} {what}", describe_rule(rule)),
                        Some(Value::from(len)),
                    ));
                }
            }
            RuleKind::Type(t) => {
                if !has_type(value, t) {
                    out.push(fail(
                        format!("expected {}, got {}", describe_rule(rule), show(value)),
                        Some(Value::String(t.to_string())),
                    ));
                }
            }
            RuleKind::Equals(node) => match self.materialize(node) {
                Err((s, e)) => out.push(template_failure(s, path.as_str(), e)),
                Ok(expected) => {
                    if !json_matches(&expected, value, false, 0) {
                        out.push(fail(
                            format!("expected exactly {}, got {}", show(&expected), show(value)),
                            Some(expected),
                        ));
                    }
                }
            },
            RuleKind::Contains(inner) => match value {
                Value::Array(items) => {
                    let found = items
                        .iter()
                        .enumerate()
                        .any(|(i, item)| self.passes(inner, Actual::Present(item), &path.index(i)));
                    if !found {
                        out.push(fail(
                            format!(
                                "expected `{path}` to contain {}, but none of its {} item(s) does",
                                describe(inner),
                                items.len()
                            ),
                            None,
                        ));
                    }
                }
                Value::String(text) => {
                    let needle = match inner.as_ref() {
                        Matcher::Value(node) => match self.value(node) {
                            Ok(v) => v,
                            Err(e) => {
                                return out.push(template_failure(node.span, path.as_str(), e));
                            }
                        },
                        _ => {
                            return out.push(fail(
                                "`contains` on text takes text to look for".to_string(),
                                None,
                            ));
                        }
                    };
                    let needle_text = text_of(&needle);
                    if !text.contains(&needle_text) {
                        out.push(fail(
                            format!(
                                "expected text containing {}, got {}",
                                show(&needle),
                                show(value)
                            ),
                            Some(needle),
                        ));
                    }
                }
                other => out.push(fail(
                    format!("expected a list or text to look in, got {}", show(other)),
                    None,
                )),
            },
        }
    }
}

fn failure(
    span: Span,
    path: &Path,
    message: String,
    expected: Option<Value>,
    actual: Option<Value>,
) -> Failure {
    Failure {
        span,
        path: path.as_str().to_string(),
        message,
        expected,
        actual,
    }
}

fn template_failure(span: Span, path: &str, error: String) -> Failure {
    Failure {
        span,
        path: path.to_string(),
        message: format!("cannot render the expected value: {error}"),
        expected: None,
        actual: None,
    }
}

/// A hint when a string holds something a path view could open.
fn view_hint(value: &Value, path: &Path) -> String {
    let Value::String(s) = value else {
        return String::new();
    };
    let at = if path.is_root() {
        "the value"
    } else {
        path.as_str()
    };
    if crate::auth::jwt::decode(s).is_some() {
        format!(" (it is a JWT: look inside with `{at}.claims`)")
    } else if s.starts_with(['{', '[']) && serde_json::from_str::<Value>(s).is_ok() {
        format!(" (it holds JSON text: look inside with `{at}.json`)")
    } else {
        String::new()
    }
}

fn is_presence(matcher: &Matcher) -> bool {
    matches!(matcher, Matcher::All(rules) if !rules.is_empty() && rules.iter().all(|r| matches!(r.kind, RuleKind::Exists(_))))
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// Text of a scalar for regex and substring checks (strings unquoted).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value in a message: scalars in full (so the caller's scrubber sees
/// whole secrets), small objects and lists as JSON, large ones summarised.
fn show(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let json = value.to_string();
            if json.len() <= 120 {
                json
            } else {
                let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
                let more = if map.len() > 6 { ", …" } else { "" };
                format!("an object with keys {}{more}", keys.join(", "))
            }
        }
        Value::Array(items) => {
            let json = value.to_string();
            if json.len() <= 120 {
                json
            } else {
                format!("a list of {} items", items.len())
            }
        }
        other => other.to_string(),
    }
}

fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Value(node) => show(&node.to_json()),
        Matcher::Fields { fields, .. } => {
            let names: Vec<&str> = fields.iter().map(|c| c.path.as_str()).collect();
            format!("an object with {{{}}}", names.join(", "))
        }
        Matcher::List { items, .. } => format!("a list of {} item(s)", items.len()),
        Matcher::All(rules) => {
            let parts: Vec<String> = rules.iter().map(describe_rule).collect();
            parts.join(" and ")
        }
    }
}

fn describe_rule(rule: &Rule) -> String {
    match &rule.kind {
        RuleKind::Exists(true) => "a value".into(),
        RuleKind::Exists(false) => "no value".into(),
        RuleKind::Regex(p) => format!("text matching /{}/", p.source()),
        RuleKind::OneOf(options) => {
            let list: Vec<String> = options.iter().map(describe).collect();
            format!("one of [{}]", list.join(", "))
        }
        RuleKind::Length { min, max } => match (min, max) {
            (Some(a), Some(b)) if a == b => format!("length {a}"),
            (Some(a), Some(b)) => format!("length between {a} and {b}"),
            (Some(a), None) => format!("length at least {a}"),
            (None, Some(b)) => format!("length at most {b}"),
            (None, None) => "any length".into(),
        },
        RuleKind::Type(t) => match *t {
            "array" => "a list".into(),
            "object" | "integer" => format!("an {t}"),
            "null" => "null".into(),
            other => format!("a {other}"),
        },
        RuleKind::Equals(node) => format!("exactly {}", show(&node.to_json())),
        RuleKind::Not(inner) => format!("anything but {}", describe(inner)),
        RuleKind::Contains(inner) => format!("something containing {}", describe(inner)),
    }
}

/// Subset (`subset`) or exact comparison of JSON values; numbers compare by value.
fn json_matches(expected: &Value, actual: &Value, subset: bool, depth: usize) -> bool {
    if depth > 256 {
        return false;
    }
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
                x == y
            } else {
                a.as_f64() == b.as_f64()
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            (subset || e.len() == a.len())
                && e.iter().all(|(k, ev)| {
                    a.get(k)
                        .is_some_and(|av| json_matches(ev, av, subset, depth + 1))
                })
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len()
                && e.iter()
                    .zip(a)
                    .all(|(ev, av)| json_matches(ev, av, subset, depth + 1))
        }
        _ => expected == actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml;
    use base64::Engine;
    use serde_json::json;

    fn compile_src(src: &str) -> Result<Expectation, Vec<CompileError>> {
        let root = yaml::parse(src).unwrap();
        compile(root.get("expect").unwrap())
    }

    fn ok(src: &str) -> Expectation {
        compile_src(src).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn errors(src: &str) -> Vec<CompileError> {
        compile_src(src).expect_err("expected compile errors")
    }

    fn no_templates(node: &Node) -> Result<Value, String> {
        Err(format!("unexpected template {:?}", node.as_str()))
    }

    fn run(expectation: &Expectation, body: &Value) -> Vec<Failure> {
        expectation.evaluate(
            &Observed {
                status: 200,
                body,
                error: None,
            },
            &mut no_templates,
        )
    }

    fn jwt(claims: Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2ln",
            b64.encode(r#"{"alg":"RS256","kid":"k1"}"#),
            b64.encode(claims.to_string())
        )
    }

    fn challenge_body() -> Value {
        json!({
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": "AYABeSession",
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": "jane",
                "requiredAttributes": "[]",
                "userAttributes": "{\"email\":\"jane@example.com\",\"email_verified\":\"true\"}"
            }
        })
    }

    fn tokens_body() -> Value {
        json!({
            "ChallengeParameters": {},
            "AuthenticationResult": {
                "AccessToken": jwt(json!({"token_use": "access", "username": "jane", "iat": 1, "exp": 3601})),
                "IdToken": jwt(json!({"token_use": "id", "email": "jane@example.com", "email_verified": true})),
                "ExpiresIn": 3600,
                "TokenType": "Bearer",
            }
        })
    }

    #[test]
    fn the_spec_example_compiles_and_passes() {
        let e = ok(r#"
expect:
  challenge: NEW_PASSWORD_REQUIRED
  ChallengeParameters: { USER_ID_FOR_SRP: { exists: true } }
  ChallengeParameters.userAttributes.json.email: jane@example.com
  ChallengeParameters.requiredAttributes.json: { length: 0, type: array }
  Session: { regex: "^AYAB", type: string }
  AuthenticationResult: { absent: true }
"#);
        assert!(!e.expects_error());
        assert_eq!(run(&e, &challenge_body()), vec![]);
        let e = ok(r#"
expect:
  authenticated: true
  challenge: null
  AuthenticationResult.AccessToken.claims: { token_use: access, username: jane }
  AuthenticationResult.IdToken.claims:
    email_verified: true
    email: { contains: "@example.com" }
  AuthenticationResult.ExpiresIn: { type: integer, one_of: [3600, 86400] }
  AuthenticationResult.RefreshToken: { absent: true }
  AuthenticationResult.TokenType: { not: { one_of: [MAC, Basic] } }
  ChallengeParameters: { equals: {} }
"#);
        assert_eq!(run(&e, &tokens_body()), vec![]);
    }

    #[test]
    fn one_of_may_accept_a_missing_value() {
        let e = ok("expect:\n  Setting: { one_of: [LEGACY, { absent: true }] }\n");
        assert_eq!(run(&e, &json!({})), vec![]);
        assert_eq!(run(&e, &json!({"Setting": "LEGACY"})), vec![]);
        let f = run(&e, &json!({"Setting": "ENABLED"}));
        assert_eq!(f.len(), 1, "{f:#?}");
        let e = ok("expect:\n  Setting: { one_of: [LEGACY, ENABLED] }\n");
        let f = run(&e, &json!({}));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("is missing"), "{}", f[0].message);
    }

    #[test]
    fn failures_point_at_the_innermost_node_with_full_paths() {
        let src = "expect:\n  ChallengeParameters:\n    USER_ID_FOR_SRP: bob\n    Missing: { exists: true }\n  challenge: MFA_SETUP\n";
        let e = ok(src);
        let f = run(&e, &challenge_body());
        assert_eq!(f.len(), 3, "{f:#?}");
        assert_eq!(f[0].path, "ChallengeParameters.USER_ID_FOR_SRP");
        assert_eq!(f[0].message, "expected \"bob\", got \"jane\"");
        assert_eq!((f[0].span.line, f[0].span.col), (3, 22));
        assert_eq!(f[0].actual, Some(json!("jane")));
        assert_eq!(f[0].expected, Some(json!("bob")));
        assert_eq!(f[1].path, "ChallengeParameters.Missing");
        assert_eq!(f[1].message, "`ChallengeParameters.Missing` is missing");
        assert_eq!((f[1].span.line, f[1].span.col), (4, 24));
        assert_eq!(f[2].path, "ChallengeName");
        assert_eq!(
            f[2].message,
            "expected \"MFA_SETUP\", got \"NEW_PASSWORD_REQUIRED\""
        );
        assert_eq!(f[2].span.line, 5);
    }

    #[test]
    fn authenticated_explains_a_challenge() {
        let e = ok("expect:\n  authenticated: true\n");
        let f = run(&e, &challenge_body());
        assert_eq!(
            f[0].message,
            "expected tokens (`AuthenticationResult.AccessToken`), but the response is a NEW_PASSWORD_REQUIRED challenge"
        );
        let e = ok("expect:\n  authenticated: false\n");
        assert_eq!(run(&e, &challenge_body()), vec![]);
        assert_eq!(run(&e, &tokens_body()).len(), 1);
    }

    #[test]
    fn scalars_numbers_and_lists() {
        let body = json!({"A": 1, "B": "1", "C": 1.0, "L": ["x", "y"], "O": [{"N": 1, "M": 2}]});
        assert_eq!(
            run(
                &ok("expect:\n  A: 1.0\n  C: 1\n  L: [x, y]\n  O: [{ N: 1 }]\n"),
                &body
            ),
            vec![]
        );
        let f = run(&ok("expect:\n  B: 1\n"), &body);
        assert_eq!(f[0].message, "expected 1 (a number), got \"1\" (a string)");
        let f = run(&ok("expect:\n  L: [x]\n"), &body);
        assert!(
            f[0].message
                .starts_with("expected a list of 1 item(s), got 2"),
            "{}",
            f[0].message
        );
        let f = run(&ok("expect:\n  L: [x, z]\n"), &body);
        assert_eq!(f[0].path, "L[1]");
        let f = run(&ok("expect:\n  Z: null\n"), &body);
        assert!(
            f[0].message.contains("use `absent: true`"),
            "{}",
            f[0].message
        );
        assert_eq!(
            run(
                &ok("expect:\n  L: { contains: y, length: 2 }\n  O: { contains: { M: 2 } }\n"),
                &body
            ),
            vec![]
        );
        let f = run(&ok("expect:\n  L: { contains: q }\n"), &body);
        assert_eq!(
            f[0].message,
            "expected `L` to contain \"q\", but none of its 2 item(s) does"
        );
        let f = run(&ok("expect:\n  O: { equals: [{ N: 1 }] }\n"), &body);
        assert!(
            f[0].message.starts_with("expected exactly [{\"N\":1}]"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn matchers_report_readably() {
        let body = json!({"UserStatus": "UNCONFIRMED", "Users": [], "UserSub": "nope", "ExpiresIn": "3600", "S": "abc"});
        let src = r#"
expect:
  UserStatus: { one_of: [CONFIRMED, FORCE_CHANGE_PASSWORD] }
  Users: { length: { min: 1 } }
  UserSub: { regex: "^[0-9a-f-]{36}$" }
  ExpiresIn: { type: number }
  S: { not: abc }
  Gone: { regex: x }
  S2: { absent: false }
  UserStatus2: { not: UNCONFIRMED }
"#;
        let f = run(&ok(src), &body);
        let messages: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "expected one of [\"CONFIRMED\", \"FORCE_CHANGE_PASSWORD\"], got \"UNCONFIRMED\"",
                "expected length at least 1, got 0 item(s)",
                "expected text matching /^[0-9a-f-]{36}$/, got \"nope\"",
                "expected a number, got \"3600\"",
                "expected anything but \"abc\", got \"abc\"",
                "expected text matching /x/, but `Gone` is missing",
                "`S2` is missing",
                "expected anything but \"UNCONFIRMED\", but `UserStatus2` is missing",
            ]
        );
        assert_eq!(
            run(&ok("expect:\n  S: { not: { exists: true } }\n"), &json!({})),
            vec![]
        );
    }

    #[test]
    fn errors_expected_and_unexpected() {
        let e = ok(
            "expect:\n  error: { code: NotAuthorizedException, message: \"Incorrect username\" }\n  status: 400\n",
        );
        assert!(e.expects_error());
        let body = json!({"__type": "NotAuthorizedException", "message": "Incorrect username or password."});
        let observed = |code, message, status| Observed {
            status,
            body: &body,
            error: Some((code, message)),
        };
        let ev = |o: Observed| e.evaluate(&o, &mut no_templates);
        assert_eq!(
            ev(observed(
                "NotAuthorizedException",
                Some("Incorrect username or password."),
                400
            )),
            vec![]
        );
        // Wire forms of the code are cleaned.
        assert_eq!(
            ev(observed(
                "com.amazon#NotAuthorizedException:",
                Some("Incorrect username or password."),
                400
            )),
            vec![]
        );
        let f = ev(observed(
            "UserNotFoundException",
            Some("User does not exist."),
            404,
        ));
        assert_eq!(f.len(), 3, "{f:#?}");
        assert_eq!(
            f[0].message,
            "expected error NotAuthorizedException, got UserNotFoundException: User does not exist."
        );
        assert_eq!(
            f[1].message,
            "expected an error message matching /Incorrect username/, got \"User does not exist.\""
        );
        assert_eq!(f[2].message, "expected HTTP status 400, got 404");
        let ok_body = json!({});
        let f = e.evaluate(
            &Observed {
                status: 200,
                body: &ok_body,
                error: None,
            },
            &mut no_templates,
        );
        assert_eq!(
            f[0].message,
            "expected error NotAuthorizedException but the call succeeded"
        );
        let plain = ok("expect:\n  UserSub: { exists: true }\n");
        let f = plain.evaluate(
            &observed("CodeMismatchException", Some("Invalid code"), 400),
            &mut no_templates,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "the call failed with CodeMismatchException: Invalid code"
        );
        // The other checks see the error body.
        let e =
            ok("expect:\n  error: NotAuthorizedException\n  message: { regex: \"^Incorrect\" }\n");
        assert_eq!(
            e.evaluate(
                &observed("NotAuthorizedException", None, 400),
                &mut no_templates
            ),
            vec![]
        );
    }

    #[test]
    fn templates_render_through_the_callback() {
        let e = ok(
            "expect:\n  Username: \"{{ username }}\"\n  Count: \"{{ n }}\"\n  Email: { regex: \"^{{ username }}@\" }\n  Obj: { equals: { U: \"{{ username }}\" } }\n",
        );
        let body =
            json!({"Username": "jane-1", "Count": 3, "Email": "jane-1@x", "Obj": {"U": "jane-1"}});
        let mut render = |node: &Node| -> Result<Value, String> {
            let s = node.as_str().unwrap();
            Ok(match s {
                "{{ n }}" => json!(3),
                _ => Value::String(s.replace("{{ username }}", "jane-1")),
            })
        };
        let observed = Observed {
            status: 200,
            body: &body,
            error: None,
        };
        assert_eq!(e.evaluate(&observed, &mut render), vec![]);
        let mut failing =
            |_: &Node| -> Result<Value, String> { Err("undefined variable `username`".into()) };
        let f = e.evaluate(&observed, &mut failing);
        assert!(
            f[0].message.contains("undefined variable `username`"),
            "{f:#?}"
        );
    }

    #[test]
    fn compile_collects_every_mistake_with_positions_and_hints() {
        let src = r#"
expect:
  challange: MFA_SETUP
  challenge: NEW_PASWORD_REQUIRED
  UserStatus: { exist: true }
  Users: { length: 1, Username: bob }
  Foo: { regx: "a", one_of: [] }
  Bar: { type: numbr }
  Baz: { regex: "([" }
  Users[0: x
  error: { code: NotAuthorized, mesage: x }
  exists: true
  status: abc
  authenticated: yes
  Qux: { length: { min: 3, max: 1 } }
"#;
        let errs = errors(src);
        let summary: Vec<(usize, &str, Option<&str>)> = errs
            .iter()
            .map(|e| (e.span.line, e.message.as_str(), e.hint.as_deref()))
            .collect();
        let has = |line: usize, needle: &str| {
            assert!(
                summary.iter().any(|(l, m, h)| *l == line
                    && (m.contains(needle) || h.is_some_and(|h| h.contains(needle)))),
                "no error on line {line} containing {needle:?} in {summary:#?}"
            )
        };
        has(3, "did you mean `challenge`?");
        has(4, "did you mean `NEW_PASSWORD_REQUIRED`?");
        has(5, "did you mean `exists`?");
        has(
            6,
            "mixes the matcher `length` with the response field `Username`",
        );
        has(7, "did you mean `regex`?");
        has(7, "`one_of` takes a non-empty list");
        has(8, "did you mean `number`?");
        has(9, "invalid regular expression");
        has(10, "unclosed `[` in path");
        has(11, "did you mean `NotAuthorizedException`?");
        has(11, "did you mean `message`?");
        has(12, "needs a response field");
        has(13, "HTTP status");
        has(14, "true or false");
        has(15, "larger than `max`");
        let path_error = errs.iter().find(|e| e.message.contains("in path")).unwrap();
        assert_eq!((path_error.span.line, path_error.span.col), (10, 8));
    }

    #[test]
    fn claims_are_not_mistaken_for_misspelt_keywords() {
        ok(
            "expect:\n  AuthenticationResult.AccessToken.claims: { iat: { type: number }, nbf: 1, exp: 2, sub: x, jti: y, aud: z, iss: w, scope: s, email: e, nonce: n }\n",
        );
        assert_eq!(misspelt_keyword("oneof"), Some("one_of"));
        assert_eq!(misspelt_keyword("lenght"), Some("length"));
        assert_eq!(misspelt_keyword("contain"), Some("contains"));
        assert_eq!(misspelt_keyword("iat"), None);
        assert_eq!(misspelt_keyword("email"), None);
    }

    #[test]
    fn empty_and_non_mapping_expect() {
        let e = ok("expect:\n");
        assert_eq!(run(&e, &json!({})), vec![]);
        assert!(
            errors("expect: [a]\n")[0]
                .message
                .contains("must be a mapping")
        );
    }

    #[test]
    fn hints_for_packed_values() {
        let body = tokens_body();
        let f = run(
            &ok("expect:\n  AuthenticationResult.IdToken: { email: x }\n"),
            &body,
        );
        assert!(
            f[0].message
                .contains("look inside with `AuthenticationResult.IdToken.claims`"),
            "{}",
            f[0].message
        );
        let f = run(
            &ok("expect:\n  ChallengeParameters.userAttributes: { email: x }\n"),
            &challenge_body(),
        );
        assert!(f[0].message.contains(".json`"), "{}", f[0].message);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let mut deep = String::from("expect:\n  A: ");
        for _ in 0..200 {
            deep.push_str("{ B: ");
        }
        deep.push('1');
        for _ in 0..200 {
            deep.push_str(" }");
        }
        deep.push('\n');
        if let Ok(root) = yaml::parse(&deep) {
            let _ = compile(root.get("expect").unwrap());
        }
        let e = ok(
            "expect:\n  A: { length: 9223372036854775807 }\n  B: 1e308\n  C: { equals: 18446744073709551615 }\n",
        );
        let _ = run(&e, &json!({"A": "x", "B": 1e308, "C": u64::MAX}));
    }
}
