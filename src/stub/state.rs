//! The stub's model of Cognito: user pools with their clients and users,
//! pending auth sessions, tracked devices, and what revokes sign-ins.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use rand::RngExt;
use serde_json::{Map, Value};

use super::password::PasswordPolicy;
use super::protocol::{ApiError, ApiResult};
use super::sign_ins::{Revocations, Sealer, SignOutMark};
use super::srp::SessionKey;

/// Everything the stub knows. Guarded by one mutex.
#[derive(Default)]
pub struct State {
    /// User pools by id.
    pub pools: BTreeMap<String, Pool>,
    /// Pending auth sessions by their opaque value.
    pub sessions: HashMap<String, Session>,
    /// Seals sign-ins into refresh tokens (the stub keeps none per sign-in).
    pub sealer: Sealer,
    /// Sign-ins revoked by RevokeToken.
    pub revocations: Revocations,
    /// Monotonic counter giving users a stable listing order.
    pub seq: u64,
    /// Tracked devices by DeviceKey.
    pub devices: BTreeMap<String, Device>,
    /// Each user's DeviceGroupKey, by `<pool id>/<sub>`.
    pub device_groups: HashMap<String, String>,
}

/// `OFF`, `ON` or `OPTIONAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaMode {
    /// No MFA.
    Off,
    /// Every user must use a factor.
    On,
    /// Users who enabled a factor use it.
    Optional,
}

impl MfaMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaMode::Off => "OFF",
            MfaMode::On => "ON",
            MfaMode::Optional => "OPTIONAL",
        }
    }

    /// Parses a validated wire name.
    pub fn parse(s: &str) -> MfaMode {
        match s {
            "ON" => MfaMode::On,
            "OPTIONAL" => MfaMode::Optional,
            _ => MfaMode::Off,
        }
    }
}

/// A user pool.
pub struct Pool {
    /// `<region>_<9 alphanumerics>`.
    pub id: String,
    /// PoolName.
    pub name: String,
    /// `arn:aws:cognito-idp:<region>:<account>:userpool/<id>`.
    pub arn: String,
    /// Epoch milliseconds.
    pub created_ms: u64,
    /// Epoch milliseconds.
    pub modified_ms: u64,
    /// Policies.PasswordPolicy.
    pub password_policy: PasswordPolicy,
    /// MfaConfiguration.
    pub mfa: MfaMode,
    /// SoftwareTokenMfaConfiguration.Enabled (SetUserPoolMfaConfig).
    pub software_token_mfa: bool,
    /// Whether an SmsConfiguration exists (SMS_MFA usable).
    pub sms_configured: bool,
    /// SmsAuthenticationMessage / SmsMfaConfiguration echo.
    pub sms_mfa_configuration: Option<Value>,
    /// AutoVerifiedAttributes.
    pub auto_verified: Vec<String>,
    /// UsernameAttributes (email / phone_number instead of a username).
    pub username_attributes: Vec<String>,
    /// AliasAttributes (email / phone_number / preferred_username as aliases).
    pub alias_attributes: Vec<String>,
    /// UsernameConfiguration.CaseSensitive (default true over the API).
    pub case_sensitive: bool,
    /// Custom attribute names declared in Schema (without `custom:`).
    pub custom_attributes: Vec<String>,
    /// Required attribute names declared in Schema.
    pub required_attributes: Vec<String>,
    /// Attributes Schema declares `Mutable: false`, as users carry them
    /// (`email`, `custom:tenant`); `sub` is always immutable.
    pub immutable_attributes: Vec<String>,
    /// Other CreateUserPool/UpdateUserPool members, echoed by DescribeUserPool.
    pub extra: Map<String, Value>,
    /// App clients by id.
    pub clients: BTreeMap<String, Client>,
    /// Users by lookup key (the username, lowercased when case-insensitive).
    pub users: BTreeMap<String, User>,
}

impl Pool {
    /// The key `username` is stored under.
    pub fn key_of(&self, username: &str) -> String {
        if self.case_sensitive {
            username.to_string()
        } else {
            username.to_lowercase()
        }
    }

