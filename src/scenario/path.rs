//! Response paths: how a scenario points into a Cognito JSON response.
//!
//! ```text
//! AuthenticationResult.AccessToken          dotted keys
//! Users[0].Username   Users[-1]             list index (negative counts from the end)
//! UserAttributes[?Name=email].Value         first list item whose field equals a value
//! ChallengeParameters["cognito:username"]   bracketed key (any characters)
//! ChallengeParameters.cognito:username      the same: only `.` and `[` separate
//! AuthenticationResult.IdToken.claims.email `.claims` / `.header` decode a JWT string
//! ChallengeParameters.MFAS_CAN_SETUP.json[0] `.json` parses a string holding JSON
//! ```
//!
//! The virtual segments apply only to strings; on an object a real key of the
//! same name wins. A bracketed key (`["claims"]`) is always a plain key.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::auth::jwt;

/// A parsed response path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    segments: Vec<Segment>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An object key. `bracketed` keys never act as virtual segments or indexes.
    Key { name: String, bracketed: bool },
    /// A list index; negative counts from the end.
    Index(i64),
    /// The first list item that is an object whose `field` equals `value`.
    Filter { field: String, value: String },
}

/// A path that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// What is wrong, readable by a QA engineer.
    pub message: String,
    /// 0-based character offset of the problem within the path text.
    pub column_offset: usize,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

/// Why a path did not resolve, for precise failure messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The part of the path that did resolve.
    pub prefix: Path,
    /// The segment that failed, as written (`.Username`, `[0]`, `.claims`).
    pub segment: String,
    /// What went wrong at that segment.
    pub kind: UnresolvedKind,
}

/// The reason a segment could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnresolvedKind {
    /// The object has no such key.
    MissingKey,
    /// The value is not of a kind the segment applies to (e.g. a key on a list).
    WrongKind(&'static str),
    /// `.claims` / `.header` on a string that is not a JWT.
    NotAJwt,
    /// `.json` on a string that does not hold JSON.
    NotJson,
    /// The list is shorter than the index.
    OutOfRange(usize),
    /// No list item matched the filter.
    NoMatch,
}

impl Unresolved {
    /// One readable sentence; `base` is the path the resolution started from
    /// (the root for top-level expectations).
    pub fn describe(&self, base: &Path) -> String {
        let prefix = base.then(&self.prefix);
        let whole = prefix.text_with(&self.segment);
        let at = if prefix.is_root() {
            "the response".to_string()
        } else {
            format!("`{}`", prefix.as_str())
        };
        match &self.kind {
            UnresolvedKind::MissingKey => format!("`{whole}` is missing"),
            UnresolvedKind::WrongKind(kind) => {
                format!("{at} is {kind}, so `{}` cannot be read", self.segment)
            }
            UnresolvedKind::NotAJwt => {
                format!("{at} is not a JWT, so `{}` cannot be read", self.segment)
            }
            UnresolvedKind::NotJson => {
                format!(
                    "{at} does not hold JSON text, so `{}` cannot be read",
                    self.segment
                )
            }
            UnresolvedKind::OutOfRange(len) => {
                format!("`{whole}` is missing ({at} has {len} item(s))")
            }
            UnresolvedKind::NoMatch => format!("{at} has no item matching `{}`", self.segment),
        }
    }
}

