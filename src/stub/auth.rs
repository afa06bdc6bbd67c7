//! Authentication: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
//! AdminRespondToAuthChallenge, RevokeToken; SECRET_HASH; sessions.
//!
//! Checks run in this order: client → flow enabled on the client →
//! SECRET_HASH → user exists → password → enabled → confirmed → challenges
//! (NEW_PASSWORD_REQUIRED, then MFA) → tokens.

use serde_json::{Map, Value, json};

use base64::Engine;

use super::Ctx;
use super::checks::{
    check_attributes, check_mutable, check_password_shape, check_secret_hash,
    check_secret_hash_with,
};
use super::outbox::{DeliveredMessage, Purpose, mask};
use super::password::Wording;
use super::protocol::{ApiError, ApiResult, Params, lookup, require_param};
use super::state::{
    Client, Expecting, MfaMode, PendingCode, Session, UserStatus, new_code, random_token,
};
use super::tokens::authentication_result;
use super::{device_tracking, srp};

const AUTH_FLOWS: &[&str] = &[
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
];

use crate::api::CHALLENGE_NAMES;

/// Friendly name used when VerifySoftwareToken got none.
const DEFAULT_DEVICE_NAME: &str = "TOTP device";

fn invalid_session() -> ApiError {
    ApiError::not_authorized("Invalid session for the user.")
}

/// Creates a session bound to pool, client, user and expected challenge,
/// valid for the client's AuthSessionValidity.
pub(super) fn new_session(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    sub: &str,
    expecting: Expecting,
    admin: bool,
) -> ApiResult<String> {
    let value = format!("AYABe{}", random_token(384));
    insert_session(ctx, &value, pool_id, client_id, sub, expecting, admin)?;
    Ok(value)
}

/// Stores a pending challenge under `value` (a Session, or the SECRET_BLOCK
/// of an SRP verifier challenge), carrying the sign-in's device.
fn insert_session(
    ctx: &mut Ctx,
    value: &str,
    pool_id: &str,
    client_id: &str,
    sub: &str,
    expecting: Expecting,
    admin: bool,
) -> ApiResult<()> {
    let now = ctx.clock.now_millis();
    let minutes = ctx
        .state
        .pool(pool_id)?
        .client(client_id)?
        .auth_session_validity_min;
    // Forget sessions long past their expiry so the map stays bounded.
    ctx.state
        .sessions
        .retain(|_, s| s.expires_ms.saturating_add(3_600_000) > now);
    ctx.state.sessions.insert(
        value.to_string(),
        Session {
            pool_id: pool_id.to_string(),
            client_id: client_id.to_string(),
            sub: sub.to_string(),
            expecting,
            expires_ms: now + minutes * 60_000,
            used: false,
            admin,
            device: ctx.device.clone(),
        },
    );
    Ok(())
}

/// Looks a session up and checks it is live and bound to `client_id`;
/// does not spend it.
pub(super) fn live_session(ctx: &Ctx, value: &str, client_id: Option<&str>) -> ApiResult<Session> {
    let s = ctx.state.sessions.get(value).ok_or_else(invalid_session)?;
    if s.used {
        return Err(ApiError::not_authorized(
            "Invalid session for the user, session can only be used once.",
        ));
    }
    if ctx.clock.now_millis() >= s.expires_ms {
        return Err(ApiError::not_authorized(
            "Invalid session for the user, session is expired.",
        ));
    }
    if client_id.is_some_and(|c| c != s.client_id) {
        return Err(invalid_session());
    }
    Ok(s.clone())
}

/// Marks a session as spent (sessions are single-use).
pub(super) fn spend_session(ctx: &mut Ctx, value: &str) {
    if let Some(s) = ctx.state.sessions.get_mut(value) {
        s.used = true;
    }
}

fn challenge(name: &str, session: String, params: Map<String, Value>) -> Value {
    json!({"ChallengeName": name, "Session": session, "ChallengeParameters": params})
}

/// InitiateAuth.
pub fn initiate_auth(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AuthFlow", "ClientId"])?;
    let flow = p.enum_str("AuthFlow", AUTH_FLOWS)?;
    let client_id = p.str("ClientId")?;
    let params = p.opt_str_map("AuthParameters")?.unwrap_or_default();
    if flow.starts_with("ADMIN_") {
        return Err(ApiError::invalid_parameter(
            "Initiate Auth method not supported.",
        ));
    }
    let pool_id = ctx.state.pool_id_of_client(client_id)?;
    start(ctx, &pool_id, client_id, flow, &params, false)
}

