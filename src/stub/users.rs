//! Users: sign-up and confirmation, admin management, attributes,
//! forgotten and changed passwords, listing, sign-out.

use serde_json::{Map, Value, json};

use super::Ctx;
use super::checks::{
    check_attributes, check_mutable, check_password_shape, check_secret_hash, is_email, is_phone,
    token_user,
};
use super::outbox::{DeliveredMessage, Outbox, Purpose, delivery_details};
use super::password::Wording;
use super::protocol::{ApiError, ApiResult, Params, validation_error};
use super::state::{
    PendingCode, Pool, STANDARD_ATTRIBUTES, User, UserStatus, epoch_json, new_code,
};

/// Sign-up and attribute-verification codes are valid for 24 hours.
pub const CODE_VALIDITY_MS: u64 = 24 * 3600 * 1000;

/// Password-recovery codes (ForgotPassword, AdminResetUserPassword) are valid
/// for one hour (developer guide, "Recovering user accounts").
pub const RESET_CODE_VALIDITY_MS: u64 = 3600 * 1000;

fn code_mismatch() -> ApiError {
    ApiError::new(
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    )
}

fn code_expired() -> ApiError {
    ApiError::new(
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    )
}

/// Checks a Username member against AWS's pattern (no whitespace, 1–128 characters).
fn check_username(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_whitespace) {
        return Err(validation_error(&[
            "Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+"
                .to_string(),
        ]));
    }
    Ok(())
}

/// Where a sign-up / verification code goes: phone when phone numbers are
/// auto-verified and present, else email. `None`: nothing auto-verified.
fn auto_verify_destination(
    pool: &Pool,
    user: &User,
) -> Option<(&'static str, String, &'static str)> {
    let auto = |a: &str| pool.auto_verified.iter().any(|x| x == a);
    if auto("phone_number")
        && let Some(p) = user.attr("phone_number")
    {
        return Some(("SMS", p.to_string(), "phone_number"));
    }
    if auto("email")
        && let Some(e) = user.attr("email")
    {
        return Some(("EMAIL", e.to_string(), "email"));
    }
    None
}

/// Records a delivery and returns its `CodeDeliveryDetails`.
#[allow(clippy::too_many_arguments)]
fn deliver(
    outbox: &Outbox,
    pool_id: &str,
    user: &User,
    purpose: Purpose,
    medium: &str,
    destination: &str,
    attribute: &str,
    code: &str,
) -> Value {
    outbox.push(DeliveredMessage {
        pool_id: pool_id.to_string(),
        username: user.username.clone(),
        purpose,
        medium: medium.to_string(),
        destination: destination.to_string(),
        code: code.to_string(),
    });
    delivery_details(medium, destination, attribute)
}

/// Sends a fresh sign-up confirmation code if the pool auto-verifies a
/// channel the user has; only the latest code stays valid.
fn send_confirmation(ctx: &mut Ctx, pool_id: &str, key: &str, purpose: Purpose) -> Option<Value> {
    let now = ctx.clock.now_millis();
    let outbox = ctx.outbox;
    let pool = ctx.state.pools.get_mut(pool_id)?;
    let dest = pool
        .users
        .get(key)
        .and_then(|u| auto_verify_destination(pool, u));
    let user = pool.users.get_mut(key)?;
    let (medium, destination, attribute) = dest?;
    let code = new_code();
    user.confirmation_code = Some(PendingCode {
        code: code.clone(),
        expires_ms: now + CODE_VALIDITY_MS,
        attribute: Some(attribute.to_string()),
    });
    Some(deliver(
        outbox,
        pool_id,
        user,
        purpose,
        medium,
        &destination,
        attribute,
        &code,
    ))
}

fn new_user(
    username: &str,
    attrs: Vec<(String, String)>,
    password: &str,
    now: u64,
    seq: u64,
) -> User {
    let sub = uuid::Uuid::new_v4().to_string();
    let mut attributes = vec![("sub".to_string(), sub.clone())];
    for (k, v) in attrs {
        match attributes.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => attributes.push((k, v)),
        }
    }
    User {
        username: username.to_string(),
        sub,
        attributes,
        password: password.to_string(),
        temp_password_set_ms: now,
        status: UserStatus::Unconfirmed,
        enabled: true,
        created_ms: now,
        modified_ms: now,
        seq,
        confirmation_code: None,
        reset_code: None,
        attribute_codes: Default::default(),
        sms_mfa_code: None,
        pending_totp_secret: None,
        totp_secret: None,
        totp_enabled: false,
        sms_mfa_enabled: false,
        preferred_mfa: None,
        totp_device_name: None,
        last_totp_step: None,
        sign_out: Default::default(),
    }
}

