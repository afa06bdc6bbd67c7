//! Sign-ins: what a family of tokens hangs off (Cognito's `origin_jti`).
//!
//! A sign-in's facts travel inside its refresh token, sealed with
//! AES-256-GCM under a key of this stub, in the shape of Cognito's refresh
//! token (a JWE whose header is `{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`;
//! see ../shared/notes/cognito-wire-facts.md). So the stub keeps nothing per
//! sign-in and its memory stays flat however long it serves; what it keeps is
//! what revokes: the sign-ins named by RevokeToken (until their tokens would
//! have expired anyway) and, per user, the mark of the last global sign-out.
//!
//! Inferred: what Cognito seals into its refresh token and how it stores
//! revocations are not documented; only the behaviour is (RevokeToken and
//! GlobalSignOut in the API reference), and that is what this follows.

use std::collections::HashMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// One sign-in, as sealed into its refresh token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignIn {
    /// The `origin_jti` of every token of this sign-in.
    #[serde(rename = "o")]
    pub origin_jti: String,
    /// Pool id.
    #[serde(rename = "p")]
    pub pool_id: String,
    /// Client id.
    #[serde(rename = "c")]
    pub client_id: String,
    /// The user's `sub`.
    #[serde(rename = "s")]
    pub sub: String,
    /// Epoch seconds of the authentication (kept on refresh).
    #[serde(rename = "a")]
    pub auth_time: u64,
    /// Epoch milliseconds when the refresh token expires.
    #[serde(rename = "x")]
    pub refresh_expires_ms: u64,
    /// The user's sign-out generation when signed in ([`SignOutMark`]).
    #[serde(rename = "g")]
    pub generation: u64,
    /// The device of the sign-in (the access token's `device_key`).
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
}

/// Cognito's refresh-token JWE header, base64url: `{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`.
const JWE_HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";
/// Bytes of the JWE's encrypted-key part (an RSA-OAEP block of a 2048-bit key).
/// The stub needs no per-token key, so these are random filler of that size.
const ENCRYPTED_KEY_LEN: usize = 256;
const TAG_LEN: usize = 16;
/// Refresh tokens longer than this are not ours (no sign-in seals to more).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The key that seals refresh tokens: random per stub, so a token of one
/// stub (or an earlier process) is just an invalid token to another.
pub struct Sealer(LessSafeKey);

impl Default for Sealer {
    fn default() -> Sealer {
        let mut key = [0u8; 32];
        rand::fill(&mut key[..]);
        let key = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte AES-256 key");
        Sealer(LessSafeKey::new(key))
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

impl Sealer {
    /// The refresh token carrying `sign_in`.
    pub fn seal(&self, sign_in: &SignIn) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce[..]);
        let mut filler = [0u8; ENCRYPTED_KEY_LEN];
        rand::fill(&mut filler[..]);
        let mut data = serde_json::to_vec(sign_in).unwrap_or_default();
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(JWE_HEADER.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of a short message");
        let b64 = b64();
        format!(
            "{JWE_HEADER}.{}.{}.{}.{}",
            b64.encode(filler),
            b64.encode(nonce),
            b64.encode(&data),
            b64.encode(tag.as_ref())
        )
    }

    /// The sign-in sealed into `token`; `None` for anything this stub did not seal.
    pub fn open(&self, token: &str) -> Option<SignIn> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let header = parts.next()?;
        let (_key, nonce, data, tag) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if header != JWE_HEADER || parts.next().is_some() {
            return None;
        }
        let b64 = b64();
        let nonce: [u8; NONCE_LEN] = b64.decode(nonce).ok()?.try_into().ok()?;
        let mut sealed = b64.decode(data).ok()?;
        let tag = b64.decode(tag).ok()?;
        if tag.len() != TAG_LEN {
            return None;
        }
        sealed.extend_from_slice(&tag);
        let plain = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(JWE_HEADER.as_bytes()),
                &mut sealed,
            )
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

/// How long after its refresh token expires a revoked sign-in is remembered:
/// an access token refreshed just before then lives at most a day (the
/// longest AccessTokenValidity).
const REMEMBER_AFTER_EXPIRY_MS: u64 = 86_400_000;

/// Sign-ins revoked one by one (RevokeToken), until no token of theirs can
/// be valid anyway.
#[derive(Default)]
pub struct Revocations {
    /// `origin_jti` → epoch ms after which it can be forgotten.
    revoked: HashMap<String, u64>,
}

impl Revocations {
    /// Revokes `sign_in` (and every access and ID token derived from it).
    pub fn revoke(&mut self, sign_in: &SignIn, now_ms: u64) {
        self.revoked.retain(|_, forget_at| *forget_at > now_ms);
        let forget_at = sign_in
            .refresh_expires_ms
            .saturating_add(REMEMBER_AFTER_EXPIRY_MS);
        self.revoked.insert(sign_in.origin_jti.clone(), forget_at);
    }

