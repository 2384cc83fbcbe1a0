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

    /// [`Secret::updated`] for a secret that is sent somewhere: keeping the
    /// stored one while its destination changes is refused (`Err`), or the
    /// caller would choose where the device sends it. `same` says whether
    /// the destination (host, port, scheme) is the one it was stored for.
    pub fn updated_for(
        update: PasswordUpdate,
        stored: Option<Secret>,
        same: bool,
    ) -> Result<Option<Secret>, Moved> {
        if matches!(update, PasswordUpdate::Keep) && stored.is_some() && !same {
            return Err(Moved);
        }
        Ok(Self::updated(update, stored))
    }
}

/// A kept secret's destination changed: the secret must be entered again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved;

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
    fn a_kept_secret_stays_with_its_destination() {
        let stored = || Some(Secret::from("s3cret"));
        assert_eq!(
            Secret::updated_for(PasswordUpdate::Keep, stored(), false),
            Err(Moved)
        );
        assert_eq!(
            Secret::updated_for(PasswordUpdate::Keep, stored(), true),
            Ok(stored())
        );
        // Typed again or cleared: fine anywhere; nothing stored: nothing leaks.
        assert_eq!(
            Secret::updated_for(PasswordUpdate::Set("new".into()), stored(), false),
            Ok(Some(Secret::from("new")))
        );
        assert_eq!(
            Secret::updated_for(PasswordUpdate::Clear, stored(), false),
            Ok(None)
        );
        assert_eq!(
            Secret::updated_for(PasswordUpdate::Keep, None, false),
            Ok(None)
        );
    }

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