    /// Finds a user by username, or by a username attribute / verified alias.
    pub fn find_user_key(&self, name: &str) -> Option<String> {
        let key = self.key_of(name);
        if self.users.contains_key(&key) {
            return Some(key);
        }
        let lowered = name.to_lowercase();
        let matches_value = |attr: &str, v: &str| {
            if attr == "email" {
                v.to_lowercase() == lowered
            } else if self.case_sensitive && attr == "preferred_username" {
                v == name
            } else {
                v.to_lowercase() == lowered
            }
        };
        for (k, u) in &self.users {
            for attr in &self.username_attributes {
                if u.attr(attr).is_some_and(|v| matches_value(attr, v)) {
                    return Some(k.clone());
                }
            }
            for attr in &self.alias_attributes {
                let verified = match attr.as_str() {
                    "email" => u.attr_true("email_verified"),
                    "phone_number" => u.attr_true("phone_number_verified"),
                    _ => true,
                };
                if verified && u.attr(attr).is_some_and(|v| matches_value(attr, v)) {
                    return Some(k.clone());
                }
            }
        }
        None
    }

    /// The user named `name` (see [`Pool::find_user_key`]) or UserNotFoundException.
    pub fn user(&self, name: &str) -> ApiResult<&User> {
        self.find_user_key(name)
            .and_then(|k| self.users.get(&k))
            .ok_or_else(ApiError::user_not_found)
    }

    /// Mutable variant of [`Pool::user`].
    pub fn user_mut(&mut self, name: &str) -> ApiResult<&mut User> {
        let key = self
            .find_user_key(name)
            .ok_or_else(ApiError::user_not_found)?;
        self.users
            .get_mut(&key)
            .ok_or_else(ApiError::user_not_found)
    }

    /// The user whose `sub` is `sub` (tokens and sign-ins name users by it).
    pub fn user_with_sub(&self, sub: &str) -> Option<&User> {
        self.users.values().find(|u| u.sub == sub)
    }

    /// Mutable variant of [`Pool::user_with_sub`].
    pub fn user_with_sub_mut(&mut self, sub: &str) -> Option<&mut User> {
        self.users.values_mut().find(|u| u.sub == sub)
    }

    /// Whether attribute `name` may change after the user was created
    /// (SignUp, AdminCreateUser): not when Schema declared it `Mutable: false`.
    pub fn is_mutable(&self, name: &str) -> bool {
        name != "sub" && !self.immutable_attributes.iter().any(|a| a == name)
    }

    /// The client `client_id` of this pool or ResourceNotFoundException.
    pub fn client(&self, client_id: &str) -> ApiResult<&Client> {
        self.clients
            .get(client_id)
            .ok_or_else(|| client_not_found(client_id))
    }
}

/// `User pool <id> does not exist.`
pub fn pool_not_found(pool_id: &str) -> ApiError {
    ApiError::resource_not_found(format!("User pool {pool_id} does not exist."))
}

/// `User pool client <id> does not exist.`
pub fn client_not_found(client_id: &str) -> ApiError {
    ApiError::resource_not_found(format!("User pool client {client_id} does not exist."))
}

impl State {
    /// The pool `pool_id` or ResourceNotFoundException.
    pub fn pool(&self, pool_id: &str) -> ApiResult<&Pool> {
        self.pools
            .get(pool_id)
            .ok_or_else(|| pool_not_found(pool_id))
    }

    /// Mutable variant of [`State::pool`].
    pub fn pool_mut(&mut self, pool_id: &str) -> ApiResult<&mut Pool> {
        self.pools
            .get_mut(pool_id)
            .ok_or_else(|| pool_not_found(pool_id))
    }

    /// The pool owning app client `client_id` (public operations name only the client).
    pub fn pool_of_client(&self, client_id: &str) -> ApiResult<&Pool> {
        self.pools
            .values()
            .find(|p| p.clients.contains_key(client_id))
            .ok_or_else(|| client_not_found(client_id))
    }

    /// The id of the pool owning `client_id`.
    pub fn pool_id_of_client(&self, client_id: &str) -> ApiResult<String> {
        Ok(self.pool_of_client(client_id)?.id.clone())
    }

    /// Signs user `sub` of `pool_id` out everywhere (GlobalSignOut and
    /// friends): every sign-in so far is revoked.
    pub fn revoke_user_tokens(&mut self, pool_id: &str, sub: &str, now_secs: u64) {
        if let Some(user) = self
            .pools
            .get_mut(pool_id)
            .and_then(|p| p.user_with_sub_mut(sub))
        {
            user.sign_out.sign_out(now_secs);
        }
    }

