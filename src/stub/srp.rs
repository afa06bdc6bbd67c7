//! The server side of Cognito's SRP-6a (USER_SRP_AUTH / PASSWORD_VERIFIER and
//! DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER), written from the protocol as
//! Cognito's clients implement it (cognito-wire-facts.md §3): the RFC 5054
//! 3072-bit group, g = 2, SHA-256, `padHex` encodings, Cognito's HKDF step
//! ("Caldera Derived Key") and the password-claim signature over
//! `name ‖ user ‖ secret block ‖ TIMESTAMP`.
//!
//! The stub keeps passwords, so a user's verifier `v = g^x` is computed when
//! a sign-in starts; devices send theirs in ConfirmDevice.

use std::sync::LazyLock;

use hmac::{Hmac, KeyInit, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use crate::auth::modexp::{FixedBase, mod_pow};

/// RFC 5054 3072-bit prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

static N: LazyLock<BigUint> =
    LazyLock::new(|| BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("N is valid hex"));
static G: LazyLock<BigUint> = LazyLock::new(|| BigUint::from(2u32));
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

/// `padHex` as bytes: big-endian, with a leading zero byte when the top bit
/// is set (so the number reads as positive), never empty.
fn padded(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    if bytes[0] >= 0x80 {
        let mut v = Vec::with_capacity(bytes.len() + 1);
        v.push(0);
        v.extend_from_slice(&bytes);
        v
    } else {
        bytes
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

fn process_key() -> &'static [u8; 32] {
    static KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
        let mut k = [0u8; 32];
        rand::fill(&mut k[..]);
        k
    });
    &KEY
}

/// 16 bytes that stay the same for the same `parts` within this process (a
/// user's salt while the password is unchanged; a simulated user's salt),
/// keyed by a random per-process secret so they reveal nothing. The first
/// byte is 0x01–0x7f, so every client's reading of the hex (with or without
/// `padHex`) gives the same bytes.
pub fn stable_bytes(parts: &[&str]) -> [u8; 16] {
    let mut mac = hmac(process_key(), &[]);
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p.as_bytes());
    }
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out[0] = 1 + out[0] % 0x7f;
    out
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key both sides of one exchange derive (16 bytes). Debug is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey(pub [u8; 16]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<secret>)")
    }
}

/// The user's verifier `v = g^x`, `x = H(padHex(salt) ‖ H(name ‖ user ‖ ":" ‖ password))`
/// where `name` is the pool id after `_` (or, for devices, the DeviceGroupKey).
pub fn verifier(salt: &[u8], name: &str, user: &str, password: &str) -> BigUint {
    let identity = sha256(&[name.as_bytes(), user.as_bytes(), b":", password.as_bytes()]);
    let x = sha256(&[&padded(&BigUint::from_bytes_be(salt)), &identity]);
    pow_g(&BigUint::from_bytes_be(&x))
}

/// Parses a client's public value (`SRP_A`, hex). `None` when it is not hex
/// or `A mod N = 0` (which would let anyone in).
pub fn parse_public(hex: &str) -> Option<BigUint> {
    let a = BigUint::parse_bytes(hex.trim().as_bytes(), 16)?;
    (&a % &*N != BigUint::ZERO).then_some(a)
}

/// A parsed, non-zero verifier from ConfirmDevice's `PasswordVerifier` bytes.
pub fn parse_verifier(bytes: &[u8]) -> Option<BigUint> {
    let v = BigUint::from_bytes_be(bytes);
    (&v % &*N != BigUint::ZERO).then_some(v)
}

/// The server half of one SRP exchange: the secret `b`, the public `B` and the
/// verifier it was made for. Never shown (Debug is redacted).
pub struct ServerHalf {
    b: BigUint,
    /// B = (k·v + g^b) mod N.
    pub big_b: BigUint,
    v: BigUint,
}

impl std::fmt::Debug for ServerHalf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerHalf(<secret>)")
    }
}

impl ServerHalf {
    /// Picks a random 256-bit `b` and computes `B` for verifier `v`. RFC 5054
    /// asks for private values of at least 256 bits; what Cognito draws is
    /// not published (*inferred*). Against the 1024-bit `a` Cognito's clients
    /// draw, it makes both of the server's exponentiations four times cheaper.
    pub fn new(v: BigUint) -> ServerHalf {
        loop {
            let mut bytes = [0u8; 32];
            rand::fill(&mut bytes[..]);
            let b = BigUint::from_bytes_be(&bytes) % &*N;
            let big_b = (&*K * &v + pow_g(&b)) % &*N;
            if big_b != BigUint::ZERO {
                return ServerHalf { b, big_b, v };
            }
        }
    }

    /// `SRP_B` as Cognito sends it: lowercase hex without padding.
    pub fn public_hex(&self) -> String {
        self.big_b.to_str_radix(16)
    }

