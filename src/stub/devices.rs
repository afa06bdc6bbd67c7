//! Device tracking: the pool's DeviceConfiguration, NewDeviceMetadata,
//! ConfirmDevice, (Admin)GetDevice, (Admin)ListDevices, (Admin)ForgetDevice,
//! (Admin)UpdateDeviceStatus.
//!
//! A device is handed out (NewDeviceMetadata) with every new sign-in that did
//! not prove a confirmed device, when the pool tracks devices. Until
//! ConfirmDevice stores its SRP verifier it is visible to nothing but
//! ConfirmDevice and ForgetDevice.

use base64::Engine;
use serde_json::{Value, json};

use super::Ctx;
use super::auth::token_user;
use super::protocol::{ApiError, ApiResult, Params};
use super::srp;
use super::state::{Device, DeviceSecret, Pool, epoch_json, random_from};

/// The pool's DeviceConfiguration (device tracking is on when it is set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceConfig {
    /// A remembered device may skip MFA.
    pub challenge_required_on_new_device: bool,
    /// ConfirmDevice does not remember the device; UpdateDeviceStatus decides.
    pub only_remembered_on_user_prompt: bool,
}

/// The pool's device configuration, `None` when devices are not tracked.
pub fn config(pool: &Pool) -> Option<DeviceConfig> {
    let c = pool.extra.get("DeviceConfiguration")?.as_object()?;
    let flag = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
    Some(DeviceConfig {
        challenge_required_on_new_device: flag("ChallengeRequiredOnNewDevice"),
        only_remembered_on_user_prompt: flag("DeviceOnlyRememberedOnUserPrompt"),
    })
}

/// Validates CreateUserPool/UpdateUserPool's DeviceConfiguration member types.
pub fn check_config(p: &Params) -> ApiResult<()> {
    if let Some(c) = p.opt_obj("DeviceConfiguration")? {
        c.opt_bool("ChallengeRequiredOnNewDevice")?;
        c.opt_bool("DeviceOnlyRememberedOnUserPrompt")?;
    }
    Ok(())
}

fn not_found() -> ApiError {
    ApiError::resource_not_found("Device does not exist.")
}

/// Creates an unconfirmed device for user `sub` when the pool tracks devices;
/// returns (DeviceKey, DeviceGroupKey).
pub fn issue_device(
    ctx: &mut Ctx,
    pool_id: &str,
    sub: &str,
) -> ApiResult<Option<(String, String)>> {
    if config(ctx.state.pool(pool_id)?).is_none() {
        return Ok(None);
    }
    let now = ctx.clock.now_millis();
    let group_key = ctx
        .state
        .device_groups
        .entry(format!("{pool_id}/{sub}"))
        .or_insert_with(|| {
            format!(
                "-{}",
                random_from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    8
                )
            )
        })
        .clone();
    let key = format!("{}_{}", ctx.region, uuid::Uuid::new_v4());
    ctx.state.devices.insert(
        key.clone(),
        Device {
            pool_id: pool_id.to_string(),
            sub: sub.to_string(),
            key: key.clone(),
            group_key: group_key.clone(),
            name: None,
            secret: None,
            remembered: false,
            created_ms: now,
            modified_ms: now,
            last_auth_ms: now,
        },
    );
    Ok(Some((key, group_key)))
}

/// The confirmed device `key` of user `sub`, or ResourceNotFoundException
/// "Device does not exist." (the text clients look for to drop a stale key).
pub fn confirmed_device<'s>(
    ctx: &'s Ctx,
    pool_id: &str,
    sub: &str,
    key: &str,
) -> ApiResult<&'s Device> {
    ctx.state
        .devices
        .get(key)
        .filter(|d| d.pool_id == pool_id && d.sub == sub && d.secret.is_some())
        .ok_or_else(not_found)
}

fn device_json(d: &Device) -> Value {
    let mut attrs = vec![json!({"Name": "device_status", "Value": "valid"})];
    if let Some(n) = &d.name {
        attrs.push(json!({"Name": "device_name", "Value": n}));
    }
    attrs.push(json!({
        "Name": "dev:device_remembered_status",
        "Value": if d.remembered { "remembered" } else { "not_remembered" },
    }));
    json!({
        "DeviceKey": d.key,
        "DeviceAttributes": attrs,
        "DeviceCreateDate": epoch_json(d.created_ms),
        "DeviceLastModifiedDate": epoch_json(d.modified_ms),
        "DeviceLastAuthenticatedDate": epoch_json(d.last_auth_ms),
    })
}

/// (pool id, sub) of the access token's user.
fn token_owner(ctx: &Ctx, p: &Params) -> ApiResult<(String, String)> {
    let (pool_id, key) = token_user(ctx, p.str("AccessToken")?)?;
    let sub = ctx
        .state
        .pool(&pool_id)?
        .users
        .get(&key)
        .ok_or_else(ApiError::user_not_found)?
        .sub
        .clone();
    Ok((pool_id, sub))
}

/// (pool id, sub) of UserPoolId + Username.
fn admin_owner(ctx: &Ctx, p: &Params) -> ApiResult<(String, String)> {
    let pool_id = p.str("UserPoolId")?;
    let sub = ctx
        .state
        .pool(pool_id)?
        .user(p.str("Username")?)?
        .sub
        .clone();
    Ok((pool_id.to_string(), sub))
}

fn base64_member(value: Option<&str>, name: &str) -> ApiResult<Vec<u8>> {
    let value =
        value.ok_or_else(|| ApiError::invalid_parameter(format!("{name} must be provided")))?;
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("{name} is not valid base64")))
}

