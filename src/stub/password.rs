//! Password policy (Policies.PasswordPolicy) and its InvalidPasswordException messages.

use rand::RngExt;
use serde_json::{Value, json};

use super::protocol::{ApiError, ApiResult, Params};

/// The characters Cognito counts as symbols (developer guide, password policy).
pub const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// A pool's password policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// MinimumLength (6–99, default 8).
    pub minimum_length: usize,
    /// RequireUppercase.
    pub require_uppercase: bool,
    /// RequireLowercase.
    pub require_lowercase: bool,
    /// RequireNumbers.
    pub require_numbers: bool,
    /// RequireSymbols.
    pub require_symbols: bool,
    /// TemporaryPasswordValidityDays (default 7).
    pub temporary_password_validity_days: u64,
}

impl Default for PasswordPolicy {
    /// AWS's defaults: 8 characters with upper, lower, number and symbol.
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// Which wording of the policy message an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wording {
    /// SignUp: `Password did not conform with policy: …`.
    SignUp,
    /// Everything else: `Password does not conform to policy: …`.
    Other,
}

impl PasswordPolicy {
    /// Reads `Policies.PasswordPolicy` over `base` (members not given keep their value).
    pub fn from_params(p: &Params, base: &PasswordPolicy) -> ApiResult<PasswordPolicy> {
        let mut out = base.clone();
        if let Some(min) = p.opt_i64("MinimumLength")? {
            if !(6..=99).contains(&min) {
                return Err(super::protocol::validation_error(&[format!(
                    "Value '{min}' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value {}",
                    if min < 6 {
                        "greater than or equal to 6"
                    } else {
                        "less than or equal to 99"
                    }
                )]));
            }
            out.minimum_length = min as usize;
        }
        if let Some(b) = p.opt_bool("RequireUppercase")? {
            out.require_uppercase = b;
        }
        if let Some(b) = p.opt_bool("RequireLowercase")? {
            out.require_lowercase = b;
        }
        if let Some(b) = p.opt_bool("RequireNumbers")? {
            out.require_numbers = b;
        }
        if let Some(b) = p.opt_bool("RequireSymbols")? {
            out.require_symbols = b;
        }
        if let Some(d) = p.opt_i64("TemporaryPasswordValidityDays")? {
            if !(0..=365).contains(&d) {
                return Err(super::protocol::validation_error(&[format!(
                    "Value '{d}' at 'policies.passwordPolicy.temporaryPasswordValidityDays' failed to satisfy constraint: Member must have value less than or equal to 365"
                )]));
            }
            out.temporary_password_validity_days = d as u64;
        }
        Ok(out)
    }

    /// The policy as DescribeUserPool shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "MinimumLength": self.minimum_length,
            "RequireUppercase": self.require_uppercase,
            "RequireLowercase": self.require_lowercase,
            "RequireNumbers": self.require_numbers,
            "RequireSymbols": self.require_symbols,
            "TemporaryPasswordValidityDays": self.temporary_password_validity_days,
        })
    }

    /// Checks `password`, failing with AWS's InvalidPasswordException message.
    pub fn check(&self, password: &str, wording: Wording) -> ApiResult<()> {
        let problem = if password.chars().count() < self.minimum_length {
            Some("Password not long enough")
        } else if self.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
            Some("Password must have lowercase characters")
        } else if self.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
            Some("Password must have uppercase characters")
        } else if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            Some("Password must have numeric characters")
        } else if self.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
            Some("Password must have symbol characters")
        } else {
            None
        };
        match problem {
            None => Ok(()),
            Some(p) => Err(ApiError::new(
                "InvalidPasswordException",
                match wording {
                    Wording::SignUp => format!("Password did not conform with policy: {p}"),
                    Wording::Other => format!("Password does not conform to policy: {p}"),
                },
            )),
        }
    }

    /// A random temporary password that satisfies this policy.
    pub fn generate(&self) -> String {
        let mut rng = rand::rng();
        let pick = |set: &[u8], rng: &mut rand::rngs::ThreadRng| {
            set[rng.random_range(0..set.len())] as char
        };
        let mut chars: Vec<char> = vec![
            pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ", &mut rng),
            pick(b"abcdefghijkmnopqrstuvwxyz", &mut rng),
            pick(b"23456789", &mut rng),
            pick(b"!#%&*+-=?@^_", &mut rng),
        ];
        let all = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        while chars.len() < self.minimum_length.max(12) {
            chars.push(pick(all, &mut rng));
        }
        // Shuffle so the classes are not always in the same positions.
        for i in (1..chars.len()).rev() {
            let j = rng.random_range(0..=i);
            chars.swap(i, j);
        }
        chars.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_messages() {
        let p = PasswordPolicy::default();
        let msg = |pw: &str, w| p.check(pw, w).unwrap_err().message;
        assert_eq!(
            msg("Ab1!", Wording::SignUp),
            "Password did not conform with policy: Password not long enough"
        );
        assert_eq!(
            msg("ABCDEFG1!", Wording::Other),
            "Password does not conform to policy: Password must have lowercase characters"
        );
        assert_eq!(
            msg("abcdefg1!", Wording::Other),
            "Password does not conform to policy: Password must have uppercase characters"
        );
        assert_eq!(
            msg("Abcdefgh!", Wording::Other),
            "Password does not conform to policy: Password must have numeric characters"
        );
        assert_eq!(
            msg("Abcdefgh1", Wording::Other),
            "Password does not conform to policy: Password must have symbol characters"
        );
        assert!(p.check("Abcdefg1!", Wording::Other).is_ok());
    }

    #[test]
    fn relaxed_policy_and_generated_passwords() {
        let relaxed = PasswordPolicy {
            minimum_length: 6,
            require_uppercase: false,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            temporary_password_validity_days: 7,
        };
        assert!(relaxed.check("aaaaaa", Wording::Other).is_ok());
        let strict = PasswordPolicy::default();
        for _ in 0..50 {
            let pw = strict.generate();
            assert!(strict.check(&pw, Wording::Other).is_ok(), "{pw}");
        }
    }
}
