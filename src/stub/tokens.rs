//! RS256 JWTs with Cognito's claims, the JWKS, and access-token checks.
//!
//! Two 2048-bit RSA keys (one for access tokens, one for ID tokens, as
//! Cognito uses distinct kids) are shared by every stub of the process:
//! read from the user's cache folder, or generated side by side and kept
//! there ([`super::key_cache`]). Signing and verifying use aws-lc-rs (the
//! TLS stack's own crypto, already in the binary): a signature costs a
//! fraction of a millisecond. Refresh tokens are sealed, not signed: see
//! [`super::sign_ins`].

use std::sync::OnceLock;

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as lc, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Ctx;
use super::key_cache;
use super::protocol::{ApiError, ApiResult};
use super::sign_ins::SignIn;
use super::state::{Client, DeviceSignIn, Pool, User};

/// One signing key and its JWKS entry.
pub struct SigningKey {
    /// The `kid` in token headers and the JWKS.
    pub kid: String,
    private: RsaKeyPair,
    /// The modulus and public exponent, big-endian without leading zeros.
    n: Vec<u8>,
    e: Vec<u8>,
}

/// The process-wide signing keys.
pub struct Keys {
    /// Signs access tokens.
    pub access: SigningKey,
    /// Signs ID tokens.
    pub id: SigningKey,
}

static KEYS: OnceLock<Option<Keys>> = OnceLock::new();

fn generate() -> Option<RsaKeyPair> {
    RsaKeyPair::generate(KeySize::Rsa2048).ok()
}

fn signing_key(label: &str, private: RsaKeyPair) -> Option<SigningKey> {
    let (n, e) = rsa_public_components(private.public_key().as_ref())?;
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update(&n);
    let kid = base64::engine::general_purpose::STANDARD.encode(h.finalize());
    Some(SigningKey { kid, private, n, e })
}

/// `n` and `e` of a DER `RSAPublicKey` (RFC 8017 A.1.1: a SEQUENCE of two
/// INTEGERs), without the sign byte DER puts before a high bit.
fn rsa_public_components(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    /// One DER element with tag `tag` at the front of `input`: (contents, rest).
    fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        if t != tag {
            return None;
        }
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let octets = usize::from(first & 0x7f);
            if octets == 0 || octets > 4 || rest.len() < octets {
                return None;
            }
            let len = rest[..octets]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[octets..])
        };
        (rest.len() >= len).then(|| rest.split_at(len))
    }
    let unsigned = |i: &[u8]| {
        let start = i.iter().position(|&b| b != 0).unwrap_or(i.len());
        i[start..].to_vec()
    };
    let (seq, _) = element(der, 0x30)?;
    let (n, rest) = element(seq, 0x02)?;
    let (e, _) = element(rest, 0x02)?;
    Some((unsigned(n), unsigned(e)))
}

/// Starts preparing the shared keys on a thread of their own, once per
/// process: reading them (or generating them, a random 40–300 ms), then
/// seeding AWS-LC's random generator, which signing needs for RSA blinding.
/// Built with its CPU-jitter entropy source (a build without this project's
/// `.cargo/config.toml`), that seeding costs about 45 ms of CPU once per
/// process, which the first sign-in would otherwise wait for.
pub fn prepare_keys() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            keys();
            let _ = aws_lc_rs::rand::fill(&mut [0u8; 1]);
        });
    });
}

/// The shared keys, waiting for them if they are still being generated.
pub fn signing_keys() -> ApiResult<&'static Keys> {
    keys().ok_or_else(|| {
        ApiError::new(
            "InternalErrorException",
            "The stub could not generate its signing keys",
        )
    })
}

/// The shared keys: the ones kept in the user's cache folder
/// ([`super::key_cache`]), else generated on first use (the two side by side)
/// and kept there for the next process.
fn keys() -> Option<&'static Keys> {
    KEYS.get_or_init(|| {
        let cache = key_cache::location();
        let (access, id) = match cache.as_deref().and_then(key_cache::load) {
            Some(pair) => pair,
            None => {
                let (access, id) = std::thread::scope(|s| {
                    let id = s.spawn(generate);
                    (generate(), id.join().ok().flatten())
                });
                let (access, id) = (access?, id?);
                if let Some(path) = &cache {
                    key_cache::store(path, &access, &id);
                }
                (access, id)
            }
        };
        Some(Keys {
            access: signing_key("access", access)?,
            id: signing_key("id", id)?,
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
    let mut sig = vec![0u8; key.private.public_modulus_len()];
    key.private
        .sign(
            &lc::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut sig,
        )
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
    UnparsedPublicKey::new(
        &lc::RSA_PKCS1_2048_8192_SHA256,
        key.private.public_key().as_ref(),
    )
    .verify(format!("{h}.{p}").as_bytes(), &sig)
    .ok()?;
    match serde_json::from_slice(&b64.decode(p).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn jwk(key: &SigningKey) -> Value {
    json!({
        "alg": "RS256",
        "e": b64url(&key.e),
        "kid": key.kid,
        "kty": "RSA",
        "n": b64url(&key.n),
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

/// Issues access and ID tokens: for a new sign-in (`refreshed` is `None`)
/// also its refresh token; for a refresh, tokens of the same sign-in.
pub fn authentication_result(
    ctx: &mut Ctx,
    pool_id: &str,
    client_id: &str,
    sub: &str,
    refreshed: Option<&SignIn>,
) -> ApiResult<Value> {
    let keys = signing_keys()?;
    let now_ms = ctx.clock.now_millis();
    let now = now_ms / 1000;
    let region = ctx.region;
    let mut new_device = None;
    let (origin_jti, refresh, auth_time, device_key) = match refreshed {
        Some(s) => (
            s.origin_jti.clone(),
            None,
            s.auth_time,
            s.device_key.clone(),
        ),
        None => {
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
            let pool = ctx.state.pool_mut(pool_id)?;
            let refresh_validity_secs = pool.client(client_id)?.refresh_validity_secs;
            let user = pool
                .user_with_sub_mut(sub)
                .ok_or_else(ApiError::user_not_found)?;
            let sign_in = SignIn {
                origin_jti: uuid::Uuid::new_v4().to_string(),
                pool_id: pool_id.to_string(),
                client_id: client_id.to_string(),
                sub: sub.to_string(),
                auth_time: now,
                refresh_expires_ms: now_ms.saturating_add(refresh_validity_secs * 1000),
                generation: user.sign_out.generation(),
                device_key: device_key.clone(),
            };
            user.sign_out.signed_in(&sign_in.origin_jti, now);
            let refresh = ctx.state.sealer.seal(&sign_in);
            (sign_in.origin_jti, Some(refresh), now, device_key)
        }
    };
    let pool = ctx.state.pool(pool_id)?;
    let client = pool.client(client_id)?;
    let user = pool
        .user_with_sub(sub)
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
        c.insert("email_verified".into(), json!(super::state::is_true(v)));
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
                c.insert(k.clone(), json!(super::state::is_true(v)));
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
    let claims = verify(&signing_keys()?.access, token).ok_or_else(invalid)?;
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
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(invalid)?;
    let pool: &Pool = ctx.state.pool(&pool_id)?;
    let user = pool
        .user_with_sub(sub)
        .ok_or_else(ApiError::user_not_found)?;
    if ctx.state.revocations.is_revoked(origin_jti) || user.sign_out.revokes_access(origin_jti, iat)
    {
        return Err(ApiError::not_authorized("Access Token has been revoked"));
    }
    Ok(TokenUser {
        pool_id,
        sub: sub.to_string(),
    })
}
