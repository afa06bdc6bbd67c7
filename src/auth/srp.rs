//! The client side of Cognito's SRP: SRP_A for USER_SRP_AUTH and
//! DEVICE_SRP_AUTH, the PASSWORD_VERIFIER / DEVICE_PASSWORD_VERIFIER proofs,
//! and the ConfirmDevice password verifier.
//!
//! The ConfirmDevice verifier comes from the aws-cognito-srp crate. The proofs
//! are computed here because the crate draws `a` itself and stamps TIMESTAMP
//! with the system clock, while a scenario's clock may be the stub's virtual
//! one; the tests check this code against the crate's published vectors and
//! against proofs the crate makes live. The maths (cognito-wire-facts §3):
//! `x = H(salt ‖ H(realm ‖ user ‖ ":" ‖ password))`,
//! `S = (B − k·g^x)^(a + u·x) mod N`, a 16-byte HKDF key, and the signature
//! `HMAC(key, realm ‖ user ‖ SECRET_BLOCK ‖ TIMESTAMP)`, where (realm, user) is
//! (pool name, USER_ID_FOR_SRP) for users and (DeviceGroupKey, DeviceKey) for devices.

use std::sync::LazyLock;

use aws_cognito_srp::{PasswordVerifierParameters, SrpClient, UntrackedDevice};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::modexp::{FixedBase, mod_pow};

/// Why a proof could not be computed (the challenge's values are unusable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    #[error("{0} is not hexadecimal")]
    NotHex(&'static str),
    #[error("SECRET_BLOCK is not base64")]
    NotBase64,
    #[error("SRP_B is 0 modulo N: a client must refuse it")]
    UnsafeB,
    #[error("the pool id {0:?} has no `_` (expected <region>_<id>)")]
    BadPoolId(String),
}

/// The RFC 5054 3072-bit group Cognito uses, with g = 2.
pub static N: LazyLock<BigUint> = LazyLock::new(|| {
    BigUint::parse_bytes(
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
            "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
            "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
            "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
            "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
            "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
            "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
            "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
            "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
        )
        .as_bytes(),
        16,
    )
    .expect("constant prime")
});
static G: LazyLock<BigUint> = LazyLock::new(|| BigUint::from(2u8));
/// Powers of g from a precomputed table: every g-based exponent here is
/// 256 bits (a fresh secret or a SHA-256 digest).
static G_TABLE: LazyLock<Option<FixedBase>> = LazyLock::new(|| FixedBase::new(&G, &N, 256));

/// g^e mod N.
fn pow_g(e: &BigUint) -> BigUint {
    match &*G_TABLE {
        Some(table) => table.pow(e),
        None => mod_pow(&G, e, &N),
    }
}
/// k = H(padHex(N) ‖ padHex(g)).
static K: LazyLock<BigUint> =
    LazyLock::new(|| BigUint::from_bytes_be(&sha256(&[&padded(&N), &padded(&G)])));

/// One sign-in's ephemeral secret `a` (never shown) and its public `A`.
pub struct SrpSecret {
    a: BigUint,
    big_a: BigUint,
}

impl std::fmt::Debug for SrpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrpSecret(<redacted>)")
    }
}

/// The values a PASSWORD_VERIFIER or DEVICE_PASSWORD_VERIFIER challenge carries.
#[derive(Debug, Clone, Copy)]
pub struct Challenge<'a> {
    /// `SALT`, hex.
    pub salt: &'a str,
    /// `SRP_B`, hex.
    pub srp_b: &'a str,
    /// `SECRET_BLOCK`, base64.
    pub secret_block: &'a str,
}