/// A short word for the kind of a JSON value ("a string", "an object", ...).
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Path {
    /// The empty path: the whole response.
    pub fn root() -> Path {
        Path {
            segments: Vec::new(),
            text: String::new(),
        }
    }

    /// Parses a path such as `Users[0].Attributes[?Name=email].Value`.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
        }
        .parse()
        .map(|segments| Path {
            segments,
            text: text.to_string(),
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The object key the path starts with (`AuthenticationResult` of
    /// `AuthenticationResult.AccessToken`), if it starts with one.
    pub fn first_key(&self) -> Option<&str> {
        match self.segments.first() {
            Some(Segment::Key { name, .. }) => Some(name),
            _ => None,
        }
    }

    /// True for the empty path (the whole response).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// This path followed by a plain object key (quoted with brackets when needed).
    pub fn join(&self, key: &str) -> Path {
        let plain = !key.is_empty() && !key.contains(['.', '[', ']']);
        let piece = if plain {
            key.to_string()
        } else {
            format!("[{}]", quote(key))
        };
        let mut path = self.clone();
        path.text = self.text_with(&piece);
        path.segments.push(Segment::Key {
            name: key.to_string(),
            bracketed: !plain,
        });
        path
    }

    /// This path followed by a list index.
    pub fn index(&self, index: usize) -> Path {
        let mut path = self.clone();
        path.text = format!("{}[{index}]", self.text);
        path.segments
            .push(Segment::Index(i64::try_from(index).unwrap_or(i64::MAX)));
        path
    }

    /// This path followed by `other` (resolved relative to this one).
    pub fn then(&self, other: &Path) -> Path {
        if other.is_root() {
            return self.clone();
        }
        let mut path = self.clone();
        path.text = self.text_with(&other.text);
        path.segments.extend(other.segments.iter().cloned());
        path
    }

    fn text_with(&self, piece: &str) -> String {
        let piece = piece.strip_prefix('.').unwrap_or(piece);
        if self.text.is_empty() {
            piece.to_string()
        } else if piece.starts_with('[') {
            format!("{}{piece}", self.text)
        } else {
            format!("{}.{piece}", self.text)
        }
    }

    /// The value at this path, or `None` when any segment does not apply.
    pub fn resolve(&self, root: &Value) -> Option<Value> {
        self.resolve_detailed(root).ok()
    }

    /// Like [`Path::resolve`], but says where and why resolution stopped.
    pub fn resolve_detailed(&self, root: &Value) -> Result<Value, Unresolved> {
        let mut current: Cow<'_, Value> = Cow::Borrowed(root);
        for (i, segment) in self.segments.iter().enumerate() {
            let fail = |kind| Unresolved {
                prefix: self.prefix(i),
                segment: segment.to_string(),
                kind,
            };
            current = match step(current, segment) {
                Ok(next) => next,
                Err(kind) => return Err(fail(kind)),
            };
        }
        Ok(current.into_owned())
    }

    /// The first `n` segments as a path.
    fn prefix(&self, n: usize) -> Path {
        let mut path = Path::root();
        for segment in &self.segments[..n.min(self.segments.len())] {
            path.text = path.text_with(&segment.to_string());
            path.segments.push(segment.clone());
        }
        path
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key {
                name,
                bracketed: false,
            } => write!(f, ".{name}"),
            Segment::Key { name, .. } => write!(f, "[{}]", quote(name)),
            Segment::Index(i) => write!(f, "[{i}]"),
            Segment::Filter { field, value } => {
                if value.contains([']', '"', '\'']) || value.trim() != value || value.is_empty() {
                    write!(f, "[?{field}={}]", quote(value))
                } else {
                    write!(f, "[?{field}={value}]")
                }
            }
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Follows one segment.
fn step<'a>(current: Cow<'a, Value>, segment: &Segment) -> Result<Cow<'a, Value>, UnresolvedKind> {
    match segment {
        Segment::Key { name, bracketed } => match current {
            Cow::Borrowed(Value::Object(map)) => map
                .get(name)
                .map(Cow::Borrowed)
                .ok_or(UnresolvedKind::MissingKey),
            Cow::Owned(Value::Object(mut map)) => map
                .remove(name)
                .map(Cow::Owned)
                .ok_or(UnresolvedKind::MissingKey),
            other => {
                if !bracketed {
                    if let Value::String(s) = other.as_ref() {
                        match name.as_str() {
                            "claims" | "header" => {
                                let decoded = jwt::decode(s).ok_or(UnresolvedKind::NotAJwt)?;
                                let part = if name == "claims" {
                                    decoded.claims
                                } else {
                                    decoded.header
                                };
                                return Ok(Cow::Owned(part));
                            }
                            "json" => {
                                return serde_json::from_str::<Value>(s)
                                    .map(Cow::Owned)
                                    .map_err(|_| UnresolvedKind::NotJson);
                            }
                            _ => {}
                        }
                    }
                    // `Users.0.Username` works like `Users[0].Username`.
                    if let (Value::Array(_), Ok(i)) = (other.as_ref(), name.parse::<i64>()) {
                        return step(other, &Segment::Index(i));
                    }
                }
                Err(UnresolvedKind::WrongKind(kind_of(&other)))
            }
        },
        Segment::Index(i) => {
            let position = |len: usize| {
                let at = if *i < 0 {
                    usize::try_from(i.unsigned_abs())
                        .ok()
                        .and_then(|back| len.checked_sub(back))
                } else {
                    usize::try_from(*i).ok().filter(|&i| i < len)
                };
                at.ok_or(UnresolvedKind::OutOfRange(len))
            };
            match current {
                Cow::Borrowed(Value::Array(items)) => {
                    Ok(Cow::Borrowed(&items[position(items.len())?]))
                }
                Cow::Owned(Value::Array(mut items)) => {
                    let at = position(items.len())?;
                    Ok(Cow::Owned(items.swap_remove(at)))
                }
                other => Err(UnresolvedKind::WrongKind(kind_of(&other))),
            }
        }
        Segment::Filter { field, value } => {
            let matches = |item: &Value| {
                item.get(field).is_some_and(|v| match v {
                    Value::String(s) => s == value,
                    Value::Number(_) | Value::Bool(_) | Value::Null => {
                        let text = v.to_string();
                        text == *value
                    }
                    _ => false,
                })
            };
            match current {
                Cow::Borrowed(Value::Array(items)) => items
                    .iter()
                    .find(|item| matches(item))
                    .map(Cow::Borrowed)
                    .ok_or(UnresolvedKind::NoMatch),
                Cow::Owned(Value::Array(items)) => items
                    .into_iter()
                    .find(|item| matches(item))
                    .map(Cow::Owned)
                    .ok_or(UnresolvedKind::NoMatch),
                other => Err(UnresolvedKind::WrongKind(kind_of(&other))),
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, PathError> {
        Err(PathError {
            message: message.into(),
            column_offset: at,
        })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn parse(mut self) -> Result<Vec<Segment>, PathError> {
        if self.chars.is_empty() {
            return self.err(0, "empty path");
        }
        let mut segments = Vec::new();
        // A path starts with a key or a bracket.
        if self.peek() == Some('.') {
            return self.err(0, "a path cannot start with `.`");
        }
        if self.peek() != Some('[') {
            segments.push(self.dotted_key()?);
        }
        while let Some(c) = self.peek() {
            match c {
                '.' => {
                    self.pos += 1;
                    match self.peek() {
                        None => return self.err(self.pos - 1, "a path cannot end with `.`"),
                        Some('.') => return self.err(self.pos, "empty segment (`..`) in path"),
                        Some('[') => {
                            return self.err(
                                self.pos - 1,
                                "write `a[0]` or `a[\"key\"]`, without a `.` before `[`",
                            );
                        }
                        _ => segments.push(self.dotted_key()?),
                    }
                }
                '[' => segments.push(self.bracket()?),
                ']' => return self.err(self.pos, "`]` without a matching `[` in path"),
                _ => return self.err(self.pos, "expected `.` or `[` here"),
            }
        }
        Ok(segments)
    }

    fn dotted_key(&mut self) -> Result<Segment, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' {
                break;
            }
            if c == ']' {
                return self.err(self.pos, "`]` without a matching `[` in path");
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if name.trim().is_empty() {
            return self.err(start, "empty key in path");
        }
        Ok(Segment::Key {
            name,
            bracketed: false,
        })
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        let open = self.pos;
        self.pos += 1; // '['
        self.skip_spaces();
        let segment = match self.peek() {
            None => return self.err(open, "unclosed `[` in path"),
            Some('"') | Some('\'') => Segment::Key {
                name: self.quoted(open)?,
                bracketed: true,
            },
            Some('?') => {
                self.pos += 1;
                let field_start = self.pos;
                while let Some(c) = self.peek() {
                    if c == '=' || c == ']' {
                        break;
                    }
                    self.pos += 1;
                }
                let field: String = self.chars[field_start..self.pos].iter().collect();
                let field = field.trim().to_string();
                if self.peek() != Some('=') {
                    if self.peek().is_none() {
                        return self.err(open, "unclosed `[` in path");
                    }
                    return self.err(
                        field_start,
                        "a filter is written `[?Field=value]`, e.g. `[?Name=email]`",
                    );
                }
                if field.is_empty() {
                    return self.err(field_start, "the filter needs a field name before `=`");
                }
                self.pos += 1; // '='
                self.skip_spaces();
                let value = match self.peek() {
                    Some('"') | Some('\'') => self.quoted(open)?,
                    _ => {
                        let value_start = self.pos;
                        while let Some(c) = self.peek() {
                            if c == ']' {
                                break;
                            }
                            self.pos += 1;
                        }
                        let value: String = self.chars[value_start..self.pos].iter().collect();
                        value.trim().to_string()
                    }
                };
                Segment::Filter { field, value }
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos].iter().collect();
                match digits.parse::<i64>() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => return self.err(start, format!("`{digits}` is not a list index")),
                }
            }
            Some(']') => {
                return self.err(
                    open,
                    "empty `[]` in path: write an index `[0]`, a key `[\"name\"]` or a filter `[?Name=email]`",
                );
            }
            Some(_) => {
                return self.err(
                    self.pos,
                    "inside `[ ]` write an index `[0]`, a quoted key `[\"cognito:username\"]` or a filter `[?Name=email]`",
                );
            }
        };
        self.skip_spaces();
        match self.peek() {
            Some(']') => {
                self.pos += 1;
            }
            None => return self.err(open, "unclosed `[` in path"),
            Some(_) => return self.err(self.pos, "expected `]` here"),
        }
        match self.peek() {
            None | Some('.') | Some('[') => Ok(segment),
            Some(_) => self.err(self.pos, "expected `.` or `[` after `]`"),
        }
    }

    /// A quoted string starting at the current quote; `\` escapes the next character.
    fn quoted(&mut self, open: usize) -> Result<String, PathError> {
        let quote_char = self.peek().unwrap_or('"');
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return if self.chars[open..].contains(&']') {
                        self.err(start, "unclosed quote in path")
                    } else {
                        self.err(open, "unclosed `[` in path")
                    };
                }
                Some('\\') => {
                    self.pos += 1;
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.pos += 1;
                    }
                }
                Some(c) if c == quote_char => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    fn jwt(claims: Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2ln",
            b64.encode(r#"{"alg":"RS256","kid":"k1"}"#),
            b64.encode(claims.to_string())
        )
    }

    fn get(path: &str, root: &Value) -> Option<Value> {
        Path::parse(path).unwrap().resolve(root)
    }

    #[test]
    fn dotted_index_filter_and_bracket_keys() {
        let root = json!({
            "AuthenticationResult": {"AccessToken": "x"},
            "Users": [{"Username": "a"}, {"Username": "b"}],
            "UserAttributes": [{"Name": "sub", "Value": "1"}, {"Name": "email", "Value": "j@x"}],
            "ChallengeParameters": {"cognito:username": "jane", "a.b": 1},
        });
        assert_eq!(
            get("AuthenticationResult.AccessToken", &root),
            Some(json!("x"))
        );
        assert_eq!(get("Users[1].Username", &root), Some(json!("b")));
        assert_eq!(get("Users[-1].Username", &root), Some(json!("b")));
        assert_eq!(get("Users.0.Username", &root), Some(json!("a")));
        assert_eq!(get("Users[2]", &root), None);
        assert_eq!(
            get("UserAttributes[?Name=email].Value", &root),
            Some(json!("j@x"))
        );
        assert_eq!(
            get("UserAttributes[?Name = \"email\"].Value", &root),
            Some(json!("j@x"))
        );
        assert_eq!(get("UserAttributes[?Name=phone].Value", &root), None);
        assert_eq!(
            get("ChallengeParameters[\"cognito:username\"]", &root),
            Some(json!("jane"))
        );
        assert_eq!(
            get("ChallengeParameters.cognito:username", &root),
            Some(json!("jane"))
        );
        assert_eq!(get("ChallengeParameters['a.b']", &root), Some(json!(1)));
        assert_eq!(get("[\"Users\"][0]", &root), Some(json!({"Username": "a"})));
    }

    #[test]
    fn virtual_segments_decode_jwts_and_json() {
        let token = jwt(json!({"token_use": "id", "email": "j@x"}));
        let root = json!({
            "AuthenticationResult": {"IdToken": token},
            "ChallengeParameters": {
                "MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]",
                "userAttributes": "{\"email\":\"j@x\"}",
            },
            "Odd": {"claims": "real"},
        });
        assert_eq!(
            get("AuthenticationResult.IdToken.claims.email", &root),
            Some(json!("j@x"))
        );
        assert_eq!(
            get("AuthenticationResult.IdToken.header.kid", &root),
            Some(json!("k1"))
        );
        assert_eq!(
            get("ChallengeParameters.MFAS_CAN_SETUP.json[0]", &root),
            Some(json!("SOFTWARE_TOKEN_MFA"))
        );
        assert_eq!(
            get("ChallengeParameters.userAttributes.json.email", &root),
            Some(json!("j@x"))
        );
        // A real key wins; a bracketed key is never virtual.
        assert_eq!(get("Odd.claims", &root), Some(json!("real")));
        assert_eq!(get("AuthenticationResult.IdToken[\"claims\"]", &root), None);
        let err = Path::parse("ChallengeParameters.userAttributes.claims")
            .unwrap()
            .resolve_detailed(&root)
            .unwrap_err();
        assert_eq!(
            err.describe(&Path::root()),
            "`ChallengeParameters.userAttributes` is not a JWT, so `.claims` cannot be read"
        );
    }

    #[test]
    fn unresolved_says_where() {
        let root = json!({"Users": [{"Username": "a"}], "S": "x"});
        let describe = |p: &str| {
            Path::parse(p)
                .unwrap()
                .resolve_detailed(&root)
                .unwrap_err()
                .describe(&Path::root())
        };
        assert_eq!(
            describe("AuthenticationResult.AccessToken"),
            "`AuthenticationResult` is missing"
        );
        assert_eq!(
            describe("Users[3]"),
            "`Users[3]` is missing (`Users` has 1 item(s))"
        );
        assert_eq!(describe("Users[0].Email"), "`Users[0].Email` is missing");
        assert_eq!(
            describe("S.json"),
            "`S` does not hold JSON text, so `.json` cannot be read"
        );
        assert_eq!(
            describe("Users.Username"),
            "`Users` is a list, so `.Username` cannot be read"
        );
        assert_eq!(
            describe("Users[?Username=b]"),
            "`Users` has no item matching `[?Username=b]`"
        );
        let base = Path::parse("Outer[2]").unwrap();
        let err = Path::parse("X")
            .unwrap()
            .resolve_detailed(&json!({}))
            .unwrap_err();
        assert_eq!(err.describe(&base), "`Outer[2].X` is missing");
    }

    #[test]
    fn parse_errors_are_readable_and_positioned() {
        let e = |p: &str| Path::parse(p).unwrap_err();
        assert_eq!(e("Users[0").message, "unclosed `[` in path");
        assert_eq!(e("Users[0").column_offset, 5);
        assert_eq!(e("").message, "empty path");
        assert!(e("a..b").message.contains("empty segment"));
        assert_eq!(e("a..b").column_offset, 2);
        assert!(e("a.").message.contains("cannot end"));
        assert!(e(".a").message.contains("cannot start"));
        assert!(e("a[]").message.contains("empty `[]`"));
        assert!(e("a[x]").message.contains("inside `[ ]`"));
        assert!(e("a[?Name]").message.contains("[?Field=value]"));
        assert!(e("a[0]b").message.contains("after `]`"));
        assert!(e("a]").message.contains("without a matching"));
        assert!(e("a[\"x").message.contains("unclosed"));
        assert!(e("a.[0]").message.contains("without a `.`"));
        assert!(
            e("a[99999999999999999999]")
                .message
                .contains("not a list index")
        );
    }

    #[test]
    fn join_index_then_and_text() {
        let p = Path::parse("ChallengeParameters").unwrap();
        assert_eq!(
            p.join("USER_ID_FOR_SRP").as_str(),
            "ChallengeParameters.USER_ID_FOR_SRP"
        );
        assert_eq!(p.join("a.b").as_str(), "ChallengeParameters[\"a.b\"]");
        assert_eq!(Path::root().join("Users").index(0).as_str(), "Users[0]");
        let rel = Path::parse("[0].Name").unwrap();
        assert_eq!(
            Path::parse("Users").unwrap().then(&rel).as_str(),
            "Users[0].Name"
        );
        let joined = p.join("a.b");
        assert_eq!(
            joined.resolve(&json!({"ChallengeParameters": {"a.b": 7}})),
            Some(json!(7))
        );
        assert_eq!(
            Path::parse("A.claims")
                .unwrap()
                .then(&Path::parse("sub").unwrap())
                .as_str(),
            "A.claims.sub"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "[",
            "]",
            "[?",
            "[?=]",
            "[?a=",
            "['",
            "[-]",
            "[-",
            "é.ü[\"ß\"]",
            "a[ 1 ]",
            "\\",
            "[?a=\"]\"]",
        ] {
            let _ = Path::parse(text).map(|p| p.resolve(&json!({"a": [1]})));
        }
        assert_eq!(get("a[-9223372036854775808]", &json!({"a": [1]})), None);
        assert_eq!(
            get("a[?x=\"]\"]", &json!({"a": [{"x": "]"}]})),
            Some(json!({"x": "]"}))
        );
    }
}
