//! USER_SRP_AUTH and device tracking, driven with the `aws-cognito-srp` crate
//! as an independent client (its maths is not the stub's).

use aws_cognito_srp::{SrpClient, TrackedDevice, UntrackedDevice, User};
use serde_json::{Value, json};

use super::{PW, T, code_at};

const SRP_FLOWS: &[&str] = &["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"];

fn srp_client(t: &T, pool: &str, extra: Value) -> String {
    let mut body = json!({"ExplicitAuthFlows": SRP_FLOWS});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    t.client(pool, body).0
}

fn access_claims(r: &Value) -> Value {
    let token = r["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    crate::auth::jwt::decode(token).unwrap().claims
}

/// InitiateAuth USER_SRP_AUTH; returns the client and the PASSWORD_VERIFIER challenge.
fn start(
    t: &T,
    pool: &str,
    client: &str,
    name: &str,
    password: &str,
    device_key: Option<&str>,
) -> (SrpClient<User>, Value) {
    let srp = SrpClient::new(User::new(pool, name, password), client, None);
    let a = srp.get_auth_parameters().a;
    let mut params = json!({"USERNAME": name, "SRP_A": a});
    if let Some(k) = device_key {
        params["DEVICE_KEY"] = json!(k);
    }
    let c = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client, "AuthParameters": params}),
    );
    (srp, c)
}

/// The PASSWORD_VERIFIER answer the client computes, with `timestamp` override.
fn claim(srp: &SrpClient<User>, c: &Value) -> Value {
    let cp = &c["ChallengeParameters"];
    let s = |k: &str| cp[k].as_str().unwrap().to_string();
    let v = srp
        .verify(
            &s("SECRET_BLOCK"),
            &s("USER_ID_FOR_SRP"),
            &s("SALT"),
            &s("SRP_B"),
        )
        .unwrap();
    json!({
        "USERNAME": s("USER_ID_FOR_SRP"),
        "PASSWORD_CLAIM_SECRET_BLOCK": v.password_claim_secret_block,
        "PASSWORD_CLAIM_SIGNATURE": v.password_claim_signature,
        "TIMESTAMP": v.timestamp,
    })
}

fn respond(t: &T, client: &str, name: &str, responses: Value) -> crate::stub::StubResponse {
    t.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": name, "ChallengeResponses": responses}),
    )
}

/// A full SRP sign-in (no devices, no MFA) returning the final response.
fn srp_sign_in(t: &T, pool: &str, client: &str, name: &str, password: &str) -> Value {
    let (srp, c) = start(t, pool, client, name, password, None);
    respond(t, client, "PASSWORD_VERIFIER", claim(&srp, &c)).json()
}

#[test]
fn srp_right_password_signs_in_wrong_password_fails() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = srp_client(&t, &pool, json!({}));
    t.confirmed_user(&pool, "ann", PW);
    let (srp, c) = start(&t, &pool, &client, "ann", PW, None);
    assert_eq!(c["ChallengeName"], "PASSWORD_VERIFIER");
    assert!(c.get("Session").is_none(), "{c}");
    let cp = &c["ChallengeParameters"];
    assert_eq!(cp["USER_ID_FOR_SRP"], "ann");
    assert_eq!(cp["USERNAME"], "ann");
    for k in ["SALT", "SRP_B", "SECRET_BLOCK"] {
        assert!(cp[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    let ok = respond(&t, &client, "PASSWORD_VERIFIER", claim(&srp, &c));
    assert_eq!(ok.status, 200, "{}", ok.json());
    assert_eq!(access_claims(&ok.json())["username"], "ann");
    // The salt is stable for the user; B is fresh each time.
    let (_, again) = start(&t, &pool, &client, "ann", PW, None);
    assert_eq!(again["ChallengeParameters"]["SALT"], cp["SALT"]);
    assert_ne!(again["ChallengeParameters"]["SRP_B"], cp["SRP_B"]);

    let r = srp_sign_in(&t, &pool, &client, "ann", "Wrong-passw0rd!");
    assert_eq!(r["__type"], "NotAuthorizedException");
    assert_eq!(r["message"], "Incorrect username or password.");

    // By email alias: USER_ID_FOR_SRP is the real username.
    let alias_pool = t.pool(json!({"AliasAttributes": ["email"]}));
    let alias_client = srp_client(&t, &alias_pool, json!({}));
    t.confirmed_user(&alias_pool, "bob", PW);
    let (srp, c) = start(&t, &alias_pool, &alias_client, "bob@example.com", PW, None);
    assert_eq!(c["ChallengeParameters"]["USER_ID_FOR_SRP"], "bob");
    let ok = respond(&t, &alias_client, "PASSWORD_VERIFIER", claim(&srp, &c));
    assert_eq!(ok.status, 200, "{}", ok.json());

    // AdminInitiateAuth takes USER_SRP_AUTH too.
    let srp = SrpClient::new(User::new(&pool, "ann", PW), &client, None);
    let c = t.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_SRP_AUTH",
               "AuthParameters": {"USERNAME": "ann", "SRP_A": srp.get_auth_parameters().a}}),
    );
    let r = t.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "PASSWORD_VERIFIER",
               "ChallengeResponses": claim(&srp, &c)}),
    );
    assert!(r["AuthenticationResult"]["AccessToken"].is_string());
}