/// AdminInitiateAuth.
pub fn admin_initiate_auth(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientId", "AuthFlow"])?;
    let pool_id = p.str("UserPoolId")?;
    let client_id = p.str("ClientId")?;
    let flow = p.enum_str("AuthFlow", AUTH_FLOWS)?;
    let params = p.opt_str_map("AuthParameters")?.unwrap_or_default();
    if flow == "USER_PASSWORD_AUTH" {
        return Err(ApiError::invalid_parameter(
            "Initiate Auth method not supported.",
        ));
    }
    ctx.state.pool(pool_id)?.client(client_id)?;
    start(ctx, pool_id, client_id, flow, &params, true)
}

fn flow_enabled(client: &Client, flow: &str) -> ApiResult<()> {
    let legacy = !client
        .explicit_auth_flows
        .iter()
        .any(|f| f.starts_with("ALLOW_"));
    let custom_only = client
        .explicit_auth_flows
        .iter()
        .any(|f| f == "CUSTOM_AUTH_FLOW_ONLY");
    let (ok, message) = match flow {
        "USER_PASSWORD_AUTH" => (
            client.allows("ALLOW_USER_PASSWORD_AUTH", Some("USER_PASSWORD_AUTH")),
            "USER_PASSWORD_AUTH flow not enabled for this client",
        ),
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => (
            client.allows("ALLOW_ADMIN_USER_PASSWORD_AUTH", Some("ADMIN_NO_SRP_AUTH")),
            "Auth flow not enabled for this client",
        ),
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => (
            legacy || client.allows("ALLOW_REFRESH_TOKEN_AUTH", None),
            "Refresh Token flow not enabled for this client",
        ),
        "USER_SRP_AUTH" => (
            (legacy && !custom_only) || client.allows("ALLOW_USER_SRP_AUTH", None),
            "USER_SRP_AUTH is not enabled for the client.",
        ),
        "CUSTOM_AUTH" => (
            client.allows("ALLOW_CUSTOM_AUTH", Some("CUSTOM_AUTH_FLOW_ONLY")),
            "CUSTOM_AUTH is not enabled for the client.",
        ),
        _ => (
            client.allows("ALLOW_USER_AUTH", None),
            "USER_AUTH is not enabled for the client.",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(message))
    }
}

fn start(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    flow: &str,
    params: &[(String, String)],
    admin: bool,
) -> ApiResult<Value> {
    let client = ctx.state.pool(pool_id)?.client(client_id)?;
    flow_enabled(client, flow)?;
    ctx.device.key = lookup(params, "DEVICE_KEY").map(str::to_string);
    match flow {
        "USER_SRP_AUTH" => srp_auth(ctx, pool_id, client_id, params, admin),
        "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            password_auth(ctx, pool_id, client_id, params, admin)
        }
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => refresh_auth(ctx, pool_id, client_id, params),
        other => Err(ApiError::not_supported(&format!("The {other} flow"))),
    }
}

fn password_auth(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    params: &[(String, String)],
    admin: bool,
) -> ApiResult<Value> {
    let username = require_param(params, "USERNAME")?;
    let password = require_param(params, "PASSWORD")?;
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    let found = pool
        .find_user_key(username)
        .and_then(|k| pool.users.get(&k).map(|u| (k, u)));
    let canonical = found.as_ref().map(|(_, u)| u.username.as_str());
    check_secret_hash(client, username, canonical, lookup(params, "SECRET_HASH"))?;
    let Some((key, user)) = found else {
        return Err(if client.prevent_user_existence_errors {
            ApiError::not_authorized("Incorrect username or password.")
        } else {
            ApiError::user_not_found()
        });
    };
    if user.password != password {
        return Err(ApiError::not_authorized("Incorrect username or password."));
    }
    after_password(ctx, pool_id, client_id, &key, admin)
}

