//! RFC 6238 TOTP as Cognito uses it: SHA1, 6 digits, 30-second steps.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Length of one TOTP window in seconds.
pub const STEP_SECS: u64 = 30;

/// A TOTP secret that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("not a usable TOTP secret: {0}")]
pub struct TotpError(String);

/// Normalises a base32 secret as authenticator apps do: uppercase, no
/// spaces, no `=` padding.
pub fn normalize_secret(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn totp_for(secret: &str) -> Result<Totp, TotpError> {
    let normalized = normalize_secret(secret);
    let secret = Secret::try_from_base32(&normalized).map_err(|e| TotpError(e.to_string()))?;
    // Cognito's secrets are 160 bits; some emulators hand out shorter ones,
    // which strict RFC 4226 checking refuses. A runner has to work with them.
    Ok(Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP_SECS)
        .with_skew(0)
        .with_secret(secret)
        .build_noncompliant())
}

/// The window number that contains `unix_secs`.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The code of window `step` for a base32 `secret`.
pub fn code_for_step(secret: &str, step: u64) -> Result<String, TotpError> {
    Ok(totp_for(secret)?.generate(step * STEP_SECS).to_string())
}

/// Checks `code` against the windows `step(now) - skew ..= step(now) + skew`
/// and returns the matching window, so the caller can refuse its reuse.
pub fn matching_step(
    secret: &str,
    code: &str,
    unix_secs: u64,
    skew: u64,
) -> Result<Option<u64>, TotpError> {
    let totp = totp_for(secret)?;
    let origin = step_of(unix_secs);
    Ok((origin.saturating_sub(skew)..=origin + skew)
        .find(|&s| totp.generate(s * STEP_SECS).to_string() == code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA1 seed "12345678901234567890" (base32 below),
    /// truncated to the 6 digits Cognito uses.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        for (t, eight) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(
                code_for_step(RFC_SECRET, step_of(t)).unwrap(),
                &eight[2..],
                "t={t}"
            );
        }
    }

    #[test]
    fn secrets_are_normalised() {
        let lower = RFC_SECRET.to_lowercase();
        let spaced = format!("{} {}==", &lower[..8], &lower[8..]);
        assert_eq!(
            code_for_step(&spaced, 5).unwrap(),
            code_for_step(RFC_SECRET, 5).unwrap()
        );
    }

    #[test]
    fn matching_step_respects_skew() {
        let now = 1_000_000_000;
        let prev = code_for_step(RFC_SECRET, step_of(now) - 1).unwrap();
        let stale = code_for_step(RFC_SECRET, step_of(now) - 2).unwrap();
        assert_eq!(
            matching_step(RFC_SECRET, &prev, now, 1).unwrap(),
            Some(step_of(now) - 1)
        );
        assert_eq!(matching_step(RFC_SECRET, &prev, now, 0).unwrap(), None);
        assert_eq!(matching_step(RFC_SECRET, &stale, now, 1).unwrap(), None);
    }

    #[test]
    fn short_emulator_secrets_work_and_garbage_is_refused() {
        assert!(code_for_step("JBSWY3DPEHPK3PXP", 1).is_ok()); // 80 bits
        assert!(code_for_step("not base32!", 1).is_err());
    }
}
