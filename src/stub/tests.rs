//! Direct-dispatch tests of the stub: every handler area, success and AWS's
//! exact error codes and messages, plus full flows on the virtual clock.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::http::{HeaderMap, HeaderName, HeaderValue};

use super::*;
use crate::auth::secret_hash::secret_hash;
use crate::auth::totp;

struct T {
    svc: StubService,
}

fn headers(op: Option<&str>, signed: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Some(op) = op {
        h.insert(
            HeaderName::from_static("x-amz-target"),
            HeaderValue::from_str(&format!("{TARGET_PREFIX}{op}")).unwrap(),
        );
    }
    if signed {
        h.insert(
            HeaderName::from_static("authorization"),
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=abc",
            ),
        );
    }
    h
}

impl T {
    fn new() -> T {
        T {
            svc: StubService::new(&StubOptions::default()).unwrap(),
        }
    }

    /// A stub whose virtual clock starts at `unix_millis` (calendar-edge tests).
    fn at(unix_millis: u64) -> T {
        let options = StubOptions {
            clock: Clock::virtual_at_millis(unix_millis),
            ..StubOptions::default()
        };
        T {
            svc: StubService::new(&options).unwrap(),
        }
    }

    fn clock(&self) -> &Clock {
        self.svc.clock()
    }

    fn call(&self, op: &str, body: Value) -> StubResponse {
        self.svc
            .handle(&headers(Some(op), true), body.to_string().as_bytes())
    }

    #[track_caller]
    fn ok(&self, op: &str, body: Value) -> Value {
        let r = self.call(op, body);
        assert_eq!(
            r.status,
            200,
            "{op} failed: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    #[track_caller]
    fn err(&self, op: &str, body: Value) -> (String, String) {
        let r = self.call(op, body);
        assert_ne!(r.status, 200, "{op} unexpectedly succeeded: {}", r.json());
        let v = r.json();
        (
            v["__type"].as_str().unwrap_or_default().to_string(),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    #[track_caller]
    fn assert_err(&self, op: &str, body: Value, code: &str, message: &str) {
        let (c, m) = self.err(op, body);
        assert_eq!((c.as_str(), m.as_str()), (code, message), "{op}");
    }

    fn pool(&self, extra: Value) -> String {
        let mut body = json!({"PoolName": "test"});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        self.ok("CreateUserPool", body)["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn client(&self, pool: &str, extra: Value) -> (String, Option<String>) {
        let mut body = json!({"UserPoolId": pool, "ClientName": "app"});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let c = &self.ok("CreateUserPoolClient", body)["UserPoolClient"];
        (
            c["ClientId"].as_str().unwrap().to_string(),
            c["ClientSecret"].as_str().map(str::to_string),
        )
    }

    fn password_client(&self, pool: &str) -> String {
        self.client(
            pool,
            json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .0
    }

    fn confirmed_user(&self, pool: &str, name: &str, password: &str) {
        self.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                   "UserAttributes": [{"Name": "email", "Value": format!("{name}@example.com")}, {"Name": "email_verified", "Value": "true"}]}),
        );
        self.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": name, "Password": password, "Permanent": true}),
        );
    }

    fn sign_in(&self, client: &str, name: &str, password: &str) -> Value {
        self.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": name, "PASSWORD": password}}),
        )
    }
}

const PW: &str = "Passw0rd!";

mod attributes;
mod srp_devices;

// ---------------------------------------------------------------- protocol

#[test]
fn errors_have_aws_shape_and_headers() {
    let t = T::new();
    let r = t.call("DescribeUserPool", json!({"UserPoolId": "us-east-1_nope"}));
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    assert_eq!(
        r.json(),
        json!({"__type": "ResourceNotFoundException", "message": "User pool us-east-1_nope does not exist."})
    );
    let h: std::collections::HashMap<_, _> = r.headers.iter().cloned().collect();
    assert_eq!(h["x-amzn-ErrorType"], "ResourceNotFoundException:");
    assert!(h.contains_key("x-amzn-RequestId"));
}

#[test]
fn unknown_missing_and_unsupported_operations() {
    let t = T::new();
    let r = t.svc.handle(&headers(None, true), b"{}");
    assert_eq!(
        (r.status, r.json()["__type"].clone()),
        (400, json!("UnknownOperationException"))
    );
    let r = t.call("FlyToTheMoon", json!({}));
    assert_eq!(r.json()["__type"], "UnknownOperationException");
    let mut h = headers(None, true);
    h.insert(
        HeaderName::from_static("x-amz-target"),
        HeaderValue::from_static("SomeOtherService.ListUsers"),
    );
    assert_eq!(
        t.svc.handle(&h, b"{}").json()["__type"],
        "UnknownOperationException"
    );
    let (code, msg) = t.err("CreateGroup", json!({"UserPoolId": "x", "GroupName": "g"}));
    assert_eq!(code, "NotSupportedByStubException");
    assert!(
        msg.contains("CreateGroup") && msg.contains("not supported by the cognito-scenarios stub")
    );
}

#[test]
fn admin_operations_need_sigv4_public_ones_do_not() {
    let t = T::new();
    let r = t
        .svc
        .handle(&headers(Some("ListUsers"), false), br#"{"UserPoolId":"x"}"#);
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    );
    // A public operation is served unsigned (and fails on its own merits).
    let r = t.svc.handle(
        &headers(Some("SignUp"), false),
        br#"{"ClientId":"nope","Username":"u","Password":"Passw0rd!"}"#,
    );
    assert_eq!(r.json()["__type"], "ResourceNotFoundException");
}

#[test]
fn malformed_requests_get_aws_errors_and_no_panic() {
    let t = T::new();
    let raw = |body: &[u8]| t.svc.handle(&headers(Some("DescribeUserPool"), true), body);
    for body in [
        &b"{not json"[..],
        b"[1,2]",
        b"\"str\"",
        b"\xff\xfe",
        b"{\"a\":}",
        b"null",
    ] {
        let r = raw(body);
        assert_eq!(r.status, 400, "{body:?}");
        assert_eq!(r.json()["__type"], "SerializationException", "{body:?}");
    }
    // Deep nesting beyond serde_json's recursion limit.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        raw(deep.as_bytes()).json()["__type"],
        "SerializationException"
    );
    let deep_obj = format!(
        "{{\"UserPoolId\":{}1{}}}",
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    assert_eq!(raw(deep_obj.as_bytes()).status, 400);
    // Huge but valid: a wrong-typed member.
    let huge = json!({"UserPoolId": "x".repeat(2_000_000)});
    assert_eq!(
        t.call("DescribeUserPool", huge).json()["__type"],
        "ResourceNotFoundException"
    );
    // Empty body is `{}`: the missing member is reported.
    let r = raw(b"");
    assert_eq!(
        r.json()["message"],
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"
    );
    // Wrong types.
    assert_eq!(
        t.err("DescribeUserPool", json!({"UserPoolId": 42})).0,
        "SerializationException"
    );
    assert_eq!(
        t.err(
            "CreateUserPoolClient",
            json!({"UserPoolId": "x", "ClientName": "a", "GenerateSecret": "yes"})
        )
        .0,
        "SerializationException"
    );
    assert_eq!(
        t.err("SignUp", json!({"ClientId": "c", "Username": "u", "Password": PW, "UserAttributes": {"email": "x"}})).0,
        "SerializationException"
    );
    assert_eq!(
        t.err("InitiateAuth", json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "c", "AuthParameters": {"USERNAME": 1}})).0,
        "SerializationException"
    );
    // Wrong content type.
    let mut h = headers(Some("DescribeUserPool"), true);
    h.insert(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static("text/html"),
    );
    assert_eq!(
        t.svc.handle(&h, b"{}").json()["__type"],
        "UnknownOperationException"
    );
    // Missing members of every implemented operation: AWS-shaped, never a panic.
    for op in crate::api::OPERATIONS {
        let r = t.call(op, json!({}));
        assert!(r.status == 400 || r.status == 200, "{op}: {}", r.status);
        let v = r.json();
        assert!(v.is_object(), "{op}");
        if r.status == 400 {
            assert!(
                v["__type"].is_string() && v["message"].is_string(),
                "{op}: {v}"
            );
        }
    }
}

