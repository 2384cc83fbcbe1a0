//! Household Setting > Room No. Management: rooms are SIP accounts. The
//! Register Password becomes digests (HA1, MD5 and SHA-256, one per SIP
//! user name of the room's monitors) and is forgotten; a generated one is
//! shown once.

use app::{
    error::ApiError,
    model::room::{Room, GENERATED_PASSWORD},
};
use sip::{digest, registrar::DEFAULT_REALM};

use crate::{error::Error, store::tables::SipDigest};

pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message.into())
}

/// Letters and digits only: some indoor monitors mangle other characters.
pub fn generate_password() -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(GENERATED_PASSWORD);
    while out.len() < GENERATED_PASSWORD {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(Error::Random)?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for b in raw {
            if usize::from(b) < limit && out.len() < GENERATED_PASSWORD {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

pub fn digests(room: &Room, password: &str) -> Vec<SipDigest> {
    digests_for(room.sip_users(), password)
}

/// HA1 digests (MD5 and SHA-256) of `password` for each SIP user.
pub fn digests_for(users: Vec<String>, password: &str) -> Vec<SipDigest> {
    users
        .into_iter()
        .map(|user| SipDigest {
            md5: digest::ha1(digest::Algorithm::Md5, &user, DEFAULT_REALM, password),
            sha256: digest::ha1(digest::Algorithm::Sha256, &user, DEFAULT_REALM, password),
            realm: DEFAULT_REALM.to_string(),
            user,
        })
        .collect()
}

pub fn normalized(mut room: Room) -> Room {
    room.room_no = room.room_no.trim().to_string();
    room.first_name = room.first_name.trim().to_string();
    room.last_name = room.last_name.trim().to_string();
    room.nick_name = room.nick_name.trim().to_string();
    room
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::room::check_register_password;

    #[test]
    fn generated_passwords_are_long_letters_and_digits_and_differ() {
        let a = generate_password().unwrap_or_else(|e| panic!("{e}"));
        let b = generate_password().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.len(), GENERATED_PASSWORD);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(check_register_password(&a), Ok(vec![]));
    }

    #[test]
    fn every_monitor_of_a_room_gets_its_digests() {
        let room = Room {
            room_no: "9901".into(),
            ..Room::default()
        };
        let d = digests(&room, "123456");
        assert_eq!(d.len(), 11);
        let main = d
            .iter()
            .find(|d| d.user == "9901#0")
            .unwrap_or_else(|| panic!("no #0"));
        assert_eq!(
            main.md5,
            digest::ha1(digest::Algorithm::Md5, "9901#0", "VDP", "123456")
        );
        assert_eq!(main.sha256.len(), 64);
    }
}