impl SrpSecret {
    /// A fresh random 256-bit `a`. Cognito's own clients draw 128 bytes;
    /// RFC 5054 (§2.6) asks for at least 256 bits, which matches the
    /// 3072-bit group's 128-bit security strength (NIST SP 800-57 part 1,
    /// table 2). The server cannot tell the two apart (`A` is a group element
    /// either way), and the shorter `a` makes this side's exponentiations
    /// two to four times cheaper.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes[..]);
        Self::from_bytes(&bytes)
    }

    /// A given `a` (for test vectors).
    pub fn from_bytes(a: &[u8]) -> Self {
        let a = BigUint::from_bytes_be(a) % &*N;
        let big_a = pow_g(&a);
        SrpSecret { a, big_a }
    }

    /// `SRP_A`: g^a mod N as unpadded lower-case hex.
    pub fn public_hex(&self) -> String {
        self.big_a.to_str_radix(16)
    }

    /// `a` as hex: only for tests that prove it is never shown.
    pub fn secret_hex(&self) -> String {
        self.a.to_str_radix(16)
    }

    /// PASSWORD_CLAIM_SIGNATURE for a user's PASSWORD_VERIFIER challenge.
    /// `pool_id` is `<region>_<name>`; `user_id` is the challenge's USER_ID_FOR_SRP.
    pub fn user_signature(
        &self,
        pool_id: &str,
        user_id: &str,
        password: &str,
        challenge: Challenge<'_>,
        timestamp: &str,
    ) -> Result<String, SrpError> {
        let pool_name = pool_id
            .split_once('_')
            .map(|(_, name)| name)
            .ok_or_else(|| SrpError::BadPoolId(pool_id.to_string()))?;
        self.signature(pool_name, user_id, password, challenge, timestamp)
    }

    /// PASSWORD_CLAIM_SIGNATURE for a DEVICE_PASSWORD_VERIFIER challenge.
    pub fn device_signature(
        &self,
        device_group_key: &str,
        device_key: &str,
        device_password: &str,
        challenge: Challenge<'_>,
        timestamp: &str,
    ) -> Result<String, SrpError> {
        self.signature(
            device_group_key,
            device_key,
            device_password,
            challenge,
            timestamp,
        )
    }

    fn signature(
        &self,
        realm: &str,
        user: &str,
        password: &str,
        challenge: Challenge<'_>,
        timestamp: &str,
    ) -> Result<String, SrpError> {
        let salt = hex_bytes(challenge.salt).ok_or(SrpError::NotHex("SALT"))?;
        let big_b = from_hex(challenge.srp_b).ok_or(SrpError::NotHex("SRP_B"))?;
        let secret_block = BASE64
            .decode(challenge.secret_block)
            .map_err(|_| SrpError::NotBase64)?;
        if (&big_b % &*N) == BigUint::ZERO {
            return Err(SrpError::UnsafeB);
        }
        let u = BigUint::from_bytes_be(&sha256(&[&padded(&self.big_a), &padded(&big_b)]));
        let identity = sha256(&[realm.as_bytes(), user.as_bytes(), b":", password.as_bytes()]);
        let x = BigUint::from_bytes_be(&sha256(&[&pad_bytes(salt), &identity]));
        // S = (B − k·g^x)^(a + u·x) mod N, with the base reduced into [0, N).
        let k_gx = (&*K * pow_g(&x)) % &*N;
        let base = (big_b % &*N + &*N - k_gx) % &*N;
        let s = mod_pow(&base, &(&self.a + &u * &x), &N);
        // HKDF (RFC 5869, one block): salt = padHex(u), input = padHex(S).
        let prk = hmac(&padded(&u), &[&padded(&s)]);
        let key = hmac(&prk, &[b"Caldera Derived Key", &[1]]);
        let signature = hmac(
            &key[..16],
            &[
                realm.as_bytes(),
                user.as_bytes(),
                &secret_block,
                timestamp.as_bytes(),
            ],
        );
        Ok(BASE64.encode(signature))
    }
}

/// TIMESTAMP as Cognito wants it: `Tue Nov 5 09:08:07 UTC 2026` (day not padded).
pub fn timestamp(unix_millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_millis as i64)
        .unwrap_or_default()
        .format("%a %b %-d %H:%M:%S UTC %Y")
        .to_string()
}