/// For pools with UsernameAttributes: checks that `name` is an allowed
/// identifier and returns the attribute it fills.
fn username_attribute_for(pool: &Pool, name: &str) -> ApiResult<Option<&'static str>> {
    if pool.username_attributes.is_empty() {
        return Ok(None);
    }
    let email_ok = pool.username_attributes.iter().any(|a| a == "email");
    let phone_ok = pool.username_attributes.iter().any(|a| a == "phone_number");
    if email_ok && is_email(name) {
        return Ok(Some("email"));
    }
    if phone_ok && is_phone(name) {
        return Ok(Some("phone_number"));
    }
    Err(ApiError::invalid_parameter(match (email_ok, phone_ok) {
        (true, true) => "Username should be either an email or a phone number.",
        (true, false) => "Username should be an email.",
        _ => "Username should be a phone number.",
    }))
}

/// SignUp.
pub fn sign_up(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "Username", "Password"])?;
    let client_id = p.str("ClientId")?;
    let username = p.str("Username")?;
    let password = p.str("Password")?;
    let attrs = p.opt_attributes("UserAttributes")?.unwrap_or_default();
    check_username(username)?;
    check_password_shape("password", password)?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_of_client(client_id)?;
    let pool_id = pool.id.clone();
    let client = pool.client(client_id)?;
    check_secret_hash(client, username, None, p.opt_str("SecretHash")?)?;
    let admin_only = pool
        .extra
        .get("AdminCreateUserConfig")
        .and_then(|c| c.get("AllowAdminCreateUserOnly"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if admin_only {
        return Err(ApiError::not_authorized(
            "SignUp is not permitted for this user pool",
        ));
    }
    check_attributes(pool, &attrs)?;
    let id_attr = username_attribute_for(pool, username)?;
    for r in &pool.required_attributes {
        let given = attrs.iter().any(|(k, _)| k == r) || id_attr == Some(r.as_str());
        if !given {
            return Err(ApiError::invalid_parameter(format!(
                "Attributes did not conform to the schema: {r}: The attribute {r} is required"
            )));
        }
    }
    pool.password_policy.check(password, Wording::SignUp)?;
    let exists = match id_attr {
        Some(_) => pool.find_user_key(username).is_some(),
        None => pool.users.contains_key(&pool.key_of(username)),
    };
    if exists {
        return Err(match id_attr {
            Some(a) => ApiError::new(
                "UsernameExistsException",
                format!("An account with the given {a} already exists."),
            ),
            None => ApiError::new("UsernameExistsException", "User already exists"),
        });
    }
    let seq = ctx.state.next_seq();
    let pool = ctx.state.pool_mut(&pool_id)?;
    let mut attrs = attrs;
    let stored_name = match id_attr {
        Some(a) => {
            if !attrs.iter().any(|(k, _)| k == a) {
                attrs.push((a.to_string(), username.to_string()));
            }
            uuid::Uuid::new_v4().to_string()
        }
        None => username.to_string(),
    };
    let mut user = new_user(&stored_name, attrs, password, now, seq);
    if id_attr.is_some() {
        // In pools that sign in by email or phone, the username is the sub.
        user.username = user.sub.clone();
    }
    let sub = user.sub.clone();
    let key = pool.key_of(&user.username);
    pool.users.insert(key.clone(), user);
    let delivery = send_confirmation(ctx, &pool_id, &key, Purpose::SignUp);
    let mut out = Map::new();
    out.insert("UserConfirmed".into(), json!(false));
    if let Some(d) = delivery {
        out.insert("CodeDeliveryDetails".into(), d);
    }
    out.insert("UserSub".into(), json!(sub));
    Ok(Value::Object(out))
}

/// What a public user call (ConfirmSignUp, ForgotPassword, …) learns from its
/// app client once its SecretHash is checked.
struct ClientCall {
    pool_id: String,
    /// PreventUserExistenceErrors is ENABLED on the client.
    prevent: bool,
    /// The user's key in the pool, when the name (or an alias) is known.
    user_key: Option<String>,
    /// The user's real username (what the SecretHash may be computed over).
    canonical: Option<String>,
}

/// Finds the client's pool and the named user, and checks the call's SecretHash.
fn client_call(ctx: &Ctx, p: &Params, client_id: &str, username: &str) -> ApiResult<ClientCall> {
    let pool = ctx.state.pool_of_client(client_id)?;
    let client = pool.client(client_id)?;
    let user_key = pool.find_user_key(username);
    let canonical = user_key
        .as_ref()
        .and_then(|k| pool.users.get(k))
        .map(|u| u.username.clone());
    check_secret_hash(
        client,
        username,
        canonical.as_deref(),
        p.opt_str("SecretHash")?,
    )?;
    Ok(ClientCall {
        pool_id: pool.id.clone(),
        prevent: client.prevent_user_existence_errors,
        user_key,
        canonical,
    })
}

/// ConfirmSignUp.
pub fn confirm_sign_up(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "Username", "ConfirmationCode"])?;
    let client_id = p.str("ClientId")?;
    let username = p.str("Username")?;
    let code = p.str("ConfirmationCode")?;
    let now = ctx.clock.now_millis();
    let ClientCall {
        pool_id, prevent, ..
    } = client_call(ctx, p, client_id, username)?;
    let pool = ctx.state.pool_mut(&pool_id)?;
    let user = match pool.user_mut(username) {
        Ok(u) => u,
        Err(_) if prevent => return Err(code_mismatch()),
        Err(e) => return Err(e),
    };
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::not_authorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status.as_str()
        )));
    }
    let pending = user.confirmation_code.clone().ok_or_else(code_mismatch)?;
    if pending.code != code {
        return Err(code_mismatch());
    }
    if now > pending.expires_ms {
        return Err(code_expired());
    }
    user.confirmation_code = None;
    user.status = UserStatus::Confirmed;
    user.modified_ms = now;
    if let Some(a) = pending.attribute {
        user.set_attr(&format!("{a}_verified"), "true");
    }
    Ok(json!({}))
}

