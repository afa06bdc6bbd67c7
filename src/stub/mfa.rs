//! TOTP MFA: AssociateSoftwareToken, VerifySoftwareToken,
//! SetUserMFAPreference, AdminSetUserMFAPreference.
//!
//! Codes are RFC 6238 (SHA1, 6 digits, 30 s) checked with one window of
//! skew at the stub clock, and one-time: the window of every accepted code
//! (including the one given to VerifySoftwareToken) is remembered per user.

use serde_json::{Value, json};

use super::Ctx;
use super::auth::{live_session, new_session, spend_session};
use super::checks::token_user;
use super::protocol::{ApiError, ApiResult, Params, validation_error};
use super::state::{DeviceSignIn, Expecting, Pool, User};

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// 20 random bytes as 32 base32 characters (Cognito's 160-bit secret).
fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes[..]);
    let mut out = String::with_capacity(32);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        for i in (0..8).rev() {
            out.push(BASE32[((n >> (i * 5)) & 31) as usize] as char);
        }
    }
    out
}

fn not_enabled_in_pool() -> ApiError {
    ApiError::new(
        "SoftwareTokenMFANotFoundException",
        "Software Token MFA has not been enabled by the userPool",
    )
}

/// Who the call is for: by access token, or by an MFA_SETUP session.
enum Caller {
    Token {
        pool_id: String,
        key: String,
    },
    Session {
        pool_id: String,
        key: String,
        value: String,
        client_id: String,
        admin: bool,
        /// The sign-in's device, carried to the next session.
        device: DeviceSignIn,
    },
}

impl Caller {
    fn pool_and_key(&self) -> (&str, &str) {
        match self {
            Caller::Token { pool_id, key } | Caller::Session { pool_id, key, .. } => (pool_id, key),
        }
    }
}

fn caller(ctx: &Ctx, p: &Params, needs_verified: Option<bool>) -> ApiResult<Caller> {
    match (p.opt_str("AccessToken")?, p.opt_str("Session")?) {
        (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
            "Only one of AccessToken or Session can be provided",
        )),
        (None, None) => Err(ApiError::invalid_parameter(
            "Missing required parameter AccessToken or Session",
        )),
        (Some(token), None) => {
            let (pool_id, key) = token_user(ctx, token)?;
            Ok(Caller::Token { pool_id, key })
        }
        (None, Some(value)) => {
            let s = live_session(ctx, value, None)?;
            let Expecting::MfaSetup { associated, .. } = s.expecting else {
                return Err(ApiError::not_authorized("Invalid session for the user."));
            };
            if needs_verified.is_some_and(|need_assoc| need_assoc && !associated) {
                return Err(ApiError::not_authorized("Invalid session for the user."));
            }
            let pool = ctx.state.pool(&s.pool_id)?;
            let key = pool
                .users
                .iter()
                .find(|(_, u)| u.sub == s.sub)
                .map(|(k, _)| k.clone())
                .ok_or_else(ApiError::user_not_found)?;
            Ok(Caller::Session {
                pool_id: s.pool_id,
                key,
                value: value.to_string(),
                client_id: s.client_id,
                admin: s.admin,
                device: s.device,
            })
        }
    }
}

fn user_mut<'a>(ctx: &'a mut Ctx, pool_id: &str, key: &str) -> ApiResult<(&'a mut User, bool)> {
    let pool: &mut Pool = ctx.state.pool_mut(pool_id)?;
    let totp_in_pool = pool.software_token_mfa;
    let user = pool
        .users
        .get_mut(key)
        .ok_or_else(ApiError::user_not_found)?;
    Ok((user, totp_in_pool))
}

/// AssociateSoftwareToken (AccessToken or Session).
pub fn associate_software_token(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    let who = caller(ctx, p, None)?;
    let (pool_id, key) = who.pool_and_key();
    let (pool_id, key) = (pool_id.to_string(), key.to_string());
    let secret = new_totp_secret();
    {
        let (user, totp_in_pool) = user_mut(ctx, &pool_id, &key)?;
        if !totp_in_pool {
            return Err(not_enabled_in_pool());
        }
        user.pending_totp_secret = Some(secret.clone());
    }
    match who {
        Caller::Token { .. } => Ok(json!({"SecretCode": secret})),
        Caller::Session {
            value,
            client_id,
            admin,
            device,
            ..
        } => {
            spend_session(ctx, &value);
            ctx.device = device;
            let sub = ctx
                .state
                .pool(&pool_id)?
                .users
                .get(&key)
                .map(|u| u.sub.clone())
                .ok_or_else(ApiError::user_not_found)?;
            let expecting = Expecting::MfaSetup {
                associated: true,
                verified: false,
            };
            let session = new_session(ctx, &pool_id, &client_id, &sub, expecting, admin)?;
            Ok(json!({"SecretCode": secret, "Session": session}))
        }
    }
}

