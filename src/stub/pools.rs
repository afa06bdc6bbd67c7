//! User pools and app clients: CreateUserPool, DescribeUserPool,
//! UpdateUserPool, DeleteUserPool, ListUserPools, SetUserPoolMfaConfig,
//! GetUserPoolMfaConfig, CreateUserPoolClient, DescribeUserPoolClient,
//! DeleteUserPoolClient, ListUserPoolClients.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Ctx;
use super::password::PasswordPolicy;
use super::protocol::{ApiError, ApiResult, Params, validation_error};
use super::state::{
    Client, MfaMode, Pool, STANDARD_ATTRIBUTES, epoch_json, new_client_id, new_client_secret,
    new_pool_id,
};

const MFA_VALUES: &[&str] = &["OFF", "ON", "OPTIONAL"];

/// Members of CreateUserPool modelled explicitly (the rest are echoed).
const MODELLED: &[&str] = &[
    "PoolName",
    "Policies",
    "MfaConfiguration",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "Schema",
    "UsernameConfiguration",
    "UserPoolId",
];

fn check_list(key: &str, values: &[String], allowed: &[&str]) -> ApiResult<()> {
    for v in values {
        if !allowed.contains(&v.as_str()) {
            return Err(validation_error(&[format!(
                "Value '[{}]' at '{}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                values.join(", "),
                super::protocol::member_name(key),
                allowed.join(", ")
            )]));
        }
    }
    Ok(())
}

/// MFA ON/OPTIONAL needs a factor the pool can deliver: TOTP enabled
/// (SetUserPoolMfaConfig) or an SmsConfiguration. Without either AWS refuses
/// the pool with this message (https://github.com/aws/aws-cli/issues/3876:
/// MFA OPTIONAL, email auto-verified, no SmsConfiguration). An
/// SmsConfiguration is enough, whatever AutoVerifiedAttributes says: moto's
/// AWS-verified tests create their MFA ON/OPTIONAL pools with an
/// SmsConfiguration and no auto-verified attribute at all
/// (`cognitoidp_aws_verified(with_mfa=…)`,
/// https://github.com/getmoto/moto/blob/master/tests/test_cognitoidp/__init__.py).
fn check_mfa_factors(pool: &Pool) -> ApiResult<()> {
    if pool.mfa != MfaMode::Off && !pool.software_token_mfa && !pool.sms_configured {
        return Err(ApiError::invalid_parameter(
            "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
        ));
    }
    Ok(())
}

/// Applies the members UpdateUserPool may change (absent ones return to defaults, as on AWS).
fn apply_settings(pool: &mut Pool, p: &Params) -> ApiResult<()> {
    let policy = match p.opt_obj("Policies")? {
        Some(pol) => match pol.opt_obj("PasswordPolicy")? {
            Some(pp) => PasswordPolicy::from_params(&pp, &PasswordPolicy::default())?,
            None => PasswordPolicy::default(),
        },
        None => PasswordPolicy::default(),
    };
    let auto_verified = p
        .opt_str_list("AutoVerifiedAttributes")?
        .unwrap_or_default();
    super::device_tracking::check_config(p)?;
    check_list(
        "AutoVerifiedAttributes",
        &auto_verified,
        &["phone_number", "email"],
    )?;
    let mfa = MfaMode::parse(
        p.opt_enum_str("MfaConfiguration", MFA_VALUES)?
            .unwrap_or("OFF"),
    );
    pool.password_policy = policy;
    pool.auto_verified = auto_verified;
    pool.mfa = mfa;
    pool.sms_configured = p.raw("SmsConfiguration").is_some();
    for (k, v) in p_members(p) {
        if !MODELLED.contains(&k.as_str()) {
            pool.extra.insert(k, v);
        }
    }
    Ok(())
}

