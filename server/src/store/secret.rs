//! A stored secret (SMTP, camera, IPC and upstream SIP passwords, the TOTP
//! secret, the HTTPS key): stored as it is (the device must present it),
//! but never printed: `Debug` shows `Secret(..)`, there is no `Display`,
//! and reading it takes [`Secret::expose`], easy to find in a review.

use app::model::mail::PasswordUpdate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub fn new(value: impl Into<T>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place it is for.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A write-only password field's update applied to the stored one.
    pub fn updated(update: PasswordUpdate, stored: Option<Secret>) -> Option<Secret> {
        match update {
            PasswordUpdate::Keep => stored,
            PasswordUpdate::Set(p) => Some(Secret(p)),
            PasswordUpdate::Clear => None,
        }
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_it_and_the_encoding_is_the_plain_string() {
        let s: Secret = Secret::new("Smtp-Pass-42");
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(..))");
        // Records written before the type existed read back the same.
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(json, "\"Smtp-Pass-42\"");
        let back: Secret = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.as_str(), "Smtp-Pass-42");
        let bytes: Secret<Vec<u8>> = Secret::new(vec![1u8, 2]);
        assert_eq!(format!("{bytes:?}"), "Secret(..)");
        assert_eq!(serde_json::to_string(&bytes).unwrap_or_default(), "[1,2]");
    }
}
