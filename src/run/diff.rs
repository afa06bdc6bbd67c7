//! Differences between two normalised answers of one step, path by path.
//!
//! A step's answer is its `response` (success) or its `status` and `error`
//! (failure), as the engine writes them into the transcript. Paths use the
//! response-path syntax of expectations and expectation files
//! (`AuthenticationResult.IdToken.claims.email`, `Users[0]`), relative to the
//! response or error body; `status` is the HTTP status of an error, and `""`
//! means the whole step (one side succeeded, the other failed).
//!
//! Numbered placeholders (`<uuid:3>`, `<session:1>`) are compared by identity,
//! not by number: the normaliser numbers values in order of appearance, so one
//! missing field would renumber everything after it. Two placeholders are the
//! same when they stand for each other consistently across the scenario.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::deviations::DeviationKind;

/// How a value differs from the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The reference has it; the target does not.
    Missing,
    /// The target has it; the reference does not.
    Extra,
    /// Both have it, with different values (or one succeeded where the other failed).
    Different,
}

/// One difference at one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub path: String,
    pub change: Change,
    /// The reference's value (absent when `Extra`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Value>,
    /// The target's value (absent when `Missing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
}

impl Difference {
    /// The deviation kind an expectation-file entry for this difference would have.
    pub fn suggested_kind(&self) -> DeviationKind {
        if self.path.is_empty() || self.path == "status" || self.path == "__type" {
            return DeviationKind::WrongError;
        }
        match self.change {
            Change::Missing => DeviationKind::MissingField,
            Change::Extra => DeviationKind::ExtraField,
            Change::Different => DeviationKind::DifferentValue,
        }
    }
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([a-z_]+):(\d+)>").expect("placeholder regex"));

/// Which reference placeholder stands for which of the target's, so far in a scenario.
#[derive(Debug, Default)]
pub struct Placeholders {
    forward: HashMap<String, String>,
    backward: HashMap<String, String>,
}

impl Placeholders {
    /// Whether two strings are equal once their placeholders are matched up
    /// (binding placeholders seen for the first time).
    fn same_text(&mut self, reference: &str, actual: &str) -> bool {
        if reference == actual && !PLACEHOLDER.is_match(reference) {
            return true;
        }
        let masked = |s: &str| PLACEHOLDER.replace_all(s, "<$1:*>").into_owned();
        if masked(reference) != masked(actual) {
            return false;
        }
        let pairs: Vec<(&str, &str)> = PLACEHOLDER
            .find_iter(reference)
            .zip(PLACEHOLDER.find_iter(actual))
            .map(|(r, a)| (r.as_str(), a.as_str()))
            .collect();
        let consistent = pairs.iter().all(|(r, a)| {
            self.forward.get(*r).is_none_or(|x| x == a)
                && self.backward.get(*a).is_none_or(|x| x == r)
        });
        if consistent {
            for (r, a) in pairs {
                self.forward.insert(r.to_string(), a.to_string());
                self.backward.insert(a.to_string(), r.to_string());
            }
        }
        consistent
    }
}

/// The differences between a reference step and the target's step (transcript
/// entries); `placeholders` carries placeholder identities from step to step.
pub fn step_differences(
    reference: &Value,
    actual: &Value,
    placeholders: &mut Placeholders,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut walk = Walk {
        placeholders,
        out: &mut out,
    };
    match (reference.get("response"), actual.get("response")) {
        (Some(r), Some(a)) => walk.values(r, a, String::new()),
        (None, None) => {
            let (rs, a_s) = (reference.get("status"), actual.get("status"));
            if !same_number(rs.unwrap_or(&Value::Null), a_s.unwrap_or(&Value::Null)) {
                walk.out.push(Difference {
                    path: "status".into(),
                    change: Change::Different,
                    reference: rs.cloned(),
                    actual: a_s.cloned(),
                });
            }
            let null = Value::Null;
            walk.values(
                reference.get("error").unwrap_or(&null),
                actual.get("error").unwrap_or(&null),
                String::new(),
            );
        }
        _ => walk.out.push(Difference {
            path: String::new(),
            change: Change::Different,
            reference: Some(answer(reference)),
            actual: Some(answer(actual)),
        }),
    }
    out
}

/// How a compared step fared in each aspect parity scores apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aspects {
    /// The same outcome: success with the same challenge (or tokens), or
    /// an error with the same code.
    pub behaviour: bool,
    /// The same outcome and the same fields (no field missing or extra).
    pub shape: bool,
    /// For an error both answered with the same code: whether the texts
    /// match; `None` for other steps.
    pub message: Option<bool>,
}

