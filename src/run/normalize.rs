//! Stable placeholders for dynamic values, and secret scrubbing.
//!
//! Everything the runner shows (snapshots, failure reports, log lines) goes
//! through one [`Normalizer`] per scenario run, so that
//! - the same scenario on two targets gives comparable output: sessions,
//!   tokens, ids and timestamps become numbered placeholders that keep
//!   identity (`<session:1>` is the same session wherever it reappears);
//! - no secret ever appears: passwords, TOTP secrets and codes, tokens,
//!   sessions, client secrets, SECRET_HASH and SRP values are replaced, and
//!   unknown keys that look secret are redacted (fail closed).
//!
//! Calls come in step order (request 1, response 1, request 2, …): a
//! placeholder is numbered by the first appearance of its value.
//!
//! Rules for a string, first match wins:
//! 1. a value seen before keeps its placeholder (identity);
//! 2. a scenario-defined value (≥ 4 characters) → `{{ name }}`, secrets `<name>`;
//! 3. by key: `Session` → `<session:N>`, `RefreshToken`/`REFRESH_TOKEN` →
//!    `<refresh_token:N>`, `SecretCode` → `<totp_secret:N>`, `ClientSecret` →
//!    `<client_secret:N>`, `SECRET_HASH`/`SecretHash` → `<secret_hash>`, MFA
//!    codes → `<totp_code>`, `ConfirmationCode` → `<code>`, SRP values →
//!    `<srp:KEY>`, `DeviceKey`/`DEVICE_KEY`/`device_key` → `<device_key:N>`,
//!    `DeviceGroupKey` → `<device_group_key:N>`, `TIMESTAMP` → `<timestamp>`,
//!    `MFAS_CAN_SETUP`/`MFAS_CAN_CHOOSE`/`requiredAttributes` (JSON text) sorted;
//! 4. a JWT anywhere → `{ token: <access_token:N>|<id_token:N>|<jwt:N>, header, claims }`
//!    (`iat`/`auth_time`/`nbf` → `<timestamp>`, `exp` → `<iat + 3600>`,
//!    `jti`/`origin_jti`/`event_id` → `<uuid:N>`, `kid` → `<kid:N>`); a token
//!    seen before is just its placeholder;
//! 5. a UUID → `<uuid:N>` (one counter, so `sub` equals `UserSub`);
//! 6. a key matching /password/i → `<password>`; /secret|token|session/i →
//!    `<redacted>` unless the value is harmless configuration (`hours`, `days`,
//!    `Bearer`, `UPPER_SNAKE` constants);
//! 7. otherwise known and seen values, JWTs, UUIDs and long opaque blobs
//!    inside the text are replaced.
//!
//! Numbers under keys ending in `Date` → `<timestamp>`. Object keys are
//! sorted; order-free lists (`UserAttributes`, `Attributes` by `Name`, `Users`
//! by `Username`, `ExplicitAuthFlows`, …) are sorted after normalising.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::auth::jwt;

/// How a scenario-defined value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Shown as `{{ name }}` (a `vars:` entry, `pool.id`, `client.id`).
    Variable,
    /// Shown as `<name>` (client secret, passwords); never shown raw anywhere.
    Secret,
}

/// Normalises the requests and responses of one scenario run, and scrubs text.
#[derive(Debug, Default)]
pub struct Normalizer {
    /// Scenario-defined values: raw text → (placeholder, is secret).
    known: HashMap<String, (String, bool)>,
    /// Dynamic values seen so far: raw text → placeholder (identity map).
    seen: HashMap<String, String>,
    /// Next number per placeholder kind.
    counters: HashMap<&'static str, usize>,
    /// Raw text (and its JSON-escaped form) → placeholder, for replacing
    /// inside longer text. The first entry for a raw value wins.
    table: Needles,
}

/// Values shorter than this are never replaced inside longer text.
const MIN_LEN: usize = 4;
/// Deeper JSON is cut off (no stack overflow on hostile input).
const MAX_DEPTH: usize = 128;

/// SRP values: shown as `<srp:KEY>`.
const SRP_KEYS: [&str; 8] = [
    "SRP_A",
    "SRP_B",
    "SALT",
    "SECRET_BLOCK",
    "PASSWORD_CLAIM_SECRET_BLOCK",
    "PASSWORD_CLAIM_SIGNATURE",
    "PasswordVerifier",
    "Salt",
];

/// One-time codes typed by a user (from an authenticator, SMS or e-mail).
const TOTP_CODE_KEYS: [&str; 5] = [
    "UserCode",
    "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA_CODE",
    "EMAIL_OTP_CODE",
    "SMS_OTP_CODE",
];

/// Lists whose order carries no meaning: sorted after normalising, by the
/// named field for lists of objects.
const ORDER_FREE: [(&str, Option<&str>); 19] = [
    ("UserAttributes", Some("Name")),
    ("Attributes", Some("Name")),
    ("Users", Some("Username")),
    ("ExplicitAuthFlows", None),
    ("AutoVerifiedAttributes", None),
    ("UsernameAttributes", None),
    ("AliasAttributes", None),
    ("UserMFASettingList", None),
    ("ReadAttributes", None),
    ("WriteAttributes", None),
    ("AllowedOAuthScopes", None),
    ("AllowedOAuthFlows", None),
    ("SupportedIdentityProviders", None),
    ("CallbackURLs", None),
    ("LogoutURLs", None),
    ("AvailableChallenges", None),
    ("MFAS_CAN_SETUP", None),
    ("MFAS_CAN_CHOOSE", None),
    ("requiredAttributes", None),
];

/// Keys holding JSON text of an order-free array (Cognito's ChallengeParameters).
const JSON_ARRAY_KEYS: [&str; 3] = ["MFAS_CAN_SETUP", "MFAS_CAN_CHOOSE", "requiredAttributes"];

/// Keys matching /secret|token|session/ whose values are known to be harmless.
const HARMLESS_KEYS: [&str; 3] = ["TokenType", "token_use", "ChallengeName"];

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("constant regex")
});
static WHOLE_UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        .expect("constant regex")
});
/// A compact JWS (3 parts) or JWE (5 parts): both start with base64 of `{"`.
static JWT_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2}(?:(?:\.[A-Za-z0-9_-]*){2})?")
        .expect("constant regex")
});
/// A long opaque run of base64/hex characters: a session, key or hash.
static BLOB: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{64,}={0,2}").expect("constant regex"));
/// One word of a path: lowercase, Capitalised, UPPERCASE or CamelCase
/// letters and digits, at most 40 of them.
static PATH_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-z0-9]{1,40}|[A-Z0-9]{1,40}|(?:[A-Z]?[a-z0-9]+){1,8})$")
        .expect("constant regex")
});