fn p_members(p: &Params) -> Vec<(String, Value)> {
    // Params only exposes typed access; walk the known top-level members we echo.
    const ECHOED: &[&str] = &[
        "DeletionProtection",
        "LambdaConfig",
        "SmsVerificationMessage",
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "VerificationMessageTemplate",
        "SmsAuthenticationMessage",
        "UserAttributeUpdateSettings",
        "DeviceConfiguration",
        "EmailConfiguration",
        "SmsConfiguration",
        "UserPoolTags",
        "AdminCreateUserConfig",
        "UserPoolAddOns",
        "AccountRecoverySetting",
        "UserPoolTier",
    ];
    ECHOED
        .iter()
        .filter_map(|k| p.raw(k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// CreateUserPool.
pub fn create_user_pool(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["PoolName"])?;
    let name = p.str("PoolName")?;
    if name.is_empty() || name.chars().count() > 128 {
        return Err(validation_error(&[format!(
            "Value '{name}' at 'poolName' failed to satisfy constraint: Member must have length between 1 and 128"
        )]));
    }
    let alias = p.opt_str_list("AliasAttributes")?.unwrap_or_default();
    check_list(
        "AliasAttributes",
        &alias,
        &["phone_number", "email", "preferred_username"],
    )?;
    let username_attrs = p.opt_str_list("UsernameAttributes")?.unwrap_or_default();
    check_list(
        "UsernameAttributes",
        &username_attrs,
        &["phone_number", "email"],
    )?;
    if !alias.is_empty() && !username_attrs.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    let case_sensitive = match p.opt_obj("UsernameConfiguration")? {
        Some(uc) => uc.opt_bool("CaseSensitive")?.unwrap_or(true),
        None => true,
    };
    let mut custom = Vec::new();
    let mut required = Vec::new();
    let mut immutable = Vec::new();
    let mut schema_extra = Vec::new();
    if let Some(Value::Array(items)) = p.raw("Schema") {
        for item in items {
            let Value::Object(m) = item else {
                return Err(ApiError::serialization(
                    "Start of list found where not expected.",
                ));
            };
            let a = Params::new(m);
            let Some(n) = a.opt_str("Name")? else {
                continue;
            };
            let n = n.strip_prefix("custom:").unwrap_or(n);
            let standard = STANDARD_ATTRIBUTES.iter().any(|(s, _, _)| *s == n);
            if a.opt_bool("Required")?.unwrap_or(false) {
                if !standard {
                    return Err(ApiError::invalid_parameter(
                        "Required custom attributes are not supported currently.",
                    ));
                }
                required.push(n.to_string());
            }
            // `Mutable: false`: set at SignUp / AdminCreateUser, never changed
            // afterwards (AddCustomAttributes API reference, Mutable: "If false,
            // the attribute value can only be set up on sign-up or administrator
            // creation of users", https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AddCustomAttributes.html).
            // Standard attributes take it too: AWS's own example pool declares
            // email `Mutable: false` (awsdocs/aws-doc-sdk-examples,
            // resources/cdk/cognito_scenario_user_pool_with_mfa/setup.yaml).
            if a.opt_bool("Mutable")? == Some(false) {
                immutable.push(if standard {
                    n.to_string()
                } else {
                    format!("custom:{n}")
                });
            }
            if !standard {
                custom.push(n.to_string());
                schema_extra.push(item.clone());
            }
        }
    } else if let Some(other) = p.raw("Schema") {
        return Err(ApiError::serialization(match other {
            Value::Object(_) => "Start of structure or map found where not expected.",
            _ => "Expected a list for 'schema'.",
        }));
    }
    let now = ctx.clock.now_millis();
    let id = new_pool_id(ctx.region);
    let mut pool = Pool {
        arn: format!(
            "arn:aws:cognito-idp:{}:123456789012:userpool/{id}",
            ctx.region
        ),
        id: id.clone(),
        name: name.to_string(),
        created_ms: now,
        modified_ms: now,
        password_policy: PasswordPolicy::default(),
        mfa: MfaMode::Off,
        software_token_mfa: false,
        sms_configured: false,
        sms_mfa_configuration: None,
        auto_verified: Vec::new(),
        username_attributes: username_attrs,
        alias_attributes: alias,
        case_sensitive,
        custom_attributes: custom,
        required_attributes: required,
        immutable_attributes: immutable,
        extra: Map::new(),
        clients: BTreeMap::new(),
        users: BTreeMap::new(),
    };
    apply_settings(&mut pool, p)?;
    check_mfa_factors(&pool)?;
    if !schema_extra.is_empty() {
        pool.extra
            .insert("__schema_custom".into(), Value::Array(schema_extra));
    }
    let out = json!({"UserPool": describe(&pool)});
    ctx.state.pools.insert(id, pool);
    Ok(out)
}

fn schema_json(pool: &Pool) -> Value {
    let mut v: Vec<Value> = STANDARD_ATTRIBUTES
        .iter()
        .map(|(name, ty, mutable)| {
            let mut m = Map::new();
            m.insert("Name".into(), json!(name));
            m.insert("AttributeDataType".into(), json!(ty));
            m.insert("DeveloperOnlyAttribute".into(), json!(false));
            // As declared: a standard attribute Schema made immutable reads back so.
            m.insert("Mutable".into(), json!(*mutable && pool.is_mutable(name)));
            m.insert(
                "Required".into(),
                json!(*name == "sub" || pool.required_attributes.iter().any(|r| r == name)),
            );
            match *ty {
                "String" => {
                    // birthdate is a YYYY-MM-DD date: exactly 10 characters.
                    let (min, max) = match *name {
                        "sub" => ("1", "2048"),
                        "birthdate" => ("10", "10"),
                        _ => ("0", "2048"),
                    };
                    m.insert(
                        "StringAttributeConstraints".into(),
                        json!({"MinLength": min, "MaxLength": max}),
                    );
                }
                "Number" => {
                    m.insert(
                        "NumberAttributeConstraints".into(),
                        json!({"MinValue": "0"}),
                    );
                }
                _ => {}
            }
            Value::Object(m)
        })
        .collect();
    if let Some(Value::Array(custom)) = pool.extra.get("__schema_custom") {
        for c in custom {
            let mut c = c.clone();
            if let Some(Value::String(n)) = c.get_mut("Name")
                && !n.starts_with("custom:")
            {
                *n = format!("custom:{n}");
            }
            // As declared, with the members AWS reports for every attribute
            // (the AWS CLI describe-user-pool example: DeveloperOnlyAttribute
            // false, Required false, `StringAttributeConstraints: {}` when none
            // was given). A custom attribute declared without `Mutable` is left
            // without it: AWS's default is not documented.
            if let Value::Object(m) = &mut c {
                m.entry("DeveloperOnlyAttribute").or_insert(json!(false));
                m.entry("Required").or_insert(json!(false));
                let constraints = match m.get("AttributeDataType").and_then(Value::as_str) {
                    Some("Number") => Some("NumberAttributeConstraints"),
                    Some("String") | None => Some("StringAttributeConstraints"),
                    _ => None,
                };
                if let Some(k) = constraints {
                    m.entry(k).or_insert(json!({}));
                }
            }
            v.push(c);
        }
    }
    Value::Array(v)
}

/// The `UserPool` structure of DescribeUserPool.
fn describe(pool: &Pool) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!(pool.id));
    m.insert("Name".into(), json!(pool.name));
    m.insert(
        "Policies".into(),
        json!({"PasswordPolicy": pool.password_policy.to_json()}),
    );
    m.insert(
        "DeletionProtection".into(),
        pool.extra
            .get("DeletionProtection")
            .cloned()
            .unwrap_or(json!("INACTIVE")),
    );
    m.insert(
        "LambdaConfig".into(),
        pool.extra.get("LambdaConfig").cloned().unwrap_or(json!({})),
    );
    m.insert("LastModifiedDate".into(), epoch_json(pool.modified_ms));
    m.insert("CreationDate".into(), epoch_json(pool.created_ms));
    m.insert("SchemaAttributes".into(), schema_json(pool));
    if !pool.auto_verified.is_empty() {
        m.insert("AutoVerifiedAttributes".into(), json!(pool.auto_verified));
    }
    if !pool.alias_attributes.is_empty() {
        m.insert("AliasAttributes".into(), json!(pool.alias_attributes));
    }
    if !pool.username_attributes.is_empty() {
        m.insert("UsernameAttributes".into(), json!(pool.username_attributes));
    }
    m.insert(
        "VerificationMessageTemplate".into(),
        pool.extra
            .get("VerificationMessageTemplate")
            .cloned()
            .unwrap_or(json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"})),
    );
    m.insert("MfaConfiguration".into(), json!(pool.mfa.as_str()));
    m.insert("EstimatedNumberOfUsers".into(), json!(pool.users.len()));
    m.insert(
        "EmailConfiguration".into(),
        pool.extra
            .get("EmailConfiguration")
            .cloned()
            .unwrap_or(json!({"EmailSendingAccount": "COGNITO_DEFAULT"})),
    );
    m.insert(
        "AdminCreateUserConfig".into(),
        pool.extra
            .get("AdminCreateUserConfig")
            .cloned()
            .unwrap_or(json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7})),
    );
    m.insert(
        "UsernameConfiguration".into(),
        json!({"CaseSensitive": pool.case_sensitive}),
    );
    m.insert("Arn".into(), json!(pool.arn));
    for (k, v) in &pool.extra {
        if !k.starts_with("__") && !m.contains_key(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    if !m.contains_key("UserPoolTier") {
        m.insert("UserPoolTier".into(), json!("ESSENTIALS"));
    }
    Value::Object(m)
}

/// DescribeUserPool.
pub fn describe_user_pool(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    Ok(json!({"UserPool": describe(pool)}))
}

/// UpdateUserPool (settings not given return to their defaults, as AWS documents).
pub fn update_user_pool(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(p.str("UserPoolId")?)?;
    let custom = pool.extra.remove("__schema_custom");
    let mut updated = Pool {
        id: pool.id.clone(),
        name: pool.name.clone(),
        arn: pool.arn.clone(),
        created_ms: pool.created_ms,
        modified_ms: now,
        password_policy: PasswordPolicy::default(),
        mfa: MfaMode::Off,
        software_token_mfa: pool.software_token_mfa,
        sms_configured: false,
        sms_mfa_configuration: pool.sms_mfa_configuration.clone(),
        auto_verified: Vec::new(),
        username_attributes: pool.username_attributes.clone(),
        alias_attributes: pool.alias_attributes.clone(),
        case_sensitive: pool.case_sensitive,
        custom_attributes: pool.custom_attributes.clone(),
        required_attributes: pool.required_attributes.clone(),
        immutable_attributes: pool.immutable_attributes.clone(),
        extra: Map::new(),
        clients: BTreeMap::new(),
        users: BTreeMap::new(),
    };
    if let Some(c) = custom.clone() {
        pool.extra.insert("__schema_custom".into(), c);
    }
    apply_settings(&mut updated, p)?;
    check_mfa_factors(&updated)?;
    if let Some(c) = custom {
        updated.extra.insert("__schema_custom".into(), c);
    }
    pool.modified_ms = now;
    pool.password_policy = updated.password_policy;
    pool.mfa = updated.mfa;
    pool.sms_configured = updated.sms_configured;
    pool.auto_verified = updated.auto_verified;
    pool.extra = updated.extra;
    Ok(json!({}))
}

/// DeleteUserPool (its clients and users go with it).
pub fn delete_user_pool(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let id = p.str("UserPoolId")?;
    let pool = ctx.state.pool(id)?;
    if pool.extra.get("DeletionProtection").and_then(Value::as_str) == Some("ACTIVE") {
        return Err(ApiError::invalid_parameter(
            "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
        ));
    }
    ctx.state.pools.remove(id);
    ctx.state.forget(id, None);
    Ok(json!({}))
}

/// ListUserPools.
pub fn list_user_pools(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["MaxResults"])?;
    let max = p.opt_i64("MaxResults")?.unwrap_or(60);
    if !(1..=60).contains(&max) {
        return Err(validation_error(&[format!(
            "Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value {}",
            if max < 1 {
                "greater than or equal to 1"
            } else {
                "less than or equal to 60"
            }
        )]));
    }
    let after = p.opt_str("NextToken")?;
    let pools: Vec<&Pool> = ctx
        .state
        .pools
        .values()
        .filter(|pl| after.is_none_or(|a| pl.id.as_str() > a))
        .collect();
    let page: Vec<Value> = pools
        .iter()
        .take(max as usize)
        .map(|pl| {
            json!({
                "Id": pl.id,
                "Name": pl.name,
                "LambdaConfig": pl.extra.get("LambdaConfig").cloned().unwrap_or(json!({})),
                "LastModifiedDate": epoch_json(pl.modified_ms),
                "CreationDate": epoch_json(pl.created_ms),
            })
        })
        .collect();
    let mut out = json!({"UserPools": page});
    if pools.len() > max as usize
        && let Some(last) = pools.get(max as usize - 1)
    {
        out["NextToken"] = json!(last.id);
    }
    Ok(out)
}

