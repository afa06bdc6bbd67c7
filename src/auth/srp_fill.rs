//! Answers SRP and device-tracking challenges for the scenario, so a step
//! names the challenge and the runner supplies the maths.
//!
//! Per scenario run, an [`SrpAssistant`] follows the sign-ins and devices it sees:
//! - (Admin)InitiateAuth with `AuthFlow: USER_SRP_AUTH`: a `PASSWORD` in
//!   AuthParameters is taken out (never sent) and kept for the proof; `SRP_A`
//!   is added.
//! - (Admin)RespondToAuthChallenge, by `ChallengeName`:
//!   - `PASSWORD_VERIFIER`: USERNAME (= USER_ID_FOR_SRP), PASSWORD_CLAIM_SECRET_BLOCK,
//!     TIMESTAMP (the target's clock) and PASSWORD_CLAIM_SIGNATURE;
//!   - `DEVICE_SRP_AUTH`: USERNAME, DEVICE_KEY (the one the sign-in sent) and SRP_A;
//!   - `DEVICE_PASSWORD_VERIFIER`: as PASSWORD_VERIFIER, proved with the device password;
//!
//!   plus the challenge's `Session` and, when the sign-in sent one, DEVICE_KEY. A
//!   `PASSWORD` in ChallengeResponses replaces the password for the proof (for
//!   wrong-password tests) and is not sent.
//! - Every `AuthenticationResult.NewDeviceMetadata` is remembered; ConfirmDevice
//!   without `DeviceSecretVerifierConfig` gets one made from a fresh device
//!   password, which is remembered for that device's later sign-ins.
//!
//! As with SECRET_HASH, a value the scenario wrote is sent as written (the
//! proof is computed over a written TIMESTAMP or PASSWORD_CLAIM_SECRET_BLOCK),
//! and `null` sends none. The challenge a response answers is found by its
//! Session, else it is the latest sign-in waiting for that challenge.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::srp::{Challenge, SrpSecret, device_verifier, timestamp};

/// What the assistant needs to know about the run.
#[derive(Debug, Clone, Copy)]
pub struct SrpContext<'a> {
    /// The fixture's pool id (InitiateAuth carries none; the proof needs it).
    pub pool_id: Option<&'a str>,
    /// The target clock's time, for TIMESTAMP.
    pub now_millis: u64,
}

/// Why a request could not be completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrpFillError {
    /// The scenario asks for something the runner cannot do (message, hint).
    Scenario(String, String),
    /// The target's challenge cannot be answered (its values are malformed).
    Target(String),
}

/// A value the runner made up that must never be shown.
#[derive(Debug, Clone)]
pub struct HiddenValue {
    /// A name for placeholders and recordings (`device_password`, `srp_a_secret`).
    pub name: &'static str,
    pub value: String,
}

/// Per-scenario SRP and device state (see the module docs).
#[derive(Debug, Default)]
pub struct SrpAssistant {
    /// Sign-ins seen, oldest first (bounded).
    sign_ins: Vec<SignIn>,
    /// The sign-in the request being prepared belongs to (an index), or a new one.
    active: Option<Active>,
    /// DeviceKey → what is known about the device.
    devices: HashMap<String, Device>,
    /// Made-up secrets not yet handed to the caller.
    hidden: Vec<HiddenValue>,
}

#[derive(Debug)]
enum Active {
    New(Box<SignIn>),
    Existing(usize),
}

#[derive(Debug, Default)]
struct SignIn {
    username: Option<String>,
    password: Option<String>,
    pool_id: Option<String>,
    device_key: Option<String>,
    secret: Option<SrpSecret>,
    device_secret: Option<SrpSecret>,
    /// The latest challenge: name, parameters, session.
    challenge: Option<String>,
    parameters: Map<String, Value>,
    session: Option<String>,
}

impl SignIn {
    /// Who the challenge is about: USER_ID_FOR_SRP, else the challenge's USERNAME, else the name sent.
    fn user_id(&self) -> Option<String> {
        ["USER_ID_FOR_SRP", "USERNAME"]
            .iter()
            .find_map(|k| self.parameters.get(*k).and_then(Value::as_str))
            .map(str::to_string)
            .or_else(|| self.username.clone())
    }

