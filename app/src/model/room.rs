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

/// Adding rooms in batch (manual 5.2.1): `unit_layer_amount` floors of
/// `room_amount_in_one_layer` rooms each. The first floor's rooms count up
/// from `first_floor_number`, the second floor's from
/// `second_floor_number`, and every further floor is that step higher
/// again. For example 3 floors of 4 rooms from 101 and 201 give 101-104,
/// 201-204 and 301-304; 2 floors of 2 rooms from 1001 and 1101 give 1001,
/// 1002, 1101 and 1102.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomBatch {
    pub unit_layer_amount: u32,
    pub room_amount_in_one_layer: u32,
    pub first_floor_number: u64,
    pub second_floor_number: u64,
}

impl Default for RoomBatch {
    fn default() -> Self {
        Self {
            unit_layer_amount: 1,
            room_amount_in_one_layer: 1,
            first_floor_number: 101,
            second_floor_number: 201,
        }
    }
}

/// Floors and rooms per floor in one batch.
pub const MAX_LAYERS: u32 = 99;
pub const MAX_PER_LAYER: u32 = 99;

impl RoomBatch {
    /// The room numbers, floor by floor, or the field at fault and why.
    pub fn room_numbers(&self) -> Result<Vec<String>, (&'static str, String)> {
        let layers = self.unit_layer_amount;
        let per = self.room_amount_in_one_layer;
        if !(1..=MAX_LAYERS).contains(&layers) {
            return Err(("batch-layers", format!("1 to {MAX_LAYERS} floors")));
        }
        if !(1..=MAX_PER_LAYER).contains(&per) {
            return Err(("batch-per-layer", format!("1 to {MAX_PER_LAYER} rooms")));
        }
        if self.first_floor_number == 0 {
            return Err(("batch-first", "From 1 up".into()));
        }
        let step = self
            .second_floor_number
            .checked_sub(self.first_floor_number)
            .filter(|s| *s > 0)
            .ok_or((
                "batch-second",
                "Higher than the First Floor Number".to_string(),
            ))?;
        if step < u64::from(per) && layers > 1 {
            return Err((
                "batch-second",
                format!(
                    "At least {} (the first floor's rooms come first)",
                    self.first_floor_number + u64::from(per)
                ),
            ));
        }
        let total = usize::try_from(layers * per).unwrap_or(usize::MAX);
        if total > MAX_ROOMS {
            return Err((
                "batch-per-layer",
                format!("At most {MAX_ROOMS} rooms in all"),
            ));
        }
        let limit = 10u64.pow(u32::try_from(MAX_ROOM_DIGITS).unwrap_or(10)) - 1;
        let mut out = Vec::with_capacity(total);
        for floor in 0..u64::from(layers) {
            let base = step
                .checked_mul(floor)
                .and_then(|x| x.checked_add(self.first_floor_number))
                .filter(|b| {
                    b.checked_add(u64::from(per) - 1)
                        .is_some_and(|l| l <= limit)
                })
                .ok_or((
                    "batch-layers",
                    format!("Room numbers would pass {MAX_ROOM_DIGITS} digits"),
                ))?;
            out.extend((0..u64::from(per)).map(|i| (base + i).to_string()));
        }
        Ok(out)
    }
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
    /// Right after Add: each new room's number and its generated Register
    /// Password, shown this once (the device keeps only digests of it).
    pub new_passwords: Vec<(String, String)>,
    /// Rooms a batch skipped because they existed already.
    pub skipped: Vec<String>,
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

    fn batch(layers: u32, per: u32, first: u64, second: u64) -> Result<Vec<String>, &'static str> {
        RoomBatch {
            unit_layer_amount: layers,
            room_amount_in_one_layer: per,
            first_floor_number: first,
            second_floor_number: second,
        }
        .room_numbers()
        .map_err(|(field, _)| field)
    }

    #[test]
    fn a_batch_numbers_rooms_floor_by_floor() {
        assert_eq!(
            batch(3, 4, 101, 201),
            Ok([
                "101", "102", "103", "104", "201", "202", "203", "204", "301", "302", "303", "304"
            ]
            .map(String::from)
            .to_vec())
        );
        assert_eq!(
            batch(2, 2, 1001, 1101),
            Ok(["1001", "1002", "1101", "1102"].map(String::from).to_vec())
        );
        // One floor: the second floor's number only has to be higher.
        assert_eq!(
            batch(1, 3, 9901, 9902),
            Ok(["9901", "9902", "9903"].map(String::from).to_vec())
        );
        assert_eq!(batch(0, 4, 101, 201), Err("batch-layers"));
        assert_eq!(batch(100, 4, 101, 201), Err("batch-layers"));
        assert_eq!(batch(2, 0, 101, 201), Err("batch-per-layer"));
        assert_eq!(batch(2, 4, 0, 201), Err("batch-first"));
        assert_eq!(batch(2, 4, 201, 201), Err("batch-second"));
        assert_eq!(batch(2, 4, 101, 103), Err("batch-second"), "floors overlap");
        assert_eq!(
            batch(99, 99, 101, 201),
            Err("batch-per-layer"),
            "over 512 rooms"
        );
        assert_eq!(
            batch(2, 2, 9_999_999_998, 9_999_999_999),
            Err("batch-second")
        );
        assert_eq!(
            batch(3, 2, 9_999_999_990, 9_999_999_995),
            Err("batch-layers")
        );
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