/// After a proven password (PASSWORD or SRP): enabled → confirmed →
/// NEW_PASSWORD_REQUIRED → device → MFA → tokens.
fn after_password(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    key: &str,
    admin: bool,
) -> ApiResult<Value> {
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool(pool_id)?;
    let user = pool.users.get(key).ok_or_else(ApiError::user_not_found)?;
    if !user.enabled {
        return Err(ApiError::not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Unconfirmed => {
            return Err(ApiError::new(
                "UserNotConfirmedException",
                "User is not confirmed.",
            ));
        }
        UserStatus::ResetRequired => {
            return Err(ApiError::new(
                "PasswordResetRequiredException",
                "Password reset required for the user",
            ));
        }
        UserStatus::ForceChangePassword => {
            let days = pool.password_policy.temporary_password_validity_days;
            if now > user.temp_password_set_ms + days * 86_400_000 {
                return Err(ApiError::not_authorized(
                    "Temporary password has expired and must be reset by an administrator.",
                ));
            }
            let sub = user.sub.clone();
            let mut cp = Map::new();
            cp.insert("USER_ID_FOR_SRP".into(), json!(user.username));
            let required: Vec<String> = pool
                .required_attributes
                .iter()
                .filter(|r| user.attr(r).is_none())
                .map(|r| format!("userAttributes.{r}"))
                .collect();
            cp.insert(
                "requiredAttributes".into(),
                json!(json!(required).to_string()),
            );
            let attrs: Map<String, Value> = user
                .attributes
                .iter()
                .filter(|(k, _)| k != "sub")
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            cp.insert(
                "userAttributes".into(),
                json!(Value::Object(attrs).to_string()),
            );
            let session =
                new_session(ctx, pool_id, client_id, &sub, Expecting::NewPassword, admin)?;
            return Ok(challenge("NEW_PASSWORD_REQUIRED", session, cp));
        }
        UserStatus::Confirmed => {}
    }
    mfa_step(ctx, pool_id, client_id, key, admin)
}

/// USER_SRP_AUTH: answers PASSWORD_VERIFIER (no Session: the SECRET_BLOCK
/// carries the exchange, as on AWS). An unknown user gets UserNotFoundException,
/// or with PreventUserExistenceErrors a simulated challenge that always fails.
fn srp_auth(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    params: &[(String, String)],
    admin: bool,
) -> ApiResult<Value> {
    let username = require_param(params, "USERNAME")?;
    let srp_a = require_param(params, "SRP_A")?;
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    let found = pool
        .find_user_key(username)
        .and_then(|k| pool.users.get(&k).map(|u| (k, u)));
    let canonical = found.as_ref().map(|(_, u)| u.username.as_str());
    check_secret_hash(client, username, canonical, lookup(params, "SECRET_HASH"))?;
    if found.is_none() && !client.prevent_user_existence_errors {
        return Err(ApiError::user_not_found());
    }
    let a = srp::parse_public(srp_a).ok_or_else(|| {
        ApiError::invalid_parameter("SRP_A must be a hexadecimal number that is not 0 mod N")
    })?;
    let pool_name = pool_id.split_once('_').map_or(pool_id, |(_, n)| n);
    let (sub, user_id, salt, password, simulated) = match &found {
        Some((_, u)) => (
            u.sub.clone(),
            u.username.clone(),
            srp::stable_bytes(&["user", pool_id, &u.sub, &u.password]),
            u.password.clone(),
            false,
        ),
        None => {
            // A stable fake: same salt and USER_ID_FOR_SRP for the same name.
            let id = srp::stable_bytes(&["simulated-id", pool_id, username]);
            let id = uuid::Builder::from_random_bytes(id).into_uuid().to_string();
            let salt = srp::stable_bytes(&["simulated-salt", pool_id, username]);
            (String::new(), id, salt, random_token(32), true)
        }
    };
    let server = srp::ServerHalf::new(srp::verifier(&salt, pool_name, &user_id, &password));
    let key = server
        .session_key(&a)
        .ok_or_else(|| ApiError::invalid_parameter("SRP_A is not acceptable"))?;
    let block = new_secret_block();
    let expecting = Expecting::PasswordVerifier {
        key,
        user_id: user_id.clone(),
        simulated,
    };
    insert_session(ctx, &block, pool_id, client_id, &sub, expecting, admin)?;
    let mut cp = Map::new();
    cp.insert("SALT".into(), json!(srp::hex(&salt)));
    cp.insert("SECRET_BLOCK".into(), json!(block));
    cp.insert("SRP_B".into(), json!(server.public_hex()));
    cp.insert("USERNAME".into(), json!(user_id));
    cp.insert("USER_ID_FOR_SRP".into(), json!(user_id));
    Ok(json!({"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": cp}))
}

/// An opaque SECRET_BLOCK (base64 of random bytes; it keys the pending exchange).
fn new_secret_block() -> String {
    let mut bytes = vec![0u8; 256];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Checks PASSWORD_CLAIM_SIGNATURE over `name ‖ user ‖ SECRET_BLOCK ‖ TIMESTAMP`.
/// An unreadable TIMESTAMP is InvalidParameterException (nothing is spent);
/// a wrong signature is "Incorrect username or password.".
fn check_claim(
    responses: &[(String, String)],
    key: &srp::SessionKey,
    name: &str,
    user: &str,
) -> ApiResult<Result<(), ApiError>> {
    let signature = require_param(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = require_param(responses, "TIMESTAMP")?;
    let block = require_param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    if srp::read_timestamp(timestamp).is_none() {
        return Err(ApiError::invalid_parameter(
            "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.",
        ));
    }
    let block = base64::engine::general_purpose::STANDARD
        .decode(block)
        .unwrap_or_default();
    // The signature covers the TIMESTAMP text exactly as the client sent it.
    Ok(
        if srp::signature_matches(key, name, user, &block, timestamp, signature) {
            Ok(())
        } else {
            Err(ApiError::not_authorized("Incorrect username or password."))
        },
    )
}

/// With DEVICE_KEY of the user's confirmed device (device tracking on) and
/// the device not yet proven: the DEVICE_SRP_AUTH challenge. An unconfirmed
/// device is ignored (the sign-in gets a new one); a key that is not the
/// user's is ResourceNotFoundException "Device does not exist.".
fn device_challenge(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    key: &str,
    admin: bool,
) -> ApiResult<Option<Value>> {
    let Some(device_key) = ctx.device.key.clone() else {
        return Ok(None);
    };
    if ctx.device.verified {
        return Ok(None);
    }
    let pool = ctx.state.pool(pool_id)?;
    if device_tracking::config(pool).is_none() {
        ctx.device.key = None;
        return Ok(None);
    }
    let user = pool.users.get(key).ok_or_else(ApiError::user_not_found)?;
    let (sub, username) = (user.sub.clone(), user.username.clone());
    match ctx.state.devices.get(&device_key) {
        Some(d) if d.pool_id == pool_id && d.sub == sub => {
            if d.secret.is_none() {
                ctx.device.key = None;
                return Ok(None);
            }
        }
        _ => return Err(ApiError::resource_not_found("Device does not exist.")),
    }
    let mut cp = Map::new();
    cp.insert("USERNAME".into(), json!(username));
    let session = new_session(
        ctx,
        pool_id,
        client_id,
        &sub,
        Expecting::DeviceSrpAuth,
        admin,
    )?;
    Ok(Some(challenge("DEVICE_SRP_AUTH", session, cp)))
}

/// Whether the sign-in proved a remembered device in a pool where remembered
/// devices replace MFA (ChallengeRequiredOnNewDevice).
fn device_skips_mfa(ctx: &Ctx, pool: &super::state::Pool) -> bool {
    let Some(config) = device_tracking::config(pool) else {
        return false;
    };
    config.challenge_required_on_new_device
        && ctx.device.verified
        && ctx
            .device
            .key
            .as_ref()
            .and_then(|k| ctx.state.devices.get(k))
            .is_some_and(|d| d.remembered)
}

/// After the password (and any new password): MFA challenges or tokens.
fn mfa_step(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    key: &str,
    admin: bool,
) -> ApiResult<Value> {
    if let Some(c) = device_challenge(ctx, pool_id, client_id, key, admin)? {
        return Ok(c);
    }
    let pool = ctx.state.pool(pool_id)?;
    let user = pool.users.get(key).ok_or_else(ApiError::user_not_found)?;
    let sub = user.sub.clone();
    if pool.mfa == MfaMode::Off {
        return authentication_result(ctx, pool_id, client_id, &sub, None);
    }
    let required = pool.mfa == MfaMode::On;
    let mut factors = Vec::new();
    if pool.sms_configured
        && user.attr("phone_number").is_some()
        && (user.sms_mfa_enabled || required)
    {
        factors.push("SMS_MFA");
    }
    if pool.software_token_mfa && user.totp_secret.is_some() && (user.totp_enabled || required) {
        factors.push("SOFTWARE_TOKEN_MFA");
    }
    if !factors.is_empty() && device_skips_mfa(ctx, pool) {
        return authentication_result(ctx, pool_id, client_id, &sub, None);
    }
    let chosen = match factors.as_slice() {
        [] if required => {
            let mut can = Vec::new();
            if pool.software_token_mfa {
                can.push("SOFTWARE_TOKEN_MFA");
            }
            let mut cp = Map::new();
            cp.insert("MFAS_CAN_SETUP".into(), json!(json!(can).to_string()));
            let expecting = Expecting::MfaSetup {
                associated: false,
                verified: false,
            };
            let session = new_session(ctx, pool_id, client_id, &sub, expecting, admin)?;
            return Ok(challenge("MFA_SETUP", session, cp));
        }
        [] => return authentication_result(ctx, pool_id, client_id, &sub, None),
        [one] => *one,
        several => match &user.preferred_mfa {
            Some(p) if several.contains(&p.as_str()) => {
                if p == "SMS_MFA" {
                    "SMS_MFA"
                } else {
                    "SOFTWARE_TOKEN_MFA"
                }
            }
            _ => {
                let mut cp = Map::new();
                cp.insert("MFAS_CAN_CHOOSE".into(), json!(json!(several).to_string()));
                cp.insert("USER_ID_FOR_SRP".into(), json!(user.username));
                let session = new_session(
                    ctx,
                    pool_id,
                    client_id,
                    &sub,
                    Expecting::SelectMfaType,
                    admin,
                )?;
                return Ok(challenge("SELECT_MFA_TYPE", session, cp));
            }
        },
    };
    factor_challenge(ctx, pool_id, client_id, key, chosen, admin)
}

fn factor_challenge(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    key: &str,
    factor: &str,
    admin: bool,
) -> ApiResult<Value> {
    let pool = ctx.state.pool(pool_id)?;
    let user = pool.users.get(key).ok_or_else(ApiError::user_not_found)?;
    let sub = user.sub.clone();
    let username = user.username.clone();
    let mut cp = Map::new();
    if factor == "SMS_MFA" {
        let phone = user.attr("phone_number").unwrap_or_default().to_string();
        let code = new_code();
        let minutes = pool.client(client_id)?.auth_session_validity_min;
        let expires_ms = ctx.clock.now_millis() + minutes * 60_000;
        ctx.outbox.push(DeliveredMessage {
            pool_id: pool_id.to_string(),
            username: username.clone(),
            purpose: Purpose::SmsMfa,
            medium: "SMS".into(),
            destination: phone.clone(),
            code: code.clone(),
        });
        if let Some(u) = ctx.state.pool_mut(pool_id)?.users.get_mut(key) {
            u.sms_mfa_code = Some(PendingCode {
                code,
                expires_ms,
                attribute: Some("phone_number".into()),
            });
        }
        cp.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), json!("SMS"));
        cp.insert(
            "CODE_DELIVERY_DESTINATION".into(),
            json!(mask("SMS", &phone)),
        );
        let session = new_session(ctx, pool_id, client_id, &sub, Expecting::SmsMfa, admin)?;
        return Ok(challenge("SMS_MFA", session, cp));
    }
    cp.insert("USER_ID_FOR_SRP".into(), json!(username));
    cp.insert(
        "FRIENDLY_DEVICE_NAME".into(),
        json!(
            user.totp_device_name
                .as_deref()
                .unwrap_or(DEFAULT_DEVICE_NAME)
        ),
    );
    let session = new_session(
        ctx,
        pool_id,
        client_id,
        &sub,
        Expecting::SoftwareTokenMfa,
        admin,
    )?;
    Ok(challenge("SOFTWARE_TOKEN_MFA", session, cp))
}

fn refresh_auth(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    params: &[(String, String)],
) -> ApiResult<Value> {
    let token = require_param(params, "REFRESH_TOKEN")?;
    let now = ctx.clock.now_millis();
    let invalid = || ApiError::not_authorized("Invalid Refresh Token");
    let sign_in = ctx.state.sealer.open(token).ok_or_else(invalid)?;
    if sign_in.client_id != client_id || sign_in.pool_id != pool_id {
        return Err(invalid());
    }
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    // A deleted user's sign-ins are gone with it.
    let user = pool.user_with_sub(&sign_in.sub).ok_or_else(invalid)?;
    let mut names: Vec<&str> = vec![&user.username, &user.sub];
    if let Some(n) = lookup(params, "USERNAME") {
        names.push(n);
    }
    check_secret_hash_with(client, &names, lookup(params, "SECRET_HASH"), || {
        ApiError::not_authorized(format!(
            "SecretHash does not match for the client: {client_id}"
        ))
    })?;
    if ctx.state.revocations.is_revoked(&sign_in.origin_jti)
        || user.sign_out.revokes_refresh(&sign_in)
    {
        return Err(ApiError::not_authorized("Refresh Token has been revoked"));
    }
    if now >= sign_in.refresh_expires_ms {
        return Err(ApiError::not_authorized("Refresh Token has expired"));
    }
    if !user.enabled {
        return Err(ApiError::not_authorized("User is disabled."));
    }
    let sub = user.sub.clone();
    authentication_result(ctx, pool_id, client_id, &sub, Some(&sign_in))
}

/// RespondToAuthChallenge.
pub fn respond_to_auth_challenge(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "ChallengeName"])?;
    let client_id = p.str("ClientId")?;
    let name = p.enum_str("ChallengeName", CHALLENGE_NAMES)?;
    let pool_id = ctx.state.pool_id_of_client(client_id)?;
    respond(ctx, p, &pool_id, client_id, name, false)
}

