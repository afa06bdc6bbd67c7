//! The existing-pool guard: on targets with lasting state (AWS, endpoints) a
//! run may only change user pools it created itself, unless the user allows
//! more with `--allow-existing-pool`.
//!
//! The rule: a signed (IAM) operation that is not a read and not the admin
//! sign-in pair (`AdminInitiateAuth`, `AdminRespondToAuthChallenge`) is a
//! *pool write*. A pool write naming a pool (`UserPoolId`, or a pool ARN in
//! `ResourceArn`) that the run did not create is refused before it is sent.
//! Public operations act as a user through an app client (sign-up, sign-in,
//! password changes) and are always allowed, as are reads.

use serde_json::Value;

use crate::api;

/// Signed operations that never change a pool or its users' configuration.
const ADMIN_SIGN_IN: &[&str] = &["AdminInitiateAuth", "AdminRespondToAuthChallenge"];

/// Name prefixes of read-only operations.
const READ_PREFIXES: &[&str] = &["Describe", "List", "Get", "AdminGet", "AdminList"];

/// Whether `operation` can change a pool, its clients or its users administratively.
pub fn is_pool_write(operation: &str) -> bool {
    !api::is_public(operation)
        && !ADMIN_SIGN_IN.contains(&operation)
        && !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

/// The user pool a request body names: `UserPoolId`, or the pool id in a
/// `ResourceArn` such as `arn:aws:cognito-idp:eu-west-1:123:userpool/eu-west-1_abc`.
pub fn targeted_pool(body: &Value) -> Option<&str> {
    if let Some(id) = body.get("UserPoolId").and_then(Value::as_str) {
        return Some(id);
    }
    let arn = body.get("ResourceArn").and_then(Value::as_str)?;
    let (_, id) = arn.rsplit_once(":userpool/")?;
    Some(id)
}

/// The pool `operation` would change without the run having created it, if any.
pub fn foreign_pool_write<'b>(
    operation: &str,
    body: &'b Value,
    created: &[String],
) -> Option<&'b str> {
    if !is_pool_write(operation) {
        return None;
    }
    targeted_pool(body).filter(|id| !created.iter().any(|c| c == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_reads_and_user_operations() {
        for op in [
            "AdminCreateUser",
            "AdminSetUserPassword",
            "DeleteUserPool",
            "UpdateUserPool",
            "CreateUserPoolClient",
            "SetUserPoolMfaConfig",
            "TagResource",
            "AddCustomAttributes",
        ] {
            assert!(is_pool_write(op), "{op}");
        }
        for op in [
            "DescribeUserPool",
            "ListUsers",
            "AdminGetUser",
            "AdminListDevices",
            "GetUserPoolMfaConfig",
            "AdminInitiateAuth",
            "AdminRespondToAuthChallenge",
            "SignUp",
            "InitiateAuth",
            "ChangePassword",
        ] {
            assert!(!is_pool_write(op), "{op}");
        }
    }

    #[test]
    fn pools_named_by_id_or_arn() {
        assert_eq!(
            targeted_pool(&json!({"UserPoolId": "eu-west-1_a"})),
            Some("eu-west-1_a")
        );
        assert_eq!(
            targeted_pool(
                &json!({"ResourceArn": "arn:aws:cognito-idp:eu-west-1:1:userpool/eu-west-1_b"})
            ),
            Some("eu-west-1_b")
        );
        assert_eq!(targeted_pool(&json!({"ClientId": "c"})), None);
    }

    #[test]
    fn only_writes_to_pools_not_created_are_foreign() {
        let created = vec!["mine".to_string()];
        let write = |id: &str| json!({"UserPoolId": id, "Username": "u"});
        assert_eq!(
            foreign_pool_write("AdminCreateUser", &write("theirs"), &created),
            Some("theirs")
        );
        assert_eq!(
            foreign_pool_write("AdminCreateUser", &write("mine"), &created),
            None
        );
        assert_eq!(
            foreign_pool_write("AdminGetUser", &write("theirs"), &created),
            None
        );
        assert_eq!(
            foreign_pool_write("CreateUserPool", &json!({"PoolName": "p"}), &created),
            None
        );
    }
}
