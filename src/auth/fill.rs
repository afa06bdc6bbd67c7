//! Adds SECRET_HASH wherever Cognito requires it, so scenarios never spell it out.
//!
//! Rules (Cognito developer guide, "Computing secret hash values"):
//! - `SecretHash` at the top level of SignUp, ConfirmSignUp, ForgotPassword,
//!   ConfirmForgotPassword and ResendConfirmationCode, for `Username`;
//! - `SECRET_HASH` inside `AuthParameters` of (Admin)InitiateAuth, for `USERNAME`
//!   (refresh flows: for the user the refresh token was issued to);
//! - `SECRET_HASH` inside `ChallengeResponses` of (Admin)RespondToAuthChallenge, for `USERNAME`.
//!
//! Only for the scenario's own client (matching `ClientId`) when it has a
//! secret. A value the scenario wrote is kept as is (a negative test may send
//! a wrong hash); an explicit `null` removes the key (a negative test may send none).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::secret_hash::secret_hash;

const TOP_LEVEL: &[&str] = &[
    "SignUp",
    "ConfirmSignUp",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "ResendConfirmationCode",
];

/// Fills SECRET_HASH into a request body.
///
/// `refresh_users` maps refresh tokens to the username they were issued for
/// (from the ID token seen with them), for the refresh flows.
pub fn fill_secret_hash(
    operation: &str,
    body: &mut Value,
    client_id: &str,
    client_secret: Option<&str>,
    refresh_users: &HashMap<String, String>,
) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let ours = obj.get("ClientId").and_then(Value::as_str) == Some(client_id);
    if TOP_LEVEL.contains(&operation) {
        let username = obj
            .get("Username")
            .and_then(Value::as_str)
            .map(str::to_string);
        fill(obj, "SecretHash", ours, client_secret, client_id, username);
        return;
    }
    let (container, username_of) = match operation {
        "InitiateAuth" | "AdminInitiateAuth" => ("AuthParameters", true),
        "RespondToAuthChallenge" | "AdminRespondToAuthChallenge" => ("ChallengeResponses", false),
        _ => return,
    };
    let Some(params) = obj.get_mut(container).and_then(Value::as_object_mut) else {
        return;
    };
    let username = params
        .get("USERNAME")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            // Refresh flows carry no USERNAME: use the user the token was issued to.
            let token = params.get("REFRESH_TOKEN").and_then(Value::as_str)?;
            username_of
                .then(|| refresh_users.get(token).cloned())
                .flatten()
        });
    fill(
        params,
        "SECRET_HASH",
        ours,
        client_secret,
        client_id,
        username,
    );
}

fn fill(
    obj: &mut Map<String, Value>,
    key: &str,
    ours: bool,
    client_secret: Option<&str>,
    client_id: &str,
    username: Option<String>,
) {
    match obj.get(key) {
        Some(Value::Null) => {
            obj.remove(key);
        }
        Some(_) => {}
        None => {
            if let (true, Some(secret), Some(user)) = (ours, client_secret, username) {
                obj.insert(
                    key.to_string(),
                    Value::String(secret_hash(secret, &user, client_id)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filled(op: &str, mut body: Value, secret: Option<&str>) -> Value {
        let mut refresh = HashMap::new();
        refresh.insert("rt-1".to_string(), "jane".to_string());
        fill_secret_hash(op, &mut body, "cid", secret, &refresh);
        body
    }

    #[test]
    fn adds_the_hash_where_cognito_wants_it() {
        let h = secret_hash("s3cret", "jane", "cid");
        let b = filled(
            "SignUp",
            json!({"ClientId": "cid", "Username": "jane"}),
            Some("s3cret"),
        );
        assert_eq!(b["SecretHash"], h);
        let b = filled(
            "AdminInitiateAuth",
            json!({"ClientId": "cid", "AuthParameters": {"USERNAME": "jane"}}),
            Some("s3cret"),
        );
        assert_eq!(b["AuthParameters"]["SECRET_HASH"], h);
        let b = filled(
            "RespondToAuthChallenge",
            json!({"ClientId": "cid", "ChallengeResponses": {"USERNAME": "jane"}}),
            Some("s3cret"),
        );
        assert_eq!(b["ChallengeResponses"]["SECRET_HASH"], h);
        let b = filled(
            "InitiateAuth",
            json!({"ClientId": "cid", "AuthParameters": {"REFRESH_TOKEN": "rt-1"}}),
            Some("s3cret"),
        );
        assert_eq!(b["AuthParameters"]["SECRET_HASH"], h);
    }

    #[test]
    fn leaves_alone_what_it_should() {
        // No secret, other client, other operation: untouched.
        let body = json!({"ClientId": "cid", "Username": "jane"});
        assert_eq!(filled("SignUp", body.clone(), None), body);
        let other = json!({"ClientId": "other", "Username": "jane"});
        assert_eq!(filled("SignUp", other.clone(), Some("s")), other);
        let get_user = json!({"ClientId": "cid", "Username": "jane"});
        assert_eq!(
            filled("AdminGetUser", get_user.clone(), Some("s")),
            get_user
        );
        // An explicit (wrong) hash is kept; null means "send none".
        let wrong = json!({"ClientId": "cid", "Username": "jane", "SecretHash": "wrong"});
        assert_eq!(filled("SignUp", wrong.clone(), Some("s")), wrong);
        let none = filled(
            "SignUp",
            json!({"ClientId": "cid", "Username": "jane", "SecretHash": null}),
            Some("s"),
        );
        assert_eq!(none, json!({"ClientId": "cid", "Username": "jane"}));
    }
}