    /// Whether the sign-in `origin_jti` was revoked.
    pub fn is_revoked(&self, origin_jti: &str) -> bool {
        self.revoked.contains_key(origin_jti)
    }
}

/// A user's last global sign-out (GlobalSignOut, AdminUserGlobalSignOut,
/// AdminDisableUser): every sign-in before it is revoked.
///
/// Refresh tokens carry the generation they were issued in. Access tokens
/// carry only `iat` in whole seconds, so a sign-in in the sign-out's own
/// second is told apart by name; that list only grows during that second.
#[derive(Clone, Debug, Default)]
pub struct SignOutMark {
    generation: u64,
    at_secs: Option<u64>,
    /// Sign-ins made after the sign-out, in its second.
    since: Vec<String>,
}

impl SignOutMark {
    /// The generation a new sign-in belongs to.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Signs the user out everywhere at `now_secs`.
    pub fn sign_out(&mut self, now_secs: u64) {
        self.generation += 1;
        self.at_secs = Some(now_secs);
        self.since.clear();
    }

    /// Records sign-in `origin_jti` made at `now_secs`.
    pub fn signed_in(&mut self, origin_jti: &str, now_secs: u64) {
        if self.at_secs == Some(now_secs) {
            self.since.push(origin_jti.to_string());
        }
    }

    /// Whether a sign-out revoked the refresh token of `sign_in`.
    pub fn revokes_refresh(&self, sign_in: &SignIn) -> bool {
        sign_in.generation != self.generation
    }

    /// Whether a sign-out revoked an access token of sign-in `origin_jti` issued at `iat`.
    pub fn revokes_access(&self, origin_jti: &str, iat: u64) -> bool {
        match self.at_secs {
            None => false,
            Some(at) => iat < at || (iat == at && !self.since.iter().any(|o| o == origin_jti)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> SignIn {
        SignIn {
            origin_jti: "o-1".into(),
            pool_id: "us-east-1_abc".into(),
            client_id: "client".into(),
            sub: "sub-1".into(),
            auth_time: 1_000,
            refresh_expires_ms: 5_000_000,
            generation: 0,
            device_key: Some("us-east-1_dev".into()),
        }
    }

    #[test]
    fn sealed_tokens_open_only_with_their_key_and_unaltered() {
        let sealer = Sealer::default();
        let token = sealer.seal(&sign_in());
        assert!(token.starts_with("eyJjd"));
        assert_eq!(token.split('.').count(), 5);
        // What is sealed does not show (long values: random base64 never holds them by chance).
        let secret = SignIn {
            sub: "a-sub-that-must-never-show-in-the-token".into(),
            ..sign_in()
        };
        let sealed = sealer.seal(&secret);
        assert!(!sealed.contains(&secret.sub) && !sealed.contains(&b64().encode(&secret.sub)));
        assert_eq!(sealer.open(&sealed).unwrap().sub, secret.sub);
        let opened = sealer.open(&token).expect("opens");
        assert_eq!(opened.origin_jti, "o-1");
        assert_eq!(opened.device_key.as_deref(), Some("us-east-1_dev"));

        assert!(
            Sealer::default().open(&token).is_none(),
            "another stub's key"
        );
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut data = b64().decode(&parts[3]).unwrap();
        data[0] ^= 1;
        parts[3] = b64().encode(&data);
        assert!(sealer.open(&parts.join(".")).is_none(), "tampered");
        assert!(sealer.open("not-a-token").is_none());
        assert!(sealer.open(&"a.".repeat(10_000)).is_none());
    }

    #[test]
    fn revoked_sign_ins_are_forgotten_once_their_tokens_expired() {
        let mut r = Revocations::default();
        let a = sign_in();
        r.revoke(&a, 0);
        assert!(r.is_revoked("o-1"));
        let mut b = sign_in();
        b.origin_jti = "o-2".into();
        r.revoke(&b, a.refresh_expires_ms + REMEMBER_AFTER_EXPIRY_MS + 1);
        assert!(!r.is_revoked("o-1"));
        assert!(r.is_revoked("o-2"));
    }

    #[test]
    fn a_sign_out_revokes_what_came_before_it_even_in_the_same_second() {
        let mut m = SignOutMark::default();
        let before = sign_in();
        assert!(!m.revokes_refresh(&before));
        assert!(!m.revokes_access("o-1", 100));
        m.signed_in("o-1", 100);
        m.sign_out(100);
        assert!(m.revokes_refresh(&before));
        assert!(m.revokes_access("o-1", 99));
        assert!(
            m.revokes_access("o-1", 100),
            "same second, signed in before"
        );
        m.signed_in("o-2", 100);
        assert!(
            !m.revokes_access("o-2", 100),
            "same second, signed in after"
        );
        assert!(!m.revokes_access("o-3", 101), "a later second");
        let after = SignIn {
            generation: m.generation(),
            ..sign_in()
        };
        assert!(!m.revokes_refresh(&after));
        m.sign_out(100);
        assert!(
            m.revokes_access("o-2", 100),
            "a second sign-out revokes it too"
        );
    }
}