#[test]
fn missing_members_are_named_like_aws() {
    let t = T::new();
    t.assert_err(
        "AdminGetUser",
        json!({}),
        "InvalidParameterException",
        "2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null; Value null at 'username' failed to satisfy constraint: Member must not be null",
    );
    t.assert_err(
        "InitiateAuth",
        json!({"ClientId": "x", "AuthFlow": "PLEASE"}),
        "InvalidParameterException",
        "1 validation error detected: Value 'PLEASE' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]",
    );
}

// ---------------------------------------------------------------- pools

#[test]
fn create_user_pool_defaults() {
    let t = T::new();
    let p = &t.ok("CreateUserPool", json!({"PoolName": "p", "AutoVerifiedAttributes": ["email"], "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": false}}))["UserPool"];
    let id = p["Id"].as_str().unwrap();
    let re = regex::Regex::new(r"^us-east-1_[0-9A-Za-z]{9}$").unwrap();
    assert!(re.is_match(id), "{id}");
    assert_eq!(p["Name"], "p");
    assert_eq!(
        p["Arn"],
        format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{id}")
    );
    assert_eq!(
        p["Policies"]["PasswordPolicy"],
        json!({"MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true, "RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7})
    );
    assert_eq!(p["MfaConfiguration"], "OFF");
    assert_eq!(p["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(
        p["DeviceConfiguration"],
        json!({"ChallengeRequiredOnNewDevice": false})
    );
    assert!(p["CreationDate"].is_number() && p["LastModifiedDate"].is_number());
    let d = t.ok("DescribeUserPool", json!({"UserPoolId": id}));
    assert_eq!(d["UserPool"]["Id"], id);
    t.ok("DeleteUserPool", json!({"UserPoolId": id}));
    t.assert_err(
        "DescribeUserPool",
        json!({"UserPoolId": id}),
        "ResourceNotFoundException",
        &format!("User pool {id} does not exist."),
    );
}

#[test]
fn update_user_pool_and_mfa_config() {
    let t = T::new();
    let id = t.pool(json!({}));
    t.assert_err(
        "CreateUserPool",
        json!({"PoolName": "m", "MfaConfiguration": "ON"}),
        "InvalidParameterException",
        "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
    );
    t.assert_err(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": id, "MfaConfiguration": "ON"}),
        "InvalidParameterException",
        "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.",
    );
    t.assert_err(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": id, "MfaConfiguration": "OFF", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        "InvalidParameterException",
        "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
    );
    let out = t.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": id, "MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    assert_eq!(
        out,
        json!({"SoftwareTokenMfaConfiguration": {"Enabled": true}, "MfaConfiguration": "OPTIONAL"})
    );
    assert_eq!(t.ok("GetUserPoolMfaConfig", json!({"UserPoolId": id})), out);
    t.ok(
        "UpdateUserPool",
        json!({"UserPoolId": id, "MfaConfiguration": "ON", "Policies": {"PasswordPolicy": {"MinimumLength": 6, "RequireSymbols": false}}}),
    );
    let p = &t.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"];
    assert_eq!(p["MfaConfiguration"], "ON");
    assert_eq!(p["Policies"]["PasswordPolicy"]["MinimumLength"], 6);
    assert_eq!(p["Policies"]["PasswordPolicy"]["RequireSymbols"], false);
}

#[test]
fn create_user_pool_client_defaults_and_checks() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let c = &t.ok(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "web", "GenerateSecret": true}),
    )["UserPoolClient"];
    let id = c["ClientId"].as_str().unwrap();
    assert!(
        regex::Regex::new("^[0-9a-v]{26}$").unwrap().is_match(id),
        "{id}"
    );
    assert!(
        regex::Regex::new("^[0-9a-v]{52}$")
            .unwrap()
            .is_match(c["ClientSecret"].as_str().unwrap())
    );
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!([
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH"
        ])
    );
    assert_eq!(c["AuthSessionValidity"], 3);
    assert_eq!(c["RefreshTokenValidity"], 30);
    assert_eq!(c["PreventUserExistenceErrors"], "LEGACY");
    assert_eq!(c["EnableTokenRevocation"], true);
    let d = t.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    );
    assert_eq!(&d["UserPoolClient"], c);
    t.assert_err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "x", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}),
        "InvalidParameterException",
        "REFRESH_TOKEN_AUTH should always be allowed.",
    );
    let (code, _) = t.err(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "x", "ExplicitAuthFlows": ["USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    assert_eq!(code, "InvalidParameterException");
    t.ok(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "legacy", "ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH"]}),
    );
    t.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    );
    t.assert_err(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
        "ResourceNotFoundException",
        &format!("User pool client {id} does not exist."),
    );
}

