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
use super::checks::token_user;
use super::device_tracking::{config, confirmed_device, not_found};
use super::protocol::{ApiError, ApiResult, Params};
use super::srp;
use super::state::{Device, DeviceSecret, epoch_json};

/// The pool's DeviceConfiguration (device tracking is on when it is set).
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