/// ResendConfirmationCode.
pub fn resend_confirmation_code(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "Username"])?;
    let client_id = p.str("ClientId")?;
    let username = p.str("Username")?;
    let ClientCall {
        pool_id,
        prevent,
        canonical,
        ..
    } = client_call(ctx, p, client_id, username)?;
    let Some(canonical) = canonical else {
        if prevent {
            return Ok(
                json!({"CodeDeliveryDetails": delivery_details("EMAIL", &format!("{username}@example.com"), "email")}),
            );
        }
        return Err(ApiError::user_not_found());
    };
    let pool = ctx.state.pool(&pool_id)?;
    let user = pool.user(&canonical)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::invalid_parameter("User is already confirmed."));
    }
    if pool.auto_verified.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Cannot resend codes. Auto verification not turned on.",
        ));
    }
    let key = pool.key_of(&canonical);
    match send_confirmation(ctx, &pool_id, &key, Purpose::ResendConfirmation) {
        Some(d) => Ok(json!({"CodeDeliveryDetails": d})),
        None => Err(ApiError::invalid_parameter(
            "Cannot resend codes. The user has no auto-verified email or phone number.",
        )),
    }
}

/// AdminConfirmSignUp.
pub fn admin_confirm_sign_up(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(p.str("UserPoolId")?)?;
    let user = pool.user_mut(p.str("Username")?)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::not_authorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status.as_str()
        )));
    }
    user.status = UserStatus::Confirmed;
    user.confirmation_code = None;
    user.modified_ms = now;
    Ok(json!({}))
}

fn user_type(user: &User, only: Option<&[String]>) -> Value {
    json!({
        "Username": user.username,
        "Attributes": user.attributes_json(only),
        "UserCreateDate": epoch_json(user.created_ms),
        "UserLastModifiedDate": epoch_json(user.modified_ms),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    })
}

