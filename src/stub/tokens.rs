//! RS256 JWTs with Cognito's claims, the JWKS, and access-token checks.
//!
//! Two 2048-bit RSA keys (one for access tokens, one for ID tokens, as
//! Cognito uses distinct kids) are generated once per process and shared
//! by every stub, because key generation is slow. Refresh tokens are
//! opaque random strings stored server-side (Cognito's are JWEs, equally
//! opaque to clients).

use std::sync::OnceLock;

use base64::Engine;
use rsa::sha2::Digest;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use serde_json::{Map, Value, json};

use super::Ctx;
use super::protocol::{ApiError, ApiResult};
use super::state::{Client, DeviceSignIn, Origin, Pool, User, random_token};

type Sha256 = rsa::sha2::Sha256;

/// One signing key and its JWKS entry.
pub struct SigningKey {
    /// The `kid` in token headers and the JWKS.
    pub kid: String,
    private: PrivateKey,
    public: PublicKey,
}

/// The process-wide signing keys.
pub struct Keys {
    /// Signs access tokens.
    pub access: SigningKey,
    /// Signs ID tokens.
    pub id: SigningKey,
}

static KEYS: OnceLock<Option<Keys>> = OnceLock::new();

fn generate(label: &str) -> Option<SigningKey> {
    let private = PrivateKey::new(&mut rand::rng(), 2048).ok()?;
    let public = private.to_public_key();
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update(public.n_bytes());
    let kid = base64::engine::general_purpose::STANDARD.encode(h.finalize());
    Some(SigningKey {
        kid,
        private,
        public,
    })
}

/// The shared keys, generated on first use (about a second).
pub fn keys() -> Option<&'static Keys> {
    KEYS.get_or_init(|| {
        Some(Keys {
            access: generate("access")?,
            id: generate("id")?,
        })
    })
    .as_ref()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `claims` as a compact RS256 JWS with `key`.