// ---------------------------------------------------------------- users

#[test]
fn sign_up_confirm_and_sign_in() {
    let t = T::new();
    let pool = t.pool(json!({"AutoVerifiedAttributes": ["email"]}));
    let client = t.password_client(&pool);
    let attrs = json!([{"Name": "email", "Value": "jane@example.com"}]);
    t.assert_err(
        "SignUp",
        json!({"ClientId": client, "Username": "jane", "Password": "short", "UserAttributes": attrs}),
        "InvalidPasswordException",
        "Password did not conform with policy: Password not long enough",
    );
    let out = t.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "jane", "Password": PW, "UserAttributes": attrs}),
    );
    assert_eq!(out["UserConfirmed"], false);
    assert_eq!(
        out["CodeDeliveryDetails"],
        json!({"Destination": "j***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    assert!(uuid::Uuid::parse_str(out["UserSub"].as_str().unwrap()).is_ok());
    t.assert_err(
        "SignUp",
        json!({"ClientId": client, "Username": "jane", "Password": PW}),
        "UsernameExistsException",
        "User already exists",
    );
    // Unconfirmed users cannot sign in.
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "jane", "PASSWORD": PW}}),
        "UserNotConfirmedException",
        "User is not confirmed.",
    );
    let first = t.svc.outbox().latest_code(&pool, "jane").unwrap();
    t.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "jane"}),
    );
    let second = t.svc.outbox().latest_code(&pool, "jane").unwrap();
    assert_eq!(second.len(), 6);
    if first != second {
        // Only the latest code is valid.
        t.assert_err(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "jane", "ConfirmationCode": first}),
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        );
    }
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    t.assert_err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "jane", "ConfirmationCode": wrong}),
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    );
    t.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "jane", "ConfirmationCode": second}),
    );
    let u = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "jane"}),
    );
    assert_eq!(u["UserStatus"], "CONFIRMED");
    assert!(
        u["UserAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "email_verified", "Value": "true"}))
    );
    let listed = t.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "email = \"jane@example.com\""}),
    );
    assert_eq!(listed["Users"][0]["Username"], "jane");
    let tokens = t.sign_in(&client, "jane", PW);
    assert!(tokens["AuthenticationResult"]["AccessToken"].is_string());
    t.assert_err(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "jane"}),
        "InvalidParameterException",
        "User is already confirmed.",
    );
}

#[test]
fn confirmation_codes_expire_after_a_day() {
    let t = T::new();
    let pool = t.pool(json!({"AutoVerifiedAttributes": ["email"]}));
    let client = t.password_client(&pool);
    t.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "bob", "Password": PW, "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    );
    let code = t
        .svc
        .outbox()
        .latest_code(&pool, "bob@example.com")
        .unwrap();
    t.clock().advance(Duration::from_secs(24 * 3600 + 1));
    t.assert_err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "bob", "ConfirmationCode": code}),
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    );
}

#[test]
fn password_reset_codes_expire_after_an_hour() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "max", PW);
    t.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "max"}),
    );
    let code = t.svc.outbox().latest_code(&pool, "max").unwrap();
    t.clock().advance(Duration::from_secs(3600 + 1));
    t.assert_err(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "max", "ConfirmationCode": code, "Password": "New-passw0rd"}),
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    );
    // Within the hour the code works.
    t.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "max"}),
    );
    let code = t.svc.outbox().latest_code(&pool, "max").unwrap();
    t.clock().advance(Duration::from_secs(3590));
    t.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "max", "ConfirmationCode": code, "Password": "New-passw0rd"}),
    );
}

#[test]
fn no_auto_verification_means_no_code() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    let out = t.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "ann", "Password": PW, "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
    );
    assert!(out.get("CodeDeliveryDetails").is_none());
    assert!(t.svc.outbox().latest_code(&pool, "ann").is_none());
    t.assert_err(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "ann"}),
        "InvalidParameterException",
        "Cannot resend codes. Auto verification not turned on.",
    );
    t.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "ann"}),
    );
    t.assert_err(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "ann"}),
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    );
}

#[test]
fn admin_user_management() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let created = t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "amy", "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "amy@example.com"}, {"Name": "given_name", "Value": "Amy"}]}),
    );
    assert_eq!(created["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(created["User"]["Enabled"], true);
    assert_eq!(created["User"]["Attributes"][0]["Name"], "sub");
    t.assert_err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
        "UsernameExistsException",
        "User account already exists",
    );
    t.assert_err(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "weak", "TemporaryPassword": "alllowercase1!"}),
        "InvalidPasswordException",
        "Password does not conform to policy: Password must have uppercase characters",
    );
    // A generated temporary password is delivered as an invitation.
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "gen", "UserAttributes": [{"Name": "email", "Value": "gen@example.com"}]}),
    );
    let invite = t
        .svc
        .outbox()
        .messages()
        .into_iter()
        .find(|m| m.username == "gen")
        .unwrap();
    assert_eq!(invite.purpose, Purpose::Invitation);
    assert!(t.svc.outbox().latest_code(&pool, "gen").is_none());
    t.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "amy", "Password": PW, "Permanent": true}),
    );
    assert_eq!(
        t.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "amy"})
        )["UserStatus"],
        "CONFIRMED"
    );
    t.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "amy", "Password": PW, "Permanent": false}),
    );
    assert_eq!(
        t.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "amy"})
        )["UserStatus"],
        "FORCE_CHANGE_PASSWORD"
    );
    t.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "amy", "UserAttributes": [{"Name": "family_name", "Value": "Pond"}]}),
    );
    t.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
    );
    let u = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
    );
    assert_eq!(u["Enabled"], false);
    assert!(
        u["UserAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"Name": "family_name", "Value": "Pond"}))
    );
    t.ok(
        "AdminEnableUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
    );
    // Case-sensitive usernames by default.
    t.assert_err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "AMY"}),
        "UserNotFoundException",
        "User does not exist.",
    );
    // ListUsers filters, limit and attribute selection.
    let l = t.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "username ^= \"a\""}),
    );
    assert_eq!(l["Users"].as_array().unwrap().len(), 1);
    let l = t.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "cognito:user_status = \"FORCE_CHANGE_PASSWORD\""}),
    );
    assert_eq!(l["Users"].as_array().unwrap().len(), 2);
    let l = t.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 1, "AttributesToGet": ["email"]}),
    );
    assert_eq!(l["Users"].as_array().unwrap().len(), 1);
    assert_eq!(
        l["Users"][0]["Attributes"],
        json!([{"Name": "email", "Value": "amy@example.com"}])
    );
    let next = t.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 1, "PaginationToken": l["PaginationToken"]}),
    );
    assert_eq!(next["Users"][0]["Username"], "gen");
    let (code, _) = t.err(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "shoe_size = \"9\""}),
    );
    assert_eq!(code, "InvalidParameterException");
    t.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
    );
    t.assert_err(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "amy"}),
        "UserNotFoundException",
        "User does not exist.",
    );
}

