//! Differences between two normalised answers of one step, path by path.
//!
//! A step's answer is its `response` (success) or its `status` and `error`
//! (failure), as the engine writes them into the transcript. Paths use the
//! response-path syntax of expectations and expectation files
//! (`AuthenticationResult.IdToken.claims.email`, `Users[0]`), relative to the
//! response or error body; `status` is the HTTP status of an error, and `""`
//! means the whole step (one side succeeded, the other failed).

use serde::Serialize;
use serde_json::Value;

use crate::deviations::DeviationKind;

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

/// The differences between a reference step and the target's step (transcript entries).
pub fn step_differences(reference: &Value, actual: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    match (reference.get("response"), actual.get("response")) {
        (Some(r), Some(a)) => values(r, a, String::new(), &mut out),
        (None, None) => {
            let (rs, a_s) = (reference.get("status"), actual.get("status"));
            if !same(rs.unwrap_or(&Value::Null), a_s.unwrap_or(&Value::Null)) {
                out.push(Difference {
                    path: "status".into(),
                    change: Change::Different,
                    reference: rs.cloned(),
                    actual: a_s.cloned(),
                });
            }
            let null = Value::Null;
            values(
                reference.get("error").unwrap_or(&null),
                actual.get("error").unwrap_or(&null),
                String::new(),
                &mut out,
            );
        }
        _ => out.push(Difference {
            path: String::new(),
            change: Change::Different,
            reference: Some(answer(reference)),
            actual: Some(answer(actual)),
        }),
    }
    out
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

fn values(reference: &Value, actual: &Value, path: String, out: &mut Vec<Difference>) {
    match (reference, actual) {
        (Value::Object(r), Value::Object(a)) => {
            for (key, rv) in r {
                let here = join_key(&path, key);
                match a.get(key) {
                    Some(av) => values(rv, av, here, out),
                    None => out.push(Difference {
                        path: here,
                        change: Change::Missing,
                        reference: Some(rv.clone()),
                        actual: None,
                    }),
                }
            }
            for (key, av) in a {
                if !r.contains_key(key) {
                    out.push(Difference {
                        path: join_key(&path, key),
                        change: Change::Extra,
                        reference: None,
                        actual: Some(av.clone()),
                    });
                }
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            for i in 0..r.len().max(a.len()) {
                let here = format!("{path}[{i}]");
                match (r.get(i), a.get(i)) {
                    (Some(rv), Some(av)) => values(rv, av, here, out),
                    (Some(rv), None) => out.push(Difference {
                        path: here,
                        change: Change::Missing,
                        reference: Some(rv.clone()),
                        actual: None,
                    }),
                    (None, Some(av)) => out.push(Difference {
                        path: here,
                        change: Change::Extra,
                        reference: None,
                        actual: Some(av.clone()),
                    }),
                    (None, None) => {}
                }
            }
        }
        (r, a) if !same(r, a) => out.push(Difference {
            path,
            change: Change::Different,
            reference: Some(r.clone()),
            actual: Some(a.clone()),
        }),
        _ => {}
    }
}

/// Equal scalars (`1` equals `1.0`) or equal structures.
fn same(a: &Value, b: &Value) -> bool {
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
        assert!(step_differences(&step, &other).is_empty());
    }

    #[test]
    fn missing_extra_and_different_values_by_path() {
        let r = json!({"response": {
            "ChallengeParameters": {"USER_ID_FOR_SRP": "u", "a.b": 1},
            "AuthenticationResult": {"IdToken": {"claims": {"email": "e", "sub": "<uuid:1>"}}},
            "List": [1, 2]
        }});
        let a = json!({"response": {
            "ChallengeParameters": {},
            "AuthenticationResult": {"IdToken": {"claims": {"sub": "<uuid:2>", "extra": true}}},
            "List": [1, 2, 3]
        }});
        assert_eq!(
            paths(&step_differences(&r, &a)),
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
    fn errors_compare_status_and_body_and_outcome_flips_are_whole_step() {
        let r = json!({"status": 400, "error": {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}});
        let a =
            json!({"status": 400, "error": {"__type": "NotAuthorizedException", "message": "ann"}});
        let d = step_differences(&r, &a);
        assert_eq!(paths(&d), vec![("message", Change::Different)]);
        assert_eq!(d[0].suggested_kind(), DeviationKind::DifferentValue);
        let b = json!({"status": 500, "error": {"__type": "InternalError"}});
        let d = step_differences(&r, &b);
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
        let d = step_differences(&r, &ok);
        assert_eq!(paths(&d), vec![("", Change::Different)]);
        assert_eq!(d[0].suggested_kind(), DeviationKind::WrongError);
    }
}