    /// The 16-byte key both sides derive: u = H(padHex(A) ‖ padHex(B)),
    /// S = (A·v^u)^b mod N, HKDF(salt = padHex(u), ikm = padHex(S),
    /// info = "Caldera Derived Key"). `None` if `u = 0`.
    pub fn session_key(&self, a: &BigUint) -> Option<SessionKey> {
        let u = BigUint::from_bytes_be(&sha256(&[&padded(a), &padded(&self.big_b)]));
        if u == BigUint::ZERO {
            return None;
        }
        let s = mod_pow(&(a * mod_pow(&self.v, &u, &N)), &self.b, &N);
        let prk = hmac(&padded(&u), &[&padded(&s)]).finalize().into_bytes();
        let okm = hmac(&prk, &[b"Caldera Derived Key", &[1u8]])
            .finalize()
            .into_bytes();
        let mut key = [0u8; 16];
        key.copy_from_slice(&okm[..16]);
        Some(SessionKey(key))
    }
}

/// Checks `PASSWORD_CLAIM_SIGNATURE` (base64) = HMAC-SHA256(key, name ‖ user ‖
/// secret block ‖ timestamp) in constant time.
pub fn signature_matches(
    key: &SessionKey,
    name: &str,
    user: &str,
    secret_block: &[u8],
    timestamp: &str,
    signature_b64: &str,
) -> bool {
    use base64::Engine;
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    hmac(
        &key.0,
        &[
            name.as_bytes(),
            user.as_bytes(),
            secret_block,
            timestamp.as_bytes(),
        ],
    )
    .verify_slice(&given)
    .is_ok()
}

/// Reads a `TIMESTAMP`: the instant it names, or `None` when unreadable.
///
/// Cognito reads `TIMESTAMP` as `EEE MMM d HH:mm:ss z yyyy` (English, UTC); a
/// text it cannot read is `InvalidParameterException` ("TIMESTAMP format
/// should be EEE MMM d HH:mm:ss z yyyy in english.", observed in
/// amazon-cognito-identity-js issue 683). PASSWORD_CLAIM_SIGNATURE is an HMAC
/// over the TIMESTAMP text the client sends (the protocol's definition: the
/// server can only check the bytes it received), so the stub verifies it over
/// that text, never over a re-rendering: a client that signs and sends a
/// zero-padded day is accepted, one that signs one rendering and sends another
/// is refused. *Inferred*: whether Cognito also refuses a readable padded day
/// is not documented (pycognito strips the zero, saying Cognito requires it;
/// that is consistent with a client signing one rendering and sending another).
/// The weekday must be an English day name but is not checked against the
/// date; the stub does not compare the time with its clock: AWS's tolerance
/// is not documented.
pub fn read_timestamp(text: &str) -> Option<chrono::NaiveDateTime> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [weekday, month, day, time, zone, year] = parts.as_slice() else {
        return None;
    };
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !DAYS.contains(weekday) || !matches!(*zone, "UTC" | "GMT") {
        return None;
    }
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let number = |s: &str, max_len: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let day = number(day, 2)?;
    let year = number(year, 4).filter(|_| year.len() == 4)?;
    let hms: Vec<u32> = time
        .split(':')
        .map(|p| number(p, 2))
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    date.and_hms_opt(*h, *m, *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_is_the_hash_of_padded_n_and_g() {
        // k as every Cognito client computes it (hex of H("00" N "02")).
        let hex = K.to_str_radix(16);
        assert_eq!(hex.len(), 64);
        assert_eq!(
            hex,
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
    }

    #[test]
    fn padding_adds_a_zero_byte_only_for_a_high_first_byte() {
        assert_eq!(padded(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(padded(&BigUint::from(0x80u32)), vec![0, 0x80]);
        assert_eq!(padded(&BigUint::ZERO), vec![0]);
    }

    #[test]
    fn timestamps_are_read_as_instants() {
        let c = |s: &str| read_timestamp(s).map(|t| t.to_string());
        let at = Some("2024-11-05 09:08:07".to_string());
        assert_eq!(c("Tue Nov 5 09:08:07 UTC 2024"), at);
        // Readable renderings of the same instant (the signature decides).
        assert_eq!(c("Tue Nov 05 09:08:07 UTC 2024"), at);
        assert_eq!(c("Mon Nov 5 09:08:07 GMT 2024"), at);
        // Calendar edges.
        assert_eq!(
            c("Thu Feb 29 00:00:00 UTC 2028").as_deref(),
            Some("2028-02-29 00:00:00")
        );
        assert_eq!(c("Wed Feb 29 00:00:00 UTC 2027"), None);
        assert_eq!(
            c("Thu Dec 31 23:59:59 UTC 2026").as_deref(),
            Some("2026-12-31 23:59:59")
        );
        for bad in [
            "",
            "2024-11-05T09:08:07Z",
            "Tue Nov 5 09:08:07 +05:30 2024",
            "Tue Nov 32 09:08:07 UTC 2024",
            "Tue Foo 5 09:08:07 UTC 2024",
            "Tue Nov 5 25:08:07 UTC 2024",
            "Tue Nov 5 09:08 UTC 2024",
            "Tue  Nov 5 09:08:07 UTC 2024",
        ] {
            assert_eq!(c(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn zero_public_values_are_refused() {
        assert!(parse_public("0").is_none());
        assert!(parse_public(N_HEX).is_none());
        assert!(parse_public("not hex").is_none());
        assert!(parse_public("02").is_some());
    }
}
