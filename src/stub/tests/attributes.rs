//! Attribute rules held against AWS's evidence: Boolean attribute spellings,
//! Schema's `Mutable: false`, and which MFA pools CreateUserPool accepts.

use serde_json::{Value, json};

use super::{PW, T};

const SNS_ROLE: &str = "arn:aws:iam::123456789012:role/cognito-sms";

fn attribute<'v>(user: &'v Value, name: &str) -> Option<&'v Value> {
    user["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| &a["Value"])
}

fn id_claims(tokens: &Value) -> Value {
    let token = tokens["AuthenticationResult"]["IdToken"].as_str().unwrap();
    crate::auth::jwt::decode(token).unwrap().claims
}

fn schema_entry(pool: &Value, name: &str) -> Value {
    pool["UserPool"]["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no schema attribute {name}"))
}

// ---------------------------------------------------------------- MFA pools

#[test]
fn mfa_pools_need_an_sms_configuration_not_an_auto_verified_phone() {
    let t = T::new();
    for mode in ["ON", "OPTIONAL"] {
        // No SmsConfiguration (and TOTP cannot be on yet): refused.
        t.assert_err(
            "CreateUserPool",
            json!({"PoolName": "m", "MfaConfiguration": mode, "AutoVerifiedAttributes": ["email"]}),
            "InvalidParameterException",
            "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
        );
        // An SmsConfiguration without any auto-verified phone number: accepted,
        // as moto's AWS-verified fixture creates it.
        for auto in [json!([]), json!(["email"])] {
            let id = t.pool(
                json!({"MfaConfiguration": mode, "AutoVerifiedAttributes": auto,
                                   "SmsConfiguration": {"SnsCallerArn": SNS_ROLE}}),
            );
            let d = t.ok("DescribeUserPool", json!({"UserPoolId": id}));
            assert_eq!(d["UserPool"]["MfaConfiguration"], mode);
            assert_eq!(
                d["UserPool"]["SmsConfiguration"],
                json!({"SnsCallerArn": SNS_ROLE})
            );
            // UpdateUserPool applies the same rule.
            t.assert_err(
                "UpdateUserPool",
                json!({"UserPoolId": id, "MfaConfiguration": mode}),
                "InvalidParameterException",
                "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
            );
            t.ok(
                "UpdateUserPool",
                json!({"UserPoolId": id, "MfaConfiguration": mode,
                       "SmsConfiguration": {"SnsCallerArn": SNS_ROLE}}),
            );
        }
    }
}

#[test]
fn an_sms_mfa_pool_without_auto_verified_phone_challenges_users_with_a_phone() {
    let t = T::new();
    let pool =
        t.pool(json!({"MfaConfiguration": "ON", "SmsConfiguration": {"SnsCallerArn": SNS_ROLE}}));
    let client = t.password_client(&pool);
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "pia", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550100"},
                                  {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    t.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "pia", "Password": PW, "Permanent": true}),
    );
    let r = t.sign_in(&client, "pia", PW);
    assert_eq!(r["ChallengeName"], "SMS_MFA", "{r}");
}

// ---------------------------------------------------------------- Boolean attributes