#[test]
fn timestamp_secret_block_and_replay_are_checked() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = srp_client(&t, &pool, json!({}));
    t.confirmed_user(&pool, "cy", PW);
    let (srp, c) = start(&t, &pool, &client, "cy", PW, None);
    let good = claim(&srp, &c);

    let mut bad = good.clone();
    bad["TIMESTAMP"] = json!("2026-11-05T09:08:07Z");
    let r = respond(&t, &client, "PASSWORD_VERIFIER", bad).json();
    assert_eq!(r["__type"], "InvalidParameterException");
    assert_eq!(
        r["message"],
        "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
    );

    // A tampered SECRET_BLOCK.
    let (srp, c) = start(&t, &pool, &client, "cy", PW, None);
    let mut tampered = claim(&srp, &c);
    let block = tampered["PASSWORD_CLAIM_SECRET_BLOCK"].as_str().unwrap();
    let flipped = if block.starts_with('A') { "B" } else { "A" };
    tampered["PASSWORD_CLAIM_SECRET_BLOCK"] = json!(format!("{flipped}{}", &block[1..]));
    let r = respond(&t, &client, "PASSWORD_VERIFIER", tampered).json();
    assert_eq!(r["__type"], "NotAuthorizedException");
    assert_eq!(r["message"], "Incorrect username or password.");

    // A wrong signature with the right block.
    let mut forged = claim(&srp, &c);
    forged["PASSWORD_CLAIM_SIGNATURE"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let r = respond(&t, &client, "PASSWORD_VERIFIER", forged).json();
    assert_eq!(r["message"], "Incorrect username or password.");

    // The challenge expires on the stub's clock.
    let (srp, c) = start(&t, &pool, &client, "cy", PW, None);
    t.clock()
        .advance(std::time::Duration::from_secs(3 * 60 + 1));
    let r = respond(&t, &client, "PASSWORD_VERIFIER", claim(&srp, &c)).json();
    assert_eq!(
        r["message"],
        "Invalid session for the user, session is expired."
    );
}

/// UTC instants at calendar edges, as unix milliseconds: a one-digit day, a
/// two-digit day, month end, 29 February, year end two seconds before midnight.
const CALENDAR_EDGES: &[(&str, u64)] = &[
    ("1st of a month", 1_796_083_200_000),  // 2026-12-01T00:00:00Z
    ("9th of a month", 1_796_802_245_000),  // 2026-12-09T07:44:05Z
    ("10th of a month", 1_796_860_800_000), // 2026-12-10T00:00:00Z
    ("15th of a month", 1_797_336_000_000), // 2026-12-15T12:00:00Z
    ("30 November", 1_796_083_199_000),     // 2026-11-30T23:59:59Z
    ("29 February", 1_835_395_200_000),     // 2028-02-29T00:00:00Z
    ("31 December", 1_798_761_598_000),     // 2026-12-31T23:59:58Z
];