/// AdminRespondToAuthChallenge.
pub fn admin_respond_to_auth_challenge(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientId", "ChallengeName"])?;
    let pool_id = p.str("UserPoolId")?;
    let client_id = p.str("ClientId")?;
    let name = p.enum_str("ChallengeName", CHALLENGE_NAMES)?;
    ctx.state.pool(pool_id)?.client(client_id)?;
    respond(ctx, p, pool_id, client_id, name, true)
}

fn missing_session() -> ApiError {
    ApiError::invalid_parameter("Missing required parameter Session")
}

/// DEVICE_SRP_AUTH answered without a Session, as the official AWS examples
/// do (awsdocs/aws-doc-sdk-examples: python/example_code/cognito/cognito_idp_actions.py
/// `sign_in_with_tracked_device`, javav2/example_code/cognito/…/srp/usecases/DeviceAuthDemo.java
/// `respondToDeviceSrpAuthChallenge`; both send USERNAME, DEVICE_KEY and SRP_A only).
/// The answer continues the live DEVICE_SRP_AUTH challenge this sign-in got
/// for that user and device key on this client (the newest one); without
/// such a challenge it is refused as before (*inferred*: AWS does not
/// document how it ties a sessionless answer to the password step, and the
/// stub never lets a device key skip the password).
fn pending_device_challenge(
    ctx: &Ctx,
    pool_id: &str,
    client_id: &str,
    responses: &[(String, String)],
    admin: bool,
) -> ApiResult<String> {
    let username = require_param(responses, "USERNAME")?;
    let device_key = require_param(responses, "DEVICE_KEY")?;
    let pool = ctx.state.pool(pool_id)?;
    let Some(sub) = pool
        .find_user_key(username)
        .and_then(|k| pool.users.get(&k))
        .map(|u| u.sub.clone())
    else {
        return Err(missing_session());
    };
    let now = ctx.clock.now_millis();
    ctx.state
        .sessions
        .iter()
        .filter(|(_, s)| {
            matches!(s.expecting, Expecting::DeviceSrpAuth)
                && !s.used
                && now < s.expires_ms
                && s.pool_id == pool_id
                && s.client_id == client_id
                && s.admin == admin
                && s.sub == sub
                && s.device.key.as_deref() == Some(device_key)
        })
        .max_by_key(|(_, s)| s.expires_ms)
        .map(|(value, _)| value.clone())
        .ok_or_else(missing_session)
}