/// A new device password and the DeviceSecretVerifierConfig that ConfirmDevice sends for it.
#[derive(Clone)]
pub struct DeviceVerifier {
    /// The generated device password (a secret: never shown).
    pub password: String,
    /// `PasswordVerifier`, base64.
    pub password_verifier: String,
    /// `Salt`, base64.
    pub salt: String,
}

impl std::fmt::Debug for DeviceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceVerifier(<redacted>)")
    }
}

/// Generates a device password and its verifier (aws-cognito-srp).
pub fn device_verifier(pool_id: &str, device_group_key: &str, device_key: &str) -> DeviceVerifier {
    let client = SrpClient::new(
        UntrackedDevice::new(pool_id, device_group_key, device_key),
        "unused",
        None,
    );
    let PasswordVerifierParameters {
        verifier,
        salt,
        password,
    } = client.get_password_verifier();
    DeviceVerifier {
        password,
        password_verifier: verifier,
        salt,
    }
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// padHex of a number as bytes: big-endian, with a leading zero byte when the top bit is set.
fn padded(n: &BigUint) -> Vec<u8> {
    pad_bytes(n.to_bytes_be())
}

fn pad_bytes(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.first().is_some_and(|b| *b >= 0x80) {
        [&[0u8][..], &bytes].concat()
    } else {
        bytes
    }
}

/// Hex text as bytes, keeping leading zero bytes (SALT is a byte string, not a number);
/// an odd length is read with a leading `0`.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let even = if text.len() % 2 == 1 {
        format!("0{text}")
    } else {
        text.to_string()
    };
    (0..even.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&even[i..i + 2], 16).ok())
        .collect()
}