/// PASSWORD_VERIFIER answered with the project's own SRP client, which signs
/// `signed` and sends `sent` as TIMESTAMP.
fn claim_with_timestamps(
    t: &T,
    pool: &str,
    client: &str,
    name: &str,
    signed: &str,
    sent: &str,
) -> Value {
    use crate::auth::srp::{Challenge, SrpSecret};
    let secret = SrpSecret::generate();
    let c = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": name, "SRP_A": secret.public_hex()}}),
    );
    let cp = &c["ChallengeParameters"];
    let s = |k: &str| cp[k].as_str().unwrap().to_string();
    let (salt, srp_b, block, user_id) = (
        s("SALT"),
        s("SRP_B"),
        s("SECRET_BLOCK"),
        s("USER_ID_FOR_SRP"),
    );
    let challenge = Challenge {
        salt: &salt,
        srp_b: &srp_b,
        secret_block: &block,
    };
    let signature = secret
        .user_signature(pool, &user_id, PW, challenge, signed)
        .unwrap();
    json!({
        "USERNAME": user_id,
        "PASSWORD_CLAIM_SECRET_BLOCK": block,
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "TIMESTAMP": sent,
    })
}

/// The signature covers the TIMESTAMP text as sent: on every calendar edge,
/// the canonical and a zero-padded rendering are accepted when they are what
/// was signed, and refused when another rendering was signed.
#[test]
fn timestamp_is_checked_as_sent_on_every_calendar_edge() {
    for &(edge, millis) in CALENDAR_EDGES {
        let t = T::at(millis);
        let pool = t.pool(json!({}));
        let client = srp_client(&t, &pool, json!({}));
        t.confirmed_user(&pool, "cy", PW);
        let canonical = crate::auth::srp::timestamp(t.clock().now_millis());
        let parts: Vec<&str> = canonical.split(' ').collect();
        let padded = format!(
            "{} {} {:0>2} {} {} {}",
            parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]
        );
        assert_eq!(parts[2].len() == 1, padded != canonical, "{edge}");
        for (signed, sent, accepted) in [
            (&canonical, &canonical, true),
            (&padded, &padded, true),
            (&canonical, &padded, canonical == padded),
            (&padded, &canonical, canonical == padded),
        ] {
            let answer = claim_with_timestamps(&t, &pool, &client, "cy", signed, sent);
            let r = respond(&t, &client, "PASSWORD_VERIFIER", answer).json();
            if accepted {
                assert!(
                    r["AuthenticationResult"]["AccessToken"].is_string(),
                    "{edge}: signed {signed:?}, sent {sent:?}: {r}"
                );
            } else {
                assert_eq!(
                    r["message"], "Incorrect username or password.",
                    "{edge}: signed {signed:?}, sent {sent:?}"
                );
            }
        }
    }
}

/// A refused claim spends the challenge: the right answer afterwards is too late.
#[test]
fn a_wrong_timestamp_signature_spends_the_challenge() {
    let t = T::at(CALENDAR_EDGES[0].1);
    let pool = t.pool(json!({}));
    let client = srp_client(&t, &pool, json!({}));
    t.confirmed_user(&pool, "cy", PW);
    let (srp, c) = start(&t, &pool, &client, "cy", PW, None);
    let good = claim(&srp, &c);
    let mut other = good.clone();
    other["TIMESTAMP"] = json!("Tue Dec 1 00:00:00 UTC 2026");
    if other["TIMESTAMP"] == good["TIMESTAMP"] {
        other["TIMESTAMP"] = json!("Wed Dec 2 00:00:00 UTC 2026");
    }
    let r = respond(&t, &client, "PASSWORD_VERIFIER", other).json();
    assert_eq!(r["message"], "Incorrect username or password.");
    let r = respond(&t, &client, "PASSWORD_VERIFIER", good).json();
    assert_eq!(
        r["message"],
        "Invalid session for the user, session can only be used once."
    );
}