#[test]
fn boolean_attributes_take_true_and_false_in_any_capitalisation() {
    let t = T::new();
    let pool = t.pool(json!({"AccountRecoverySetting":
        {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}}));
    let client = t.password_client(&pool);
    for (i, spelling) in ["True", "true", "TRUE", "tRuE"].iter().enumerate() {
        let name = format!("b{i}");
        // moto's AWS-verified test_forgot_password_with_email_delivery_details.
        t.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                   "UserAttributes": [{"Name": "email", "Value": "test@test.com"},
                                      {"Name": "email_verified", "Value": spelling},
                                      {"Name": "phone_number", "Value": "+15555550100"},
                                      {"Name": "phone_number_verified", "Value": spelling}]}),
        );
        t.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": name, "Password": PW, "Permanent": true}),
        );
        // The value reads back as written.
        let u = t.ok(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": name}),
        );
        assert_eq!(attribute(&u, "email_verified"), Some(&json!(spelling)));
        // It counts as verified: the reset code goes to the email.
        let d = t.ok(
            "ForgotPassword",
            json!({"ClientId": client, "Username": name}),
        );
        assert_eq!(
            d["CodeDeliveryDetails"],
            json!({"Destination": "t***@t***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
        );
        // The ID token carries Booleans.
        let claims = id_claims(&t.sign_in(&client, &name, PW));
        assert_eq!(claims["email_verified"], json!(true), "{spelling}");
        assert_eq!(claims["phone_number_verified"], json!(true), "{spelling}");
    }
    // False in any capitalisation is false.
    t.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "b0",
               "UserAttributes": [{"Name": "email_verified", "Value": "False"}]}),
    );
    // The pool recovers through a verified email only: now there is none.
    t.assert_err(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "b0"}),
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    );
    let claims = id_claims(&t.sign_in(&client, "b0", PW));
    assert_eq!(claims["email_verified"], json!(false));
    // Anything else is not a Boolean.
    for bad in ["yes", "1", "", "truth"] {
        let (code, _) = t.err(
            "AdminUpdateUserAttributes",
            json!({"UserPoolId": pool, "Username": "b1",
                   "UserAttributes": [{"Name": "phone_number_verified", "Value": bad}]}),
        );
        assert_eq!(code, "InvalidParameterException", "{bad:?}");
    }
}

#[test]
fn a_verified_alias_spelt_true_signs_in() {
    let t = T::new();
    let pool = t.pool(json!({"AliasAttributes": ["email"]}));
    let client = t.password_client(&pool);
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ali", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "ali@example.com"},
                                  {"Name": "email_verified", "Value": "True"}]}),
    );
    t.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "ali", "Password": PW, "Permanent": true}),
    );
    let r = t.sign_in(&client, "ali@example.com", PW);
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");
}

// ---------------------------------------------------------------- Mutable: false

/// A pool whose email and custom:tenant are immutable, custom:team mutable,
/// and user `ivy` created with all three.
fn immutable_pool(t: &T) -> (String, String) {
    let pool = t.pool(json!({"Schema": [
        {"Name": "email", "AttributeDataType": "String", "Mutable": false, "Required": true},
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": false},
        {"Name": "team", "AttributeDataType": "String", "Mutable": true},
    ]}));
    let client = t.password_client(&pool);
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ivy", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "ivy@example.com"},
                                  {"Name": "custom:tenant", "Value": "acme"},
                                  {"Name": "custom:team", "Value": "red"}]}),
    );
    t.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "ivy", "Password": PW, "Permanent": true}),
    );
    (pool, client)
}

#[test]
fn immutable_attributes_read_back_as_declared() {
    let t = T::new();
    let (pool, _) = immutable_pool(&t);
    let d = t.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(schema_entry(&d, "email")["Mutable"], false);
    assert_eq!(schema_entry(&d, "email")["Required"], true);
    assert_eq!(schema_entry(&d, "custom:tenant")["Mutable"], false);
    assert_eq!(schema_entry(&d, "custom:team")["Mutable"], true);
    // With the members AWS reports for every attribute.
    assert_eq!(
        schema_entry(&d, "custom:tenant"),
        json!({"Name": "custom:tenant", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
               "Mutable": false, "Required": false, "StringAttributeConstraints": {}})
    );
    assert_eq!(schema_entry(&d, "name")["Mutable"], true);
    assert_eq!(schema_entry(&d, "sub")["Mutable"], false);
    // UpdateUserPool does not touch the schema.
    t.ok("UpdateUserPool", json!({"UserPoolId": pool}));
    let d = t.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(schema_entry(&d, "email")["Mutable"], false);
}