    fn parameter(&self, key: &str) -> Result<&str, SrpFillError> {
        self.parameters
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SrpFillError::Target(format!(
                    "the {} challenge has no {key} in ChallengeParameters",
                    self.challenge.as_deref().unwrap_or("previous")
                ))
            })
    }
}

#[derive(Debug, Default)]
struct Device {
    group_key: String,
    password: Option<String>,
}

const MAX_SIGN_INS: usize = 32;

impl SrpAssistant {
    /// A fresh assistant for one scenario run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Secrets made since the last call (device passwords, SRP `a`): the
    /// caller registers them with the normaliser so they can never be shown.
    pub fn take_hidden(&mut self) -> Vec<HiddenValue> {
        std::mem::take(&mut self.hidden)
    }

    /// Completes a request body before it is sent (see the module docs).
    pub fn prepare(
        &mut self,
        operation: &str,
        body: &mut Value,
        ctx: SrpContext<'_>,
    ) -> Result<(), SrpFillError> {
        self.active = None;
        let Some(obj) = body.as_object_mut() else {
            return Ok(());
        };
        match operation {
            "InitiateAuth" | "AdminInitiateAuth" => {
                self.prepare_initiate(obj, ctx);
                Ok(())
            }
            "RespondToAuthChallenge" | "AdminRespondToAuthChallenge" => {
                self.prepare_respond(obj, ctx)
            }
            "ConfirmDevice" => self.prepare_confirm_device(obj, ctx),
            _ => Ok(()),
        }
    }

