//! Two-factor login (beyond the manual): TOTP from an authenticator app,
//! with one-time recovery codes.

use serde::{Deserialize, Serialize};

/// The answer to a login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResult {
    /// Set when the password was right and a code is needed next: pass it
    /// to `login_code`. No session exists yet.
    pub second_factor: Option<String>,
}

/// Two-factor state of the account, for the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: usize,
}

/// Enrolment started: what the authenticator app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// The secret in base32, to type into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// QR code of `otpauth_uri` (SVG).
    pub qr_svg: String,
}

/// Shown once, at enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// Why a typed authenticator code cannot be one (six digits), or a
/// recovery code (ten characters), before asking the device.
pub fn code_error(typed: &str) -> Option<&'static str> {
    let compact: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if compact.is_empty() {
        Some("Enter the code from the authenticator app")
    } else if (compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()))
        || compact.len() == super::reset::CODE_LEN
    {
        None
    } else {
        Some("Enter the 6-digit code from the app, or a 10-character recovery code")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_for_form() {
        assert_eq!(code_error("123 456"), None);
        assert_eq!(code_error("ACDE-FGH3-47"), None);
        assert!(code_error("").is_some());
        assert!(code_error("12345").is_some());
        assert!(code_error("12345a").is_some());
    }
}