#[test]
fn srp_respects_client_settings_and_user_existence() {
    let t = T::new();
    let pool = t.pool(json!({}));
    t.confirmed_user(&pool, "dee", PW);
    let password_only = t.password_client(&pool);
    let a = SrpClient::new(User::new(&pool, "dee", PW), &password_only, None)
        .get_auth_parameters()
        .a;
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": password_only, "AuthParameters": {"USERNAME": "dee", "SRP_A": a}}),
        "InvalidParameterException",
        "USER_SRP_AUTH is not enabled for the client.",
    );
    let legacy = srp_client(&t, &pool, json!({}));
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": legacy, "AuthParameters": {"USERNAME": "nobody", "SRP_A": a}}),
        "UserNotFoundException",
        "User does not exist.",
    );
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": legacy, "AuthParameters": {"USERNAME": "dee", "SRP_A": "0"}}),
        "InvalidParameterException",
        "SRP_A must be a hexadecimal number that is not 0 mod N",
    );
    // PreventUserExistenceErrors: a simulated, stable challenge that always fails.
    let hiding = srp_client(&t, &pool, json!({"PreventUserExistenceErrors": "ENABLED"}));
    let (srp, c) = start(&t, &pool, &hiding, "nobody", PW, None);
    assert_eq!(c["ChallengeName"], "PASSWORD_VERIFIER");
    let (_, c2) = start(&t, &pool, &hiding, "nobody", PW, None);
    assert_eq!(
        c["ChallengeParameters"]["SALT"],
        c2["ChallengeParameters"]["SALT"]
    );
    assert_eq!(
        c["ChallengeParameters"]["USER_ID_FOR_SRP"],
        c2["ChallengeParameters"]["USER_ID_FOR_SRP"]
    );
    let r = respond(&t, &hiding, "PASSWORD_VERIFIER", claim(&srp, &c)).json();
    assert_eq!(r["__type"], "NotAuthorizedException");
    assert_eq!(r["message"], "Incorrect username or password.");

    // A client secret: SECRET_HASH on both calls.
    let (secret_client, secret) = t.client(
        &pool,
        json!({"ExplicitAuthFlows": SRP_FLOWS, "GenerateSecret": true}),
    );
    let secret = secret.unwrap();
    let srp = SrpClient::new(User::new(&pool, "dee", PW), &secret_client, Some(&secret));
    let params = srp.get_auth_parameters();
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": secret_client, "AuthParameters": {"USERNAME": "dee", "SRP_A": params.a}}),
        "NotAuthorizedException",
        &format!("Client {secret_client} is configured with secret but SECRET_HASH was not received"),
    );
    let hash = srp.get_secret_hash().unwrap();
    let c = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": secret_client,
               "AuthParameters": {"USERNAME": "dee", "SRP_A": params.a, "SECRET_HASH": hash}}),
    );
    let mut answer = claim(&srp, &c);
    answer["SECRET_HASH"] = json!(hash);
    let r = respond(&t, &secret_client, "PASSWORD_VERIFIER", answer);
    assert_eq!(r.status, 200, "{}", r.json());

    // The user's state is checked after the proof, as with a password.
    t.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "dee"}),
    );
    let r = srp_sign_in(&t, &pool, &legacy, "dee", PW);
    assert_eq!(r["message"], "User is disabled.");
    let r = srp_sign_in(&t, &pool, &legacy, "dee", "Wrong-passw0rd!");
    assert_eq!(r["message"], "Incorrect username or password.");
}

#[test]
fn srp_then_new_password_required() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = srp_client(&t, &pool, json!({}));
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "eve", "TemporaryPassword": PW, "MessageAction": "SUPPRESS"}),
    );
    let r = srp_sign_in(&t, &pool, &client, "eve", PW);
    assert_eq!(r["ChallengeName"], "NEW_PASSWORD_REQUIRED", "{r}");
    assert!(r["Session"].is_string());
}