#[test]
fn immutable_attributes_are_set_at_creation_and_never_changed() {
    let t = T::new();
    let (pool, client) = immutable_pool(&t);
    let refused = |name: &str| format!("user.{name}: Attribute cannot be updated.");
    for (name, value) in [
        ("custom:tenant", "other"),
        ("custom:tenant", "acme"),
        ("custom:tenant", ""),
        ("email", "new@example.com"),
    ] {
        t.assert_err(
            "AdminUpdateUserAttributes",
            json!({"UserPoolId": pool, "Username": "ivy",
                   "UserAttributes": [{"Name": "custom:team", "Value": "blue"}, {"Name": name, "Value": value}]}),
            "InvalidParameterException",
            &refused(name),
        );
    }
    let access = t.sign_in(&client, "ivy", PW)["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string();
    t.assert_err(
        "UpdateUserAttributes",
        json!({"AccessToken": access, "UserAttributes": [{"Name": "custom:tenant", "Value": "other"}]}),
        "InvalidParameterException",
        &refused("custom:tenant"),
    );
    t.assert_err(
        "UpdateUserAttributes",
        json!({"AccessToken": access, "UserAttributes": [{"Name": "email", "Value": "new@example.com"}]}),
        "InvalidParameterException",
        &refused("email"),
    );
    for names in [json!(["custom:tenant"]), json!(["email"])] {
        let (code, _) = t.err(
            "AdminDeleteUserAttributes",
            json!({"UserPoolId": pool, "Username": "ivy", "UserAttributeNames": names}),
        );
        assert_eq!(code, "InvalidParameterException");
    }
    // Nothing changed, not even the mutable attribute of a refused request.
    let u = t.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ivy"}),
    );
    assert_eq!(attribute(&u, "custom:tenant"), Some(&json!("acme")));
    assert_eq!(attribute(&u, "custom:team"), Some(&json!("red")));
    assert_eq!(attribute(&u, "email"), Some(&json!("ivy@example.com")));
    // Mutable attributes still change.
    t.ok(
        "UpdateUserAttributes",
        json!({"AccessToken": access, "UserAttributes": [{"Name": "custom:team", "Value": "blue"}]}),
    );
    let u = t.ok("GetUser", json!({"AccessToken": access}));
    assert_eq!(attribute(&u, "custom:team"), Some(&json!("blue")));
}

#[test]
fn an_immutable_attribute_left_unset_at_creation_stays_unset() {
    let t = T::new();
    let (pool, client) = immutable_pool(&t);
    // SignUp may set it.
    t.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "sam", "Password": PW,
               "UserAttributes": [{"Name": "email", "Value": "sam@example.com"},
                                  {"Name": "custom:tenant", "Value": "acme"}]}),
    );
    // A user created without it cannot get it later, not even in NEW_PASSWORD_REQUIRED.
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "tom", "TemporaryPassword": "Temp-pass1!",
               "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "tom@example.com"}]}),
    );
    t.assert_err(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "tom",
               "UserAttributes": [{"Name": "custom:tenant", "Value": "acme"}]}),
        "InvalidParameterException",
        "user.custom:tenant: Attribute cannot be updated.",
    );
    let c = t.sign_in(&client, "tom", "Temp-pass1!");
    assert_eq!(c["ChallengeName"], "NEW_PASSWORD_REQUIRED", "{c}");
    t.assert_err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": "tom", "NEW_PASSWORD": "New-passw0rd",
                                      "userAttributes.custom:tenant": "acme"}}),
        "InvalidParameterException",
        "user.custom:tenant: Attribute cannot be updated.",
    );
    // The refusal left the session usable: the answer without it signs in.
    let r = t.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": c["Session"],
               "ChallengeResponses": {"USERNAME": "tom", "NEW_PASSWORD": "New-passw0rd"}}),
    );
    assert!(r["AuthenticationResult"]["AccessToken"].is_string(), "{r}");
}

#[test]
fn without_mutable_false_attributes_stay_mutable() {
    let t = T::new();
    let pool = t.pool(json!({"Schema": [
        {"Name": "email", "AttributeDataType": "String", "Required": true},
        {"Name": "plan", "AttributeDataType": "String"},
    ]}));
    t.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "uma", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "uma@example.com"},
                                  {"Name": "custom:plan", "Value": "free"}]}),
    );
    t.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "uma",
               "UserAttributes": [{"Name": "email", "Value": "uma2@example.com"},
                                  {"Name": "custom:plan", "Value": "pro"}]}),
    );
    let d = t.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(schema_entry(&d, "email")["Mutable"], true);
}