    /// Learns from a response: challenges and sessions of the sign-in it
    /// answers, and any NewDeviceMetadata.
    pub fn observe(&mut self, operation: &str, response: &Value, succeeded: bool) {
        let active = self.active.take();
        let meta = response.pointer("/AuthenticationResult/NewDeviceMetadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
        if let (Some(key), Some(group)) = (text("DeviceKey"), text("DeviceGroupKey")) {
            self.devices.entry(key.to_string()).or_default().group_key = group.to_string();
        }
        let is_auth = matches!(
            operation,
            "InitiateAuth"
                | "AdminInitiateAuth"
                | "RespondToAuthChallenge"
                | "AdminRespondToAuthChallenge"
        );
        if !succeeded || !is_auth {
            return;
        }
        let sign_in = match active {
            Some(Active::Existing(i)) => &mut self.sign_ins[i],
            Some(Active::New(s)) => {
                if self.sign_ins.len() == MAX_SIGN_INS {
                    self.sign_ins.remove(0);
                }
                self.sign_ins.push(*s);
                self.sign_ins.last_mut().expect("just pushed")
            }
            None => return,
        };
        sign_in.challenge = response
            .get("ChallengeName")
            .and_then(Value::as_str)
            .map(str::to_string);
        sign_in.parameters = response
            .get("ChallengeParameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        sign_in.session = response
            .get("Session")
            .and_then(Value::as_str)
            .map(str::to_string);
    }

    fn prepare_initiate(&mut self, obj: &mut Map<String, Value>, ctx: SrpContext<'_>) {
        let srp = obj.get("AuthFlow").and_then(Value::as_str) == Some("USER_SRP_AUTH");
        let pool_id = obj
            .get("UserPoolId")
            .and_then(Value::as_str)
            .or(ctx.pool_id)
            .map(str::to_string);
        let Some(params) = obj.get_mut("AuthParameters").and_then(Value::as_object_mut) else {
            return;
        };
        let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
        let mut sign_in = SignIn {
            username: text("USERNAME"),
            device_key: text("DEVICE_KEY"),
            pool_id,
            ..SignIn::default()
        };
        if srp {
            sign_in.password = match params.remove("PASSWORD") {
                Some(Value::String(p)) => Some(p),
                _ => None,
            };
            let secret = SrpSecret::generate();
            if fill(params, "SRP_A", || Ok(json!(secret.public_hex()))).is_ok_and(|f| f) {
                self.hide("srp_a_secret", secret.secret_hex());
                sign_in.secret = Some(secret);
            }
        }
        self.active = Some(Active::New(Box::new(sign_in)));
    }

    /// The sign-in a challenge response belongs to: by Session, else the
    /// latest one waiting for this challenge.
    fn find_sign_in(&self, obj: &Map<String, Value>, challenge: &str) -> Option<usize> {
        let session = obj.get("Session").and_then(Value::as_str);
        let newest_first = (0..self.sign_ins.len()).rev();
        if let Some(i) = newest_first
            .clone()
            .find(|i| session.is_some() && self.sign_ins[*i].session.as_deref() == session)
        {
            return Some(i);
        }
        newest_first
            .clone()
            .find(|i| self.sign_ins[*i].challenge.as_deref() == Some(challenge))
    }

    fn prepare_respond(
        &mut self,
        obj: &mut Map<String, Value>,
        ctx: SrpContext<'_>,
    ) -> Result<(), SrpFillError> {
        let challenge = obj
            .get("ChallengeName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let found = self.find_sign_in(obj, &challenge);
        if let Some(i) = found {
            self.active = Some(Active::Existing(i));
        }
        let srp_challenge = matches!(
            challenge.as_str(),
            "PASSWORD_VERIFIER" | "DEVICE_SRP_AUTH" | "DEVICE_PASSWORD_VERIFIER"
        );
        if !srp_challenge {
            return Ok(());
        }
        let Some(i) = found else {
            return Err(SrpFillError::Scenario(
                format!(
                    "no {challenge} challenge to answer: no earlier step of this scenario received one"
                ),
                format!(
                    "a {challenge} step follows the step whose response has `ChallengeName: {challenge}`; or write every ChallengeResponses value yourself"
                ),
            ));
        };
        let session = self.sign_ins[i].session.clone();
        if let Some(session) = session {
            fill(obj, "Session", || Ok(json!(session)))?;
        }
        let responses = obj.entry("ChallengeResponses").or_insert_with(|| json!({}));
        let Some(responses) = responses.as_object_mut() else {
            return Ok(());
        };
        let password_override = match responses.remove("PASSWORD") {
            Some(Value::String(p)) => Some(p),
            _ => None,
        };
        let now = timestamp(ctx.now_millis);
        let sign_in = &mut self.sign_ins[i];
        let user_id = sign_in.user_id();
        if let Some(user) = &user_id {
            fill(responses, "USERNAME", || Ok(json!(user)))?;
        }
        if let Some(key) = &sign_in.device_key {
            fill(responses, "DEVICE_KEY", || Ok(json!(key)))?;
        }
        match challenge.as_str() {
            "DEVICE_SRP_AUTH" => {
                if !responses.contains_key("DEVICE_KEY") {
                    return Err(SrpFillError::Scenario(
                        "DEVICE_SRP_AUTH needs a DEVICE_KEY and the sign-in sent none".into(),
                        "add `DEVICE_KEY: \"{{ device_key }}\"` to the AuthParameters that started the sign-in".into(),
                    ));
                }
                let secret = SrpSecret::generate();
                if fill(responses, "SRP_A", || Ok(json!(secret.public_hex())))? {
                    self.hidden.push(HiddenValue {
                        name: "srp_a_secret",
                        value: secret.secret_hex(),
                    });
                    sign_in.device_secret = Some(secret);
                }
                Ok(())
            }
            "PASSWORD_VERIFIER" => {
                let block = sign_in.parameter("SECRET_BLOCK")?.to_string();
                fill(responses, "PASSWORD_CLAIM_SECRET_BLOCK", || {
                    Ok(json!(block))
                })?;
                fill(responses, "TIMESTAMP", || Ok(json!(now)))?;
                if responses.contains_key("PASSWORD_CLAIM_SIGNATURE") {
                    fill(responses, "PASSWORD_CLAIM_SIGNATURE", || Ok(Value::Null))?;
                    return Ok(());
                }
                let secret = sign_in.secret.as_ref().ok_or_else(|| {
                    SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: the sign-in's SRP_A was written by the scenario".into(),
                        "let the runner make SRP_A, or write PASSWORD_CLAIM_SIGNATURE too".into(),
                    )
                })?;
                let password = password_override.as_deref().or(sign_in.password.as_deref()).ok_or_else(|| {
                    SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: no password".into(),
                        "give PASSWORD in the AuthParameters of the USER_SRP_AUTH call (it is not sent) or in these ChallengeResponses".into(),
                    )
                })?;
                let pool_id = sign_in.pool_id.as_deref().ok_or_else(|| {
                    SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: the pool id is unknown".into(),
                        "use a `pool:` fixture, or call AdminInitiateAuth with UserPoolId".into(),
                    )
                })?;
                let signature = secret
                    .user_signature(
                        pool_id,
                        sign_in.parameter("USER_ID_FOR_SRP")?,
                        password,
                        challenge_of(sign_in, responses, &block)?,
                        text_or(responses, "TIMESTAMP", &now),
                    )
                    .map_err(|e| {
                        SrpFillError::Target(format!("cannot answer PASSWORD_VERIFIER: {e}"))
                    })?;
                responses.insert("PASSWORD_CLAIM_SIGNATURE".into(), json!(signature));
                Ok(())
            }
            _ => {
                // DEVICE_PASSWORD_VERIFIER
                let block = sign_in.parameter("SECRET_BLOCK")?.to_string();
                fill(responses, "PASSWORD_CLAIM_SECRET_BLOCK", || {
                    Ok(json!(block))
                })?;
                fill(responses, "TIMESTAMP", || Ok(json!(now)))?;
                if responses.contains_key("PASSWORD_CLAIM_SIGNATURE") {
                    fill(responses, "PASSWORD_CLAIM_SIGNATURE", || Ok(Value::Null))?;
                    return Ok(());
                }
                let device_key = text_or(responses, "DEVICE_KEY", "").to_string();
                let secret = sign_in.device_secret.as_ref().ok_or_else(|| {
                    SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: the DEVICE_SRP_AUTH step's SRP_A was not made by the runner".into(),
                        "answer DEVICE_SRP_AUTH without SRP_A, or write PASSWORD_CLAIM_SIGNATURE too".into(),
                    )
                })?;
                let device = self.devices.get(&device_key);
                let group_key = device
                    .map(|d| d.group_key.as_str())
                    .filter(|g| !g.is_empty());
                let Some(group_key) = group_key else {
                    return Err(SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: this DEVICE_KEY was not seen in any NewDeviceMetadata of this scenario".into(),
                        "sign in with device tracking on and ConfirmDevice first (the runner remembers the device)".into(),
                    ));
                };
                let Some(password) = password_override
                    .as_deref()
                    .or(device.and_then(|d| d.password.as_deref()))
                else {
                    return Err(SrpFillError::Scenario(
                        "cannot compute PASSWORD_CLAIM_SIGNATURE: the device password is unknown".into(),
                        "confirm the device with ConfirmDevice without DeviceSecretVerifierConfig, so the runner makes and remembers its password".into(),
                    ));
                };
                let signature = secret
                    .device_signature(
                        group_key,
                        &device_key,
                        password,
                        challenge_of(sign_in, responses, &block)?,
                        text_or(responses, "TIMESTAMP", &now),
                    )
                    .map_err(|e| {
                        SrpFillError::Target(format!("cannot answer DEVICE_PASSWORD_VERIFIER: {e}"))
                    })?;
                responses.insert("PASSWORD_CLAIM_SIGNATURE".into(), json!(signature));
                Ok(())
            }
        }
    }

    fn prepare_confirm_device(
        &mut self,
        obj: &mut Map<String, Value>,
        ctx: SrpContext<'_>,
    ) -> Result<(), SrpFillError> {
        let Some(device_key) = obj.get("DeviceKey").and_then(Value::as_str) else {
            return Ok(());
        };
        let device_key = device_key.to_string();
        if obj.contains_key("DeviceSecretVerifierConfig") {
            return fill(obj, "DeviceSecretVerifierConfig", || Ok(Value::Null)).map(|_| ());
        }
        let Some(device) = self
            .devices
            .get_mut(&device_key)
            .filter(|d| !d.group_key.is_empty())
        else {
            return Err(SrpFillError::Scenario(
                "ConfirmDevice: this DeviceKey was not seen in any NewDeviceMetadata of this scenario, so its DeviceGroupKey is unknown".into(),
                "save the DeviceKey from `AuthenticationResult.NewDeviceMetadata.DeviceKey` of an earlier step, or write DeviceSecretVerifierConfig yourself".into(),
            ));
        };
        let made = device_verifier(ctx.pool_id.unwrap_or("_"), &device.group_key, &device_key);
        obj.insert(
            "DeviceSecretVerifierConfig".into(),
            json!({ "PasswordVerifier": made.password_verifier, "Salt": made.salt }),
        );
        device.password = Some(made.password.clone());
        self.hide("device_password", made.password);
        Ok(())
    }

    fn hide(&mut self, name: &'static str, value: String) {
        self.hidden.push(HiddenValue { name, value });
    }
}