    /// Forgets sessions and devices of a deleted pool or user (its sign-ins
    /// die with it: their refresh tokens name a pool and `sub` that are gone).
    pub fn forget(&mut self, pool_id: &str, sub: Option<&str>) {
        let hit = |p: &str, s: &str| p == pool_id && sub.is_none_or(|x| x == s);
        self.sessions.retain(|_, s| !hit(&s.pool_id, &s.sub));
        self.devices.retain(|_, d| !hit(&d.pool_id, &d.sub));
        self.device_groups.retain(|k, _| {
            let (p, s) = k.split_once('/').unwrap_or((k, ""));
            !hit(p, s)
        });
    }

    /// Next value of the ordering counter.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// An app client.
pub struct Client {
    /// 26 characters of `[0-9a-v]`.
    pub id: String,
    /// ClientName.
    pub name: String,
    /// ClientSecret when GenerateSecret was true.
    pub secret: Option<String>,
    /// ExplicitAuthFlows as given (or AWS's default).
    pub explicit_auth_flows: Vec<String>,
    /// AuthSessionValidity in minutes (3–15, default 3).
    pub auth_session_validity_min: u64,
    /// Access token lifetime in seconds.
    pub access_validity_secs: u64,
    /// ID token lifetime in seconds.
    pub id_validity_secs: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_validity_secs: u64,
    /// PreventUserExistenceErrors is ENABLED.
    pub prevent_user_existence_errors: bool,
    /// EnableTokenRevocation (default true).
    pub token_revocation: bool,
    /// The client as DescribeUserPoolClient shows it.
    pub description: Map<String, Value>,
}

impl Client {
    /// Whether `flow` (an ALLOW_ name) or its legacy spelling is enabled.
    pub fn allows(&self, allow_name: &str, legacy_name: Option<&str>) -> bool {
        self.explicit_auth_flows
            .iter()
            .any(|f| f == allow_name || legacy_name.is_some_and(|l| f == l))
    }
}

/// UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    /// Signed up, code not yet confirmed.
    Unconfirmed,
    /// Normal.
    Confirmed,
    /// Admin-created or given a temporary password.
    ForceChangePassword,
    /// AdminResetUserPassword was called.
    ResetRequired,
}

impl UserStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
        }
    }
}

/// A code sent to a user, valid until `expires_ms`.
#[derive(Clone, Debug)]
pub struct PendingCode {
    /// Six digits.
    pub code: String,
    /// Epoch milliseconds.
    pub expires_ms: u64,
    /// The attribute the code verifies (email / phone_number), if any.
    pub attribute: Option<String>,
}

/// A user.
pub struct User {
    /// The username as created (a UUID when the pool uses UsernameAttributes).
    pub username: String,
    /// The immutable `sub`.
    pub sub: String,
    /// Attributes in order, `sub` first.
    pub attributes: Vec<(String, String)>,
    /// Current password (the stub keeps it in memory; nothing leaves the process).
    pub password: String,
    /// When the temporary password was set (FORCE_CHANGE_PASSWORD), epoch ms.
    pub temp_password_set_ms: u64,
    /// UserStatus.
    pub status: UserStatus,
    /// Enabled.
    pub enabled: bool,
    /// Epoch milliseconds.
    pub created_ms: u64,
    /// Epoch milliseconds.
    pub modified_ms: u64,
    /// Listing order.
    pub seq: u64,
    /// Sign-up confirmation code (only the latest is valid).
    pub confirmation_code: Option<PendingCode>,
    /// Forgot-password code.
    pub reset_code: Option<PendingCode>,
    /// Attribute verification codes by attribute.
    pub attribute_codes: HashMap<String, PendingCode>,
    /// SMS_MFA code sent during sign-in.
    pub sms_mfa_code: Option<PendingCode>,
    /// A TOTP secret associated but not yet verified.
    pub pending_totp_secret: Option<String>,
    /// The verified TOTP secret.
    pub totp_secret: Option<String>,
    /// SoftwareTokenMfaSettings.Enabled.
    pub totp_enabled: bool,
    /// SMSMfaSettings.Enabled.
    pub sms_mfa_enabled: bool,
    /// The preferred factor (`SOFTWARE_TOKEN_MFA` / `SMS_MFA`).
    pub preferred_mfa: Option<String>,
    /// FriendlyDeviceName given at VerifySoftwareToken.
    pub totp_device_name: Option<String>,
    /// The last global sign-out, which revokes earlier sign-ins.
    pub sign_out: SignOutMark,
    /// The last TOTP window accepted for this user (codes are one-time).
    pub last_totp_step: Option<u64>,
}

