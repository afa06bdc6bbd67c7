//! Codes the stub "delivers": nothing leaves the machine, so confirmation,
//! reset, verification and MFA codes land here for the runner to read.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Why a message was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// SignUp confirmation code.
    SignUp,
    /// ResendConfirmationCode.
    ResendConfirmation,
    /// ForgotPassword / AdminResetUserPassword.
    ForgotPassword,
    /// Attribute verification (UpdateUserAttributes, GetUserAttributeVerificationCode).
    AttributeVerification,
    /// SMS_MFA sign-in code.
    SmsMfa,
    /// AdminCreateUser invitation; `code` is the temporary password.
    Invitation,
}

impl Purpose {
    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignUp => "sign_up",
            Purpose::ResendConfirmation => "resend_confirmation",
            Purpose::ForgotPassword => "forgot_password",
            Purpose::AttributeVerification => "attribute_verification",
            Purpose::SmsMfa => "sms_mfa",
            Purpose::Invitation => "invitation",
        }
    }
}

/// One delivered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredMessage {
    /// The user pool.
    pub pool_id: String,
    /// The user's username (a UUID in pools with UsernameAttributes).
    pub username: String,
    /// Why it was sent.
    pub purpose: Purpose,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// The unmasked address or number.
    pub destination: String,
    /// The code (the temporary password for invitations).
    pub code: String,
}

/// A clonable handle on the messages the stub delivered.
#[derive(Clone, Default, Debug)]
pub struct Outbox(Arc<Mutex<Vec<DeliveredMessage>>>);

/// Messages kept before the oldest are dropped (bounded memory for long runs).
const CAPACITY: usize = 10_000;

impl Outbox {
    /// Records a delivery.
    pub fn push(&self, m: DeliveredMessage) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() >= CAPACITY {
            v.remove(0);
        }
        v.push(m);
    }

    /// Latest code delivered to `username` in `pool_id` (sign-up confirmation,
    /// resend, forgot-password, attribute verification, SMS MFA), if any.
    /// `username` may also be the destination (email address or phone number),
    /// which is what a caller knows in pools that sign in by email.
    pub fn latest_code(&self, pool_id: &str, username: &str) -> Option<String> {
        let v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.iter()
            .rev()
            .find(|m| {
                m.pool_id == pool_id
                    && m.purpose != Purpose::Invitation
                    && (m.username == username || m.destination.eq_ignore_ascii_case(username))
            })
            .map(|m| m.code.clone())
    }

    /// Every delivered message, oldest first.
    pub fn messages(&self) -> Vec<DeliveredMessage> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Cognito's masked destination: `j***@e***` for email, `+*******1234` for phones.
pub fn mask(medium: &str, destination: &str) -> String {
    if medium == "EMAIL" {
        let (local, domain) = destination.split_once('@').unwrap_or((destination, ""));
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        format!("{}***@{}***", first(local), first(domain))
    } else {
        let chars: Vec<char> = destination.chars().collect();
        let keep = chars.len().saturating_sub(4);
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < keep && *c != '+' { '*' } else { *c })
            .collect()
    }
}

/// `CodeDeliveryDetails` for a delivery.
pub fn delivery_details(medium: &str, destination: &str, attribute: &str) -> Value {
    json!({
        "Destination": mask(medium, destination),
        "DeliveryMedium": medium,
        "AttributeName": attribute,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_cognito() {
        assert_eq!(mask("EMAIL", "jane@example.com"), "j***@e***");
        assert_eq!(mask("SMS", "+12065551234"), "+*******1234");
    }

    #[test]
    fn latest_code_by_username_or_destination_skips_invitations() {
        let o = Outbox::default();
        let msg = |purpose, code: &str| DeliveredMessage {
            pool_id: "p".into(),
            username: "jane".into(),
            purpose,
            medium: "EMAIL".into(),
            destination: "jane@example.com".into(),
            code: code.into(),
        };
        o.push(msg(Purpose::SignUp, "111111"));
        o.push(msg(Purpose::ResendConfirmation, "222222"));
        o.push(msg(Purpose::Invitation, "Temp-pass1!"));
        assert_eq!(o.latest_code("p", "jane").as_deref(), Some("222222"));
        assert_eq!(
            o.latest_code("p", "JANE@example.com").as_deref(),
            Some("222222")
        );
        assert_eq!(o.latest_code("other", "jane"), None);
        assert_eq!(o.messages().len(), 3);
    }
}