/// AdminCreateUser.
pub fn admin_create_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool_id = p.str("UserPoolId")?;
    let username = p.str("Username")?;
    let attrs = p.opt_attributes("UserAttributes")?.unwrap_or_default();
    let temp = p.opt_str("TemporaryPassword")?;
    let action = p.opt_enum_str("MessageAction", &["RESEND", "SUPPRESS"])?;
    let mediums = p
        .opt_str_list("DesiredDeliveryMediums")?
        .unwrap_or_default();
    check_username(username)?;
    if let Some(t) = temp {
        check_password_shape("temporaryPassword", t)?;
    }
    let now = ctx.clock.now_millis();
    let outbox = ctx.outbox;
    let seq = ctx.state.next_seq();
    let pool = ctx.state.pool_mut(pool_id)?;
    let password = match temp {
        Some(t) => {
            pool.password_policy.check(t, Wording::Other)?;
            t.to_string()
        }
        None => pool.password_policy.generate(),
    };
    let key = if action == Some("RESEND") {
        let user = pool.user_mut(username)?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(ApiError::new(
                "UnsupportedUserStateException",
                format!(
                    "Resend not possible. {} status is not FORCE_CHANGE_PASSWORD",
                    user.username
                ),
            ));
        }
        user.password = password.clone();
        user.temp_password_set_ms = now;
        user.modified_ms = now;
        let name = user.username.clone();
        pool.key_of(&name)
    } else {
        check_attributes(pool, &attrs)?;
        let id_attr = username_attribute_for(pool, username)?;
        let exists = match id_attr {
            Some(_) => pool.find_user_key(username).is_some(),
            None => pool.users.contains_key(&pool.key_of(username)),
        };
        if exists {
            return Err(ApiError::new(
                "UsernameExistsException",
                match id_attr {
                    Some(a) => format!("An account with the given {a} already exists."),
                    None => "User account already exists".to_string(),
                },
            ));
        }
        let mut attrs = attrs;
        if let Some(a) = id_attr
            && !attrs.iter().any(|(k, _)| k == a)
        {
            attrs.push((a.to_string(), username.to_string()));
        }
        let mut user = new_user(username, attrs, &password, now, seq);
        if id_attr.is_some() {
            user.username = user.sub.clone();
        }
        user.status = UserStatus::ForceChangePassword;
        let key = pool.key_of(&user.username);
        pool.users.insert(key.clone(), user);
        key
    };
    let user = pool.users.get(&key).ok_or_else(ApiError::user_not_found)?;
    if action != Some("SUPPRESS") {
        let wants_email = mediums.iter().any(|m| m == "EMAIL");
        let target = match (user.attr("email"), user.attr("phone_number")) {
            (Some(e), _) if wants_email || user.attr("phone_number").is_none() => {
                Some(("EMAIL", e, "email"))
            }
            (_, Some(ph)) => Some(("SMS", ph, "phone_number")),
            _ => None,
        };
        if let Some((medium, dest, attr)) = target {
            deliver(
                outbox,
                pool_id,
                user,
                Purpose::Invitation,
                medium,
                dest,
                attr,
                &password,
            );
        }
    }
    Ok(json!({"User": user_type(user, None)}))
}

/// AdminGetUser.
pub fn admin_get_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    let user = pool.user(p.str("Username")?)?;
    let mut out = Map::new();
    out.insert("Username".into(), json!(user.username));
    out.insert("UserAttributes".into(), user.attributes_json(None));
    out.insert("UserCreateDate".into(), epoch_json(user.created_ms));
    out.insert("UserLastModifiedDate".into(), epoch_json(user.modified_ms));
    out.insert("Enabled".into(), json!(user.enabled));
    out.insert("UserStatus".into(), json!(user.status.as_str()));
    user.mfa_json(&mut out);
    Ok(Value::Object(out))
}

/// GetUser (access token).
pub fn get_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken"])?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let pool = ctx.state.pool(&pool_id)?;
    let user = pool.users.get(&key).ok_or_else(ApiError::user_not_found)?;
    let mut out = Map::new();
    out.insert("Username".into(), json!(user.username));
    out.insert("UserAttributes".into(), user.attributes_json(None));
    user.mfa_json(&mut out);
    Ok(Value::Object(out))
}

const FILTER_ATTRIBUTES: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// Parses `attr = "value"` / `attr ^= "prefix"`.
fn parse_filter(filter: &str) -> ApiResult<(String, bool, String)> {
    let bad = || ApiError::invalid_parameter("Error while parsing filter.");
    let f = filter.trim();
    let (name, rest, prefix) = if let Some(i) = f.find("^=") {
        (&f[..i], &f[i + 2..], true)
    } else if let Some(i) = f.find('=') {
        (&f[..i], &f[i + 1..], false)
    } else {
        return Err(bad());
    };
    let name = name.trim().trim_matches('"');
    let rest = rest.trim();
    let value = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(bad)?;
    if !FILTER_ATTRIBUTES.contains(&name) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid search attribute: {name}"
        )));
    }
    Ok((name.to_string(), prefix, value.replace("\\\"", "\"")))
}