impl User {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or adds) attribute `name`.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attributes.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.attributes.push((name.to_string(), value.to_string())),
        }
    }

    /// Removes attribute `name`.
    pub fn remove_attr(&mut self, name: &str) {
        self.attributes.retain(|(k, _)| k != name);
    }

    /// Whether the Boolean attribute `name` (`email_verified`,
    /// `phone_number_verified`) holds true; see [`is_true`].
    pub fn attr_true(&self, name: &str) -> bool {
        self.attr(name).is_some_and(is_true)
    }

    /// Attributes as `[{"Name", "Value"}]`.
    pub fn attributes_json(&self, only: Option<&[String]>) -> Value {
        Value::Array(
            self.attributes
                .iter()
                .filter(|(k, _)| only.is_none_or(|o| o.iter().any(|x| x == k)))
                .map(|(k, v)| {
                    let mut m = Map::new();
                    m.insert("Name".into(), Value::String(k.clone()));
                    m.insert("Value".into(), Value::String(v.clone()));
                    Value::Object(m)
                })
                .collect(),
        )
    }

    /// The MFA factors this user has enabled, in a stable order.
    pub fn enabled_factors(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.sms_mfa_enabled {
            v.push("SMS_MFA");
        }
        if self.totp_enabled {
            v.push("SOFTWARE_TOKEN_MFA");
        }
        v
    }

    /// Adds the MFA members of AdminGetUser / GetUser when set.
    pub fn mfa_json(&self, out: &mut Map<String, Value>) {
        if self.sms_mfa_enabled {
            out.insert(
                "MFAOptions".into(),
                serde_json::json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]),
            );
        }
        if let Some(p) = &self.preferred_mfa {
            out.insert("PreferredMfaSetting".into(), Value::String(p.clone()));
        }
        let factors = self.enabled_factors();
        if !factors.is_empty() {
            out.insert(
                "UserMFASettingList".into(),
                Value::Array(
                    factors
                        .into_iter()
                        .map(|f| Value::String(f.into()))
                        .collect(),
                ),
            );
        }
    }
}

/// What a session is waiting for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expecting {
    /// NEW_PASSWORD_REQUIRED.
    NewPassword,
    /// MFA_SETUP; `verified` once VerifySoftwareToken succeeded with this session's chain.
    MfaSetup {
        /// AssociateSoftwareToken was called with this session chain.
        associated: bool,
        /// VerifySoftwareToken succeeded.
        verified: bool,
    },
    /// SOFTWARE_TOKEN_MFA.
    SoftwareTokenMfa,
    /// SMS_MFA.
    SmsMfa,
    /// SELECT_MFA_TYPE.
    SelectMfaType,
    /// PASSWORD_VERIFIER (keyed by its SECRET_BLOCK, not a Session).
    PasswordVerifier {
        /// The key the client must have derived.
        key: SessionKey,
        /// USER_ID_FOR_SRP.
        user_id: String,
        /// A simulated challenge for an unknown user (PreventUserExistenceErrors).
        simulated: bool,
    },
    /// DEVICE_SRP_AUTH for the device in the session's [`DeviceSignIn`].
    DeviceSrpAuth,
    /// DEVICE_PASSWORD_VERIFIER (keyed by its SECRET_BLOCK).
    DevicePasswordVerifier {
        /// The key the client must have derived.
        key: SessionKey,
    },
}

impl Expecting {
    /// The ChallengeName this session answers.
    pub fn challenge_name(&self) -> &'static str {
        match self {
            Expecting::NewPassword => "NEW_PASSWORD_REQUIRED",
            Expecting::MfaSetup { .. } => "MFA_SETUP",
            Expecting::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            Expecting::SmsMfa => "SMS_MFA",
            Expecting::SelectMfaType => "SELECT_MFA_TYPE",
            Expecting::PasswordVerifier { .. } => "PASSWORD_VERIFIER",
            Expecting::DeviceSrpAuth => "DEVICE_SRP_AUTH",
            Expecting::DevicePasswordVerifier { .. } => "DEVICE_PASSWORD_VERIFIER",
        }
    }
}

/// A pending authentication, bound to pool, client, user and challenge.
#[derive(Clone, Debug)]
pub struct Session {
    /// Pool id.
    pub pool_id: String,
    /// Client id.
    pub client_id: String,
    /// The user's `sub` (stable across renames).
    pub sub: String,
    /// What the session answers.
    pub expecting: Expecting,
    /// Epoch milliseconds after which the session is expired.
    pub expires_ms: u64,
    /// Spent sessions are remembered so reuse gets its own message.
    pub used: bool,
    /// Whether it came from an admin (AdminInitiateAuth) flow.
    pub admin: bool,
    /// The device this sign-in uses (DEVICE_KEY), carried from challenge to challenge.
    pub device: DeviceSignIn,
}