fn mfa_config_json(pool: &Pool) -> Value {
    let mut m = Map::new();
    if let Some(sms) = &pool.sms_mfa_configuration {
        m.insert("SmsMfaConfiguration".into(), sms.clone());
    }
    m.insert(
        "SoftwareTokenMfaConfiguration".into(),
        json!({"Enabled": pool.software_token_mfa}),
    );
    m.insert("MfaConfiguration".into(), json!(pool.mfa.as_str()));
    Value::Object(m)
}

/// SetUserPoolMfaConfig.
pub fn set_user_pool_mfa_config(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let mode = p.opt_enum_str("MfaConfiguration", MFA_VALUES)?;
    let totp = match p.opt_obj("SoftwareTokenMfaConfiguration")? {
        Some(t) => t.opt_bool("Enabled")?.unwrap_or(false),
        None => false,
    };
    let sms = p.raw("SmsMfaConfiguration").cloned();
    let sms_enabled = match p.opt_obj("SmsMfaConfiguration")? {
        Some(s) => s.raw("SmsConfiguration").is_some(),
        None => false,
    };
    if p.opt_obj("EmailMfaConfiguration")?.is_some() {
        return Err(ApiError::not_supported("EmailMfaConfiguration (email MFA)"));
    }
    let pool = ctx.state.pool_mut(p.str("UserPoolId")?)?;
    let mode = mode.map(MfaMode::parse).unwrap_or(pool.mfa);
    if mode == MfaMode::Off && (totp || sms_enabled) {
        return Err(ApiError::invalid_parameter(
            "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
        ));
    }
    if mode != MfaMode::Off && !totp && !sms_enabled {
        return Err(ApiError::invalid_parameter(
            "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.",
        ));
    }
    pool.mfa = mode;
    pool.software_token_mfa = totp;
    if sms_enabled {
        pool.sms_configured = true;
    }
    pool.sms_mfa_configuration = sms;
    Ok(mfa_config_json(pool))
}