/// A pool with TOTP MFA and device tracking, a user with TOTP enabled.
/// Returns (pool, client, TOTP secret).
fn device_pool(t: &T, mfa: &str, device_config: Value, user: &str) -> (String, String, String) {
    let pool = t.pool(json!({"DeviceConfiguration": device_config}));
    t.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": mfa, "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let client = srp_client(t, &pool, json!({}));
    t.confirmed_user(&pool, user, PW);
    // Enrol TOTP with the first sign-in's access token (MFA OPTIONAL lets it through).
    let first = srp_sign_in(t, &pool, &client, user, PW);
    let access = first["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let secret = t.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": code_at(t, &secret, 0)}),
    );
    t.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    (pool, client, secret)
}

/// SRP sign-in answering SOFTWARE_TOKEN_MFA; returns the tokens response.
fn sign_in_with_mfa(t: &T, pool: &str, client: &str, user: &str, secret: &str) -> Value {
    let r = srp_sign_in(t, pool, client, user, PW);
    assert_eq!(r["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{r}");
    // Each TOTP code works once: move to the next window.
    t.clock().advance(std::time::Duration::from_secs(30));
    t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": r["Session"],
               "ChallengeResponses": {"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code_at(t, secret, 0)}}),
    )
}

/// Confirms the device of `tokens` (NewDeviceMetadata) as the client libraries
/// do; returns (device, key, UserConfirmationNecessary).
fn confirm(t: &T, pool: &str, client: &str, tokens: &Value) -> (TrackedDevice, String, bool) {
    let meta = &tokens["AuthenticationResult"]["NewDeviceMetadata"];
    let key = meta["DeviceKey"]
        .as_str()
        .expect("NewDeviceMetadata")
        .to_string();
    let group = meta["DeviceGroupKey"].as_str().unwrap().to_string();
    let untracked = SrpClient::new(UntrackedDevice::new(pool, &group, &key), client, None);
    let v = untracked.get_password_verifier();
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let r = t.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceName": "laptop",
               "DeviceSecretVerifierConfig": {"PasswordVerifier": v.verifier, "Salt": v.salt}}),
    );
    let necessary = r["UserConfirmationNecessary"].as_bool().unwrap();
    let device = untracked.take_credentials().into_tracked(&v.password);
    (device, key, necessary)
}

#[test]
fn remembered_device_skips_mfa_until_forgotten() {
    let t = T::new();
    let config =
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false});
    let (pool, client, secret) = device_pool(&t, "OPTIONAL", config.clone(), "fay");
    assert_eq!(
        t.ok("DescribeUserPool", json!({"UserPoolId": pool}))["UserPool"]["DeviceConfiguration"],
        config
    );
    let tokens = sign_in_with_mfa(&t, &pool, &client, "fay", &secret);
    let meta = &tokens["AuthenticationResult"]["NewDeviceMetadata"];
    let key = meta["DeviceKey"].as_str().unwrap().to_string();
    let group = meta["DeviceGroupKey"].as_str().unwrap().to_string();
    assert!(key.starts_with("us-east-1_"), "{key}");
    assert_eq!(access_claims(&tokens)["device_key"], json!(key));
    let (device, key, necessary) = confirm(&t, &pool, &client, &tokens);
    assert!(!necessary);
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = t.ok("ListDevices", json!({"AccessToken": access}));
    assert_eq!(listed["Devices"].as_array().unwrap().len(), 1);
    let attrs = &listed["Devices"][0]["DeviceAttributes"];
    assert!(
        attrs
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "dev:device_remembered_status", "Value": "remembered"}))
    );
    assert!(
        attrs
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "device_name", "Value": "laptop"}))
    );

    // Signing in from the remembered device: no MFA, no new device.
    let r = device_sign_in(&t, &pool, &client, "fay", &device, &key);
    assert_eq!(r.status, 200, "{}", r.json());
    let r = r.json();
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");
    assert!(r["AuthenticationResult"].get("NewDeviceMetadata").is_none());
    assert_eq!(access_claims(&r)["device_key"], json!(key));

    // A wrong device password fails.
    let impostor = TrackedDevice::new(&pool, &group, &key, "not-the-password");
    let r = device_sign_in(&t, &pool, &client, "fay", &impostor, &key).json();
    assert_eq!(r["__type"], "NotAuthorizedException");
    assert_eq!(r["message"], "Incorrect username or password.");

    // Forgetting the device brings MFA back; its key is now unknown.
    t.ok(
        "ForgetDevice",
        json!({"AccessToken": access, "DeviceKey": key}),
    );
    let r = device_sign_in(&t, &pool, &client, "fay", &device, &key).json();
    assert_eq!(r["__type"], "ResourceNotFoundException");
    assert_eq!(r["message"], "Device does not exist.");
    let r = srp_sign_in(&t, &pool, &client, "fay", PW);
    assert_eq!(r["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    t.assert_err(
        "GetDevice",
        json!({"AccessToken": access, "DeviceKey": key}),
        "ResourceNotFoundException",
        "Device does not exist.",
    );
}

