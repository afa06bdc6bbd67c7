//! Device tracking as the pool configures it: whether devices are tracked,
//! issuing a new device at sign-in, and finding a user's confirmed device.
//! Shared by sign-in (auth, tokens), pool configuration and the device
//! operations (devices).

use serde_json::Value;

use super::Ctx;
use super::protocol::{ApiError, ApiResult, Params};
use super::state::{Device, Pool, random_from};

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

pub(super) fn not_found() -> ApiError {
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