/// GetUserPoolMfaConfig.
pub fn get_user_pool_mfa_config(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    Ok(mfa_config_json(pool))
}

const AUTH_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];

fn unit_secs(unit: &str) -> u64 {
    match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        _ => 86_400,
    }
}

/// CreateUserPoolClient.
pub fn create_user_pool_client(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientName"])?;
    write_client(ctx, p, None)
}

/// UpdateUserPoolClient (settings not given return to their defaults, as AWS documents;
/// the id, secret and creation date stay).
pub fn update_user_pool_client(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientId"])?;
    let client_id = p.str("ClientId")?;
    let existing = ctx.state.pool(p.str("UserPoolId")?)?.client(client_id)?;
    let kept = (
        existing.id.clone(),
        existing.name.clone(),
        existing.secret.clone(),
        existing.description.get("CreationDate").cloned(),
    );
    write_client(ctx, p, Some(kept))
}

type KeptClient = (String, String, Option<String>, Option<Value>);

fn write_client(ctx: &mut Ctx, p: &Params, kept: Option<KeptClient>) -> ApiResult<Value> {
    let pool_id = p.str("UserPoolId")?;
    let name = match (&kept, p.opt_str("ClientName")?) {
        (_, Some(n)) => n.to_string(),
        (Some((_, n, _, _)), None) => n.clone(),
        (None, None) => p.str("ClientName")?.to_string(),
    };
    let name = name.as_str();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(validation_error(&[format!(
            "Value '{name}' at 'clientName' failed to satisfy constraint: Member must have length between 1 and 128"
        )]));
    }
    let generate_secret = p.opt_bool("GenerateSecret")?.unwrap_or(false);
    let flows_given = p.opt_str_list("ExplicitAuthFlows")?;
    if let Some(f) = &flows_given {
        check_list("ExplicitAuthFlows", f, AUTH_FLOWS)?;
        let allow = f.iter().filter(|x| x.starts_with("ALLOW_")).count();
        if allow > 0 && allow < f.len() {
            return Err(ApiError::invalid_parameter(
                "ExplicitAuthFlow can not have both legacy and new values.",
            ));
        }
        if allow > 0 && !f.iter().any(|x| x == "ALLOW_REFRESH_TOKEN_AUTH") {
            return Err(ApiError::invalid_parameter(
                "REFRESH_TOKEN_AUTH should always be allowed.",
            ));
        }
    }
    let flows = flows_given.unwrap_or_else(|| {
        vec![
            "ALLOW_REFRESH_TOKEN_AUTH".into(),
            "ALLOW_USER_SRP_AUTH".into(),
            "ALLOW_CUSTOM_AUTH".into(),
        ]
    });
    let units_p = p.opt_obj("TokenValidityUnits")?;
    let unit = |key: &str, default: &'static str| -> ApiResult<&str> {
        Ok(match &units_p {
            Some(u) => u
                .opt_enum_str(key, &["seconds", "minutes", "hours", "days"])?
                .unwrap_or(default),
            None => default,
        })
    };
    let access_unit = unit("AccessToken", "hours")?;
    let id_unit = unit("IdToken", "hours")?;
    let refresh_unit = unit("RefreshToken", "days")?;
    let access = p.opt_i64("AccessTokenValidity")?;
    let id_v = p.opt_i64("IdTokenValidity")?;
    let refresh = p.opt_i64("RefreshTokenValidity")?;
    let secs = |v: Option<i64>, unit: &str, default: u64| -> u64 {
        match v {
            Some(v) if v > 0 => (v as u64).saturating_mul(unit_secs(unit)),
            _ => default,
        }
    };
    let access_secs = secs(access, access_unit, 3600);
    let id_secs = secs(id_v, id_unit, 3600);
    let refresh_secs = secs(refresh, refresh_unit, 30 * 86_400);
    for (what, s) in [("Access", access_secs), ("Id", id_secs)] {
        if !(300..=86_400).contains(&s) {
            return Err(ApiError::invalid_parameter(format!(
                "{what} token validity must be between 5 minutes and 1 day."
            )));
        }
    }
    if !(3600..=10 * 365 * 86_400).contains(&refresh_secs) {
        return Err(ApiError::invalid_parameter(
            "Refresh token validity must be between 60 minutes and 10 years.",
        ));
    }
    let session_validity = p.opt_i64("AuthSessionValidity")?.unwrap_or(3);
    if !(3..=15).contains(&session_validity) {
        return Err(validation_error(&[format!(
            "Value '{session_validity}' at 'authSessionValidity' failed to satisfy constraint: Member must have value {}",
            if session_validity < 3 {
                "greater than or equal to 3"
            } else {
                "less than or equal to 15"
            }
        )]));
    }
    let prevent = p
        .opt_enum_str("PreventUserExistenceErrors", &["LEGACY", "ENABLED"])?
        .unwrap_or("LEGACY");
    let revocation = p.opt_bool("EnableTokenRevocation")?.unwrap_or(true);
    let now = ctx.clock.now_millis();
    let pool = ctx.state.pool_mut(pool_id)?;
    let (id, secret, created) = match kept {
        Some((id, _, secret, created)) => (id, secret, created),
        None => (
            new_client_id(),
            generate_secret.then(new_client_secret),
            None,
        ),
    };

    let mut d = Map::new();
    d.insert("UserPoolId".into(), json!(pool_id));
    d.insert("ClientName".into(), json!(name));
    d.insert("ClientId".into(), json!(id));
    if let Some(s) = &secret {
        d.insert("ClientSecret".into(), json!(s));
    }
    d.insert("LastModifiedDate".into(), epoch_json(now));
    d.insert(
        "CreationDate".into(),
        created.unwrap_or_else(|| epoch_json(now)),
    );
    d.insert(
        "RefreshTokenValidity".into(),
        json!(refresh_secs / unit_secs(refresh_unit)),
    );
    if access.is_some() {
        d.insert(
            "AccessTokenValidity".into(),
            json!(access_secs / unit_secs(access_unit)),
        );
    }
    if id_v.is_some() {
        d.insert(
            "IdTokenValidity".into(),
            json!(id_secs / unit_secs(id_unit)),
        );
    }
    if units_p.is_some() {
        d.insert(
            "TokenValidityUnits".into(),
            json!({"AccessToken": access_unit, "IdToken": id_unit, "RefreshToken": refresh_unit}),
        );
    }
    for k in ["ReadAttributes", "WriteAttributes"] {
        if let Some(v) = p.raw(k) {
            d.insert(k.into(), v.clone());
        }
    }
    d.insert("ExplicitAuthFlows".into(), json!(flows));
    for k in [
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AnalyticsConfiguration",
        "RefreshTokenRotation",
    ] {
        if let Some(v) = p.raw(k) {
            d.insert(k.into(), v.clone());
        }
    }
    d.insert(
        "AllowedOAuthFlowsUserPoolClient".into(),
        json!(
            p.opt_bool("AllowedOAuthFlowsUserPoolClient")?
                .unwrap_or(false)
        ),
    );
    d.insert("PreventUserExistenceErrors".into(), json!(prevent));
    d.insert("EnableTokenRevocation".into(), json!(revocation));
    d.insert(
        "EnablePropagateAdditionalUserContextData".into(),
        json!(
            p.opt_bool("EnablePropagateAdditionalUserContextData")?
                .unwrap_or(false)
        ),
    );
    d.insert("AuthSessionValidity".into(), json!(session_validity));

    let client = Client {
        id: id.clone(),
        name: name.to_string(),
        secret,
        explicit_auth_flows: flows,
        auth_session_validity_min: session_validity as u64,
        access_validity_secs: access_secs,
        id_validity_secs: id_secs,
        refresh_validity_secs: refresh_secs,
        prevent_user_existence_errors: prevent == "ENABLED",
        token_revocation: revocation,
        description: d.clone(),
    };
    pool.clients.insert(id, client);
    Ok(json!({"UserPoolClient": d}))
}

/// DescribeUserPoolClient.
pub fn describe_user_pool_client(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientId"])?;
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    let client = pool.client(p.str("ClientId")?)?;
    Ok(json!({"UserPoolClient": client.description}))
}

/// DeleteUserPoolClient.
pub fn delete_user_pool_client(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId", "ClientId"])?;
    let client_id = p.str("ClientId")?;
    let pool = ctx.state.pool_mut(p.str("UserPoolId")?)?;
    pool.client(client_id)?;
    pool.clients.remove(client_id);
    ctx.state.sessions.retain(|_, s| s.client_id != client_id);
    Ok(json!({}))
}

/// ListUserPoolClients.
pub fn list_user_pool_clients(ctx: &mut Ctx, p: &Params) -> ApiResult<Value> {
    p.require(&["UserPoolId"])?;
    let pool = ctx.state.pool(p.str("UserPoolId")?)?;
    let clients: Vec<Value> = pool
        .clients
        .values()
        .map(|c| json!({"ClientId": c.id, "UserPoolId": pool.id, "ClientName": c.name}))
        .collect();
    Ok(json!({"UserPoolClients": clients}))
}