/// ConfirmDevice: stores the device's SRP verifier and name.
pub fn confirm_device(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken", "DeviceKey"])?;
    let (pool_id, sub) = token_owner(ctx, p)?;
    let key = p.str("DeviceKey")?;
    let name = p.opt_str("DeviceName")?.map(str::to_string);
    let config = config(ctx.state.pool(&pool_id)?).ok_or_else(|| {
        ApiError::invalid_parameter("Device tracking is not enabled for the user pool.")
    })?;
    let verifier_config = p.opt_obj("DeviceSecretVerifierConfig")?.ok_or_else(|| {
        ApiError::invalid_parameter("DeviceSecretVerifierConfig must be provided")
    })?;
    let verifier = base64_member(
        verifier_config.opt_str("PasswordVerifier")?,
        "PasswordVerifier",
    )?;
    let salt = base64_member(verifier_config.opt_str("Salt")?, "Salt")?;
    let verifier = srp::parse_verifier(&verifier)
        .ok_or_else(|| ApiError::invalid_parameter("PasswordVerifier is not valid"))?;
    let now = ctx.clock.now_millis();
    let device = ctx
        .state
        .devices
        .get_mut(key)
        .filter(|d| d.pool_id == pool_id && d.sub == sub)
        .ok_or_else(not_found)?;
    device.secret = Some(DeviceSecret { verifier, salt });
    device.name = name;
    device.remembered = !config.only_remembered_on_user_prompt;
    device.modified_ms = now;
    Ok(json!({"UserConfirmationNecessary": config.only_remembered_on_user_prompt}))
}

fn get(ctx: &Ctx, pool_id: &str, sub: &str, p: &Params) -> ApiResult<Value> {
    let d = confirmed_device(ctx, pool_id, sub, p.str("DeviceKey")?)?;
    Ok(json!({"Device": device_json(d)}))
}

/// GetDevice.
pub fn get_device(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["DeviceKey", "AccessToken"])?;
    let (pool_id, sub) = token_owner(ctx, p)?;
    get(ctx, &pool_id, &sub, p)
}

/// AdminGetDevice.
pub fn admin_get_device(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["DeviceKey", "UserPoolId", "Username"])?;
    let (pool_id, sub) = admin_owner(ctx, p)?;
    get(ctx, &pool_id, &sub, p)
}

fn list(ctx: &Ctx, pool_id: &str, sub: &str, p: &Params) -> ApiResult<Value> {
    let limit = match p.opt_i64("Limit")? {
        None => 60,
        Some(l) if (0..=60).contains(&l) => l as usize,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60",
            ));
        }
    };
    let mut devices: Vec<&Device> = ctx
        .state
        .devices
        .values()
        .filter(|d| d.pool_id == pool_id && d.sub == sub && d.secret.is_some())
        .collect();
    devices.sort_by(|a, b| (a.created_ms, &a.key).cmp(&(b.created_ms, &b.key)));
    let start = match p.opt_str("PaginationToken")? {
        None => 0,
        Some(t) => devices
            .iter()
            .position(|d| d.key == t)
            .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token"))?,
    };
    let page: Vec<Value> = devices
        .iter()
        .skip(start)
        .take(limit)
        .map(|d| device_json(d))
        .collect();
    let mut out = json!({"Devices": page});
    if let Some(next) = devices.get(start + limit) {
        out["PaginationToken"] = json!(next.key);
    }
    Ok(out)
}

/// ListDevices (confirmed devices, oldest first; the token is the next DeviceKey).
pub fn list_devices(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken"])?;
    let (pool_id, sub) = token_owner(ctx, p)?;
    list(ctx, &pool_id, &sub, p)
}

/// AdminListDevices.
pub fn admin_list_devices(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username"])?;
    let (pool_id, sub) = admin_owner(ctx, p)?;
    list(ctx, &pool_id, &sub, p)
}

fn forget(ctx: &mut Ctx, pool_id: &str, sub: &str, p: &Params) -> ApiResult<Value> {
    let key = p.str("DeviceKey")?;
    match ctx.state.devices.get(key) {
        Some(d) if d.pool_id == pool_id && d.sub == sub => {
            ctx.state.devices.remove(key);
            Ok(json!({}))
        }
        _ => Err(not_found()),
    }
}

/// ForgetDevice.
pub fn forget_device(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["DeviceKey", "AccessToken"])?;
    let (pool_id, sub) = token_owner(ctx, p)?;
    forget(ctx, &pool_id, &sub, p)
}

/// AdminForgetDevice.
pub fn admin_forget_device(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username", "DeviceKey"])?;
    let (pool_id, sub) = admin_owner(ctx, p)?;
    forget(ctx, &pool_id, &sub, p)
}

fn update_status(ctx: &mut Ctx, pool_id: &str, sub: &str, p: &Params) -> ApiResult<Value> {
    let key = p.str("DeviceKey")?;
    let remembered =
        match p.opt_enum_str("DeviceRememberedStatus", &["remembered", "not_remembered"])? {
            Some(s) => s == "remembered",
            None => false,
        };
    confirmed_device(ctx, pool_id, sub, key)?;
    let now = ctx.clock.now_millis();
    if let Some(d) = ctx.state.devices.get_mut(key) {
        d.remembered = remembered;
        d.modified_ms = now;
    }
    Ok(json!({}))
}

/// UpdateDeviceStatus (`DeviceRememberedStatus` omitted = not_remembered).
pub fn update_device_status(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["AccessToken", "DeviceKey"])?;
    let (pool_id, sub) = token_owner(ctx, p)?;
    update_status(ctx, &pool_id, &sub, p)
}

/// AdminUpdateDeviceStatus.
pub fn admin_update_device_status(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "Username", "DeviceKey"])?;
    let (pool_id, sub) = admin_owner(ctx, p)?;
    update_status(ctx, &pool_id, &sub, p)
}