pub fn sign(key: &SigningKey, claims: &Value) -> ApiResult<String> {
    let header = json!({"kid": key.kid, "alg": "RS256"});
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = key
        .private
        .pkcs1v15_sign::<Sha256>(signing_input.as_bytes())
        .map_err(|_| ApiError::new("InternalErrorException", "Token signing failed"))?;
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

/// Verifies a compact JWS signed by `key`; returns its claims.
pub fn verify(key: &SigningKey, token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(h).ok()?).ok()?;
    if header.get("alg")? != "RS256" || header.get("kid")? != key.kid.as_str() {
        return None;
    }
    let sig = b64.decode(s).ok()?;
    key.public
        .pkcs1v15_verify::<Sha256>(format!("{h}.{p}").as_bytes(), &sig)
        .ok()?;
    match serde_json::from_slice(&b64.decode(p).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn jwk(key: &SigningKey) -> Value {
    json!({
        "alg": "RS256",
        "e": b64url(&key.public.e_bytes()),
        "kid": key.kid,
        "kty": "RSA",
        "n": b64url(&key.public.n_bytes()),
        "use": "sig",
    })
}

/// The JWKS served at `/<poolId>/.well-known/jwks.json`.
pub fn jwks(keys: &Keys) -> Value {
    json!({"keys": [jwk(&keys.access), jwk(&keys.id)]})
}

/// `https://cognito-idp.<region>.amazonaws.com/<poolId>`.
pub fn issuer(region: &str, pool_id: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

/// Issues access and ID tokens for a sign-in; with `new_sign_in` also a refresh token.
pub fn authentication_result(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    sub: &str,
    origin_jti: Option<&str>,
) -> ApiResult<Value> {
    let keys = ctx.keys;
    let now_ms = ctx.clock.now_millis();
    let now = now_ms / 1000;
    let region = ctx.region;
    let mut new_device = None;
    let (origin_jti, refresh, auth_time, device_key) = match origin_jti {
        Some(o) => {
            let origin = ctx
                .state
                .origins
                .get(o)
                .ok_or_else(|| ApiError::not_authorized("Invalid Refresh Token"))?;
            (
                o.to_string(),
                None,
                origin.auth_time,
                origin.device_key.clone(),
            )
        }
        None => {
            // Forget sign-ins whose refresh token ran out long ago (bounded memory).
            let stale: Vec<String> = ctx
                .state
                .origins
                .iter()
                .filter(|(_, o)| o.refresh_expires_ms.saturating_add(86_400_000) < now_ms)
                .map(|(k, _)| k.clone())
                .collect();
            for k in stale {
                if let Some(o) = ctx.state.origins.remove(&k) {
                    ctx.state.refresh_tokens.remove(&o.refresh_token);
                }
            }
            // The device of this sign-in: the one it proved, else a new one
            // (NewDeviceMetadata) when the pool tracks devices.
            let device_key = match &ctx.device {
                DeviceSignIn {
                    key: Some(k),
                    verified: true,
                } => Some(k.clone()),
                _ => {
                    new_device = super::device_tracking::issue_device(ctx, pool_id, sub)?;
                    new_device.as_ref().map(|(k, _)| k.clone())
                }
            };
            let pool = ctx.state.pool(pool_id)?;
            let client = pool.client(client_id)?;
            let jti = uuid::Uuid::new_v4().to_string();
            let refresh = random_token(384);
            let origin = Origin {
                pool_id: pool_id.to_string(),
                client_id: client_id.to_string(),
                sub: sub.to_string(),
                refresh_token: refresh.clone(),
                auth_time: now,
                refresh_expires_ms: now_ms.saturating_add(client.refresh_validity_secs * 1000),
                revoked: false,
                device_key: device_key.clone(),
            };
            ctx.state.origins.insert(jti.clone(), origin);
            ctx.state
                .refresh_tokens
                .insert(refresh.clone(), jti.clone());
            (jti, Some(refresh), now, device_key)
        }
    };
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    let user = pool
        .users
        .values()
        .find(|u| u.sub == sub)
        .ok_or_else(ApiError::user_not_found)?;
    let event_id = uuid::Uuid::new_v4().to_string();
    let iss = issuer(region, pool_id);
    let mut access = access_claims(&iss, client, user, &origin_jti, &event_id, auth_time, now);
    if let (Some(k), Value::Object(m)) = (&device_key, &mut access) {
        m.insert("device_key".into(), json!(k));
    }
    let id = id_claims(&iss, client, user, &origin_jti, &event_id, auth_time, now);
    let mut result = Map::new();
    result.insert(
        "AccessToken".into(),
        Value::String(sign(&keys.access, &access)?),
    );
    result.insert("ExpiresIn".into(), json!(client.access_validity_secs));
    result.insert("TokenType".into(), json!("Bearer"));
    if let Some(r) = refresh {
        result.insert("RefreshToken".into(), Value::String(r));
    }
    result.insert("IdToken".into(), Value::String(sign(&keys.id, &id)?));
    if let Some((key, group)) = new_device {
        result.insert(
            "NewDeviceMetadata".into(),
            json!({"DeviceKey": key, "DeviceGroupKey": group}),
        );
    }
    Ok(json!({"ChallengeParameters": {}, "AuthenticationResult": result}))
}

fn access_claims(
    iss: &str,
    client: &Client,
    user: &User,
    origin_jti: &str,
    event_id: &str,
    auth_time: u64,
    now: u64,
) -> Value {
    json!({
        "sub": user.sub,
        "iss": iss,
        "client_id": client.id,
        "origin_jti": origin_jti,
        "event_id": event_id,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": auth_time,
        "exp": now + client.access_validity_secs,
        "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
        "username": user.username,
    })
}

fn id_claims(
    iss: &str,
    client: &Client,
    user: &User,
    origin_jti: &str,
    event_id: &str,
    auth_time: u64,
    now: u64,
) -> Value {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.sub));
    if let Some(v) = user.attr("email_verified") {
        c.insert("email_verified".into(), json!(v == "true"));
    }
    c.insert("iss".into(), json!(iss));
    c.insert("cognito:username".into(), json!(user.username));
    c.insert("origin_jti".into(), json!(origin_jti));
    c.insert("aud".into(), json!(client.id));
    c.insert("event_id".into(), json!(event_id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(auth_time));
    for (k, v) in &user.attributes {
        match k.as_str() {
            "sub" | "email_verified" => {}
            "phone_number_verified" => {
                c.insert(k.clone(), json!(v == "true"));
            }
            _ => {
                c.insert(k.clone(), json!(v));
            }
        }
    }
    c.insert("exp".into(), json!(now + client.id_validity_secs));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    Value::Object(c)
}

/// Who an access token speaks for.
pub struct TokenUser {
    /// Pool id (from `iss`).
    pub pool_id: String,
    /// The user's `sub`.
    pub sub: String,
}

/// Checks an access token as Cognito does for token-authorised operations:
/// signature, `token_use`, expiry (stub clock), revocation, user existence.
pub fn check_access_token(ctx: &Ctx, token: &str) -> ApiResult<TokenUser> {
    let invalid = || ApiError::not_authorized("Invalid Access Token");
    let claims = verify(&ctx.keys.access, token).ok_or_else(invalid)?;
    if claims.get("token_use").and_then(Value::as_str) != Some("access") {
        return Err(invalid());
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let prefix = format!("https://cognito-idp.{}.amazonaws.com/", ctx.region);
    let pool_id = iss.strip_prefix(&prefix).ok_or_else(invalid)?.to_string();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let origin_jti = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(invalid)?;
    if ctx.clock.now_secs() >= exp {
        return Err(ApiError::not_authorized("Access Token has expired"));
    }
    match ctx.state.origins.get(origin_jti) {
        Some(o) if o.revoked => {
            return Err(ApiError::not_authorized("Access Token has been revoked"));
        }
        Some(_) => {}
        // The sign-in was forgotten: its pool or user was deleted.
        None => {
            let pool = ctx.state.pool(&pool_id)?;
            if !pool.users.values().any(|u| u.sub == sub) {
                return Err(ApiError::user_not_found());
            }
            return Err(ApiError::not_authorized("Access Token has been revoked"));
        }
    }
    let pool: &Pool = ctx.state.pool(&pool_id)?;
    if !pool.users.values().any(|u| u.sub == sub) {
        return Err(ApiError::user_not_found());
    }
    Ok(TokenUser {
        pool_id,
        sub: sub.to_string(),
    })
}