/// Whether a long run of base64-ish characters is a file path
/// (`/work/project/tests/fixtures/some-folder/…`) rather than a secret: it
/// has folders (`/`), no `+` or `=` padding (base64's), and every folder
/// name is made of words (`long-folder_name2`, `CamelCase`); random base64
/// mixes cases and digits within a word, so sessions and keys still are redacted.
fn looks_like_a_path(blob: &str) -> bool {
    if !blob.contains('/') || blob.contains('+') || blob.ends_with('=') || blob.contains("//") {
        return false;
    }
    blob.split('/').filter(|part| !part.is_empty()).all(|part| {
        part.split(['-', '_'])
            .filter(|w| !w.is_empty())
            .all(|w| PATH_WORD.is_match(w))
    })
}

static SECRET_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)secret|token|session").expect("constant regex"));
static PASSWORD_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)password").expect("constant regex"));

impl Normalizer {
    /// A normaliser for one scenario run.
    pub fn new() -> Self {
        Self::default()
    }

    /// A value the scenario defined (a `vars:` entry, `pool.id`, `client.id`,
    /// a password, the client secret): shown as `{{ name }}` (or `<name>` for
    /// a secret) wherever it appears, whole or inside a longer string.
    /// Values shorter than 4 characters are ignored (too likely to collide);
    /// numbers and booleans only count when secret. An object or list
    /// registers its leaves as `name.key` / `name[i]` (so `pool` → `pool.id`).
    pub fn add_known(&mut self, name: &str, value: &Value, kind: Known) {
        self.add_known_at(name, value, kind, 0);
    }

    fn add_known_at(&mut self, name: &str, value: &Value, kind: Known, depth: usize) {
        if depth > 16 {
            return;
        }
        let text = match (value, kind) {
            (Value::String(s), _) => s.clone(),
            (Value::Number(_) | Value::Bool(_), Known::Secret) => value.to_string(),
            (Value::Object(map), _) => {
                for (k, v) in map {
                    self.add_known_at(&format!("{name}.{k}"), v, kind, depth + 1);
                }
                return;
            }
            (Value::Array(items), _) => {
                for (i, v) in items.iter().enumerate() {
                    self.add_known_at(&format!("{name}[{i}]"), v, kind, depth + 1);
                }
                return;
            }
            _ => return,
        };
        if text.chars().count() < MIN_LEN {
            return;
        }
        let secret = kind == Known::Secret;
        let placeholder = if secret {
            format!("<{name}>")
        } else {
            format!("{{{{ {name} }}}}")
        };
        match self.known.get_mut(&text) {
            // The same value under two names: a secret name wins.
            Some(entry) if secret && !entry.1 => {
                let old = std::mem::replace(entry, (placeholder.clone(), secret));
                self.table.rename(&old.0, &placeholder);
            }
            Some(_) => {}
            None => {
                self.remember_inside(&text, &placeholder);
                self.known.insert(text, (placeholder, secret));
            }
        }
    }

    /// Normalises a request or response body (see the module docs for the rules).
    pub fn normalize(&mut self, value: &Value) -> Value {
        self.value(value, None, 0)
    }

    /// Scrubs free text (error messages, diffs, log lines): every known value
    /// and every dynamic value seen so far becomes its placeholder, and any
    /// remaining JWT or long opaque blob is redacted.
    pub fn scrub(&self, text: &str) -> String {
        let replaced = replace_all(text, &self.table);
        let replaced = JWT_LIKE.replace_all(&replaced, "<jwt>");
        BLOB.replace_all(&replaced, |c: &regex::Captures| {
            let blob = &c[0];
            if looks_like_a_path(blob) {
                blob.to_string()
            } else {
                "<redacted>".to_string()
            }
        })
        .into_owned()
    }

    /// Adds `raw` (and its JSON-escaped form, so secrets inside serialised
    /// JSON are caught too) to the replacement table.
    fn remember_inside(&mut self, raw: &str, placeholder: &str) {
        if raw.chars().count() < MIN_LEN {
            return;
        }
        let escaped = serde_json::to_string(raw).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or(raw);
        for variant in [raw, escaped] {
            self.table.insert(variant, placeholder);
        }
    }

    /// Records a dynamic value's placeholder (identity and scrubbing).
    fn remember(&mut self, raw: &str, placeholder: String) -> String {
        self.remember_inside(raw, &placeholder);
        self.seen.insert(raw.to_string(), placeholder.clone());
        placeholder
    }

    /// The numbered placeholder for `raw` of `kind`, the same for the same raw value.
    fn numbered(&mut self, kind: &'static str, raw: &str) -> String {
        if let Some(p) = self.seen.get(raw) {
            return p.clone();
        }
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = format!("<{kind}:{n}>");
        self.remember(raw, placeholder)
    }

    /// A fixed placeholder (`<password>`), remembered so the raw value is scrubbed.
    fn fixed(&mut self, placeholder: String, raw: &str) -> String {
        match self.seen.get(raw) {
            Some(p) => p.clone(),
            None => self.remember(raw, placeholder),
        }
    }