/// The aspects of a step whose `differences` from the reference are known.
pub fn aspects<'d>(
    reference: &Value,
    actual: &Value,
    differences: impl IntoIterator<Item = &'d Difference>,
) -> Aspects {
    /// `Ok(challenge or what a success carries)` or `Err(error code)`.
    fn outcome(step: &Value) -> Result<String, String> {
        match step.get("response") {
            Some(r) => Ok(r
                .get("ChallengeName")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if r.get("AuthenticationResult").is_some() {
                        "tokens"
                    } else {
                        ""
                    }
                    .to_string()
                })),
            None => Err(step
                .get("error")
                .and_then(|e| e.get("__type"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()),
        }
    }
    let (r, a) = (outcome(reference), outcome(actual));
    let (mut fields_differ, mut text_differs) = (false, false);
    for d in differences {
        fields_differ |= matches!(d.change, Change::Missing | Change::Extra);
        text_differs |= d.path == "message";
    }
    let behaviour = r == a;
    Aspects {
        behaviour,
        shape: behaviour && !fields_differ,
        message: (behaviour && r.is_err()).then_some(!text_differs),
    }
}

/// A step's answer alone: `{response}` or `{status, error}`.
pub fn answer(step: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["response", "status", "error"] {
        if let Some(v) = step.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

struct Walk<'p> {
    placeholders: &'p mut Placeholders,
    out: &'p mut Vec<Difference>,
}

impl Walk<'_> {
    fn values(&mut self, reference: &Value, actual: &Value, path: String) {
        match (reference, actual) {
            (Value::Object(r), Value::Object(a)) => {
                for (key, rv) in r {
                    let here = join_key(&path, key);
                    match a.get(key) {
                        Some(av) => self.values(rv, av, here),
                        None => self.missing(here, rv),
                    }
                }
                for (key, av) in a.iter().filter(|(key, _)| !r.contains_key(*key)) {
                    self.extra(join_key(&path, key), av);
                }
            }
            (Value::Array(r), Value::Array(a)) if named(r) && named(a) => {
                // Attributes and schema entries: AWS's order means nothing,
                // so match them by `Name` (one missing attribute, one difference).
                let here = |item: &Value| {
                    let name = item.get("Name").and_then(Value::as_str).unwrap_or_default();
                    format!("{path}[?Name={name}]")
                };
                let same = |x: &Value, y: &Value| x.get("Name") == y.get("Name");
                for rv in r {
                    match a.iter().find(|av| same(av, rv)) {
                        Some(av) => self.values(rv, av, here(rv)),
                        None => self.missing(here(rv), rv),
                    }
                }
                for av in a.iter().filter(|av| !r.iter().any(|rv| same(rv, av))) {
                    self.extra(here(av), av);
                }
            }
            (Value::Array(r), Value::Array(a)) => {
                for i in 0..r.len().max(a.len()) {
                    let here = format!("{path}[{i}]");
                    match (r.get(i), a.get(i)) {
                        (Some(rv), Some(av)) => self.values(rv, av, here),
                        (Some(rv), None) => self.missing(here, rv),
                        (None, Some(av)) => self.extra(here, av),
                        (None, None) => {}
                    }
                }
            }
            (Value::String(r), Value::String(a)) if self.placeholders.same_text(r, a) => {}
            (r, a) if !same_number(r, a) => self.out.push(Difference {
                path,
                change: Change::Different,
                reference: Some(r.clone()),
                actual: Some(a.clone()),
            }),
            _ => {}
        }
    }

    /// The reference has `value` at `path`; the target has nothing there.
    fn missing(&mut self, path: String, value: &Value) {
        self.out.push(Difference {
            path,
            change: Change::Missing,
            reference: Some(value.clone()),
            actual: None,
        });
    }

    /// The target has `value` at `path`; the reference has nothing there.
    fn extra(&mut self, path: String, value: &Value) {
        self.out.push(Difference {
            path,
            change: Change::Extra,
            reference: None,
            actual: Some(value.clone()),
        });
    }
}