fn filter_value<'u>(user: &'u User, attr: &str) -> Option<std::borrow::Cow<'u, str>> {
    use std::borrow::Cow;
    match attr {
        "username" => Some(Cow::Borrowed(user.username.as_str())),
        "cognito:user_status" => Some(Cow::Borrowed(user.status.as_str())),
        "status" => Some(Cow::Borrowed(if user.enabled {
            "Enabled"
        } else {
            "Disabled"
        })),
        other => user.attr(other).map(Cow::Borrowed),
    }
}

/// ListUsers (Filter, Limit, PaginationToken, AttributesToGet).
pub fn list_users(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let filter = match p.opt_str("Filter")? {
        Some(f) if !f.trim().is_empty() => Some(parse_filter(f)?),
        _ => None,
    };
    let limit = p.opt_i64("Limit")?.unwrap_or(60);
    if !(0..=60).contains(&limit) {
        return Err(validation_error(&[format!(
            "Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60"
        )]));
    }
    let limit = if limit == 0 { 60 } else { limit as usize };
    let only = p.opt_str_list("AttributesToGet")?;
    let after: Option<u64> = match p.opt_str("PaginationToken")? {
        Some(t) => Some(
            t.parse()
                .map_err(|_| ApiError::invalid_parameter("Invalid pagination token."))?,
        ),
        None => None,
    };
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    let mut users: Vec<&User> = pool
        .users
        .values()
        .filter(|u| after.is_none_or(|a| u.seq > a))
        .filter(|u| match &filter {
            None => true,
            Some((attr, prefix, value)) => filter_value(u, attr).is_some_and(|v| {
                if *prefix {
                    v.starts_with(value.as_str())
                } else {
                    v == value.as_str()
                }
            }),
        })
        .collect();
    users.sort_by_key(|u| u.seq);
    let more = users.len() > limit;
    users.truncate(limit);
    let mut out = Map::new();
    out.insert(
        "Users".into(),
        Value::Array(
            users
                .iter()
                .map(|u| user_type(u, only.as_deref()))
                .collect(),
        ),
    );
    if more && let Some(last) = users.last() {
        out.insert("PaginationToken".into(), json!(last.seq.to_string()));
    }
    Ok(Value::Object(out))
}

fn remove_user(ctx: &mut Ctx, pool_id: &str, key: &str) {
    let sub = ctx
        .state
        .pools
        .get_mut(pool_id)
        .and_then(|pool| pool.users.remove(key))
        .map(|u| u.sub);
    if let Some(sub) = sub {
        ctx.state.forget(pool_id, Some(&sub));
    }
}

/// AdminDeleteUser.
pub fn admin_delete_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool_id = p.str("UserPoolId")?;
    let pool = ctx.state.pool(pool_id)?;
    let key = pool
        .find_user_key(p.str("Username")?)
        .ok_or_else(ApiError::user_not_found)?;
    remove_user(ctx, pool_id, &key);
    Ok(json!({}))
}

/// DeleteUser (access token).
pub fn delete_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken"])?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    remove_user(ctx, &pool_id, &key);
    Ok(json!({}))
}

/// AdminSetUserPassword.
pub fn admin_set_user_password(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username", "Password"])?;
    let password = p.str("Password")?;
    check_password_shape("password", password)?;
    let permanent = p.opt_bool("Permanent")?.unwrap_or(false);
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(p.str("UserPoolId")?)?;
    let policy = pool.password_policy.clone();
    let user = pool.user_mut(p.str("Username")?)?;
    policy.check(password, Wording::Other)?;
    user.password = password.to_string();
    user.modified_ms = now;
    if permanent {
        user.status = UserStatus::Confirmed;
    } else {
        user.status = UserStatus::ForceChangePassword;
        user.temp_password_set_ms = now;
    }
    Ok(json!({}))
}