#[test]
fn case_insensitive_pools_and_email_usernames() {
    let t = T::new();
    let pool = t.pool(json!({"UsernameConfiguration": {"CaseSensitive": false}}));
    t.confirmed_user(&pool, "Kim", PW);
    assert_eq!(
        t.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "kIM"})
        )["Username"],
        "Kim"
    );

    let pool =
        t.pool(json!({"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}));
    let client = t.password_client(&pool);
    t.assert_err(
        "SignUp",
        json!({"ClientId": client, "Username": "notanemail", "Password": PW}),
        "InvalidParameterException",
        "Username should be an email.",
    );
    let out = t.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "lee@example.com", "Password": PW}),
    );
    let sub = out["UserSub"].as_str().unwrap().to_string();
    t.assert_err(
        "SignUp",
        json!({"ClientId": client, "Username": "lee@example.com", "Password": PW}),
        "UsernameExistsException",
        "An account with the given email already exists.",
    );
    let code = t
        .svc
        .outbox()
        .latest_code(&pool, "lee@example.com")
        .unwrap();
    t.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "lee@example.com", "ConfirmationCode": code}),
    );
    let tokens = t.sign_in(&client, "lee@example.com", PW);
    let claims =
        crate::auth::jwt::decode(tokens["AuthenticationResult"]["IdToken"].as_str().unwrap())
            .unwrap()
            .claims;
    assert_eq!(claims["cognito:username"], sub.as_str());
    assert_eq!(claims["email"], "lee@example.com");
    assert_eq!(claims["email_verified"], true);
}

#[test]
fn forgot_and_change_password() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "max", PW);
    let d = t.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "max"}),
    );
    assert_eq!(d["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    let code = t.svc.outbox().latest_code(&pool, "max").unwrap();
    t.assert_err(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "max", "ConfirmationCode": code, "Password": "weakpass"}),
        "InvalidPasswordException",
        "Password does not conform to policy: Password must have uppercase characters",
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    t.assert_err(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "max", "ConfirmationCode": wrong, "Password": "New-passw0rd"}),
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    );
    t.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "max", "ConfirmationCode": code, "Password": "New-passw0rd"}),
    );
    let tokens = t.sign_in(&client, "max", "New-passw0rd");
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    t.assert_err(
        "ChangePassword",
        json!({"AccessToken": access, "PreviousPassword": "nope", "ProposedPassword": "Other-passw0rd"}),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    t.ok(
        "ChangePassword",
        json!({"AccessToken": access, "PreviousPassword": "New-passw0rd", "ProposedPassword": "Other-passw0rd"}),
    );
    t.sign_in(&client, "max", "Other-passw0rd");
    // A user without a verified channel cannot reset.
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nochan", "MessageAction": "SUPPRESS"}),
    );
    t.assert_err(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "nochan"}),
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    );
    t.assert_err(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "ghost"}),
        "UserNotFoundException",
        "User does not exist.",
    );
}

// ---------------------------------------------------------------- auth

