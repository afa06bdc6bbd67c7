//! Checks and lookups that several handlers share: SECRET_HASH, the user
//! behind an access token, password shape and attribute values. They sit
//! under the handlers (auth, users, devices, mfa), which call them and never
//! each other for these.

use super::Ctx;
use super::protocol::{ApiError, ApiResult, validation_error};
use super::state::{Client, Pool, STANDARD_ATTRIBUTES, is_boolean_text};
use super::tokens::check_access_token;
use crate::auth::secret_hash::secret_hash;

/// Checks a SECRET_HASH (or SignUp's `SecretHash`) against the client's
/// secret; `names` are the usernames the hash may have been computed over
/// (what the caller sent and the user's real username).
/// Checks SECRET_HASH for `username` as given, or for the user's canonical
/// username when the given one is an alias.
pub(super) fn check_secret_hash(
    client: &Client,
    username: &str,
    canonical: Option<&str>,
    provided: Option<&str>,
) -> ApiResult<()> {
    let names: Vec<&str> = std::iter::once(username).chain(canonical).collect();
    check_secret_hash_with(client, &names, provided, || {
        ApiError::not_authorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        ))
    })
}

pub(super) fn check_secret_hash_with(
    client: &Client,
    names: &[&str],
    provided: Option<&str>,
    wrong: impl FnOnce() -> ApiError,
) -> ApiResult<()> {
    match (&client.secret, provided) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ApiError::invalid_parameter(format!(
            "Client {} is not configured for secret but secret hash was received",
            client.id
        ))),
        (Some(_), None) => Err(ApiError::not_authorized(format!(
            "Client {} is configured with secret but SECRET_HASH was not received",
            client.id
        ))),
        (Some(secret), Some(hash)) => {
            if names
                .iter()
                .any(|n| secret_hash(secret, n, &client.id) == hash)
            {
                Ok(())
            } else {
                Err(wrong())
            }
        }
    }
}

/// Verifies an access token and returns (pool id, user key).
pub(super) fn token_user(ctx: &Ctx, token: &str) -> ApiResult<(String, String)> {
    let t = check_access_token(ctx, token)?;
    let pool = ctx.state.pool(&t.pool_id)?;
    let key = pool
        .users
        .iter()
        .find(|(_, u)| u.sub == t.sub)
        .map(|(k, _)| k.clone())
        .ok_or_else(ApiError::user_not_found)?;
    Ok((t.pool_id, key))
}

/// Checks a password member against AWS's pattern (non-blank ends, at most 256 characters).
pub(super) fn check_password_shape(member: &str, pw: &str) -> ApiResult<()> {
    let bad_ends = pw.starts_with(char::is_whitespace) || pw.ends_with(char::is_whitespace);
    if pw.is_empty() || bad_ends || pw.chars().count() > 256 {
        return Err(validation_error(&[format!(
            "Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S]+.*[\\S]+$"
        )]));
    }
    Ok(())
}

/// Checks attribute names against the pool's schema and values of email / phone_number.
pub(super) fn check_attributes(pool: &Pool, attrs: &[(String, String)]) -> ApiResult<()> {
    for (name, value) in attrs {
        let known = if let Some(custom) = name.strip_prefix("custom:") {
            pool.custom_attributes.iter().any(|c| c == custom)
        } else {
            STANDARD_ATTRIBUTES.iter().any(|(s, _, _)| s == name)
        };
        if !known {
            return Err(ApiError::invalid_parameter(format!(
                "Attribute does not exist in the schema: {name}"
            )));
        }
        if name == "sub" {
            return Err(ApiError::invalid_parameter(
                "Cannot modify an already provided sub",
            ));
        }
        if name == "email" && !is_email(value) {
            return Err(ApiError::invalid_parameter("Invalid email address format."));
        }
        if name == "phone_number" && !is_phone(value) {
            return Err(ApiError::invalid_parameter("Invalid phone number format."));
        }
        // Boolean attributes take true/false in any capitalisation (see
        // `is_true`); the refusal of anything else and its text are *inferred*.
        if (name == "email_verified" || name == "phone_number_verified") && !is_boolean_text(value)
        {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid value for {name}: must be true or false"
            )));
        }
    }
    Ok(())
}

/// Refuses a change to an attribute the pool's Schema declared `Mutable: false`
/// once the user exists ((Admin)UpdateUserAttributes, NEW_PASSWORD_REQUIRED's
/// `userAttributes.*`); that AWS refuses it is documented (AddCustomAttributes
/// API reference, `Mutable`). InvalidParameterException "user.<name>:
/// Attribute cannot be updated.", AWS's answer to UpdateUserAttributes of an
/// immutable email (https://github.com/aws-amplify/amplify-swift/issues/3981;
/// the same text when a sign-in maps an IdP value onto it,
/// https://github.com/aws-amplify/amplify-js/issues/3526). The same text for
/// custom attributes and AdminUpdateUserAttributes is *inferred*. (Cognito's
/// built-in non-mutable attributes answer otherwise: "Cannot modify the
/// non-mutable attribute email_verified",
/// https://github.com/aws-amplify/aws-sdk-ios/issues/2203.)
pub(super) fn check_mutable(pool: &Pool, attrs: &[(String, String)]) -> ApiResult<()> {
    match attrs.iter().find(|(name, _)| !pool.is_mutable(name)) {
        Some((name, _)) => Err(ApiError::invalid_parameter(format!(
            "user.{name}: Attribute cannot be updated."
        ))),
        None => Ok(()),
    }
}

pub(super) fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !v.chars().any(char::is_whitespace)
}

pub(super) fn is_phone(v: &str) -> bool {
    v.strip_prefix('+')
        .is_some_and(|d| (4..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}