/// Where a reset code goes: the first verified channel by AccountRecoverySetting
/// priority (phone, then email, when the pool sets none).
fn recovery_destination(pool: &Pool, user: &User) -> Option<(&'static str, String, &'static str)> {
    let mut order: Vec<(i64, &str)> = pool
        .extra
        .get("AccountRecoverySetting")
        .and_then(|a| a.get("RecoveryMechanisms"))
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter_map(|m| {
                    Some((
                        m.get("Priority").and_then(Value::as_i64).unwrap_or(9),
                        m.get("Name").and_then(Value::as_str)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_else(|| vec![(1, "verified_phone_number"), (2, "verified_email")]);
    order.sort();
    for (_, mech) in order {
        match mech {
            "verified_email" if user.attr_true("email_verified") => {
                if let Some(e) = user.attr("email") {
                    return Some(("EMAIL", e.to_string(), "email"));
                }
            }
            "verified_phone_number" if user.attr_true("phone_number_verified") => {
                if let Some(ph) = user.attr("phone_number") {
                    return Some(("SMS", ph.to_string(), "phone_number"));
                }
            }
            _ => {}
        }
    }
    None
}

fn send_reset_code(ctx: &mut Ctx, pool_id: &str, key: &str) -> ApiResult<Value> {
    let now = ctx.clock.now_millis();
    let outbox = ctx.outbox;
    let pool = ctx.state.pool_mut(pool_id)?;
    let user = pool.users.get(key).ok_or_else(ApiError::user_not_found)?;
    let (medium, dest, attr) = recovery_destination(pool, user).ok_or_else(|| {
        ApiError::invalid_parameter(
            "Cannot reset password for the user as there is no registered/verified email or phone_number",
        )
    })?;
    let user = pool
        .users
        .get_mut(key)
        .ok_or_else(ApiError::user_not_found)?;
    let code = new_code();
    user.reset_code = Some(PendingCode {
        code: code.clone(),
        expires_ms: now + RESET_CODE_VALIDITY_MS,
        attribute: None,
    });
    Ok(deliver(
        outbox,
        pool_id,
        user,
        Purpose::ForgotPassword,
        medium,
        &dest,
        attr,
        &code,
    ))
}

/// AdminResetUserPassword.
pub fn admin_reset_user_password(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool_id = p.str("UserPoolId")?;
    let pool = ctx.state.pool(pool_id)?;
    let key = pool
        .find_user_key(p.str("Username")?)
        .ok_or_else(ApiError::user_not_found)?;
    send_reset_code(ctx, pool_id, &key)?;
    let pool = ctx.state.pool_mut(pool_id)?;
    if let Some(u) = pool.users.get_mut(&key)
        && u.status == UserStatus::Confirmed
    {
        u.status = UserStatus::ResetRequired;
    }
    Ok(json!({}))
}

/// Applies attribute changes; a changed email / phone becomes unverified and,
/// when the pool auto-verifies it, a verification code is sent.
fn update_attributes(
    ctx: &mut Ctx,
    pool_id: &str,
    key: &str,
    attrs: &[(String, String)],
) -> ApiResult<Vec<Value>> {
    let now = ctx.clock.now_millis();
    let outbox = ctx.outbox;
    let pool = ctx.state.pool_mut(pool_id)?;
    check_attributes(pool, attrs)?;
    check_mutable(pool, attrs)?;
    let auto = pool.auto_verified.clone();
    let user = pool
        .users
        .get_mut(key)
        .ok_or_else(ApiError::user_not_found)?;
    let mut details = Vec::new();
    for (k, v) in attrs {
        let changed = user.attr(k) != Some(v.as_str());
        if v.is_empty() {
            user.remove_attr(k);
            continue;
        }
        user.set_attr(k, v);
        if (k == "email" || k == "phone_number") && changed {
            let flag = format!("{k}_verified");
            if !attrs.iter().any(|(n, _)| *n == flag) {
                user.set_attr(&flag, "false");
                if auto.iter().any(|a| a == k) {
                    let medium = if k == "email" { "EMAIL" } else { "SMS" };
                    let code = new_code();
                    user.attribute_codes.insert(
                        k.clone(),
                        PendingCode {
                            code: code.clone(),
                            expires_ms: now + CODE_VALIDITY_MS,
                            attribute: Some(k.clone()),
                        },
                    );
                    details.push(deliver(
                        outbox,
                        pool_id,
                        user,
                        Purpose::AttributeVerification,
                        medium,
                        v,
                        k,
                        &code,
                    ));
                }
            }
        }
    }
    user.modified_ms = now;
    Ok(details)
}

/// AdminUpdateUserAttributes.
pub fn admin_update_user_attributes(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username", "UserAttributes"])?;
    let pool_id = p.str("UserPoolId")?;
    let attrs = p.opt_attributes("UserAttributes")?.unwrap_or_default();
    let pool = ctx.state.pool(pool_id)?;
    let key = pool
        .find_user_key(p.str("Username")?)
        .ok_or_else(ApiError::user_not_found)?;
    update_attributes(ctx, pool_id, &key, &attrs)?;
    Ok(json!({}))
}

fn delete_attributes(ctx: &mut Ctx, pool_id: &str, key: &str, names: &[String]) -> ApiResult<()> {
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(pool_id)?;
    for n in names {
        // Deleting a value changes it: Schema's `Mutable: false` forbids that
        // too (*inferred*, with the stub's own text).
        if !pool.is_mutable(n) || pool.required_attributes.iter().any(|r| r == n) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot delete the required or immutable attribute {n}"
            )));
        }
        let known = match n.strip_prefix("custom:") {
            Some(c) => pool.custom_attributes.iter().any(|x| x == c),
            None => STANDARD_ATTRIBUTES.iter().any(|(s, _, _)| s == n),
        };
        if !known {
            return Err(ApiError::invalid_parameter(format!(
                "Attribute does not exist in the schema: {n}"
            )));
        }
    }
    let user = pool
        .users
        .get_mut(key)
        .ok_or_else(ApiError::user_not_found)?;
    for n in names {
        user.remove_attr(n);
        if n == "email" || n == "phone_number" {
            user.remove_attr(&format!("{n}_verified"));
        }
    }
    user.modified_ms = now;
    Ok(())
}