#[test]
fn admin_created_user_new_password_required_then_tokens() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let (client, secret) = t.client(
        &pool,
        json!({"GenerateSecret": true, "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let secret = secret.unwrap();
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "jane", "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "jane@example.com"}, {"Name": "email_verified", "Value": "true"}]}),
    );
    let hash = secret_hash(&secret, "jane", &client);
    for flow in ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"] {
        let c = t.ok(
            "AdminInitiateAuth",
            json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": flow,
                   "AuthParameters": {"USERNAME": "jane", "PASSWORD": "Temp-pass1!", "SECRET_HASH": hash}}),
        );
        assert_eq!(c["ChallengeName"], "NEW_PASSWORD_REQUIRED");
        assert_eq!(c["ChallengeParameters"]["USER_ID_FOR_SRP"], "jane");
        assert_eq!(c["ChallengeParameters"]["requiredAttributes"], "[]");
        let ua: Value =
            serde_json::from_str(c["ChallengeParameters"]["userAttributes"].as_str().unwrap())
                .unwrap();
        assert_eq!(
            ua,
            json!({"email": "jane@example.com", "email_verified": "true"})
        );
        assert!(c["Session"].as_str().unwrap().len() > 200);
    }
    let c = t.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "jane", "PASSWORD": "Temp-pass1!", "SECRET_HASH": hash}}),
    );
    let session = c["Session"].as_str().unwrap();
    t.assert_err(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "jane", "NEW_PASSWORD": "New-passw0rd"}}),
        "NotAuthorizedException",
        &format!("Client {client} is configured with secret but SECRET_HASH was not received"),
    );
    t.assert_err(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "jane", "NEW_PASSWORD": "weak", "SECRET_HASH": hash}}),
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
    );
    let done = t.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "jane", "NEW_PASSWORD": "New-passw0rd", "SECRET_HASH": hash}}),
    );
    assert_eq!(done["ChallengeParameters"], json!({}));
    let r = &done["AuthenticationResult"];
    assert_eq!(r["TokenType"], "Bearer");
    assert_eq!(r["ExpiresIn"], 3600);
    assert!(r["RefreshToken"].as_str().unwrap().len() > 100);
    assert!(done.get("Session").is_none() && done.get("ChallengeName").is_none());
    assert_eq!(
        t.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "jane"})
        )["UserStatus"],
        "CONFIRMED"
    );
    t.assert_err(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "jane", "NEW_PASSWORD": "New-passw0rd2", "SECRET_HASH": hash}}),
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    );
    // Refresh: new access and ID tokens, no refresh token, same auth_time.
    let refreshed = t.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": r["RefreshToken"], "SECRET_HASH": hash}}),
    );
    let rr = &refreshed["AuthenticationResult"];
    assert!(rr.get("RefreshToken").is_none());
    let a1 = crate::auth::jwt::decode(r["AccessToken"].as_str().unwrap())
        .unwrap()
        .claims;
    let a2 = crate::auth::jwt::decode(rr["AccessToken"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(a1["auth_time"], a2["auth_time"]);
    assert_eq!(a1["origin_jti"], a2["origin_jti"]);
    assert_ne!(a1["jti"], a2["jti"]);
}

#[test]
fn user_password_auth_through_initiate_and_respond() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "joe", "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS"}),
    );
    let c = t.sign_in(&client, "joe", "Temp-pass1!");
    assert_eq!(c["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let done = t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": "joe", "NEW_PASSWORD": "New-passw0rd", "userAttributes.given_name": "Joe"}}),
    );
    let id = crate::auth::jwt::decode(done["AuthenticationResult"]["IdToken"].as_str().unwrap())
        .unwrap();
    assert_eq!(id.claims["given_name"], "Joe");
    assert_eq!(id.claims["token_use"], "id");
    assert_eq!(id.claims["aud"], client.as_str());
    let access = crate::auth::jwt::decode(
        done["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_ne!(access.header["kid"], id.header["kid"]);
    let c = &access.claims;
    assert_eq!(
        c["iss"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}")
    );
    assert_eq!(c["client_id"], client.as_str());
    assert_eq!(c["token_use"], "access");
    assert_eq!(c["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(c["username"], "joe");
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        3600
    );
    for k in ["sub", "origin_jti", "event_id", "auth_time", "jti"] {
        assert!(!c[k].is_null(), "{k}");
    }
    assert!(c.get("aud").is_none());
}

#[test]
fn auth_check_order_and_messages() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let (secret_client, secret) = t.client(
        &pool,
        json!({"GenerateSecret": true, "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let secret = secret.unwrap();
    let plain = t.password_client(&pool);
    let srp_only = t.client(&pool, json!({})).0;
    let legacy = t
        .client(&pool, json!({"ExplicitAuthFlows": ["USER_PASSWORD_AUTH"]}))
        .0;
    let enabled = t
        .client(&pool, json!({"PreventUserExistenceErrors": "ENABLED", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}))
        .0;
    t.confirmed_user(&pool, "sam", PW);
    let auth = |client: &str, params: Value| json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": params});
    t.assert_err(
        "InitiateAuth",
        auth("nosuchclient", json!({"USERNAME": "sam", "PASSWORD": PW})),
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    );
    t.assert_err(
        "InitiateAuth",
        auth(&srp_only, json!({"USERNAME": "sam", "PASSWORD": PW})),
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
    t.sign_in(&legacy, "sam", PW);
    t.assert_err(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": srp_only, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "sam", "PASSWORD": PW}}),
        "InvalidParameterException",
        "Auth flow not enabled for this client",
    );
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "ClientId": plain, "AuthParameters": {"USERNAME": "sam", "PASSWORD": PW}}),
        "InvalidParameterException",
        "Initiate Auth method not supported.",
    );
    t.assert_err(
        "InitiateAuth",
        auth(&secret_client, json!({"USERNAME": "sam", "PASSWORD": PW})),
        "NotAuthorizedException",
        &format!(
            "Client {secret_client} is configured with secret but SECRET_HASH was not received"
        ),
    );
    t.assert_err(
        "InitiateAuth",
        auth(
            &secret_client,
            json!({"USERNAME": "sam", "PASSWORD": PW, "SECRET_HASH": "bm9wZQ=="}),
        ),
        "NotAuthorizedException",
        &format!("Unable to verify secret hash for client {secret_client}"),
    );
    t.assert_err(
        "InitiateAuth",
        auth(
            &plain,
            json!({"USERNAME": "sam", "PASSWORD": PW, "SECRET_HASH": "bm9wZQ=="}),
        ),
        "InvalidParameterException",
        &format!("Client {plain} is not configured for secret but secret hash was received"),
    );
    // SECRET_HASH is checked before the user is looked up.
    t.assert_err(
        "InitiateAuth",
        auth(&secret_client, json!({"USERNAME": "ghost", "PASSWORD": PW})),
        "NotAuthorizedException",
        &format!(
            "Client {secret_client} is configured with secret but SECRET_HASH was not received"
        ),
    );
    let hash = secret_hash(&secret, "sam", &secret_client);
    assert!(
        t.ok(
            "InitiateAuth",
            auth(
                &secret_client,
                json!({"USERNAME": "sam", "PASSWORD": PW, "SECRET_HASH": hash})
            )
        )["AuthenticationResult"]
            .is_object()
    );
    t.assert_err(
        "InitiateAuth",
        auth(&plain, json!({"USERNAME": "ghost", "PASSWORD": PW})),
        "UserNotFoundException",
        "User does not exist.",
    );
    t.assert_err(
        "InitiateAuth",
        auth(&enabled, json!({"USERNAME": "ghost", "PASSWORD": PW})),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    t.assert_err(
        "InitiateAuth",
        auth(
            &plain,
            json!({"USERNAME": "sam", "PASSWORD": "Wrong-passw0rd"}),
        ),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    t.assert_err(
        "InitiateAuth",
        auth(&plain, json!({"USERNAME": "sam"})),
        "InvalidParameterException",
        "Missing required parameter PASSWORD",
    );
    t.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "sam"}),
    );
    t.assert_err(
        "InitiateAuth",
        auth(&plain, json!({"USERNAME": "sam", "PASSWORD": PW})),
        "NotAuthorizedException",
        "User is disabled.",
    );
    // SRP proves the password before the user's state is revealed.
    let c = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": srp_only, "AuthParameters": {"USERNAME": "sam", "SRP_A": "abc"}}),
    );
    assert_eq!(c["ChallengeName"], "PASSWORD_VERIFIER");
}

#[test]
fn temporary_passwords_expire() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "old", "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS"}),
    );
    t.clock().advance(Duration::from_secs(8 * 86_400));
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "old", "PASSWORD": "Temp-pass1!"}}),
        "NotAuthorizedException",
        "Temporary password has expired and must be reset by an administrator.",
    );
}