    fn value(&mut self, value: &Value, key: Option<&str>, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::String("<too deep>".into());
        }
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map
                    .iter()
                    .map(|(k, v)| {
                        let v = self.value(v, Some(k), depth + 1);
                        (self.inside_key(k), v)
                    })
                    .collect();
                // Key order differs between implementations and means nothing.
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().collect::<Map<_, _>>())
            }
            Value::Array(items) => {
                let mut items: Vec<Value> = items
                    .iter()
                    .map(|v| self.value(v, key, depth + 1))
                    .collect();
                if let Some((_, field)) = key.and_then(|k| ORDER_FREE.iter().find(|(n, _)| *n == k))
                {
                    sort_items(&mut items, *field);
                }
                Value::Array(items)
            }
            Value::String(s) => self.string(s, key, depth),
            Value::Number(_) if key.is_some_and(|k| k.ends_with("Date")) => {
                Value::String("<timestamp>".into())
            }
            Value::Number(n) => match self.known.get(&n.to_string()) {
                Some((p, true)) => Value::String(p.clone()),
                _ => value.clone(),
            },
            other => other.clone(),
        }
    }

    fn string(&mut self, s: &str, key: Option<&str>, depth: usize) -> Value {
        let key = key.unwrap_or("");
        let text = |t: String| Value::String(t);
        if s.is_empty() {
            return text(String::new());
        }
        // 1. Identity: a value seen before keeps its placeholder.
        if let Some(p) = self.seen.get(s) {
            return text(p.clone());
        }
        // 2. Values the scenario defined.
        if let Some((p, _)) = self.known.get(s) {
            return text(p.clone());
        }
        // 3. By key.
        match key {
            "Session" => return text(self.numbered("session", s)),
            "RefreshToken" | "REFRESH_TOKEN" if !harmless(s) => {
                return text(self.numbered("refresh_token", s));
            }
            "SecretCode" => return text(self.numbered("totp_secret", s)),
            "ClientSecret" => return text(self.numbered("client_secret", s)),
            "SECRET_HASH" | "SecretHash" => return text(self.fixed("<secret_hash>".into(), s)),
            "ConfirmationCode" => return text(self.fixed("<code>".into(), s)),
            "DeviceKey" | "DEVICE_KEY" | "device_key" => {
                return text(self.numbered("device_key", s));
            }
            "DeviceGroupKey" => return text(self.numbered("device_group_key", s)),
            // App clients a scenario creates itself (the fixture's is `{{ client.id }}`).
            "ClientId" | "client_id" | "aud" => return text(self.numbered("client_id", s)),
            // The pool tag naming the run (DescribeUserPool's UserPoolTags).
            "cognito-scenarios:run" => return text("<run_id>".into()),
            "TIMESTAMP" => return text("<timestamp>".into()),
            k if TOTP_CODE_KEYS.contains(&k) => return text(self.fixed("<totp_code>".into(), s)),
            k if SRP_KEYS.contains(&k) => return text(self.fixed(format!("<srp:{k}>"), s)),
            k if JSON_ARRAY_KEYS.contains(&k) => {
                if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(s) {
                    let mut items: Vec<Value> = items
                        .iter()
                        .map(|v| self.value(v, None, depth + 1))
                        .collect();
                    sort_items(&mut items, None);
                    return text(Value::Array(items).to_string());
                }
            }
            _ => {}
        }
        // 4. JWTs anywhere: shown decoded.
        if let Some(decoded) = jwt::decode(s) {
            return self.jwt(s, decoded, depth);
        }
        match key {
            "AccessToken" if !harmless(s) => return text(self.numbered("access_token", s)),
            "IdToken" if !harmless(s) => return text(self.numbered("id_token", s)),
            k if k.ends_with("Date") => return text("<timestamp>".into()),
            _ => {}
        }
        // 5. UUIDs anywhere.
        if WHOLE_UUID.is_match(s) {
            return text(self.numbered("uuid", s));
        }
        // 6. Fail closed on keys that look secret.
        if PASSWORD_KEY.is_match(key) {
            return text(self.fixed("<password>".into(), s));
        }
        if SECRET_KEY.is_match(key) && !HARMLESS_KEYS.contains(&key) && !harmless(s) {
            return text(self.fixed("<redacted>".into(), s));
        }
        // 7. Known and dynamic values inside longer text.
        text(self.inside(s))
    }

    /// A decoded JWT as `{ token, header, claims }` with dynamic claims replaced.
    fn jwt(&mut self, raw: &str, decoded: jwt::DecodedJwt, depth: usize) -> Value {
        let kind = match decoded.claims.get("token_use").and_then(Value::as_str) {
            Some("access") => "access_token",
            Some("id") => "id_token",
            _ => "jwt",
        };
        let token = self.numbered(kind, raw);
        let mut header = Map::new();
        if let Value::Object(h) = &decoded.header {
            for (k, v) in h {
                let v = match (k.as_str(), v) {
                    ("kid", Value::String(kid)) => Value::String(self.numbered("kid", kid)),
                    ("alg" | "typ" | "cty" | "enc", v) => v.clone(),
                    (k, v) => self.value(v, Some(k), depth + 1),
                };
                header.insert(k.clone(), v);
            }
        }
        header.sort_keys();
        let mut claims: Vec<(String, Value)> = Vec::new();
        if let Value::Object(c) = &decoded.claims {
            let iat = c.get("iat").and_then(Value::as_f64);
            for (k, v) in c {
                let v = match (k.as_str(), v) {
                    ("iat" | "auth_time" | "nbf", Value::Number(_)) => {
                        Value::String("<timestamp>".into())
                    }
                    ("exp", Value::Number(exp)) => {
                        let validity = exp
                            .as_f64()
                            .zip(iat)
                            .map(|(e, i)| e - i)
                            .filter(|d| d.is_finite() && d.abs() < 1e15);
                        Value::String(match validity {
                            Some(d) if d >= 0.0 => format!("<iat + {d:.0}>"),
                            Some(d) => format!("<iat - {:.0}>", -d),
                            None => "<timestamp>".into(),
                        })
                    }
                    ("jti" | "origin_jti" | "event_id", Value::String(id)) => {
                        Value::String(self.numbered("uuid", id))
                    }
                    (k, v) => self.value(v, Some(k), depth + 1),
                };
                claims.push((self.inside_key(k), v));
            }
        }
        claims.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Map::new();
        out.insert("token".into(), Value::String(token));
        out.insert("header".into(), Value::Object(header));
        out.insert(
            "claims".into(),
            Value::Object(claims.into_iter().collect::<Map<_, _>>()),
        );
        Value::Object(out)
    }

    /// Replaces, inside a longer string, known and seen values, then JWTs,
    /// UUIDs and long opaque blobs (which get placeholders of their own).
    fn inside(&mut self, s: &str) -> String {
        let replaced = replace_all(s, &self.table);
        let replaced = JWT_LIKE
            .replace_all(&replaced, |c: &regex::Captures| {
                let raw = &c[0];
                let kind = match jwt::decode(raw)
                    .and_then(|d| {
                        d.claims
                            .get("token_use")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .as_deref()
                {
                    Some("access") => "access_token",
                    Some("id") => "id_token",
                    _ => "jwt",
                };
                self.numbered(kind, raw)
            })
            .into_owned();
        let replaced = UUID
            .replace_all(&replaced, |c: &regex::Captures| {
                self.numbered("uuid", &c[0])
            })
            .into_owned();
        BLOB.replace_all(&replaced, |c: &regex::Captures| {
            self.fixed("<redacted>".into(), &c[0])
        })
        .into_owned()
    }

    /// Object keys: only known and seen values are replaced (keys are rarely dynamic).
    fn inside_key(&self, key: &str) -> String {
        replace_all(key, &self.table)
    }
}

/// Values under secret-looking keys that are configuration, not secrets
/// (`TokenValidityUnits: { RefreshToken: days }`, enum constants).
fn harmless(s: &str) -> bool {
    matches!(s, "seconds" | "minutes" | "hours" | "days" | "Bearer")
        || (s.contains('_')
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
}

/// Sorts normalised list items: by a field for objects, else by value.
fn sort_items(items: &mut [Value], field: Option<&str>) {
    items.sort_by_cached_key(|v| {
        let by_field = field
            .and_then(|f| v.get(f))
            .map(|f| match f {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let whole = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        (by_field, whole)
    });
}

/// Texts to replace inside longer text, each with its placeholder. Looked
/// up by their first four bytes, then by exact length, so a search costs what
/// the searched text holds, not how many needles there are, and adding one is
/// constant work.
#[derive(Debug, Default)]
struct Needles {
    /// Needle → index of its placeholder.
    needles: HashMap<String, usize>,
    placeholders: Vec<String>,
    /// Placeholder → its index, so a placeholder is renamed in one place.
    ids: HashMap<String, usize>,
    /// First four bytes → lengths of the needles starting with them, longest first.
    lengths: HashMap<[u8; 4], Vec<usize>>,
    /// Needles compared with the text so far (for tests of the cost).
    #[cfg(test)]
    probes: std::sync::atomic::AtomicUsize,
}

impl Needles {
    /// Adds a needle (at least four bytes) unless it is already there.
    fn insert(&mut self, needle: &str, placeholder: &str) {
        let Some(prefix) = prefix_of(needle) else {
            return;
        };
        if self.needles.contains_key(needle) {
            return;
        }
        let id = match self.ids.get(placeholder) {
            Some(&id) => id,
            None => {
                self.placeholders.push(placeholder.to_string());
                let id = self.placeholders.len() - 1;
                self.ids.insert(placeholder.to_string(), id);
                id
            }
        };
        self.needles.insert(needle.to_string(), id);
        let lengths = self.lengths.entry(prefix).or_default();
        if let Err(at) = lengths.binary_search_by(|l| needle.len().cmp(l)) {
            lengths.insert(at, needle.len());
        }
    }

    /// Every needle shown as `old` is shown as `new` from now on.
    fn rename(&mut self, old: &str, new: &str) {
        if let Some(id) = self.ids.remove(old) {
            self.placeholders[id] = new.to_string();
            self.ids.entry(new.to_string()).or_insert(id);
        }
    }

    /// The longest needle at the start of `text` that may be replaced there
    /// (`before` is the character before it), with its placeholder.
    fn longest_at(&self, text: &str, before: Option<char>) -> Option<(usize, &str)> {
        let lengths = self.lengths.get(&prefix_of(text)?)?;
        for &len in lengths {
            let Some(candidate) = text.get(..len) else {
                continue;
            };
            #[cfg(test)]
            self.probes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&id) = self.needles.get(candidate) else {
                continue;
            };
            // Short needles only match where not glued to other letters or digits.
            if candidate.chars().count() < 8 {
                let after = text[len..].chars().next();
                if before.is_some_and(char::is_alphanumeric)
                    || after.is_some_and(char::is_alphanumeric)
                {
                    continue;
                }
            }
            return Some((len, &self.placeholders[id]));
        }
        None
    }
}

fn prefix_of(text: &str) -> Option<[u8; 4]> {
    text.as_bytes().get(..4)?.try_into().ok()
}

/// Replaces every occurrence of every needle in one pass, left to right: at
/// each position the longest needle wins, and replacements are never
/// searched again. Needles shorter than 8 characters only match where not
/// glued to other letters or digits.
fn replace_all(text: &str, table: &Needles) -> String {
    if table.needles.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut before = None;
    for (at, c) in text.char_indices() {
        if at < copied {
            before = Some(c);
            continue;
        }
        if let Some((len, placeholder)) = table.longest_at(&text[at..], before) {
            out.push_str(&text[copied..at]);
            out.push_str(placeholder);
            copied = at + len;
        }
        before = Some(c);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            b64(&header.to_string()),
            b64(&claims.to_string()),
            b64("signature-bytes-that-are-long-enough")
        )
    }

    /// The raw values of one realistic run on one target.
    struct Raw {
        pool: &'static str,
        client: &'static str,
        client_secret: &'static str,
        username: &'static str,
        temp_password: &'static str,
        new_password: &'static str,
        sub: &'static str,
        sessions: [&'static str; 4],
        secret_code: &'static str,
        totp_code: &'static str,
        confirmation_code: &'static str,
        secret_hash: &'static str,
        kids: [&'static str; 2],
        ids: [&'static str; 4],
        iat: u64,
        refresh: &'static str,
        device_key: &'static str,
        /// Targets answer order-free lists in different orders.
        swap_order: bool,
    }

    fn aws() -> Raw {
        Raw {
            pool: "us-east-1_XEOSgwEak",
            client: "26cb2c60kq7nbmas7rbme9b6pp",
            client_secret: "1lg7dbf1eq9ug6rsg1t7bdn8lcoa8f1b4c3kufdjstq0ei2pihfr",
            username: "jane-3f2a9c71",
            temp_password: "Temp-Xk29dLq8Rw1a!",
            new_password: "Perm-Q8m2Lz7Wc1b#",
            sub: "d4a8b5c2-1f3e-4b6a-9c7d-8e9f0a1b2c3d",
            sessions: [
                "AYABeLQ7Y3RnGJ5pA0mTNU8bQxYAHQABAAdTZXJ2aWNlABBDb2duaXRvVXNlclBvb2xzAAEAB2F3cy1rbXM",
                "AYABeD0eRkq8nZ2c9v3Lw1QmPfcAHQABAAdTZXJ2aWNlABBDb2duaXRvVXNlclBvb2xzAAEAB2F3cy1rbXN",
                "AYABeHh5yT1sq0W6kBn3EaZ2JrUAHQABAAdTZXJ2aWNlABBDb2duaXRvVXNlclBvb2xzAAEAB2F3cy1rbXO",
                "AYABeJm4TqB2cV8dX7hK9sLpNwoAHQABAAdTZXJ2aWNlABBDb2duaXRvVXNlclBvb2xzAAEAB2F3cy1rbXP",
            ],
            secret_code: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPQ2ZA",
            totp_code: "492031",
            confirmation_code: "817264",
            secret_hash: "wB2rU1n5Yf7m3XqK9pLz0aT8sV4cD6eH1jN2oP3qR5s=",
            kids: [
                "STMP881wQwX0a9Zy1l2k3j4h5g6f7e8d9c0bWig=",
                "Xk7pQ2rT9sV4wY6zB8cD0eF1gH3jK5lM7nP9qR2t=",
            ],
            ids: [
                "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
                "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                "7f6e5d4c-3b2a-4918-8776-655443322110",
                "abcdef01-2345-4789-abcd-ef0123456789",
            ],
            iat: 1_700_000_000,
            refresh: "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.kWbSk0mVxPbH9Lrx4zSbu0FPwTtd.rLpv7U0ZQ1dhtX2u.Ab8cHjW4hKiLqYt5QmFnBz0o6.sT0m4tUvWxYz1A2B3C4D",
            device_key: "us-east-1_5f4e3d2c-1b0a-4987-8654-3210fedcba98",
            swap_order: false,
        }
    }

    fn emulator() -> Raw {
        Raw {
            pool: "us-east-1_a1b2c3d4e",
            client: "7h8j9k0l1m2n3o4p5q6r7s8t9u",
            client_secret: "9s8r7q6p5o4n3m2l1k0j9i8h7g6f5e4d3c2b1a0v9u8t7s6r5q4p",
            username: "jane-81be04d2",
            temp_password: "Temp-Pp0o9I8u7Y6t!",
            new_password: "Perm-Zz9Yy8Xx7Ww6#",
            sub: "11111111-2222-4333-8444-555555555555",
            sessions: [
                "c2Vzc2lvbi1vbmUtZm9yLXRoZS1lbXVsYXRvci10aGF0LWlzLWxvbmctZW5vdWdoLXRvLWxvb2stcmVhbA",
                "c2Vzc2lvbi10d28tZm9yLXRoZS1lbXVsYXRvci10aGF0LWlzLWxvbmctZW5vdWdoLXRvLWxvb2stcmVhbA",
                "c2Vzc2lvbi10aHJlZS1mb3ItdGhlLWVtdWxhdG9yLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tbG9vaw",
                "c2Vzc2lvbi1mb3VyLWZvci10aGUtZW11bGF0b3ItdGhhdC1pcy1sb25nLWVub3VnaC10by1sb29r",
            ],
            secret_code: "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZ",
            totp_code: "105933",
            confirmation_code: "000123",
            secret_hash: "Q3VzdG9tU2VjcmV0SGFzaEZvclRoZUVtdWxhdG9yMDE=",
            kids: ["emulator-key-access-0001", "emulator-key-id-0002"],
            ids: [
                "99999999-8888-4777-8666-555555555555",
                "44444444-3333-4222-8111-000000000000",
                "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                "12345678-90ab-4cde-8f01-234567890abc",
            ],
            iat: 1_800_000_123,
            refresh: "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.ZW11bGF0b3ItcmVmcmVzaA.aXY.Y2lwaGVydGV4dA.dGFn",
            device_key: "us-east-1_0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d",
            swap_order: true,
        }
    }

    /// Runs sign-up, confirmation, NEW_PASSWORD_REQUIRED, MFA setup, tokens,
    /// GetUser, refresh and a failure; returns every normalised body and the
    /// scrubbed free text, plus the raw strings that must never be shown.
    fn realistic_run(r: &Raw) -> (Vec<Value>, Vec<String>, Vec<String>) {
        let mut n = Normalizer::new();
        n.add_known("pool.id", &json!(r.pool), Known::Variable);
        n.add_known("client.id", &json!(r.client), Known::Variable);
        n.add_known("client.secret", &json!(r.client_secret), Known::Secret);
        n.add_known("username", &json!(r.username), Known::Variable);
        n.add_known("temp_password", &json!(r.temp_password), Known::Secret);
        n.add_known("new_password", &json!(r.new_password), Known::Secret);
        n.add_known("short", &json!("ab"), Known::Variable);
        let email = format!("{}@example.com", r.username);
        let iss = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", r.pool);
        let access = token(
            json!({"kid": r.kids[0], "alg": "RS256"}),
            json!({
                "sub": r.sub, "iss": iss, "client_id": r.client, "origin_jti": r.ids[0],
                "event_id": r.ids[1], "token_use": "access", "scope": "aws.cognito.signin.user.admin",
                "auth_time": r.iat, "exp": r.iat + 3600, "iat": r.iat, "jti": r.ids[2], "username": r.username,
            }),
        );
        let id = token(
            json!({"kid": r.kids[1], "alg": "RS256"}),
            json!({
                "sub": r.sub, "email_verified": true, "iss": iss, "cognito:username": r.username,
                "origin_jti": r.ids[0], "aud": r.client, "event_id": r.ids[1], "token_use": "id",
                "auth_time": r.iat, "exp": r.iat + 3600, "iat": r.iat, "jti": r.ids[3], "email": email,
            }),
        );
        let attrs = if r.swap_order {
            json!([{"Name": "email", "Value": email}, {"Name": "sub", "Value": r.sub}])
        } else {
            json!([{"Name": "sub", "Value": r.sub}, {"Name": "email", "Value": email}])
        };
        let mfas = if r.swap_order {
            "[\"SOFTWARE_TOKEN_MFA\",\"EMAIL_OTP\"]"
        } else {
            "[\"EMAIL_OTP\",\"SOFTWARE_TOKEN_MFA\"]"
        };
        let [s1, s2, s3, s4] = r.sessions;
        let bodies = vec![
            // SignUp
            json!({"ClientId": r.client, "SecretHash": r.secret_hash, "Username": r.username,
                   "Password": r.temp_password, "UserAttributes": [{"Name": "email", "Value": email}]}),
            json!({"UserConfirmed": false, "UserSub": r.sub,
                   "CodeDeliveryDetails": {"AttributeName": "email", "DeliveryMedium": "EMAIL", "Destination": "j***@e***"}}),
            // ConfirmSignUp
            json!({"ClientId": r.client, "SecretHash": r.secret_hash, "Username": r.username,
                   "ConfirmationCode": r.confirmation_code}),
            json!({}),
            // AdminInitiateAuth → NEW_PASSWORD_REQUIRED
            json!({"UserPoolId": r.pool, "ClientId": r.client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": r.username, "PASSWORD": r.temp_password, "SECRET_HASH": r.secret_hash}}),
            json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": s1,
                   "ChallengeParameters": {"USER_ID_FOR_SRP": r.sub, "requiredAttributes": "[]",
                       "userAttributes": json!({"email": email, "email_verified": "true"}).to_string()}}),
            // AdminRespondToAuthChallenge → MFA_SETUP
            json!({"UserPoolId": r.pool, "ClientId": r.client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": s1,
                   "ChallengeResponses": {"USERNAME": r.username, "NEW_PASSWORD": r.new_password, "SECRET_HASH": r.secret_hash}}),
            json!({"ChallengeName": "MFA_SETUP", "Session": s2, "ChallengeParameters": {"MFAS_CAN_SETUP": mfas}}),
            // AssociateSoftwareToken
            json!({"Session": s2}),
            json!({"SecretCode": r.secret_code, "Session": s3}),
            // VerifySoftwareToken
            json!({"Session": s3, "UserCode": r.totp_code, "FriendlyDeviceName": "phone"}),
            json!({"Status": "SUCCESS", "Session": s4}),
            // AdminRespondToAuthChallenge → tokens
            json!({"UserPoolId": r.pool, "ClientId": r.client, "ChallengeName": "MFA_SETUP", "Session": s4,
                   "ChallengeResponses": {"USERNAME": r.username, "SECRET_HASH": r.secret_hash}}),
            json!({"ChallengeParameters": {}, "AuthenticationResult": {
                "AccessToken": access, "ExpiresIn": 3600, "TokenType": "Bearer", "RefreshToken": r.refresh, "IdToken": id,
                "NewDeviceMetadata": {"DeviceKey": r.device_key, "DeviceGroupKey": "-wt2ha1Zd"}}}),
            // GetUser
            json!({"AccessToken": access}),
            json!({"Username": r.username, "UserAttributes": attrs, "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"],
                   "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA", "UserCreateDate": r.iat as f64 + 0.107}),
            // InitiateAuth REFRESH_TOKEN_AUTH
            json!({"ClientId": r.client, "AuthFlow": "REFRESH_TOKEN_AUTH",
                   "AuthParameters": {"REFRESH_TOKEN": r.refresh, "SECRET_HASH": r.secret_hash, "DEVICE_KEY": r.device_key}}),
            json!({"AuthenticationResult": {"AccessToken": access, "ExpiresIn": 3600, "TokenType": "Bearer", "IdToken": id}}),
            // DescribeUserPoolClient-like configuration must survive.
            json!({"UserPoolClient": {"ClientSecret": r.client_secret, "TokenValidityUnits": {"AccessToken": "hours", "RefreshToken": "days"},
                   "ExplicitAuthFlows": if r.swap_order { json!(["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]) }
                                        else { json!(["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]) },
                   "EnableTokenRevocation": true, "SomeFutureSecretField": "zzzzzzzz"}}),
        ];
        let normalised: Vec<Value> = bodies.iter().map(|b| n.normalize(b)).collect();
        let texts = vec![
            n.scrub(&format!("NotAuthorizedException: Unable to verify secret hash for client {}", r.client)),
            n.scrub(&format!(
                "step 5 sent {{\"Session\":\"{s1}\",\"NEW_PASSWORD\":\"{}\"}} with {} and secret {}",
                r.new_password, r.client_secret, r.secret_code
            )),
            n.scrub(&format!("Authorization: Bearer {access}; refresh={}; code {} / {}", r.refresh, r.totp_code, r.confirmation_code)),
            n.scrub(&format!("the user {} ({}) logged in from {}", r.username, r.sub, r.device_key)),
        ];
        let mut secrets: Vec<String> = [
            r.client_secret,
            r.temp_password,
            r.new_password,
            r.secret_code,
            r.totp_code,
            r.confirmation_code,
            r.secret_hash,
            r.refresh,
            r.device_key,
            r.pool,
            r.client,
            r.username,
            r.sub,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        secrets.extend(r.sessions.iter().map(|s| s.to_string()));
        secrets.extend(r.ids.iter().map(|s| s.to_string()));
        secrets.extend(r.kids.iter().map(|s| s.to_string()));
        secrets.push(access);
        secrets.push(id);
        (normalised, texts, secrets)
    }

    #[test]
    fn a_realistic_run_shows_no_secret_and_keeps_identities() {
        let (out, texts, secrets) = realistic_run(&aws());
        let all = format!(
            "{}\n{}",
            serde_json::to_string_pretty(&out).unwrap(),
            texts.join("\n")
        );
        for secret in &secrets {
            assert!(!all.contains(secret.as_str()), "{secret:?} leaked:\n{all}");
        }
        // Parts of tokens must not leak either (e.g. the JWT payload segment).
        for part in secrets
            .iter()
            .filter(|s| s.starts_with("eyJ"))
            .flat_map(|s| s.split('.'))
        {
            if part.len() >= 8 {
                assert!(!all.contains(part), "token part {part:?} leaked");
            }
        }
        // Identity: UserSub = USER_ID_FOR_SRP = sub in both tokens = the sub attribute.
        assert_eq!(out[1]["UserSub"], "<uuid:1>");
        assert_eq!(out[5]["ChallengeParameters"]["USER_ID_FOR_SRP"], "<uuid:1>");
        let result = &out[13]["AuthenticationResult"];
        assert_eq!(result["AccessToken"]["claims"]["sub"], "<uuid:1>");
        assert_eq!(result["IdToken"]["claims"]["sub"], "<uuid:1>");
        assert_eq!(out[15]["UserAttributes"][1]["Value"], "<uuid:1>");
        // Sessions: the response's session is the next request's session.
        assert_eq!(out[5]["Session"], "<session:1>");
        assert_eq!(out[6]["Session"], "<session:1>");
        assert_eq!(out[7]["Session"], "<session:2>");
        assert_eq!(out[8]["Session"], "<session:2>");
        assert_eq!(out[11]["Session"], "<session:4>");
        assert_eq!(out[12]["Session"], "<session:4>");
        // Tokens decoded once, then referred to by placeholder.
        assert_eq!(result["AccessToken"]["token"], "<access_token:1>");
        assert_eq!(
            result["AccessToken"]["header"],
            json!({"alg": "RS256", "kid": "<kid:1>"})
        );
        let header_keys: Vec<&String> = result["AccessToken"]["header"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(header_keys, ["alg", "kid"]);
        assert_eq!(result["IdToken"]["header"]["kid"], "<kid:2>");
        assert_eq!(out[14]["AccessToken"], "<access_token:1>");
        assert_eq!(out[17]["AuthenticationResult"]["IdToken"], "<id_token:1>");
        let claims = &result["AccessToken"]["claims"];
        assert_eq!(claims["iat"], "<timestamp>");
        assert_eq!(claims["auth_time"], "<timestamp>");
        assert_eq!(claims["exp"], "<iat + 3600>");
        assert_eq!(
            claims["iss"],
            "https://cognito-idp.us-east-1.amazonaws.com/{{ pool.id }}"
        );
        assert_eq!(claims["client_id"], "{{ client.id }}");
        assert_eq!(claims["username"], "{{ username }}");
        assert_eq!(claims["scope"], "aws.cognito.signin.user.admin");
        assert_eq!(
            claims["origin_jti"],
            result["IdToken"]["claims"]["origin_jti"]
        );
        assert_eq!(
            result["IdToken"]["claims"]["email"],
            "{{ username }}@example.com"
        );
        assert_eq!(result["IdToken"]["claims"]["aud"], "{{ client.id }}");
        // Refresh token, device key: identity kept across response and request.
        assert_eq!(result["RefreshToken"], "<refresh_token:1>");
        assert_eq!(
            out[16]["AuthParameters"]["REFRESH_TOKEN"],
            "<refresh_token:1>"
        );
        assert_eq!(result["NewDeviceMetadata"]["DeviceKey"], "<device_key:1>");
        assert_eq!(out[16]["AuthParameters"]["DEVICE_KEY"], "<device_key:1>");
        // Fixed placeholders and known names.
        assert_eq!(out[0]["Password"], "<temp_password>");
        assert_eq!(out[0]["SecretHash"], "<secret_hash>");
        assert_eq!(out[2]["ConfirmationCode"], "<code>");
        assert_eq!(
            out[6]["ChallengeResponses"]["NEW_PASSWORD"],
            "<new_password>"
        );
        assert_eq!(out[9]["SecretCode"], "<totp_secret:1>");
        assert_eq!(out[10]["UserCode"], "<totp_code>");
        assert_eq!(out[4]["UserPoolId"], "{{ pool.id }}");
        assert_eq!(out[15]["UserCreateDate"], "<timestamp>");
        // Order-free lists are sorted; configuration values survive.
        assert_eq!(
            out[7]["ChallengeParameters"]["MFAS_CAN_SETUP"],
            "[\"EMAIL_OTP\",\"SOFTWARE_TOKEN_MFA\"]"
        );
        let client = &out[18]["UserPoolClient"];
        assert_eq!(client["ClientSecret"], "<client.secret>");
        assert_eq!(
            client["TokenValidityUnits"],
            json!({"AccessToken": "hours", "RefreshToken": "days"})
        );
        assert_eq!(client["SomeFutureSecretField"], "<redacted>");
        assert_eq!(result["TokenType"], "Bearer");
        // Free text.
        assert_eq!(
            texts[0],
            "NotAuthorizedException: Unable to verify secret hash for client {{ client.id }}"
        );
        assert!(
            texts[1].contains("<session:1>") && texts[1].contains("<new_password>"),
            "{}",
            texts[1]
        );
        assert!(texts[2].contains("Bearer <access_token:1>"), "{}", texts[2]);
        assert!(
            texts[2].contains("<totp_code>") && texts[2].contains("<code>"),
            "{}",
            texts[2]
        );
        assert_eq!(
            texts[3],
            "the user {{ username }} (<uuid:1>) logged in from <device_key:1>"
        );
    }

    #[test]
    fn two_targets_give_identical_output() {
        let (a, ta, _) = realistic_run(&aws());
        let (b, tb, _) = realistic_run(&emulator());
        assert_eq!(
            serde_json::to_string_pretty(&a).unwrap(),
            serde_json::to_string_pretty(&b).unwrap()
        );
        assert_eq!(ta, tb);
    }

    #[test]
    fn scrub_fails_closed_on_unseen_tokens_and_blobs() {
        let n = Normalizer::new();
        let jwt = token(json!({"alg": "RS256"}), json!({"sub": "x"}));
        let blob = "A".repeat(40) + &"b9+/".repeat(10);
        let text = n.scrub(&format!("token {jwt} and blob {blob} end"));
        assert_eq!(text, "token <jwt> and blob <redacted> end");
    }

    #[test]
    fn scrub_keeps_long_paths_and_locations_but_not_base64_with_slashes() {
        let n = Normalizer::new();
        let path = "/work/cognito-scenarios/tests/fixtures/some_really-long-folder-name/ScenarioFiles/nested/deeper/still";
        let text = format!("cannot read {path}/x.yaml:12:5 (see {path})");
        assert_eq!(n.scrub(&text), text);
        // Base64 with slashes (a session, a key) is still a secret.
        let session = "AYABeC5Qz0mCq8V2lW/k9gRjPZxT3uYbN1sHd7Ea6Fo4Ki/Lw0MvUcX8yJtGhRn2Sb5Dp/Qe9Az7Ck3Vm1Xf6Yg4Wh0Tj";
        assert_eq!(n.scrub(&format!("s={session}")), "s=<redacted>");
        let hex = "a1b2c3d4".repeat(10);
        assert_eq!(n.scrub(&format!("k {hex}")), "k <redacted>");
        // No folders: a long word-like run is still redacted (fail closed).
        let word = "abcdefgh".repeat(9);
        assert_eq!(n.scrub(&word), "<redacted>");
    }

    #[test]
    fn short_values_are_ignored_and_short_codes_match_whole_words_only() {
        let mut n = Normalizer::new();
        n.add_known("x", &json!("abc"), Known::Secret);
        n.add_known("n", &json!(12), Known::Variable);
        assert_eq!(n.scrub("abc 12"), "abc 12");
        let out = n.normalize(&json!({"UserCode": "123456"}));
        assert_eq!(out["UserCode"], "<totp_code>");
        assert_eq!(
            n.scrub("code 123456 at 1700123456789"),
            "code <totp_code> at 1700123456789"
        );
    }

    #[test]
    fn app_clients_created_by_steps_get_placeholders() {
        let mut n = Normalizer::new();
        n.add_known(
            "client.id",
            &json!("fixture0client0id000000000"),
            Known::Variable,
        );
        let out = n.normalize(&json!([
            {"UserPoolClient": {"ClientId": "second0client0id0000000000"}},
            {"ClientId": "second0client0id0000000000"},
            {"ClientId": "fixture0client0id000000000"},
            {"ClientId": "third0client0id00000000000"},
        ]));
        assert_eq!(out[0]["UserPoolClient"]["ClientId"], "<client_id:1>");
        assert_eq!(out[1]["ClientId"], "<client_id:1>");
        assert_eq!(out[2]["ClientId"], "{{ client.id }}");
        assert_eq!(out[3]["ClientId"], "<client_id:2>");
        let tags = n.normalize(&json!({"UserPoolTags": {"cognito-scenarios:run": "75bb8d47"}}));
        assert_eq!(tags["UserPoolTags"]["cognito-scenarios:run"], "<run_id>");
    }

    #[test]
    fn escaped_secrets_inside_json_text_are_caught() {
        let mut n = Normalizer::new();
        n.add_known("password", &json!("Pa\"ss\\word-1"), Known::Secret);
        let json_text = serde_json::to_string(&json!({"PASSWORD": "Pa\"ss\\word-1"})).unwrap();
        assert_eq!(n.scrub(&json_text), "{\"PASSWORD\":\"<password>\"}");
    }

    #[test]
    fn unknown_passwords_and_secret_looking_keys_are_redacted() {
        let mut n = Normalizer::new();
        let out = n.normalize(&json!({
            "ProposedPassword": "Hunter2-hunter2",
            "PreviousPassword": "Old-Secret-1",
            "X_SECRET": "abcdef",
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "PASSWORD_CLAIM_SIGNATURE": "c2lnbmF0dXJl",
            "TIMESTAMP": "Tue Nov 5 09:08:07 UTC 2026",
        }));
        assert_eq!(out["ProposedPassword"], "<password>");
        assert_eq!(out["PreviousPassword"], "<password>");
        assert_eq!(out["X_SECRET"], "<redacted>");
        assert_eq!(out["ChallengeName"], "SOFTWARE_TOKEN_MFA");
        assert_eq!(out["AuthFlow"], "REFRESH_TOKEN_AUTH");
        assert_eq!(
            out["PASSWORD_CLAIM_SIGNATURE"],
            "<srp:PASSWORD_CLAIM_SIGNATURE>"
        );
        assert_eq!(out["TIMESTAMP"], "<timestamp>");
        let text = n.scrub("old Old-Secret-1 new Hunter2-hunter2");
        assert_eq!(text, "old <password> new <password>");
    }

    #[test]
    fn known_objects_and_numeric_secrets() {
        let mut n = Normalizer::new();
        n.add_known(
            "pool",
            &json!({"id": "eu-west-1_AbCdEfGhI", "arn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEfGhI"}),
            Known::Variable,
        );
        n.add_known("pin", &json!(98765432), Known::Secret);
        let out = n
            .normalize(&json!({"UserPoolId": "eu-west-1_AbCdEfGhI", "Pin": 98765432, "Other": 12}));
        assert_eq!(
            out,
            json!({"Other": 12, "Pin": "<pin>", "UserPoolId": "{{ pool.id }}"})
        );
        assert_eq!(
            n.scrub("pool arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEfGhI"),
            "pool {{ pool.arn }}"
        );
    }

    #[test]
    fn objects_are_sorted_by_name_and_users_by_username() {
        let mut n = Normalizer::new();
        let out = n.normalize(&json!({"Users": [
            {"Username": "zed-user", "Attributes": [{"Name": "sub", "Value": "v"}, {"Name": "email", "Value": "e"}]},
            {"Username": "amy-user", "Attributes": []},
        ]}));
        assert_eq!(out["Users"][0]["Username"], "amy-user");
        assert_eq!(out["Users"][1]["Attributes"][0]["Name"], "email");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let mut n = Normalizer::new();
        let mut deep = json!("leaf");
        for _ in 0..300 {
            deep = json!({ "a": [deep] });
        }
        let _ = n.normalize(&deep);
        let _ = n.normalize(
            &json!({"exp": 1e308, "iat": -1e308, "CreationDate": u64::MAX, "x": "é\u{0}\u{FFFF}"}),
        );
        let weird = token(
            json!({"kid": 5}),
            json!({"token_use": "access", "exp": "soon", "iat": 1e300}),
        );
        let out = n.normalize(&json!({"AccessToken": weird}));
        assert_eq!(out["AccessToken"]["claims"]["exp"], "soon");
        let big = token(json!({"kid": "k"}), json!({"exp": 1e300, "iat": -1e300}));
        let out = n.normalize(&json!({"IdToken": big}));
        assert_eq!(out["IdToken"]["claims"]["exp"], "<timestamp>");
        assert_eq!(n.scrub("ééé ü"), "ééé ü");
        let _ =
            n.normalize(&json!({"MFAS_CAN_SETUP": "[[[[]]]]", "requiredAttributes": "not json"}));
    }

    #[test]
    fn replacing_inside_text_costs_what_the_text_holds_not_how_many_values_are_known() {
        use std::sync::atomic::Ordering::Relaxed;
        let mut n = Normalizer::new();
        for i in 0..10_000 {
            let value = json!(format!("value-{i:05}-of-many"));
            n.add_known(&format!("v{i}"), &value, Known::Variable);
        }
        let before = n.table.probes.load(Relaxed);
        assert_eq!(
            n.scrub("user value-00042-of-many signed in"),
            "user {{ v42 }} signed in"
        );
        let probes = n.table.probes.load(Relaxed) - before;
        assert!(probes <= 2, "{probes} needles compared");
    }
}