/// The challenge values for the proof; a written PASSWORD_CLAIM_SECRET_BLOCK is signed as written.
fn challenge_of<'a>(
    sign_in: &'a SignIn,
    responses: &'a Map<String, Value>,
    block: &'a str,
) -> Result<Challenge<'a>, SrpFillError> {
    Ok(Challenge {
        salt: sign_in.parameter("SALT")?,
        srp_b: sign_in.parameter("SRP_B")?,
        secret_block: text_or(responses, "PASSWORD_CLAIM_SECRET_BLOCK", block),
    })
}

fn text_or<'a>(obj: &'a Map<String, Value>, key: &str, default: &'a str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or(default)
}

/// Absent → the made value; `null` → removed; anything else → kept.
/// Returns whether the made value was inserted.
fn fill(
    obj: &mut Map<String, Value>,
    key: &str,
    make: impl FnOnce() -> Result<Value, SrpFillError>,
) -> Result<bool, SrpFillError> {
    match obj.get(key) {
        Some(Value::Null) => {
            obj.remove(key);
            Ok(false)
        }
        Some(_) => Ok(false),
        None => {
            obj.insert(key.to_string(), make()?);
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: &str = "eu-west-1_Pool1";
    const NOW: u64 = 1_739_212_212_000;

    fn ctx() -> SrpContext<'static> {
        SrpContext {
            pool_id: Some(POOL),
            now_millis: NOW,
        }
    }

    fn secret_of(hidden: &[HiddenValue]) -> SrpSecret {
        let hex = &hidden
            .iter()
            .rfind(|h| h.name == "srp_a_secret")
            .expect("a secret was made")
            .value;
        let even = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex.clone()
        };
        let bytes: Vec<u8> = (0..even.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&even[i..i + 2], 16).unwrap())
            .collect();
        SrpSecret::from_bytes(&bytes)
    }

    fn verifier_challenge() -> Value {
        json!({
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": "a1b2c3d4e5f60718",
                "SRP_B": "1f2e3d4c5b6a79880123456789abcdef",
                "SECRET_BLOCK": "c2VjcmV0LWJsb2Nr",
                "USER_ID_FOR_SRP": "jane-id",
                "USERNAME": "jane-id",
            }
        })
    }

    fn challenge() -> Challenge<'static> {
        Challenge {
            salt: "a1b2c3d4e5f60718",
            srp_b: "1f2e3d4c5b6a79880123456789abcdef",
            secret_block: "c2VjcmV0LWJsb2Nr",
        }
    }

    /// Starts a USER_SRP_AUTH sign-in for jane and receives PASSWORD_VERIFIER.
    fn srp_sign_in(srp: &mut SrpAssistant) -> (Value, SrpSecret) {
        let mut body = json!({
            "ClientId": "cid",
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": {"USERNAME": "jane", "PASSWORD": "Pa55word!"}
        });
        srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
        let secret = secret_of(&srp.take_hidden());
        srp.observe("InitiateAuth", &verifier_challenge(), true);
        (body, secret)
    }

    #[test]
    fn user_srp_auth_sends_a_instead_of_the_password() {
        let mut srp = SrpAssistant::new();
        let (body, secret) = srp_sign_in(&mut srp);
        let params = &body["AuthParameters"];
        assert!(params.get("PASSWORD").is_none());
        assert_eq!(params["SRP_A"], json!(secret.public_hex()));
        assert_eq!(params["USERNAME"], "jane");

        // A written SRP_A is kept, null sends none; other flows keep their PASSWORD.
        for (given, expected) in [(json!("abc"), Some(json!("abc"))), (Value::Null, None)] {
            let mut body = json!({"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "j", "SRP_A": given}});
            srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
            assert_eq!(body["AuthParameters"].get("SRP_A").cloned(), expected);
        }
        let mut body = json!({"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "j", "PASSWORD": "p"}});
        srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
        assert_eq!(body["AuthParameters"]["PASSWORD"], "p");
        assert!(body["AuthParameters"].get("SRP_A").is_none());
    }

    #[test]
    fn password_verifier_is_answered() {
        let mut srp = SrpAssistant::new();
        let (_, secret) = srp_sign_in(&mut srp);
        let mut body = json!({"ClientId": "cid", "ChallengeName": "PASSWORD_VERIFIER"});
        srp.prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap();
        let ts = "Mon Feb 10 18:30:12 UTC 2025";
        let expected = secret
            .user_signature(POOL, "jane-id", "Pa55word!", challenge(), ts)
            .unwrap();
        assert_eq!(
            body["ChallengeResponses"],
            json!({
                "USERNAME": "jane-id",
                "PASSWORD_CLAIM_SECRET_BLOCK": "c2VjcmV0LWJsb2Nr",
                "TIMESTAMP": ts,
                "PASSWORD_CLAIM_SIGNATURE": expected,
            })
        );
    }

    #[test]
    fn written_values_win_and_shape_the_proof() {
        let mut srp = SrpAssistant::new();
        let (_, secret) = srp_sign_in(&mut srp);
        let mut body = json!({
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {
                "PASSWORD": "Wrong-pa55",
                "TIMESTAMP": "Tue Jan 6 00:00:00 UTC 2015",
                "PASSWORD_CLAIM_SECRET_BLOCK": null,
                "USERNAME": "jane",
            }
        });
        srp.prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap();
        let responses = &body["ChallengeResponses"];
        // The override password is used for the proof and never sent.
        let expected = secret
            .user_signature(
                POOL,
                "jane-id",
                "Wrong-pa55",
                challenge(),
                "Tue Jan 6 00:00:00 UTC 2015",
            )
            .unwrap();
        assert_eq!(responses["PASSWORD_CLAIM_SIGNATURE"], json!(expected));
        assert!(responses.get("PASSWORD").is_none());
        assert!(responses.get("PASSWORD_CLAIM_SECRET_BLOCK").is_none());
        assert_eq!(responses["USERNAME"], "jane");

        // A written signature is sent as written.
        let (_, _) = srp_sign_in(&mut srp);
        let mut body = json!({"ChallengeName": "PASSWORD_VERIFIER", "ChallengeResponses": {"PASSWORD_CLAIM_SIGNATURE": "forged"}});
        srp.prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap();
        assert_eq!(
            body["ChallengeResponses"]["PASSWORD_CLAIM_SIGNATURE"],
            "forged"
        );
    }

    #[test]
    fn device_tracking_end_to_end() {
        let mut srp = SrpAssistant::new();
        srp.observe(
            "RespondToAuthChallenge",
            &json!({"AuthenticationResult": {"AccessToken": "t", "NewDeviceMetadata": {"DeviceKey": "eu-west-1_dev1", "DeviceGroupKey": "-grp1"}}}),
            true,
        );
        let mut confirm =
            json!({"AccessToken": "t", "DeviceKey": "eu-west-1_dev1", "DeviceName": "laptop"});
        srp.prepare("ConfirmDevice", &mut confirm, ctx()).unwrap();
        let hidden = srp.take_hidden();
        let password = hidden
            .iter()
            .find(|h| h.name == "device_password")
            .unwrap()
            .value
            .clone();
        let config = &confirm["DeviceSecretVerifierConfig"];
        assert!(config["PasswordVerifier"].as_str().unwrap().len() > 300);
        assert!(config["Salt"].is_string());
        srp.observe(
            "ConfirmDevice",
            &json!({"UserConfirmationNecessary": false}),
            true,
        );

        // Sign in from the device: password flow with DEVICE_KEY → DEVICE_SRP_AUTH.
        let mut body = json!({"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "jane", "PASSWORD": "p", "DEVICE_KEY": "eu-west-1_dev1"}});
        srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
        srp.observe(
            "InitiateAuth",
            &json!({"ChallengeName": "DEVICE_SRP_AUTH", "Session": "s1", "ChallengeParameters": {}}),
            true,
        );
        let mut body = json!({"ClientId": "cid", "ChallengeName": "DEVICE_SRP_AUTH"});
        srp.prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap();
        let secret = secret_of(&srp.take_hidden());
        assert_eq!(body["Session"], "s1");
        assert_eq!(
            body["ChallengeResponses"],
            json!({"USERNAME": "jane", "DEVICE_KEY": "eu-west-1_dev1", "SRP_A": secret.public_hex()})
        );
        srp.observe(
            "RespondToAuthChallenge",
            &json!({"ChallengeName": "DEVICE_PASSWORD_VERIFIER", "Session": "s2", "ChallengeParameters": {
                "SALT": "a1b2c3d4e5f60718", "SRP_B": "1f2e3d4c5b6a79880123456789abcdef",
                "SECRET_BLOCK": "c2VjcmV0LWJsb2Nr", "USERNAME": "jane"}}),
            true,
        );
        let mut body = json!({"ClientId": "cid", "ChallengeName": "DEVICE_PASSWORD_VERIFIER"});
        srp.prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap();
        let ts = "Mon Feb 10 18:30:12 UTC 2025";
        let expected = secret
            .device_signature("-grp1", "eu-west-1_dev1", &password, challenge(), ts)
            .unwrap();
        assert_eq!(body["Session"], "s2");
        assert_eq!(
            body["ChallengeResponses"],
            json!({
                "USERNAME": "jane",
                "DEVICE_KEY": "eu-west-1_dev1",
                "PASSWORD_CLAIM_SECRET_BLOCK": "c2VjcmV0LWJsb2Nr",
                "TIMESTAMP": ts,
                "PASSWORD_CLAIM_SIGNATURE": expected,
            })
        );
    }

    #[test]
    fn explains_what_it_cannot_do() {
        let mut srp = SrpAssistant::new();
        let mut body = json!({"ChallengeName": "PASSWORD_VERIFIER"});
        let err = srp
            .prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap_err();
        assert!(
            matches!(err, SrpFillError::Scenario(m, _) if m.contains("no PASSWORD_VERIFIER challenge"))
        );

        let mut body = json!({"DeviceKey": "eu-west-1_nope", "AccessToken": "t"});
        let err = srp.prepare("ConfirmDevice", &mut body, ctx()).unwrap_err();
        assert!(matches!(err, SrpFillError::Scenario(m, _) if m.contains("NewDeviceMetadata")));

        // A target's malformed challenge is the target's fault.
        let mut body = json!({"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "j", "PASSWORD": "p"}});
        srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
        let mut bad = verifier_challenge();
        bad["ChallengeParameters"]["SRP_B"] = json!("not hex");
        srp.observe("InitiateAuth", &bad, true);
        let mut body = json!({"ChallengeName": "PASSWORD_VERIFIER"});
        let err = srp
            .prepare("RespondToAuthChallenge", &mut body, ctx())
            .unwrap_err();
        assert!(matches!(err, SrpFillError::Target(m) if m.contains("SRP_B")));

        // A failed InitiateAuth leaves nothing to answer.
        let mut srp = SrpAssistant::new();
        let mut body = json!({"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "j", "PASSWORD": "p"}});
        srp.prepare("InitiateAuth", &mut body, ctx()).unwrap();
        srp.observe(
            "InitiateAuth",
            &json!({"__type": "UserNotFoundException"}),
            false,
        );
        let mut body = json!({"ChallengeName": "PASSWORD_VERIFIER"});
        assert!(
            srp.prepare("RespondToAuthChallenge", &mut body, ctx())
                .is_err()
        );
    }
}