#[test]
fn sessions_are_single_use_and_expire() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    for name in ["a1", "a2"] {
        t.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS"}),
        );
    }
    let answer = |name: &str, session: &Value| {
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": name, "NEW_PASSWORD": "New-passw0rd"}})
    };
    t.assert_err(
        "RespondToAuthChallenge",
        answer("a1", &json!("garbage")),
        "NotAuthorizedException",
        "Invalid session for the user.",
    );
    let s1 = t.sign_in(&client, "a1", "Temp-pass1!")["Session"].clone();
    // Another user's session does not work.
    let s2 = t.sign_in(&client, "a2", "Temp-pass1!")["Session"].clone();
    t.assert_err(
        "RespondToAuthChallenge",
        answer("a1", &s2),
        "NotAuthorizedException",
        "Invalid session for the user.",
    );
    t.clock().advance(Duration::from_secs(4 * 60));
    t.assert_err(
        "RespondToAuthChallenge",
        answer("a1", &s1),
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    );
    let s1 = t.sign_in(&client, "a1", "Temp-pass1!")["Session"].clone();
    t.clock().advance(Duration::from_secs(2 * 60));
    t.ok("RespondToAuthChallenge", answer("a1", &s1));
    t.assert_err(
        "RespondToAuthChallenge",
        answer("a1", &s1),
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    );
    t.assert_err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeResponses": {"USERNAME": "a1"}}),
        "InvalidParameterException",
        "Missing required parameter Session",
    );
}

// ---------------------------------------------------------------- MFA

fn mfa_pool(t: &T, mode: &str) -> (String, String) {
    let pool = t.pool(json!({}));
    t.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": mode, "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let client = t.password_client(&pool);
    (pool, client)
}

fn code_at(t: &T, secret: &str, offset_steps: i64) -> String {
    let step = totp::step_of(t.clock().now_secs()) as i64 + offset_steps;
    totp::code_for_step(secret, step as u64).unwrap()
}

#[test]
fn mfa_setup_then_software_token_mfa_with_one_time_codes() {
    let t = T::new();
    let (pool, client) = mfa_pool(&t, "ON");
    t.confirmed_user(&pool, "mia", PW);
    let c = t.sign_in(&client, "mia", PW);
    assert_eq!(c["ChallengeName"], "MFA_SETUP");
    assert_eq!(
        c["ChallengeParameters"]["MFAS_CAN_SETUP"],
        "[\"SOFTWARE_TOKEN_MFA\"]"
    );
    let assoc = t.ok("AssociateSoftwareToken", json!({"Session": c["Session"]}));
    let secret = assoc["SecretCode"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32);
    // The session was spent by AssociateSoftwareToken.
    t.assert_err(
        "AssociateSoftwareToken",
        json!({"Session": c["Session"]}),
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    );
    let code = code_at(&t, &secret, 0);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let s = assoc["Session"].clone();
    t.assert_err(
        "VerifySoftwareToken",
        json!({"Session": s, "UserCode": wrong}),
        "EnableSoftwareTokenMFAException",
        "Code mismatch and fail enable Software Token MFA",
    );
    // A wrong answer spent the session: start again.
    let c = t.sign_in(&client, "mia", PW);
    let assoc = t.ok("AssociateSoftwareToken", json!({"Session": c["Session"]}));
    let secret = assoc["SecretCode"].as_str().unwrap().to_string();
    let v = t.ok(
        "VerifySoftwareToken",
        json!({"Session": assoc["Session"], "UserCode": code_at(&t, &secret, 0), "FriendlyDeviceName": "phone"}),
    );
    assert_eq!(v["Status"], "SUCCESS");
    let done = t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "MFA_SETUP", "Session": v["Session"], "ChallengeResponses": {"USERNAME": "mia"}}),
    );
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    let u = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
    );
    assert_eq!(u["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(u["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");

    // Sign in again: SOFTWARE_TOKEN_MFA. The verify code's window is used.
    let answer = |session: &Value, code: &str| {
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session,
               "ChallengeResponses": {"USERNAME": "mia", "SOFTWARE_TOKEN_MFA_CODE": code}})
    };
    let c = t.sign_in(&client, "mia", PW);
    assert_eq!(c["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    assert_eq!(
        c["ChallengeParameters"],
        json!({"USER_ID_FOR_SRP": "mia", "FRIENDLY_DEVICE_NAME": "phone"})
    );
    t.assert_err(
        "RespondToAuthChallenge",
        answer(&c["Session"], &code_at(&t, &secret, 0)),
        "ExpiredCodeException",
        "Your software token has already been used once.",
    );
    t.clock().advance(Duration::from_secs(30));
    let c = t.sign_in(&client, "mia", PW);
    let fresh = code_at(&t, &secret, 0);
    let wrong = if fresh == "000000" {
        "111111"
    } else {
        "000000"
    };
    t.assert_err(
        "RespondToAuthChallenge",
        answer(&c["Session"], wrong),
        "CodeMismatchException",
        "Invalid code received for user",
    );
    let c = t.sign_in(&client, "mia", PW);
    let ok = t.ok("RespondToAuthChallenge", answer(&c["Session"], &fresh));
    assert!(ok["AuthenticationResult"]["IdToken"].is_string());
    // Reusing the same code in a new sign-in fails; the next window works.
    let c = t.sign_in(&client, "mia", PW);
    t.assert_err(
        "RespondToAuthChallenge",
        answer(&c["Session"], &fresh),
        "ExpiredCodeException",
        "Your software token has already been used once.",
    );
    t.clock().advance(Duration::from_secs(30));
    let c = t.sign_in(&client, "mia", PW);
    t.ok(
        "RespondToAuthChallenge",
        answer(&c["Session"], &code_at(&t, &secret, 0)),
    );
    // A code two windows old is outside the skew.
    t.clock().advance(Duration::from_secs(30));
    let c = t.sign_in(&client, "mia", PW);
    t.assert_err(
        "RespondToAuthChallenge",
        answer(&c["Session"], &code_at(&t, &secret, -2)),
        "CodeMismatchException",
        "Invalid code received for user",
    );
}