fn respond(
    ctx: &mut Ctx,
    p: &Params,
    pool_id: &str,
    client_id: &str,
    name: &str,
    admin: bool,
) -> ApiResult<Value> {
    let responses = p.opt_str_map("ChallengeResponses")?.unwrap_or_default();
    if !matches!(
        name,
        "NEW_PASSWORD_REQUIRED"
            | "MFA_SETUP"
            | "SOFTWARE_TOKEN_MFA"
            | "SMS_MFA"
            | "SELECT_MFA_TYPE"
            | "PASSWORD_VERIFIER"
            | "DEVICE_SRP_AUTH"
            | "DEVICE_PASSWORD_VERIFIER"
    ) {
        return Err(ApiError::not_supported(&format!("The {name} challenge")));
    }
    // Verifier challenges are keyed by their SECRET_BLOCK (AWS sends no Session).
    let verifier = matches!(name, "PASSWORD_VERIFIER" | "DEVICE_PASSWORD_VERIFIER");
    let session_value = if verifier {
        require_param(&responses, "PASSWORD_CLAIM_SECRET_BLOCK")?.to_string()
    } else if let Some(s) = p.opt_str("Session")? {
        s.to_string()
    } else if name == "DEVICE_SRP_AUTH" {
        pending_device_challenge(ctx, pool_id, client_id, &responses, admin)?
    } else {
        return Err(missing_session());
    };
    let session_value = session_value.as_str();
    let username = require_param(&responses, "USERNAME")?;
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    let found = pool
        .find_user_key(username)
        .and_then(|k| pool.users.get(&k).map(|u| (k, u)));
    let canonical = found.as_ref().map(|(_, u)| u.username.as_str());
    check_secret_hash(
        client,
        username,
        canonical,
        lookup(&responses, "SECRET_HASH"),
    )?;
    let session = if verifier && !ctx.state.sessions.contains_key(session_value) {
        // A SECRET_BLOCK the stub never issued (tampered or invented).
        return Err(ApiError::not_authorized("Incorrect username or password."));
    } else {
        live_session(ctx, session_value, Some(client_id))?
    };
    if session.pool_id != pool_id || session.expecting.challenge_name() != name {
        return Err(invalid_session());
    }
    if let Expecting::PasswordVerifier {
        simulated: true, ..
    } = session.expecting
    {
        spend_session(ctx, session_value);
        return Err(ApiError::not_authorized("Incorrect username or password."));
    }
    ctx.device = session.device.clone();
    // Clients may name their device only when answering (amazon-cognito-identity-js
    // adds DEVICE_KEY to the PASSWORD_VERIFIER answer).
    if !ctx.device.verified
        && !matches!(name, "DEVICE_SRP_AUTH" | "DEVICE_PASSWORD_VERIFIER")
        && let Some(k) = lookup(&responses, "DEVICE_KEY")
    {
        ctx.device.key = Some(k.to_string());
    }
    let Some((key, user)) = found.filter(|(_, u)| u.sub == session.sub) else {
        return Err(invalid_session());
    };
    // Copy what the answer needs so the model can be changed below.
    let enabled = user.enabled;
    let sub = user.sub.clone();
    let totp_secret = user.totp_secret.clone();
    let last_step = user.last_totp_step;
    let sms_code = user.sms_mfa_code.clone();
    let policy = pool.password_policy.clone();
    let missing_required: Vec<String> = pool
        .required_attributes
        .iter()
        .filter(|r| user.attr(r).is_none())
        .cloned()
        .collect();
    // With SRP the password is proven first; after_password checks the rest.
    let proving_password = matches!(session.expecting, Expecting::PasswordVerifier { .. });
    if !enabled && !proving_password {
        spend_session(ctx, session_value);
        return Err(ApiError::not_authorized("User is disabled."));
    }
    let pool_name = pool_id.split_once('_').map_or(pool_id, |(_, n)| n);
    match session.expecting {
        Expecting::PasswordVerifier {
            key: k, user_id, ..
        } => {
            let verdict = check_claim(&responses, &k, pool_name, &user_id)?;
            spend_session(ctx, session_value);
            verdict?;
            after_password(ctx, pool_id, client_id, &key, admin)
        }
        Expecting::DeviceSrpAuth => {
            let device_key = require_param(&responses, "DEVICE_KEY")?;
            let srp_a = require_param(&responses, "SRP_A")?;
            if session.device.key.as_deref() != Some(device_key) {
                return Err(invalid_session());
            }
            let a = srp::parse_public(srp_a).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "SRP_A must be a hexadecimal number that is not 0 mod N",
                )
            })?;
            spend_session(ctx, session_value);
            let device = device_tracking::confirmed_device(ctx, pool_id, &sub, device_key)?;
            let secret = device.secret.clone().ok_or_else(invalid_session)?;
            let server = srp::ServerHalf::new(secret.verifier);
            let k = server
                .session_key(&a)
                .ok_or_else(|| ApiError::invalid_parameter("SRP_A is not acceptable"))?;
            let block = new_secret_block();
            let expecting = Expecting::DevicePasswordVerifier { key: k };
            insert_session(ctx, &block, pool_id, client_id, &sub, expecting, admin)?;
            let username = ctx
                .state
                .pool(pool_id)?
                .users
                .get(&key)
                .map(|u| u.username.clone())
                .unwrap_or_default();
            let mut cp = Map::new();
            cp.insert("SALT".into(), json!(srp::hex(&secret.salt)));
            cp.insert("SECRET_BLOCK".into(), json!(block));
            cp.insert("SRP_B".into(), json!(server.public_hex()));
            cp.insert("USERNAME".into(), json!(username));
            Ok(json!({"ChallengeName": "DEVICE_PASSWORD_VERIFIER", "ChallengeParameters": cp}))
        }
        Expecting::DevicePasswordVerifier { key: k } => {
            let device_key = require_param(&responses, "DEVICE_KEY")?;
            if session.device.key.as_deref() != Some(device_key) {
                spend_session(ctx, session_value);
                return Err(ApiError::not_authorized("Incorrect username or password."));
            }
            let group_key = device_tracking::confirmed_device(ctx, pool_id, &sub, device_key)?
                .group_key
                .clone();
            let verdict = check_claim(&responses, &k, &group_key, device_key)?;
            spend_session(ctx, session_value);
            verdict?;
            let now = ctx.clock.now_millis();
            if let Some(d) = ctx.state.devices.get_mut(device_key) {
                d.last_auth_ms = now;
            }
            ctx.device.verified = true;
            mfa_step(ctx, pool_id, client_id, &key, admin)
        }
        Expecting::NewPassword => {
            let new_password = require_param(&responses, "NEW_PASSWORD")?;
            check_password_shape("NEW_PASSWORD", new_password)?;
            policy.check(new_password, Wording::Other)?;
            let attrs: Vec<(String, String)> = responses
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("userAttributes.")
                        .map(|n| (n.to_string(), v.clone()))
                })
                .collect();
            let pool = ctx.state.pool(pool_id)?;
            check_attributes(pool, &attrs)?;
            // The user exists already: an immutable attribute it lacks cannot be
            // added now (https://github.com/aws-amplify/amplify-js/issues/10491,
            // a required immutable attribute blocks NEW_PASSWORD_REQUIRED).
            check_mutable(pool, &attrs)?;
            if let Some(r) = missing_required
                .iter()
                .find(|r| !attrs.iter().any(|(k, _)| k == *r))
            {
                return Err(ApiError::invalid_parameter(format!(
                    "Missing required parameter userAttributes.{r}"
                )));
            }
            spend_session(ctx, session_value);
            let now = ctx.clock.now_millis();
            let pool = ctx.state.pool_mut(pool_id)?;
            let user = pool
                .users
                .get_mut(&key)
                .ok_or_else(ApiError::user_not_found)?;
            user.password = new_password.to_string();
            user.status = UserStatus::Confirmed;
            user.modified_ms = now;
            for (k, v) in &attrs {
                user.set_attr(k, v);
            }
            mfa_step(ctx, pool_id, client_id, &key, admin)
        }
        Expecting::MfaSetup { verified, .. } => {
            spend_session(ctx, session_value);
            if !verified {
                return Err(invalid_session());
            }
            authentication_result(ctx, pool_id, client_id, &sub, None)
        }
        Expecting::SoftwareTokenMfa => {
            let code = require_param(&responses, "SOFTWARE_TOKEN_MFA_CODE")?;
            spend_session(ctx, session_value);
            let secret = totp_secret.ok_or_else(|| {
                ApiError::new(
                    "SoftwareTokenMFANotFoundException",
                    "Software Token MFA does not exist for the user.",
                )
            })?;
            let now = ctx.clock.now_secs();
            let step = crate::auth::totp::matching_step(&secret, code, now, 1)
                .ok()
                .flatten()
                .ok_or_else(|| {
                    ApiError::new("CodeMismatchException", "Invalid code received for user")
                })?;
            if last_step.is_some_and(|last| step <= last) {
                return Err(ApiError::new(
                    "ExpiredCodeException",
                    "Your software token has already been used once.",
                ));
            }
            if let Some(u) = ctx.state.pool_mut(pool_id)?.users.get_mut(&key) {
                u.last_totp_step = Some(step);
            }
            authentication_result(ctx, pool_id, client_id, &sub, None)
        }
        Expecting::SmsMfa => {
            let code = require_param(&responses, "SMS_MFA_CODE")?;
            spend_session(ctx, session_value);
            let mismatch = || {
                ApiError::new(
                    "CodeMismatchException",
                    "Invalid code or auth state for the user.",
                )
            };
            let pending = sms_code.ok_or_else(mismatch)?;
            if pending.code != code {
                return Err(mismatch());
            }
            if ctx.clock.now_millis() > pending.expires_ms {
                return Err(ApiError::new(
                    "ExpiredCodeException",
                    "Invalid code provided, please request a code again.",
                ));
            }
            if let Some(u) = ctx.state.pool_mut(pool_id)?.users.get_mut(&key) {
                u.sms_mfa_code = None;
            }
            authentication_result(ctx, pool_id, client_id, &sub, None)
        }
        Expecting::SelectMfaType => {
            let answer = require_param(&responses, "ANSWER")?;
            if answer != "SMS_MFA" && answer != "SOFTWARE_TOKEN_MFA" {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid MFA type {answer}: expected SMS_MFA or SOFTWARE_TOKEN_MFA"
                )));
            }
            spend_session(ctx, session_value);
            factor_challenge(ctx, pool_id, client_id, &key, answer, admin)
        }
    }
}

