//! The cognito-idp wire protocol: AWS JSON 1.1 over `POST /`.
//!
//! Requests name their operation in `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Op>` and carry a JSON object. Errors
//! are `{"__type": "<Code>", "message": "…"}` with the code repeated in the
//! `x-amzn-ErrorType` header. This module turns bytes into a typed request
//! ([`Params`]) and handler results into bytes; it never panics on input.

use serde_json::{Map, Value};

/// The target prefix of every cognito-idp operation.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
/// The content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error answered to the client in AWS's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The `__type`, e.g. `NotAuthorizedException`.
    pub code: String,
    /// The human message, AWS's wording where known.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

impl ApiError {
    /// An error answered with status 400, as Cognito answers its modelled errors on the wire.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
            status: 400,
        }
    }

    /// `NotAuthorizedException`.
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new("NotAuthorizedException", message)
    }

    /// `InvalidParameterException`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }

    /// `ResourceNotFoundException`.
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }

    /// `UserNotFoundException` "User does not exist.".
    pub fn user_not_found() -> Self {
        Self::new("UserNotFoundException", "User does not exist.")
    }

    /// `SerializationException` (body or member of the wrong JSON shape).
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    /// An operation AWS has but the stub does not implement.
    pub fn not_supported(what: &str) -> Self {
        Self::new(
            "NotSupportedByStubException",
            format!("{what} is not supported by the cognito-scenarios stub"),
        )
    }

    /// The JSON error body.
    pub fn body(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("__type".into(), Value::String(self.code.clone()));
        m.insert("message".into(), Value::String(self.message.clone()));
        serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
    }
}

/// Shorthand result of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// AWS's member name in validation messages: lower camel case (`UserPoolId` → `userPoolId`).
pub fn member_name(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => {
            // Keys such as `SMSMfaSettings` become `sMSMfaSettings` on AWS too.
            first.to_lowercase().collect::<String>() + chars.as_str()
        }
        None => String::new(),
    }
}

/// `1 validation error detected: …` with one or more constraint failures.
pub fn validation_error(failures: &[String]) -> ApiError {
    let n = failures.len();
    ApiError::invalid_parameter(format!(
        "{n} validation error{} detected: {}",
        if n == 1 { "" } else { "s" },
        failures.join("; ")
    ))
}

fn null_failure(key: &str) -> String {
    format!(
        "Value null at '{}' failed to satisfy constraint: Member must not be null",
        member_name(key)
    )
}

/// Coral's message when a JSON value of the wrong kind meets a member.
fn type_mismatch(found: &Value, expected: &str) -> ApiError {
    let msg = match found {
        Value::Object(_) => "Start of structure or map found where not expected.".to_string(),
        Value::Array(_) => "Start of list found where not expected.".to_string(),
        Value::Number(_) => format!(
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an {expected}"
        ),
        Value::Bool(_) => format!("class java.lang.Boolean can not be converted to an {expected}"),
        Value::String(_) => format!("class java.lang.String can not be converted to an {expected}"),
        Value::Null => format!("null can not be converted to an {expected}"),
    };
    ApiError::serialization(msg)
}

