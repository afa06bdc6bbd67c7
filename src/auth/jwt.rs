//! Reading (not verifying) JWTs: expectations and snapshots look inside
//! Cognito's tokens, so we decode their header and claims.

use base64::Engine;
use serde_json::Value;

/// The decoded parts of a compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedJwt {
    /// The JOSE header.
    pub header: Value,
    /// The claims set.
    pub claims: Value,
}

/// Decodes a compact JWS (`header.payload.signature`); `None` when `token`
/// is not one (for example Cognito's encrypted refresh token, which is a JWE).
pub fn decode(token: &str) -> Option<DecodedJwt> {
    let mut parts = token.split('.');
    let (h, p, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None; // five parts: a JWE, opaque by design
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(h).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&b64.decode(p).ok()?).ok()?;
    (header.is_object() && claims.is_object()).then_some(DecodedJwt { header, claims })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_header_and_claims() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.c2ln",
            b64.encode(r#"{"alg":"RS256","kid":"k1"}"#),
            b64.encode(r#"{"token_use":"access","sub":"abc"}"#)
        );
        let jwt = decode(&token).unwrap();
        assert_eq!(jwt.header["kid"], "k1");
        assert_eq!(jwt.claims["token_use"], "access");
    }

    #[test]
    fn non_jwts_are_none() {
        assert!(decode("AYABeSession").is_none());
        assert!(decode("a.b.c").is_none());
        assert!(decode("e30.e30.x.y.z").is_none());
    }
}
