//! Network Setting > ONVIF: the ONVIF device and media services and
//! WS-Discovery, for recorders and Home Assistant's ONVIF integration.
//!
//! ONVIF's WS-Security PasswordDigest needs the password in clear on the
//! device, and vto keeps login passwords only as argon2id hashes: ONVIF
//! has a password of its own, for one account (whose role limits what
//! ONVIF and RTSP give). It is write-only.

use serde::{Deserialize, Serialize};

use super::mail::PasswordUpdate;

/// Shortest and longest ONVIF password.
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 64;

/// The page's settings as shown and saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnvifSettings {
    pub enabled: bool,
    pub discovery: bool,
    /// An existing account.
    pub user: String,
    /// Whether an ONVIF password is stored (answers only).
    #[serde(default)]
    pub has_password: bool,
}

/// What the page shows besides the settings: the addresses in use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnvifPage {
    pub settings: OnvifSettings,
    /// The accounts the user may be chosen from.
    pub accounts: Vec<String>,
    /// The device service's path on the web port.
    pub device_service: String,
    /// The RTSP listener (`--rtsp`), `None` when off.
    pub rtsp: Option<String>,
    /// The WS-Discovery socket (`--discovery`), `None` when off.
    pub discovery_on: Option<String>,
}

/// Checks a password typed for ONVIF: the message, for its field.
pub fn password_problem(p: &str) -> Option<String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD {
        Some(format!("At least {MIN_PASSWORD} characters"))
    } else if n > MAX_PASSWORD {
        Some(format!("At most {MAX_PASSWORD} characters"))
    } else if p.chars().any(char::is_control) {
        Some("No control characters".into())
    } else {
        None
    }
}

impl OnvifSettings {
    /// Every field error of a save with `password`, as (field id,
    /// message); empty when valid. Whether the account exists is the
    /// device's to say.
    pub fn validate(&self, password: &PasswordUpdate) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self.enabled && self.user.trim().is_empty() {
            errors.push(("onvif-user", "Choose the account ONVIF logs in as".into()));
        }
        match password {
            PasswordUpdate::Set(p) => {
                if let Some(m) = password_problem(p) {
                    errors.push(("onvif-password", m));
                }
            }
            PasswordUpdate::Keep | PasswordUpdate::Clear => {
                let stays = matches!(password, PasswordUpdate::Keep) && self.has_password;
                if self.enabled && !stays {
                    errors.push(("onvif-password", "Enter the ONVIF password".into()));
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(user: &str, stored: bool) -> OnvifSettings {
        OnvifSettings {
            enabled: true,
            discovery: true,
            user: user.into(),
            has_password: stored,
        }
    }

    #[test]
    fn enabling_needs_an_account_and_a_password() {
        assert!(OnvifSettings::default()
            .validate(&PasswordUpdate::Keep)
            .is_empty());
        let fields = |s: &OnvifSettings, p: &PasswordUpdate| -> Vec<&str> {
            s.validate(p).into_iter().map(|(f, _)| f).collect()
        };
        assert_eq!(
            fields(&on("", false), &PasswordUpdate::Keep),
            ["onvif-user", "onvif-password"]
        );
        assert_eq!(
            fields(&on("admin", false), &PasswordUpdate::Keep),
            ["onvif-password"]
        );
        assert!(fields(&on("admin", true), &PasswordUpdate::Keep).is_empty());
        assert_eq!(
            fields(&on("admin", true), &PasswordUpdate::Clear),
            ["onvif-password"]
        );
        assert!(fields(
            &on("admin", false),
            &PasswordUpdate::Set("Onvif-Pass-1".into())
        )
        .is_empty());
        assert_eq!(
            fields(&on("admin", false), &PasswordUpdate::Set("short".into())),
            ["onvif-password"]
        );
        assert_eq!(
            fields(&on("admin", false), &PasswordUpdate::Set("x".repeat(65))),
            ["onvif-password"]
        );
        assert_eq!(
            fields(
                &on("admin", false),
                &PasswordUpdate::Set("tab\there-ok".into())
            ),
            ["onvif-password"]
        );
    }
}