/// A request's input members with typed, AWS-checked accessors.
pub struct Params<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    /// Wraps a JSON object.
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Params { map }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// Fails with one validation error naming every missing member of `keys`.
    pub fn require(&self, keys: &[&str]) -> ApiResult<()> {
        let failures: Vec<String> = keys
            .iter()
            .filter(|k| self.get(k).is_none())
            .map(|k| null_failure(k))
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(validation_error(&failures))
        }
    }

    /// An optional string member.
    pub fn opt_str(&self, key: &str) -> ApiResult<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(type_mismatch(other, "String")),
        }
    }

    /// A required string member.
    pub fn str(&self, key: &str) -> ApiResult<&'a str> {
        self.opt_str(key)?
            .ok_or_else(|| validation_error(&[null_failure(key)]))
    }

    /// A required string that must also be one of `allowed`.
    pub fn enum_str(&self, key: &str, allowed: &[&str]) -> ApiResult<&'a str> {
        let v = self.str(key)?;
        check_enum(key, v, allowed)?;
        Ok(v)
    }

    /// An optional string that must be one of `allowed` when present.
    pub fn opt_enum_str(&self, key: &str, allowed: &[&str]) -> ApiResult<Option<&'a str>> {
        let v = self.opt_str(key)?;
        if let Some(v) = v {
            check_enum(key, v, allowed)?;
        }
        Ok(v)
    }

    /// An optional boolean member.
    pub fn opt_bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(type_mismatch(other, "Boolean")),
        }
    }

    /// An optional integer member.
    pub fn opt_i64(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Ok(Some(i)),
                None => Err(ApiError::serialization(format!(
                    "Value {n} at '{}' is not an integer",
                    member_name(key)
                ))),
            },
            Some(other) => Err(type_mismatch(other, "Integer")),
        }
    }

    /// An optional structure member.
    pub fn opt_obj(&self, key: &str) -> ApiResult<Option<Params<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Params::new(m))),
            Some(other) => Err(type_mismatch(other, "Structure")),
        }
    }

    /// An optional list of strings.
    pub fn opt_str_list(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(type_mismatch(other, "String")),
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(other) => Err(type_mismatch(other, "List")),
        }
    }

    /// An optional map of string to string (`AuthParameters`, `ChallengeResponses`, …).
    pub fn opt_str_map(&self, key: &str) -> ApiResult<Option<Vec<(String, String)>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(type_mismatch(other, "String")),
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(other) => Err(type_mismatch(other, "Map")),
        }
    }

    /// An optional list of `AttributeType` (`[{"Name": …, "Value": …}]`).
    pub fn opt_attributes(&self, key: &str) -> ApiResult<Option<Vec<(String, String)>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(type_mismatch(v, "List"));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                return Err(type_mismatch(item, "Structure"));
            };
            let attr = Params::new(m);
            let name = attr.opt_str("Name")?.ok_or_else(|| {
                validation_error(&[format!(
                    "Value null at '{}.{}.member.name' failed to satisfy constraint: Member must not be null",
                    member_name(key),
                    i + 1
                )])
            })?;
            let value = attr.opt_str("Value")?.unwrap_or_default();
            out.push((name.to_string(), value.to_string()));
        }
        Ok(Some(out))
    }

    /// The raw JSON value of a member, if present.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }
}

fn check_enum(key: &str, v: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(validation_error(&[format!(
            "Value '{v}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            member_name(key),
            allowed.join(", ")
        )]))
    }
}

/// Looks up `key` in a string map (AuthParameters, ChallengeResponses).
pub fn lookup<'m>(map: &'m [(String, String)], key: &str) -> Option<&'m str> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Like [`lookup`] but a missing key is AWS's `Missing required parameter KEY`.
pub fn require_param<'m>(map: &'m [(String, String)], key: &str) -> ApiResult<&'m str> {
    lookup(map, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter {key}")))
}

/// Keeps header values printable ASCII (messages may echo request data).
pub fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(1024)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_members_are_listed_like_aws() {
        let v = json!({"UserPoolId": null});
        let p = Params::new(v.as_object().unwrap());
        let e = p.require(&["UserPoolId", "Username"]).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert_eq!(
            e.message,
            "2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null; Value null at 'username' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let v = json!({"Username": 5, "Enabled": "yes", "X": {"a": 1}});
        let p = Params::new(v.as_object().unwrap());
        let e = p.str("Username").unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert!(e.message.contains("can not be converted to an String"));
        assert_eq!(
            p.opt_bool("Enabled").unwrap_err().code,
            "SerializationException"
        );
        assert_eq!(
            p.opt_str("X").unwrap_err().message,
            "Start of structure or map found where not expected."
        );
    }

    #[test]
    fn enum_values_are_checked() {
        let v = json!({"MfaConfiguration": "false"});
        let p = Params::new(v.as_object().unwrap());
        let e = p
            .enum_str("MfaConfiguration", &["OFF", "ON", "OPTIONAL"])
            .unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'false' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"
        );
    }
}
