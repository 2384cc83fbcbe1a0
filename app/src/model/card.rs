//! Room No. Management > Issue Card (manual 5.2.3): access cards of a room.
//! A card is issued by swiping it at the VTO during a countdown, named,
//! and saved with Confirm Send Card; it can be made the main card (which
//! issues new cards for its room at the door), set to the lost state
//! (refused, and recorded when tried), renamed or deleted. A card number
//! belongs to one room only.

use serde::{Deserialize, Serialize};

/// Card numbers: digits or hexadecimal, as readers report them.
pub const MAX_NUMBER: usize = 20;
pub const MAX_NAME: usize = 32;
/// Cards per room.
pub const MAX_PER_ROOM: usize = 100;
/// The Issue Card countdown.
pub const ISSUE_SECS: u32 = 60;
/// After a main card is presented, the next unknown card within this many
/// seconds is issued to its room.
pub const MAIN_CARD_SECS: u32 = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Card {
    pub number: String,
    pub room_no: String,
    /// The user name the card is issued to.
    pub name: String,
    pub main: bool,
    pub lost: bool,
}

/// A card number as typed or read: trimmed, upper case; `None` if it is
/// not 1 to [`MAX_NUMBER`] hexadecimal digits.
pub fn normalize_number(number: &str) -> Option<String> {
    let n = number.trim().to_ascii_uppercase();
    ((1..=MAX_NUMBER).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_hexdigit())).then_some(n)
}

/// A card's user name: trimmed, 1 to [`MAX_NAME`] characters, one line.
pub fn validate_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("Enter a name".into());
    }
    if n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(format!("One line of up to {MAX_NAME} characters"));
    }
    Ok(n.to_string())
}

/// The Issue Card countdown of a room, as the page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issuing {
    pub room_no: String,
    /// Seconds left; 0 when over (cards swiped are then no longer taken).
    pub secs_left: u32,
    /// Cards swiped during the countdown, with the name given (empty until
    /// Save in the Issue Card dialog).
    pub captured: Vec<Card>,
    /// A swiped card that belongs to another room (not taken).
    pub refused: Vec<String>,
}

/// A room's cards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCards {
    pub room_no: String,
    pub cards: Vec<Card>,
    pub issuing: Option<Issuing>,
    /// The room has an access password for the keypad (never shown).
    pub password_set: bool,
}

/// The keypad's access password of a room: 4 to 8 digits.
pub fn validate_access_password(p: &str) -> Result<(), String> {
    if (4..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("4 to 8 digits".into())
    }
}

/// What can be done to one card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardChange {
    SetMain(bool),
    SetLost(bool),
    Rename(String),
    Delete,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_hex_digits_in_upper_case() {
        assert_eq!(normalize_number(" 00ab12 "), Some("00AB12".into()));
        assert_eq!(normalize_number("4915263"), Some("4915263".into()));
        for bad in ["", "12G", "1 2", &"1".repeat(MAX_NUMBER + 1)] {
            assert_eq!(normalize_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn access_passwords_are_4_to_8_digits() {
        assert!(validate_access_password("1357").is_ok());
        assert!(validate_access_password("13572468").is_ok());
        for bad in ["135", "135724680", "12a4", ""] {
            assert!(validate_access_password(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_one_short_line() {
        assert_eq!(validate_name(" Anna "), Ok("Anna".into()));
        assert!(validate_name("").is_err());
        assert!(validate_name("a\nb").is_err());
        assert!(validate_name(&"x".repeat(MAX_NAME + 1)).is_err());
    }
}