/// AdminDeleteUserAttributes.
pub fn admin_delete_user_attributes(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username", "UserAttributeNames"])?;
    let pool_id = p.str("UserPoolId")?;
    let names = p.opt_str_list("UserAttributeNames")?.unwrap_or_default();
    let key = ctx
        .state
        .pool(pool_id)?
        .find_user_key(p.str("Username")?)
        .ok_or_else(ApiError::user_not_found)?;
    delete_attributes(ctx, pool_id, &key, &names)?;
    Ok(json!({}))
}

/// DeleteUserAttributes (access token).
pub fn delete_user_attributes(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserAttributeNames", "AccessToken"])?;
    let names = p.opt_str_list("UserAttributeNames")?.unwrap_or_default();
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    delete_attributes(ctx, &pool_id, &key, &names)?;
    Ok(json!({}))
}

/// UpdateUserAttributes (access token).
pub fn update_user_attributes(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserAttributes", "AccessToken"])?;
    let attrs = p.opt_attributes("UserAttributes")?.unwrap_or_default();
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    if attrs
        .iter()
        .any(|(k, _)| k == "email_verified" || k == "phone_number_verified")
    {
        return Err(ApiError::not_authorized(
            "A client attempted to write unauthorized attribute",
        ));
    }
    let details = update_attributes(ctx, &pool_id, &key, &attrs)?;
    let mut out = Map::new();
    if !details.is_empty() {
        out.insert("CodeDeliveryDetailsList".into(), Value::Array(details));
    }
    Ok(Value::Object(out))
}

/// GetUserAttributeVerificationCode (access token).
pub fn get_user_attribute_verification_code(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken", "AttributeName"])?;
    let attr = p.str("AttributeName")?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let now = ctx.clock.now_millis();
    let outbox = ctx.outbox;
    let pool = ctx.state.pool_mut(&pool_id)?;
    let user = pool
        .users
        .get_mut(&key)
        .ok_or_else(ApiError::user_not_found)?;
    let medium = match attr {
        "email" => "EMAIL",
        "phone_number" => "SMS",
        _ => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid attribute name {attr}: only email and phone_number can be verified"
            )));
        }
    };
    let dest = user
        .attr(attr)
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid_parameter(format!("User has no {attr} to verify")))?;
    let code = new_code();
    user.attribute_codes.insert(
        attr.to_string(),
        PendingCode {
            code: code.clone(),
            expires_ms: now + CODE_VALIDITY_MS,
            attribute: Some(attr.to_string()),
        },
    );
    let d = deliver(
        outbox,
        &pool_id,
        user,
        Purpose::AttributeVerification,
        medium,
        &dest,
        attr,
        &code,
    );
    Ok(json!({"CodeDeliveryDetails": d}))
}

/// VerifyUserAttribute (access token).
pub fn verify_user_attribute(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken", "AttributeName", "Code"])?;
    let attr = p.str("AttributeName")?;
    let code = p.str("Code")?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(&pool_id)?;
    let user = pool
        .users
        .get_mut(&key)
        .ok_or_else(ApiError::user_not_found)?;
    let pending = user
        .attribute_codes
        .get(attr)
        .cloned()
        .ok_or_else(code_mismatch)?;
    if pending.code != code {
        return Err(code_mismatch());
    }
    if now > pending.expires_ms {
        return Err(code_expired());
    }
    user.attribute_codes.remove(attr);
    user.set_attr(&format!("{attr}_verified"), "true");
    user.modified_ms = now;
    Ok(json!({}))
}