/// Whether every item of `items` is an object with a distinct string `Name`
/// that reads back in a path (`[?Name=…]`); an empty list is.
fn named(items: &[Value]) -> bool {
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        let Some(name) = item.get("Name").and_then(Value::as_str) else {
            return false;
        };
        if name.is_empty() || name.contains([']', '[']) || names.contains(&name) {
            return false;
        }
        names.push(name);
    }
    true
}

/// Equal values (`1` equals `1.0`).
fn same_number(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `A.B`, or `A["odd.key"]` when the key would not read back as one segment.
fn join_key(path: &str, key: &str) -> String {
    if key.is_empty() || key.contains(['.', '[', ']', '"']) {
        format!("{path}[{}]", serde_json::to_string(key).unwrap_or_default())
    } else if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(d: &[Difference]) -> Vec<(&str, Change)> {
        d.iter().map(|d| (d.path.as_str(), d.change)).collect()
    }

    #[test]
    fn equal_answers_have_no_differences() {
        let step = json!({"step": "s", "request": {"A": 1}, "response": {"X": [1, {"Y": 2.0}]}});
        let other = json!({"step": "s", "request": {"A": 9}, "response": {"X": [1.0, {"Y": 2}]}});
        assert!(step_differences(&step, &other, &mut Placeholders::default()).is_empty());
    }

    #[test]
    fn behaviour_shape_and_message_are_told_apart() {
        let challenge = |name: &str, extra: bool| {
            let mut r = json!({"ChallengeName": name, "Session": "<session:1>"});
            if extra {
                r["Extra"] = json!(1);
            }
            json!({"response": r})
        };
        let error = |code: &str, message: &str| json!({"status": 400, "error": {"__type": code, "message": message}});
        let judge = |r: &Value, a: &Value| {
            let d = step_differences(r, a, &mut Placeholders::default());
            aspects(r, a, &d)
        };
        let same = judge(
            &challenge("MFA_SETUP", false),
            &challenge("MFA_SETUP", false),
        );
        assert_eq!(
            (same.behaviour, same.shape, same.message),
            (true, true, None)
        );
        let extra = judge(
            &challenge("MFA_SETUP", false),
            &challenge("MFA_SETUP", true),
        );
        assert_eq!((extra.behaviour, extra.shape), (true, false));
        let other = judge(
            &challenge("MFA_SETUP", false),
            &challenge("SOFTWARE_TOKEN_MFA", false),
        );
        assert!(!other.behaviour && !other.shape);
        let tokens = json!({"response": {"AuthenticationResult": {}}});
        assert!(!judge(&error("NotAuthorizedException", "x"), &tokens).behaviour);
        let text = judge(
            &error("NotAuthorizedException", "Incorrect username or password."),
            &error("NotAuthorizedException", "bob"),
        );
        assert_eq!(
            (text.behaviour, text.shape, text.message),
            (true, true, Some(false))
        );
        let code = judge(
            &error("NotAuthorizedException", "m"),
            &error("UserNotFoundException", "m"),
        );
        assert_eq!((code.behaviour, code.message), (false, None));
    }

    #[test]
    fn attributes_are_matched_by_name_not_position() {
        let r = json!({"response": {"UserAttributes": [
            {"Name": "email", "Value": "e"},
            {"Name": "name", "Value": "n"},
            {"Name": "sub", "Value": "s"}
        ]}});
        let a = json!({"response": {"UserAttributes": [
            {"Name": "email", "Value": "e"},
            {"Name": "sub", "Value": "other"},
            {"Name": "zone", "Value": "z"}
        ]}});
        let d = step_differences(&r, &a, &mut Placeholders::default());
        assert_eq!(
            paths(&d),
            [
                ("UserAttributes[?Name=name]", Change::Missing),
                ("UserAttributes[?Name=sub].Value", Change::Different),
                ("UserAttributes[?Name=zone]", Change::Extra),
            ]
        );
        // Lists without distinct names keep comparing by position.
        let r = json!({"response": {"L": [{"Name": "x"}, {"Name": "x"}]}});
        let a = json!({"response": {"L": [{"Name": "x"}]}});
        let d = step_differences(&r, &a, &mut Placeholders::default());
        assert_eq!(paths(&d), [("L[1]", Change::Missing)]);
    }

    #[test]
    fn missing_extra_and_different_values_by_path() {
        let r = json!({"response": {
            "ChallengeParameters": {"USER_ID_FOR_SRP": "u", "a.b": 1},
            "AuthenticationResult": {"IdToken": {"claims": {"email": "e", "sub": "a"}}},
            "List": [1, 2]
        }});
        let a = json!({"response": {
            "ChallengeParameters": {},
            "AuthenticationResult": {"IdToken": {"claims": {"sub": "b", "extra": true}}},
            "List": [1, 2, 3]
        }});
        assert_eq!(
            paths(&step_differences(&r, &a, &mut Placeholders::default())),
            vec![
                ("ChallengeParameters.USER_ID_FOR_SRP", Change::Missing),
                ("ChallengeParameters[\"a.b\"]", Change::Missing),
                ("AuthenticationResult.IdToken.claims.email", Change::Missing),
                ("AuthenticationResult.IdToken.claims.sub", Change::Different),
                ("AuthenticationResult.IdToken.claims.extra", Change::Extra),
                ("List[2]", Change::Extra),
            ]
        );
    }

    #[test]
    fn placeholders_compare_by_identity_not_number() {
        let mut p = Placeholders::default();
        let r = json!({"response": {"event_id": "<uuid:2>", "jti": "<uuid:3>", "sub": "<uuid:1>", "s": "<session:1>"}});
        let a = json!({"response": {"jti": "<uuid:2>", "sub": "<uuid:1>", "s": "<session:1>"}});
        assert_eq!(
            paths(&step_differences(&r, &a, &mut p)),
            vec![("event_id", Change::Missing)]
        );
        // Later steps keep the pairing: the same reference value must be the same actual value.
        let r2 = json!({"response": {"again": "<uuid:3>", "new": "<session:2>", "text": "id <uuid:1> and <uuid:3>"}});
        let same = json!({"response": {"again": "<uuid:2>", "new": "<session:2>", "text": "id <uuid:1> and <uuid:2>"}});
        assert!(step_differences(&r2, &same, &mut p).is_empty());
        let reused = json!({"response": {"again": "<uuid:1>", "new": "<session:1>", "text": "id <uuid:1> and <uuid:2>"}});
        assert_eq!(
            paths(&step_differences(&r2, &reused, &mut p)),
            vec![("again", Change::Different), ("new", Change::Different)]
        );
    }

    #[test]
    fn errors_compare_status_and_body_and_outcome_flips_are_whole_step() {
        let r = json!({"status": 400, "error": {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}});
        let a =
            json!({"status": 400, "error": {"__type": "NotAuthorizedException", "message": "ann"}});
        let d = step_differences(&r, &a, &mut Placeholders::default());
        assert_eq!(paths(&d), vec![("message", Change::Different)]);
        assert_eq!(d[0].suggested_kind(), DeviationKind::DifferentValue);
        let b = json!({"status": 500, "error": {"__type": "InternalError"}});
        let d = step_differences(&r, &b, &mut Placeholders::default());
        assert_eq!(
            paths(&d),
            vec![
                ("status", Change::Different),
                ("__type", Change::Different),
                ("message", Change::Missing)
            ]
        );
        assert_eq!(d[1].suggested_kind(), DeviationKind::WrongError);
        let ok = json!({"response": {}});
        let d = step_differences(&r, &ok, &mut Placeholders::default());
        assert_eq!(paths(&d), vec![("", Change::Different)]);
        assert_eq!(d[0].suggested_kind(), DeviationKind::WrongError);
    }
}