fn from_hex(text: &str) -> Option<BigUint> {
    hex_bytes(text).map(|b| BigUint::from_bytes_be(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_cognito_srp::{TrackedDevice, User};

    // Vectors from aws-cognito-srp 0.2.6's own tests (src/client/user.rs and
    // device.rs), made with a = 128 bytes of 0x01 and a fixed TIMESTAMP.
    const A_BYTES: [u8; 128] = [1; 128];
    const VECTOR_A_PREFIX: &str =
        "b1ce118779e27c1c015d7a226ecae2ea1fcd017049e4f5c6f9908c686d496dce";
    const VECTOR_A_SUFFIX: &str = "a626d83a483";
    const B: &str = "36ef01c6dde9fe503da333b1acc758ba";
    const SALT: &str = "36ef01c6dde9fe503da333b1acc758ba";
    const SECRET_BLOCK: &str = "9ae77ec7154c14dcc487b47707fee4b4920cb96d8a8c045e4c8df879a7b375524aa736acdec6c9ad4ea606774d00621b";
    const TIMESTAMP: &str = "Mon Feb 10 18:30:12 UTC 2025";

    fn vector_challenge<'a>(salt: &'a str, b: &'a str) -> Challenge<'a> {
        Challenge {
            salt,
            srp_b: b,
            secret_block: SECRET_BLOCK,
        }
    }

    #[test]
    fn matches_the_crates_published_vectors() {
        let secret = SrpSecret::from_bytes(&A_BYTES);
        let a = secret.public_hex();
        assert!(a.starts_with(VECTOR_A_PREFIX) && a.ends_with(VECTOR_A_SUFFIX));
        let user = |salt, b| {
            secret
                .user_signature(
                    "us-west-2_abc",
                    "user_id",
                    "password",
                    vector_challenge(salt, b),
                    TIMESTAMP,
                )
                .unwrap()
        };
        assert_eq!(
            user(SALT, B),
            "apNSb5GZpJciVc6cVNkDf4elCMoWUZcH4aukLlMPiFA="
        );
        // Odd-length hex is read as the number it spells.
        assert_eq!(
            user("36ef01c", "36ef01c"),
            "bVzjSe43mY37A6ZuzEVU5cr6QY1WeV3BPfdVJo0c2/8="
        );
        let device = |salt, b| {
            secret
                .device_signature(
                    "mock-device-group-key",
                    "mock-device-key",
                    "password",
                    vector_challenge(salt, b),
                    TIMESTAMP,
                )
                .unwrap()
        };
        assert_eq!(
            device(SALT, B),
            "O9uSej4H1B4or3Zc7Q4+KxuSvOaEfuq2a7Ye4d16fmo="
        );
        assert_eq!(
            device("36ef01c", "36ef01c"),
            "eXYI/hzMa/5YWYSk1NFcDMOOBAOg+juflcjl38+xx4I="
        );
    }

    #[test]
    fn timestamps_have_an_unpadded_day() {
        // 2025-02-03T04:05:06Z
        assert_eq!(timestamp(1_738_555_506_000), "Mon Feb 3 04:05:06 UTC 2025");
        assert_eq!(timestamp(1_739_212_212_000), TIMESTAMP);
    }

    #[test]
    fn refuses_unusable_challenges() {
        let secret = SrpSecret::from_bytes(&A_BYTES);
        let sign = |salt, b, block| {
            secret.user_signature(
                "us-west-2_abc",
                "u",
                "p",
                Challenge {
                    salt,
                    srp_b: b,
                    secret_block: block,
                },
                TIMESTAMP,
            )
        };
        assert_eq!(
            sign(SALT, "xyz", SECRET_BLOCK),
            Err(SrpError::NotHex("SRP_B"))
        );
        assert_eq!(sign("", B, SECRET_BLOCK), Err(SrpError::NotHex("SALT")));
        assert_eq!(sign(SALT, B, "!!"), Err(SrpError::NotBase64));
        let n = N.to_str_radix(16);
        assert_eq!(sign(SALT, &n, SECRET_BLOCK), Err(SrpError::UnsafeB));
        assert_eq!(sign(SALT, "0", SECRET_BLOCK), Err(SrpError::UnsafeB));
        assert!(matches!(
            secret.user_signature("nopool", "u", "p", vector_challenge(SALT, B), TIMESTAMP),
            Err(SrpError::BadPoolId(_))
        ));
    }

    /// A minimal SRP server, written from the protocol (v = g^x, B = k·v + g^b,
    /// S = (A·v^u)^b), used to check both this client and the crate's.
    struct Server {
        b: BigUint,
        big_b: BigUint,
        v: BigUint,
        salt: Vec<u8>,
    }

    impl Server {
        fn new(realm: &str, user: &str, password: &str, salt: Vec<u8>) -> Self {
            let identity = sha256(&[realm.as_bytes(), user.as_bytes(), b":", password.as_bytes()]);
            let x = BigUint::from_bytes_be(&sha256(&[&pad_bytes(salt.clone()), &identity]));
            Self::with_verifier(G.modpow(&x, &N), salt)
        }

        fn with_verifier(v: BigUint, salt: Vec<u8>) -> Self {
            let mut b = [0u8; 128];
            rand::fill(&mut b[..]);
            let b = BigUint::from_bytes_be(&b);
            let big_b = (&*K * &v + G.modpow(&b, &N)) % &*N;
            Server { b, big_b, v, salt }
        }

        fn salt_hex(&self) -> String {
            hex(&self.salt)
        }

        fn expected_signature(
            &self,
            a_hex: &str,
            realm: &str,
            user: &str,
            block: &[u8],
            timestamp: &str,
        ) -> String {
            let big_a = BigUint::parse_bytes(a_hex.as_bytes(), 16).unwrap();
            let u = BigUint::from_bytes_be(&sha256(&[&padded(&big_a), &padded(&self.big_b)]));
            let s = (big_a * self.v.modpow(&u, &N)).modpow(&self.b, &N);
            let prk = hmac(&padded(&u), &[&padded(&s)]);
            let key = hmac(&prk, &[b"Caldera Derived Key", &[1]]);
            BASE64.encode(hmac(
                &key[..16],
                &[
                    realm.as_bytes(),
                    user.as_bytes(),
                    block,
                    timestamp.as_bytes(),
                ],
            ))
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn user_proofs_verify_like_the_crates() {
        let block = [7u8; 48];
        let block_b64 = BASE64.encode(block);
        // Salts with a leading zero byte and with the top bit set are where padHex matters.
        let mut random = vec![0u8; 16];
        rand::fill(&mut random[..]);
        for salt in [vec![0, 0, 5, 6], vec![0x80; 16], random] {
            let server = Server::new("abc", "jane-id", "Pa55word!", salt);
            let b_hex = server.big_b.to_str_radix(16);
            let salt_hex = server.salt_hex();
            let challenge = Challenge {
                salt: &salt_hex,
                srp_b: &b_hex,
                secret_block: &block_b64,
            };

            let ours = SrpSecret::generate();
            let ts = timestamp(1_739_212_212_000);
            let sig = ours
                .user_signature("eu-west-1_abc", "jane-id", "Pa55word!", challenge, &ts)
                .unwrap();
            let expected =
                server.expected_signature(&ours.public_hex(), "abc", "jane-id", &block, &ts);
            assert_eq!(sig, expected);
            let wrong = ours
                .user_signature("eu-west-1_abc", "jane-id", "Pa55word?", challenge, &ts)
                .unwrap();
            assert_ne!(wrong, expected);

            // The crate, with its own secret a and the real clock, satisfies the same server.
            let theirs = SrpClient::new(User::new("eu-west-1_abc", "jane", "Pa55word!"), "c", None);
            let a_hex = theirs.get_auth_parameters().a;
            let proof = theirs
                .verify(&block_b64, "jane-id", &salt_hex, &b_hex)
                .unwrap();
            assert_eq!(
                proof.password_claim_signature,
                server.expected_signature(&a_hex, "abc", "jane-id", &block, &proof.timestamp)
            );
        }
    }

    #[test]
    fn device_verifier_and_proof_fit_together() {
        let made = device_verifier("eu-west-1_abc", "-grp", "eu-west-1_dev");
        assert!(BASE64.decode(&made.password).unwrap().len() == 40);
        let v = BigUint::from_bytes_be(&BASE64.decode(&made.password_verifier).unwrap());
        let salt = BASE64.decode(&made.salt).unwrap();
        // The verifier is g^x for this password and salt (checked by recomputing it).
        let recomputed = Server::new("-grp", "eu-west-1_dev", &made.password, salt.clone());
        assert_eq!(recomputed.v, v);

        let server = Server::with_verifier(v, salt);
        let block = [9u8; 32];
        let block_b64 = BASE64.encode(block);
        let (b_hex, salt_hex) = (server.big_b.to_str_radix(16), server.salt_hex());
        let challenge = Challenge {
            salt: &salt_hex,
            srp_b: &b_hex,
            secret_block: &block_b64,
        };
        let ours = SrpSecret::generate();
        let sig = ours
            .device_signature(
                "-grp",
                "eu-west-1_dev",
                &made.password,
                challenge,
                TIMESTAMP,
            )
            .unwrap();
        let expected = server.expected_signature(
            &ours.public_hex(),
            "-grp",
            "eu-west-1_dev",
            &block,
            TIMESTAMP,
        );
        assert_eq!(sig, expected);

        let theirs = SrpClient::new(
            TrackedDevice::new("eu-west-1_abc", "-grp", "eu-west-1_dev", &made.password),
            "c",
            None,
        );
        let a_hex = theirs.get_auth_parameters().a;
        let proof = theirs.verify(&block_b64, &salt_hex, &b_hex).unwrap();
        assert_eq!(
            proof.password_claim_signature,
            server.expected_signature(&a_hex, "-grp", "eu-west-1_dev", &block, &proof.timestamp)
        );
    }
}
