//! Household Setting > Room No. Management (manual 5.2): the rooms whose
//! indoor monitors (VTH) register to this device's SIP server. A room
//! `9901` is reached by its main monitor `9901#0` and extensions `9901#1`
//! to `9901#9`, which all use the room's Register Password.
//!
//! The Register Password is never stored: the device keeps digests of it
//! (one per SIP user name and algorithm) and shows a generated one once,
//! right after Add. The manual's devices all ship with one common default
//! (`123456`); this device generates a strong one unless one is typed, and
//! warns about weak ones.
//!
//! Ranges (the manual gives none):
//! - Room No.: 1 to 10 digits (Dahua monitors take up to 9; numbers are
//!   SIP user names, so nothing else);
//! - First, Last and Nick Name: at most 32 characters;
//! - Register Password: 6 to 32 letters and digits (Dahua firmware mangles
//!   other characters).

use serde::{Deserialize, Serialize};

choices!(
    /// Register Type ("local is reserved for future use": not offered).
    RegisterType {
        #[default]
        Public = ("public", "Public"),
    }
);

pub const MAX_ROOMS: usize = 512;
pub const MAX_ROOM_DIGITS: usize = 10;
pub const MAX_NAME: usize = 32;
pub const MIN_PASSWORD: usize = 6;
pub const MAX_PASSWORD: usize = 32;
/// Monitors per room: `#0` (main) to `#9`.
pub const EXTENSIONS: u8 = 10;
/// Length of a generated Register Password.
pub const GENERATED_PASSWORD: usize = 16;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Room {
    pub first_name: String,
    pub last_name: String,
    pub nick_name: String,
    pub room_no: String,
    pub register_type: RegisterType,
}

impl Room {
    /// Field errors: (field id, message).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if let Err(e) = check_room_no(&self.room_no) {
            errors.push(("room-no", e));
        }
        for (field, label, value) in [
            ("room-first-name", "First Name", &self.first_name),
            ("room-last-name", "Last Name", &self.last_name),
            ("room-nick-name", "Nick Name", &self.nick_name),
        ] {
            if value.chars().count() > MAX_NAME {
                errors.push((field, format!("{label}: at most {MAX_NAME} characters")));
            } else if value.chars().any(char::is_control) {
                errors.push((field, format!("{label}: no control characters")));
            }
        }
        errors
    }

    /// The SIP user names of this room's monitors: `9901`, `9901#0` ... `9901#9`.
    pub fn sip_users(&self) -> Vec<String> {
        std::iter::once(self.room_no.clone())
            .chain((0..EXTENSIONS).map(|i| format!("{}#{i}", self.room_no)))
            .collect()
    }
}

/// A Room No.: 1 to 10 digits.
pub fn check_room_no(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("Enter the room number".into());
    }
    if s.len() > MAX_ROOM_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("1 to {MAX_ROOM_DIGITS} digits"));
    }
    Ok(())
}

/// A typed Register Password: an error, or warnings that do not stop it.
pub fn check_register_password(p: &str) -> Result<Vec<String>, String> {
    let n = p.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(format!("{MIN_PASSWORD} to {MAX_PASSWORD} characters"));
    }
    if !p.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("Letters and digits only (indoor monitors mangle other characters)".into());
    }
    let mut warnings = Vec::new();
    if p == "123456" || p == "888888" || p == "admin123" {
        warnings.push("This is a factory default that every installer knows".into());
    } else if n < 10 || p.chars().all(|c| c.is_ascii_digit()) {
        warnings.push(
            "Weak: use 10 or more letters and digits, or leave it empty for a generated one".into(),
        );
    }
    Ok(warnings)
}

/// A room as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEntry {
    pub room: Room,
    /// Monitors of this room registered now.
    pub online: u8,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub rooms: Vec<RoomEntry>,
    /// Right after Add: the room number and its Register Password, shown
    /// this once (the device keeps only digests of it).
    pub new_password: Option<(String, String)>,
    /// Warnings about a typed Register Password.
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_numbers_and_names() {
        let mut r = Room {
            room_no: "9901".into(),
            ..Room::default()
        };
        assert!(r.validate().is_empty());
        assert_eq!(r.sip_users().len(), 11);
        assert_eq!(r.sip_users()[1], "9901#0");
        assert_eq!(r.sip_users()[10], "9901#9");
        for bad in ["", "99a1", "9901#1", "12345678901", " 1"] {
            r.room_no = bad.into();
            assert_eq!(r.validate()[0].0, "room-no", "{bad}");
        }
        r.room_no = "101".into();
        r.nick_name = "x".repeat(33);
        assert_eq!(r.validate()[0].0, "room-nick-name");
        r.nick_name = "a\nb".into();
        assert_eq!(r.validate()[0].0, "room-nick-name");
    }

    #[test]
    fn register_passwords() {
        assert!(check_register_password("12345").is_err());
        assert!(check_register_password(&"a".repeat(33)).is_err());
        assert!(check_register_password("abc-123456").is_err());
        assert_eq!(check_register_password("123456").map(|w| w.len()), Ok(1));
        assert_eq!(
            check_register_password("1234567890").map(|w| w.len()),
            Ok(1)
        );
        assert_eq!(check_register_password("abc123").map(|w| w.len()), Ok(1));
        assert_eq!(check_register_password("Door2026Bell"), Ok(vec![]));
    }
}