#[test]
fn user_prompt_decides_what_is_remembered() {
    let t = T::new();
    let config =
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": true});
    let (pool, client, secret) = device_pool(&t, "OPTIONAL", config, "gus");
    let tokens = sign_in_with_mfa(&t, &pool, &client, "gus", &secret);
    let (device, key, necessary) = confirm(&t, &pool, &client, &tokens);
    assert!(necessary);
    let got = t.ok(
        "AdminGetDevice",
        json!({"UserPoolId": pool, "Username": "gus", "DeviceKey": key}),
    );
    assert!(
        got["Device"]["DeviceAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "dev:device_remembered_status", "Value": "not_remembered"}))
    );
    // A confirmed but not remembered device is proven, then MFA still applies.
    let r = device_sign_in(&t, &pool, &client, "gus", &device, &key).json();
    assert_eq!(r["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{r}");

    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    t.ok(
        "UpdateDeviceStatus",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceRememberedStatus": "remembered"}),
    );
    let r = device_sign_in(&t, &pool, &client, "gus", &device, &key).json();
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");

    t.ok(
        "AdminUpdateDeviceStatus",
        json!({"UserPoolId": pool, "Username": "gus", "DeviceKey": key, "DeviceRememberedStatus": "not_remembered"}),
    );
    let r = device_sign_in(&t, &pool, &client, "gus", &device, &key).json();
    assert_eq!(r["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{r}");

    let listed = t.ok(
        "AdminListDevices",
        json!({"UserPoolId": pool, "Username": "gus"}),
    );
    assert_eq!(listed["Devices"].as_array().unwrap().len(), 1);
    t.ok(
        "AdminForgetDevice",
        json!({"UserPoolId": pool, "Username": "gus", "DeviceKey": key}),
    );
    let listed = t.ok(
        "AdminListDevices",
        json!({"UserPoolId": pool, "Username": "gus"}),
    );
    assert_eq!(listed["Devices"], json!([]));
}

#[test]
fn remembered_devices_skip_mfa_only_when_the_pool_says_so() {
    let t = T::new();
    let config =
        json!({"ChallengeRequiredOnNewDevice": false, "DeviceOnlyRememberedOnUserPrompt": false});
    let (pool, client, secret) = device_pool(&t, "OPTIONAL", config, "hal");
    let tokens = sign_in_with_mfa(&t, &pool, &client, "hal", &secret);
    let (device, key, necessary) = confirm(&t, &pool, &client, &tokens);
    assert!(!necessary);
    let r = device_sign_in(&t, &pool, &client, "hal", &device, &key).json();
    assert_eq!(r["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{r}");
}

#[test]
fn without_device_tracking_there_is_no_device_metadata() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = srp_client(&t, &pool, json!({}));
    t.confirmed_user(&pool, "ivy", PW);
    let r = srp_sign_in(&t, &pool, &client, "ivy", PW);
    assert!(r["AuthenticationResult"].get("NewDeviceMetadata").is_none());
    assert!(access_claims(&r).get("device_key").is_none());
    let access = r["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    t.assert_err(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": "us-east-1_00000000-0000-0000-0000-000000000000",
               "DeviceSecretVerifierConfig": {"PasswordVerifier": "AQ==", "Salt": "AQ=="}}),
        "InvalidParameterException",
        "Device tracking is not enabled for the user pool.",
    );
}

/// Device sign-in: USER_SRP_AUTH with DEVICE_KEY, PASSWORD_VERIFIER,
/// DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER. Returns the last response.
fn device_sign_in(
    t: &T,
    pool: &str,
    client: &str,
    user: &str,
    device: &TrackedDevice,
    device_key: &str,
) -> crate::stub::StubResponse {
    let (srp, c) = start(t, pool, client, user, PW, Some(device_key));
    let mut answer = claim(&srp, &c);
    answer["DEVICE_KEY"] = json!(device_key);
    let r = respond(t, client, "PASSWORD_VERIFIER", answer);
    let v = r.json();
    if v["ChallengeName"] != "DEVICE_SRP_AUTH" {
        return r;
    }
    assert_eq!(v["ChallengeParameters"]["USERNAME"], user);
    prove_device(t, client, user, device, device_key, Some(&v["Session"]))
}

/// Answers DEVICE_SRP_AUTH (with `session`, or none as the official AWS
/// examples do) and then DEVICE_PASSWORD_VERIFIER; returns the last response.
fn prove_device(
    t: &T,
    client: &str,
    user: &str,
    device: &TrackedDevice,
    device_key: &str,
    session: Option<&Value>,
) -> crate::stub::StubResponse {
    let dev = SrpClient::new(device.clone(), client, None);
    let a = dev.get_auth_parameters().a;
    let mut body = json!({"ClientId": client, "ChallengeName": "DEVICE_SRP_AUTH",
           "ChallengeResponses": {"USERNAME": user, "DEVICE_KEY": device_key, "SRP_A": a}});
    if let Some(s) = session {
        body["Session"] = s.clone();
    }
    let c = t.ok("RespondToAuthChallenge", body);
    assert_eq!(c["ChallengeName"], "DEVICE_PASSWORD_VERIFIER", "{c}");
    let cp = &c["ChallengeParameters"];
    let s = |k: &str| cp[k].as_str().unwrap().to_string();
    let proof = dev
        .verify(&s("SECRET_BLOCK"), &s("SALT"), &s("SRP_B"))
        .unwrap();
    t.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "DEVICE_PASSWORD_VERIFIER", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": user, "DEVICE_KEY": device_key,
                   "PASSWORD_CLAIM_SECRET_BLOCK": proof.password_claim_secret_block,
                   "PASSWORD_CLAIM_SIGNATURE": proof.password_claim_signature,
                   "TIMESTAMP": proof.timestamp}}),
    )
}