fn set_enabled(ctx: &mut Ctx, p: &Params, enabled: bool) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool_id = p.str("UserPoolId")?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(pool_id)?;
    let user = pool.user_mut(p.str("Username")?)?;
    user.enabled = enabled;
    user.modified_ms = now;
    let sub = user.sub.clone();
    if !enabled {
        // AdminDisableUser revokes the user's tokens (API reference).
        ctx.state
            .revoke_user_tokens(pool_id, &sub, ctx.clock.now_secs());
    }
    Ok(json!({}))
}

/// AdminDisableUser (also revokes the user's tokens).
pub fn admin_disable_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    set_enabled(ctx, p, false)
}

/// AdminEnableUser.
pub fn admin_enable_user(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    set_enabled(ctx, p, true)
}

/// ForgotPassword.
pub fn forgot_password(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "Username"])?;
    let client_id = p.str("ClientId")?;
    let username = p.str("Username")?;
    let ClientCall {
        pool_id,
        prevent,
        user_key,
        ..
    } = client_call(ctx, p, client_id, username)?;
    let Some(key) = user_key else {
        if prevent {
            return Ok(
                json!({"CodeDeliveryDetails": delivery_details("EMAIL", &format!("{username}@example.com"), "email")}),
            );
        }
        return Err(ApiError::user_not_found());
    };
    let pool = ctx.state.pool(&pool_id)?;
    if pool.users.get(&key).is_some_and(|u| !u.enabled) {
        return Err(ApiError::not_authorized("User is disabled."));
    }
    let d = send_reset_code(ctx, &pool_id, &key)?;
    Ok(json!({"CodeDeliveryDetails": d}))
}

/// ConfirmForgotPassword.
pub fn confirm_forgot_password(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ClientId", "Username", "ConfirmationCode", "Password"])?;
    let client_id = p.str("ClientId")?;
    let username = p.str("Username")?;
    let code = p.str("ConfirmationCode")?;
    let password = p.str("Password")?;
    check_password_shape("password", password)?;
    let now = ctx.clock.now_millis();
    let ClientCall {
        pool_id, prevent, ..
    } = client_call(ctx, p, client_id, username)?;
    let pool = ctx.state.pool_mut(&pool_id)?;
    let policy = pool.password_policy.clone();
    let user = match pool.user_mut(username) {
        Ok(u) => u,
        Err(_) if prevent => return Err(code_mismatch()),
        Err(e) => return Err(e),
    };
    policy.check(password, Wording::Other)?;
    let pending = user.reset_code.clone().ok_or_else(code_mismatch)?;
    if pending.code != code {
        return Err(code_mismatch());
    }
    if now > pending.expires_ms {
        return Err(code_expired());
    }
    user.reset_code = None;
    user.password = password.to_string();
    user.status = UserStatus::Confirmed;
    user.modified_ms = now;
    Ok(json!({}))
}

/// ChangePassword (access token).
pub fn change_password(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["ProposedPassword", "AccessToken"])?;
    let proposed = p.str("ProposedPassword")?;
    check_password_shape("proposedPassword", proposed)?;
    let previous = p.opt_str("PreviousPassword")?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(&pool_id)?;
    let policy = pool.password_policy.clone();
    let user = pool
        .users
        .get_mut(&key)
        .ok_or_else(ApiError::user_not_found)?;
    if previous != Some(user.password.as_str()) {
        return Err(ApiError::not_authorized("Incorrect username or password."));
    }
    policy.check(proposed, Wording::Other)?;
    user.password = proposed.to_string();
    user.modified_ms = now;
    Ok(json!({}))
}

/// GlobalSignOut (access token): revokes all the user's tokens.
pub fn global_sign_out(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken"])?;
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let sub = ctx
        .state
        .pool(&pool_id)?
        .users
        .get(&key)
        .map(|u| u.sub.clone())
        .ok_or_else(ApiError::user_not_found)?;
    let now = ctx.clock.now_secs();
    ctx.state.revoke_user_tokens(&pool_id, &sub, now);
    Ok(json!({}))
}

/// AdminUserGlobalSignOut.
pub fn admin_user_global_sign_out(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let pool_id = p.str("UserPoolId")?;
    let sub = ctx
        .state
        .pool(pool_id)?
        .user(p.str("Username")?)?
        .sub
        .clone();
    let now = ctx.clock.now_secs();
    ctx.state.revoke_user_tokens(pool_id, &sub, now);
    Ok(json!({}))
}