/// The device of a sign-in in progress: the DEVICE_KEY sent, and whether
/// DEVICE_PASSWORD_VERIFIER proved it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceSignIn {
    /// DEVICE_KEY from the AuthParameters.
    pub key: Option<String>,
    /// The device's SRP proof succeeded in this sign-in.
    pub verified: bool,
}

/// A device Cognito handed out in NewDeviceMetadata.
#[derive(Clone, Debug)]
pub struct Device {
    /// Pool id.
    pub pool_id: String,
    /// The owner's `sub`.
    pub sub: String,
    /// `<region>_<uuid>`.
    pub key: String,
    /// The owner's DeviceGroupKey.
    pub group_key: String,
    /// DeviceName from ConfirmDevice.
    pub name: Option<String>,
    /// The SRP verifier and salt from ConfirmDevice; `None` until confirmed.
    pub secret: Option<DeviceSecret>,
    /// `dev:device_remembered_status` is `remembered`.
    pub remembered: bool,
    /// Epoch milliseconds.
    pub created_ms: u64,
    /// Epoch milliseconds.
    pub modified_ms: u64,
    /// Epoch milliseconds of the last sign-in with (or creating) this device.
    pub last_auth_ms: u64,
}

/// DeviceSecretVerifierConfig, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSecret {
    /// PasswordVerifier as a number.
    pub verifier: num_bigint::BigUint,
    /// Salt bytes (sent back as hex in DEVICE_PASSWORD_VERIFIER).
    pub salt: Vec<u8>,
}

impl std::fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSecret(<secret>)")
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE32HEX_LOWER: &[u8] = b"0123456789abcdefghijklmnopqrstuv";

/// `n` random characters from `alphabet`.
pub fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A pool id: `<region>_<9 alphanumerics>`.
pub fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", random_from(ALNUM, 9))
}

/// A client id: 26 characters of `[0-9a-v]`.
pub fn new_client_id() -> String {
    random_from(BASE32HEX_LOWER, 26)
}

/// A client secret: 52 characters of `[0-9a-v]`.
pub fn new_client_secret() -> String {
    random_from(BASE32HEX_LOWER, 52)
}

/// A six-digit code.
pub fn new_code() -> String {
    random_from(b"0123456789", 6)
}

/// `n` random bytes, base64url without padding (sessions).
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Epoch seconds with millisecond precision as a JSON number.
pub fn epoch_json(ms: u64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The text of a Boolean attribute (`email_verified`, `phone_number_verified`)
/// that means true. AWS stores the value as written and reads it back so
/// (https://github.com/aws-amplify/amplify-js/issues/8205: "True" set through
/// the SDK comes back as "True"), but takes "True" as verified: the API
/// reference spells it so (AdminCreateUser, ForceAliasCreation: "set to True",
/// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html)
/// and moto's AWS-verified `test_forgot_password_with_email_delivery_details`
/// sends a reset code to an email whose email_verified is "True"
/// (https://github.com/getmoto/moto/blob/master/tests/test_cognitoidp/test_cognitoidp.py).
/// Any other capitalisation of true/false is accepted alike (*inferred*).
pub fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

/// Whether `value` is a Boolean attribute's text: true or false in any
/// capitalisation (see [`is_true`]).
pub fn is_boolean_text(value: &str) -> bool {
    is_true(value) || value.eq_ignore_ascii_case("false")
}

/// Standard attributes of every pool: (name, type, mutable).
pub const STANDARD_ATTRIBUTES: &[(&str, &str, bool)] = &[
    ("sub", "String", false),
    ("name", "String", true),
    ("given_name", "String", true),
    ("family_name", "String", true),
    ("middle_name", "String", true),
    ("nickname", "String", true),
    ("preferred_username", "String", true),
    ("profile", "String", true),
    ("picture", "String", true),
    ("website", "String", true),
    ("email", "String", true),
    ("email_verified", "Boolean", true),
    ("gender", "String", true),
    ("birthdate", "String", true),
    ("zoneinfo", "String", true),
    ("locale", "String", true),
    ("phone_number", "String", true),
    ("phone_number_verified", "Boolean", true),
    ("address", "String", true),
    ("updated_at", "Number", true),
];