/// A pool remembering every device (no MFA), a client allowing password and
/// SRP sign-in, and user `name` with a confirmed device. Returns (pool,
/// client, device, key).
fn confirmed_device(t: &T, name: &str) -> (String, String, TrackedDevice, String) {
    let pool = t.pool(json!({"DeviceConfiguration":
        {"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false}}));
    let client = srp_client(
        t,
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    t.confirmed_user(&pool, name, PW);
    let tokens = t.sign_in(&client, name, PW);
    let (device, key, _) = confirm(t, &pool, &client, &tokens);
    (pool, client, device, key)
}

/// USER_PASSWORD_AUTH with DEVICE_KEY, as the official AWS Python example
/// `sign_in_with_tracked_device` starts; the DEVICE_SRP_AUTH challenge.
fn password_sign_in_with_device(t: &T, client: &str, name: &str, key: &str) -> Value {
    let c = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": name, "PASSWORD": PW, "DEVICE_KEY": key}}),
    );
    assert_eq!(c["ChallengeName"], "DEVICE_SRP_AUTH", "{c}");
    c
}

#[test]
fn device_srp_auth_may_be_answered_without_a_session() {
    let t = T::new();
    let (pool, client, device, key) = confirmed_device(&t, "joe");
    // The Python and Java examples: password, then DEVICE_SRP_AUTH with no Session.
    password_sign_in_with_device(&t, &client, "joe", &key);
    let r = prove_device(&t, &client, "joe", &device, &key, None);
    assert_eq!(r.status, 200, "{}", r.json());
    let r = r.json();
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");
    assert_eq!(access_claims(&r)["device_key"], json!(key));
    // The same after an SRP password proof.
    let (srp, c) = start(&t, &pool, &client, "joe", PW, Some(&key));
    let v = respond(&t, &client, "PASSWORD_VERIFIER", claim(&srp, &c)).json();
    assert_eq!(v["ChallengeName"], "DEVICE_SRP_AUTH", "{v}");
    let r = prove_device(&t, &client, "joe", &device, &key, None).json();
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");
}

#[test]
fn a_sessionless_device_answer_still_needs_the_password_step() {
    let t = T::new();
    let (pool, client, device, key) = confirmed_device(&t, "kim");
    let dev = SrpClient::new(device.clone(), &client, None);
    let answer = |user: &str, device_key: &str| {
        json!({"ClientId": client, "ChallengeName": "DEVICE_SRP_AUTH",
               "ChallengeResponses": {"USERNAME": user, "DEVICE_KEY": device_key,
                                      "SRP_A": dev.get_auth_parameters().a}})
    };
    let missing = (
        "InvalidParameterException",
        "Missing required parameter Session",
    );
    // No sign-in issued DEVICE_SRP_AUTH: a device key alone does not start one.
    t.assert_err(
        "RespondToAuthChallenge",
        answer("kim", &key),
        missing.0,
        missing.1,
    );
    password_sign_in_with_device(&t, &client, "kim", &key);
    // Another user, or another device key, does not continue kim's challenge.
    t.confirmed_user(&pool, "lee", PW);
    t.assert_err(
        "RespondToAuthChallenge",
        answer("lee", &key),
        missing.0,
        missing.1,
    );
    let other = "us-east-1_00000000-0000-0000-0000-000000000000";
    t.assert_err(
        "RespondToAuthChallenge",
        answer("kim", other),
        missing.0,
        missing.1,
    );
    // Nor does the admin API continue a public sign-in.
    let mut admin = answer("kim", &key);
    admin["UserPoolId"] = json!(pool);
    t.assert_err("AdminRespondToAuthChallenge", admin, missing.0, missing.1);
    // The challenge is single-use: answered once, it is gone.
    t.ok("RespondToAuthChallenge", answer("kim", &key));
    t.assert_err(
        "RespondToAuthChallenge",
        answer("kim", &key),
        missing.0,
        missing.1,
    );
    // And it expires with the client's AuthSessionValidity (3 minutes by default).
    password_sign_in_with_device(&t, &client, "kim", &key);
    t.clock()
        .advance(std::time::Duration::from_secs(3 * 60 + 1));
    t.assert_err(
        "RespondToAuthChallenge",
        answer("kim", &key),
        missing.0,
        missing.1,
    );
    // Other challenges still need their Session.
    t.assert_err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA",
               "ChallengeResponses": {"USERNAME": "kim", "SOFTWARE_TOKEN_MFA_CODE": "123456"}}),
        missing.0,
        missing.1,
    );
}

#[test]
fn a_sessionless_admin_device_answer_continues_the_admin_sign_in() {
    let t = T::new();
    let (pool, _client, device, key) = confirmed_device(&t, "max");
    // The admin flow needs a client with ALLOW_ADMIN_USER_PASSWORD_AUTH.
    let admin_client = t.client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .0;
    let c = t.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": admin_client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "max", "PASSWORD": PW, "DEVICE_KEY": key}}),
    );
    assert_eq!(c["ChallengeName"], "DEVICE_SRP_AUTH", "{c}");
    let dev = SrpClient::new(device.clone(), &admin_client, None);
    let r = t.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": admin_client, "ChallengeName": "DEVICE_SRP_AUTH",
               "ChallengeResponses": {"USERNAME": "max", "DEVICE_KEY": key,
                                      "SRP_A": dev.get_auth_parameters().a}}),
    );
    assert_eq!(r["ChallengeName"], "DEVICE_PASSWORD_VERIFIER", "{r}");
}