/// TOTP skew at the edges of a 30-second window (and across midnight on
/// 31 December): the previous and the next window's codes are accepted, codes
/// two windows away are not, wherever in its window the clock stands.
#[test]
fn totp_skew_holds_at_window_boundaries() {
    // 2026-12-15T12:00:00Z is a window start; then its last second; then 23:59:59 on 31 December.
    for at_secs in [1_797_336_000u64, 1_797_336_029, 1_798_761_599] {
        let t = T::at(at_secs * 1000);
        let (pool, client) = mfa_pool(&t, "OPTIONAL");
        t.confirmed_user(&pool, "wes", PW);
        let tokens = t.sign_in(&client, "wes", PW);
        let access = tokens["AuthenticationResult"]["AccessToken"].clone();
        let secret = t.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
            .as_str()
            .unwrap()
            .to_string();
        t.ok(
            "VerifySoftwareToken",
            json!({"AccessToken": access, "UserCode": code_at(&t, &secret, -1)}),
        );
        t.ok(
            "SetUserMFAPreference",
            json!({"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        );
        let answer = |session: &Value, code: &str| {
            json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session,
                   "ChallengeResponses": {"USERNAME": "wes", "SOFTWARE_TOKEN_MFA_CODE": code}})
        };
        for far in [-2, 2] {
            let code = code_at(&t, &secret, far);
            if [-1, 0, 1]
                .iter()
                .any(|near| code_at(&t, &secret, *near) == code)
            {
                continue; // a collision of two windows' codes: nothing to learn
            }
            let c = t.sign_in(&client, "wes", PW);
            t.assert_err(
                "RespondToAuthChallenge",
                answer(&c["Session"], &code),
                "CodeMismatchException",
                "Invalid code received for user",
            );
        }
        let c = t.sign_in(&client, "wes", PW);
        let ok = t.ok(
            "RespondToAuthChallenge",
            answer(&c["Session"], &code_at(&t, &secret, 1)),
        );
        assert!(
            ok["AuthenticationResult"]["AccessToken"].is_string(),
            "{at_secs}"
        );
    }
}

#[test]
fn optional_mfa_with_access_token_enrolment() {
    let t = T::new();
    let (pool, client) = mfa_pool(&t, "OPTIONAL");
    t.confirmed_user(&pool, "ola", PW);
    let tokens = t.sign_in(&client, "ola", PW);
    let access = tokens["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    t.assert_err(
        "SetUserMFAPreference",
        json!({"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        "InvalidParameterException",
        "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA",
    );
    let assoc = t.ok("AssociateSoftwareToken", json!({"AccessToken": access}));
    assert!(assoc.get("Session").is_none());
    let secret = assoc["SecretCode"].as_str().unwrap().to_string();
    assert_eq!(
        t.ok(
            "VerifySoftwareToken",
            json!({"AccessToken": access, "UserCode": code_at(&t, &secret, 0)})
        ),
        json!({"Status": "SUCCESS"})
    );
    // Verified but not enabled: optional MFA does not challenge yet.
    assert!(t.sign_in(&client, "ola", PW)["AuthenticationResult"].is_object());
    t.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    assert_eq!(
        t.sign_in(&client, "ola", PW)["ChallengeName"],
        "SOFTWARE_TOKEN_MFA"
    );
    t.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "ola", "SoftwareTokenMfaSettings": {"Enabled": false}}),
    );
    assert!(t.sign_in(&client, "ola", PW)["AuthenticationResult"].is_object());
    let u = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ola"}),
    );
    assert!(u.get("UserMFASettingList").is_none());
}

#[test]
fn admin_flow_with_mfa_after_new_password() {
    let t = T::new();
    let (pool, client) = mfa_pool(&t, "ON");
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "neo", "TemporaryPassword": "Temp-pass1!", "MessageAction": "SUPPRESS"}),
    );
    let c = t.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "neo", "PASSWORD": "Temp-pass1!"}}),
    );
    let next = t.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": "neo", "NEW_PASSWORD": "New-passw0rd"}}),
    );
    assert_eq!(next["ChallengeName"], "MFA_SETUP");
    // Answering MFA_SETUP before verifying a token is refused.
    t.assert_err(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "MFA_SETUP", "Session": next["Session"],
               "ChallengeResponses": {"USERNAME": "neo"}}),
        "NotAuthorizedException",
        "Invalid session for the user.",
    );
}

// ---------------------------------------------------------------- tokens

#[test]
fn access_tokens_are_verified_and_revocable() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "tom", PW);
    let r = t.sign_in(&client, "tom", PW)["AuthenticationResult"].clone();
    let access = r["AccessToken"].as_str().unwrap().to_string();
    let u = t.ok("GetUser", json!({"AccessToken": access}));
    assert_eq!(u["Username"], "tom");
    // Tampered claims break the signature.
    let parts: Vec<&str> = access.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["username"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    t.assert_err(
        "GetUser",
        json!({"AccessToken": forged}),
        "NotAuthorizedException",
        "Invalid Access Token",
    );
    t.assert_err(
        "GetUser",
        json!({"AccessToken": "garbage"}),
        "NotAuthorizedException",
        "Invalid Access Token",
    );
    // An ID token is not an access token.
    t.assert_err(
        "GetUser",
        json!({"AccessToken": r["IdToken"]}),
        "NotAuthorizedException",
        "Invalid Access Token",
    );
    // Expiry on the stub clock.
    t.clock().advance(Duration::from_secs(3601));
    t.assert_err(
        "GetUser",
        json!({"AccessToken": access}),
        "NotAuthorizedException",
        "Access Token has expired",
    );
    // Refresh works; GlobalSignOut revokes everything.
    let fresh = t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": r["RefreshToken"]}}),
    )["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok("GetUser", json!({"AccessToken": fresh}));
    t.ok("GlobalSignOut", json!({"AccessToken": fresh}));
    t.assert_err(
        "GetUser",
        json!({"AccessToken": fresh}),
        "NotAuthorizedException",
        "Access Token has been revoked",
    );
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": r["RefreshToken"]}}),
        "NotAuthorizedException",
        "Refresh Token has been revoked",
    );
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": "nope"}}),
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    // RevokeToken revokes one sign-in only.
    let one = t.sign_in(&client, "tom", PW)["AuthenticationResult"].clone();
    let two = t.sign_in(&client, "tom", PW)["AuthenticationResult"].clone();
    t.ok(
        "RevokeToken",
        json!({"Token": one["RefreshToken"], "ClientId": client}),
    );
    t.assert_err(
        "GetUser",
        json!({"AccessToken": one["AccessToken"]}),
        "NotAuthorizedException",
        "Access Token has been revoked",
    );
    t.ok("GetUser", json!({"AccessToken": two["AccessToken"]}));
    t.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool, "Username": "tom"}),
    );
    t.assert_err(
        "GetUser",
        json!({"AccessToken": two["AccessToken"]}),
        "NotAuthorizedException",
        "Access Token has been revoked",
    );
    // DeleteUser with a live token; the token then names no user.
    let three = t.sign_in(&client, "tom", PW)["AuthenticationResult"].clone();
    // Signed in after the sign-out, in the same (virtual) second: it refreshes.
    t.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": three["RefreshToken"]}}),
    );
    t.ok("DeleteUser", json!({"AccessToken": three["AccessToken"]}));
    t.assert_err(
        "GetUser",
        json!({"AccessToken": three["AccessToken"]}),
        "UserNotFoundException",
        "User does not exist.",
    );
    // The sign-ins of a deleted user are gone with it.
    t.assert_err(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": three["RefreshToken"]}}),
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
}