/// RevokeToken: revokes a refresh token and every access token issued from it.
pub fn revoke_token(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["Token", "ClientId"])?;
    let token = p.str("Token")?;
    let client_id = p.str("ClientId")?;
    let client_secret = p.opt_str("ClientSecret")?;
    let pool = ctx.state.pool_of_client(client_id)?;
    let client = pool.client(client_id)?;
    match (&client.secret, client_secret) {
        (Some(s), Some(given)) if s == given => {}
        (None, None) => {}
        (None, Some(_)) => {
            return Err(ApiError::invalid_parameter(format!(
                "Client {client_id} is not configured for secret but a client secret was received"
            )));
        }
        _ => {
            return Err(ApiError::new(
                "UnauthorizedException",
                format!("Invalid client secret for client {client_id}"),
            ));
        }
    }
    if !client.token_revocation {
        return Err(ApiError::new(
            "UnsupportedOperationException",
            "Token revocation is not enabled for this client",
        ));
    }
    if crate::auth::jwt::decode(token).is_some() {
        return Err(ApiError::new(
            "UnsupportedTokenTypeException",
            "Only refresh tokens can be revoked",
        ));
    }
    // RFC 7009: an unknown token is not an error.
    // Only a sign-in whose user still exists can be revoked; the rest is gone already.
    let now = ctx.clock.now_millis();
    if let Some(sign_in) = ctx.state.sealer.open(token)
        && ctx
            .state
            .pools
            .get(&sign_in.pool_id)
            .is_some_and(|p| p.user_with_sub(&sign_in.sub).is_some())
    {
        if sign_in.client_id != client_id {
            return Err(ApiError::new(
                "UnauthorizedException",
                "The refresh token was not issued to this client",
            ));
        }
        ctx.state.revocations.revoke(&sign_in, now);
    }
    Ok(json!({}))
}