/// VerifySoftwareToken (AccessToken or Session).
pub fn verify_software_token(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserCode"])?;
    let code = p.str("UserCode")?;
    if code.chars().count() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(validation_error(&[format!(
            "Value '{code}' at 'userCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+ and have length 6"
        )]));
    }
    let device = p.opt_str("FriendlyDeviceName")?.map(str::to_string);
    let who = caller(ctx, p, Some(true))?;
    let (pool_id, key) = who.pool_and_key();
    let (pool_id, key) = (pool_id.to_string(), key.to_string());
    if let Caller::Session { value, .. } = &who {
        spend_session(ctx, value);
    }
    let now = ctx.clock.now_secs();
    let from_session = matches!(who, Caller::Session { .. });
    let sub = {
        let (user, totp_in_pool) = user_mut(ctx, &pool_id, &key)?;
        if !totp_in_pool {
            return Err(not_enabled_in_pool());
        }
        let secret = user.pending_totp_secret.clone().ok_or_else(|| {
            ApiError::new(
                "SoftwareTokenMFANotFoundException",
                "Software Token MFA does not exist for the user.",
            )
        })?;
        let step = crate::auth::totp::matching_step(&secret, code, now, 1)
            .ok()
            .flatten()
            .ok_or_else(|| {
                ApiError::new(
                    "EnableSoftwareTokenMFAException",
                    "Code mismatch and fail enable Software Token MFA",
                )
            })?;
        user.totp_secret = Some(secret);
        user.pending_totp_secret = None;
        user.totp_device_name = device;
        // The code given here counts as used.
        user.last_totp_step = Some(step.max(user.last_totp_step.unwrap_or(0)));
        if from_session {
            // Completing MFA_SETUP turns the factor on.
            user.totp_enabled = true;
            if user.preferred_mfa.is_none() {
                user.preferred_mfa = Some("SOFTWARE_TOKEN_MFA".into());
            }
        }
        user.sub.clone()
    };
    match who {
        Caller::Token { .. } => Ok(json!({"Status": "SUCCESS"})),
        Caller::Session {
            client_id,
            admin,
            device,
            ..
        } => {
            ctx.device = device;
            let expecting = Expecting::MfaSetup {
                associated: true,
                verified: true,
            };
            let session = new_session(ctx, &pool_id, &client_id, &sub, expecting, admin)?;
            Ok(json!({"Status": "SUCCESS", "Session": session}))
        }
    }
}

/// One `*MfaSettings` member: (Enabled, PreferredMfa).
fn settings(p: &Params, key: &str) -> ApiResult<Option<(Option<bool>, Option<bool>)>> {
    Ok(match p.opt_obj(key)? {
        Some(s) => Some((s.opt_bool("Enabled")?, s.opt_bool("PreferredMfa")?)),
        None => None,
    })
}

fn set_preference(ctx: &mut Ctx, p: &Params, pool_id: &str, key: &str) -> ApiResult<Value> {
    let sms = settings(p, "SMSMfaSettings")?;
    let totp = settings(p, "SoftwareTokenMfaSettings")?;
    if let Some((Some(true), _)) = settings(p, "EmailMfaSettings")? {
        return Err(ApiError::not_supported("EmailMfaSettings (email MFA)"));
    }
    let (user, _) = user_mut(ctx, pool_id, key)?;
    for (factor, s) in [("SOFTWARE_TOKEN_MFA", totp), ("SMS_MFA", sms)] {
        let Some((enabled, preferred)) = s else {
            continue;
        };
        if preferred == Some(true) && enabled == Some(false) {
            return Err(ApiError::invalid_parameter(format!(
                "{factor} cannot be preferred while it is disabled"
            )));
        }
        let has_config = if factor == "SMS_MFA" {
            user.attr("phone_number").is_some()
        } else {
            user.totp_secret.is_some()
        };
        let turn_on = enabled == Some(true) || preferred == Some(true);
        if turn_on && !has_config {
            return Err(ApiError::invalid_parameter(format!(
                "User does not have delivery config set to turn on {factor}"
            )));
        }
    }
    for (factor, s) in [("SOFTWARE_TOKEN_MFA", totp), ("SMS_MFA", sms)] {
        let Some((enabled, preferred)) = s else {
            continue;
        };
        let on = enabled.unwrap_or(preferred == Some(true));
        if factor == "SMS_MFA" {
            user.sms_mfa_enabled = on;
        } else {
            user.totp_enabled = on;
        }
        let is_preferred = user.preferred_mfa.as_deref() == Some(factor);
        if preferred == Some(true) {
            user.preferred_mfa = Some(factor.to_string());
        } else if is_preferred && (!on || preferred == Some(false)) {
            user.preferred_mfa = None;
        }
    }
    Ok(json!({}))
}

/// SetUserMFAPreference (access token).
pub fn set_user_mfa_preference(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken"])?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    set_preference(ctx, p, &pool_id, &key)
}

/// AdminSetUserMFAPreference.
pub fn admin_set_user_mfa_preference(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["Username", "UserPoolId"])?;
    let pool_id = p.str("UserPoolId")?;
    let key = ctx
        .state
        .pool(pool_id)?
        .find_user_key(p.str("Username")?)
        .ok_or_else(ApiError::user_not_found)?;
    set_preference(ctx, p, pool_id, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_32_base32_characters_usable_by_totp() {
        let s = new_totp_secret();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| BASE32.contains(&b)));
        assert!(crate::auth::totp::code_for_step(&s, 1).is_ok());
        assert_ne!(s, new_totp_secret());
    }
}