#[test]
fn refresh_tokens_are_sealed_jwes_only_their_stub_opens() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "kim", PW);
    let refresh = t.sign_in(&client, "kim", PW)["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    // Cognito's shape: a five-part JWE with the A256GCM / RSA-OAEP header.
    assert_eq!(refresh.split('.').count(), 5);
    let header = crate::auth::jwt::decode(&format!("{}.e30.x", refresh.split('.').next().unwrap()));
    assert_eq!(
        header.unwrap().header,
        json!({"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"})
    );
    let refresh_with = |t: &T, token: &str| {
        t.call(
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": token}}),
        )
    };
    assert_eq!(refresh_with(&t, &refresh).status, 200);
    // The same token is nothing to another stub, even with the same pool and client ids.
    let other = T::new();
    other.svc.lock().pools = std::mem::take(&mut t.svc.lock().pools);
    let r = refresh_with(&other, &refresh);
    assert_eq!(
        (r.status, r.json()["message"].as_str()),
        (400, Some("Invalid Refresh Token"))
    );
}

#[test]
fn tokens_verify_with_the_jwks() {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
    use base64::Engine as _;
    let t = T::new();
    let pool = t.pool(json!({}));
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "kay", PW);
    let r = t.sign_in(&client, "kay", PW)["AuthenticationResult"].clone();
    let jwks = t.svc.jwks(&pool);
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for token in [
        r["AccessToken"].as_str().unwrap(),
        r["IdToken"].as_str().unwrap(),
    ] {
        let jwt = crate::auth::jwt::decode(token).unwrap();
        let jwk = keys.iter().find(|k| k["kid"] == jwt.header["kid"]).unwrap();
        assert_eq!(
            (
                jwk["alg"].as_str(),
                jwk["kty"].as_str(),
                jwk["use"].as_str()
            ),
            (Some("RS256"), Some("RSA"), Some("sig"))
        );
        assert_eq!(jwk["e"], "AQAB");
        let n = b64.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = b64.decode(jwk["e"].as_str().unwrap()).unwrap();
        // Verified with the JWKS's n and e alone, as a resource server does.
        let key = RsaPublicKeyComponents { n: &n, e: &e };
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = b64.decode(sig).unwrap();
        key.verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
            .unwrap();
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(
            key.verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &bad)
                .is_err()
        );
    }
    assert_eq!(t.svc.jwks("us-east-1_missing").status, 404);
    let routed = t.svc.route(
        "GET",
        &format!("/{pool}/.well-known/jwks.json"),
        &HeaderMap::new(),
        b"",
    );
    assert_eq!(routed.json(), jwks.json());
}

#[test]
fn update_client_and_delete_attributes() {
    let t = T::new();
    let pool = t.pool(json!({}));
    let (client, secret) = t.client(&pool, json!({"GenerateSecret": true}));
    let u = t.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client, "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], "AuthSessionValidity": 5}),
    )["UserPoolClient"]
        .clone();
    assert_eq!(u["ClientId"], client.as_str());
    assert_eq!(u["ClientSecret"].as_str(), secret.as_deref());
    assert_eq!(u["ClientName"], "app");
    assert_eq!(u["AuthSessionValidity"], 5);
    let d = t.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(d["UserPoolClient"], u);
    t.confirmed_user(&pool, "del", PW);
    t.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "del", "UserAttributes": [{"Name": "nickname", "Value": "D"}]}),
    );
    t.ok(
        "AdminDeleteUserAttributes",
        json!({"UserPoolId": pool, "Username": "del", "UserAttributeNames": ["nickname", "email"]}),
    );
    let names: Vec<String> = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "del"}),
    )["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["sub"]);
    let (code, _) = t.err(
        "AdminDeleteUserAttributes",
        json!({"UserPoolId": pool, "Username": "del", "UserAttributeNames": ["sub"]}),
    );
    assert_eq!(code, "InvalidParameterException");
}

#[test]
fn select_mfa_type_and_sms_mfa() {
    let t = T::new();
    let pool = t.pool(json!({}));
    t.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "{####}", "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns"}},
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let client = t.password_client(&pool);
    t.confirmed_user(&pool, "two", PW);
    t.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "two", "UserAttributes": [{"Name": "phone_number", "Value": "+12065551234"}]}),
    );
    let access = t.sign_in(&client, "two", PW)["AuthenticationResult"]["AccessToken"].clone();
    let secret = t.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": code_at(&t, &secret, 0)}),
    );
    t.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "two", "SoftwareTokenMfaSettings": {"Enabled": true}, "SMSMfaSettings": {"Enabled": true}}),
    );
    let c = t.sign_in(&client, "two", PW);
    assert_eq!(c["ChallengeName"], "SELECT_MFA_TYPE");
    assert_eq!(
        c["ChallengeParameters"]["MFAS_CAN_CHOOSE"],
        "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]"
    );
    let sms = t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SELECT_MFA_TYPE", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": "two", "ANSWER": "SMS_MFA"}}),
    );
    assert_eq!(sms["ChallengeName"], "SMS_MFA");
    assert_eq!(
        sms["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"],
        "+*******1234"
    );
    let code = t.svc.outbox().latest_code(&pool, "two").unwrap();
    let done = t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SMS_MFA", "Session": sms["Session"],
               "ChallengeResponses": {"USERNAME": "two", "SMS_MFA_CODE": code}}),
    );
    assert!(done["AuthenticationResult"].is_object());
    // Preferring TOTP skips the choice.
    t.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "two", "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    assert_eq!(
        t.sign_in(&client, "two", PW)["ChallengeName"],
        "SOFTWARE_TOKEN_MFA"
    );
}
