//! Config manager, User Info: the rooms, the VTO and the VTS lists and the
//! rooms' access cards as one versioned JSON file, without Register
//! Passwords (not even their digests: a digest registers as well as the
//! password) and without the keypad's access passwords.
//!
//! Import replaces the lists and the cards in one transaction (a room that
//! stays keeps its access password). An account whose
//! number the device already has keeps its Register Password, so its
//! devices stay registered; a new one gets a generated password, shown
//! once. Nothing is changed unless the whole file is right.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{
    card::{normalize_number, validate_name, Card, MAX_PER_ROOM},
    config::{err, read_versioned, ImportError},
    room::{Room, MAX_ROOMS},
    station::{Station, StationKind},
};

pub const FORMAT: &str = "vto-user-info";
pub const VERSION: u32 = 1;
/// Larger files are refused before they are parsed.
pub const MAX_BYTES: usize = 512 * 1024;
pub const FILE_NAME: &str = "vto-user-info.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInfo {
    pub format: String,
    pub version: u32,
    pub rooms: Vec<Room>,
    pub vto: Vec<Station>,
    pub vts: Vec<Station>,
    /// Access cards, each of a room in `rooms` (files written before cards
    /// existed have none).
    #[serde(default)]
    pub cards: Vec<Card>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfoImported {
    pub rooms: usize,
    pub vto: usize,
    pub vts: usize,
    /// New accounts and their generated Register Passwords, shown once.
    pub new_passwords: Vec<(String, String)>,
}

/// Reads and checks a User Info file completely; nothing is applied here.
pub fn parse(text: &str) -> Result<UserInfo, ImportError> {
    let value = read_versioned(text, MAX_BYTES, FORMAT, VERSION, "User Info")?;
    let info: UserInfo = serde_json::from_value(value).map_err(|e| err("", e.to_string()))?;
    if info.rooms.len() > MAX_ROOMS {
        return Err(err("rooms", format!("At most {MAX_ROOMS} rooms")));
    }
    // One number, one account, across the three lists.
    let mut seen = HashSet::new();
    for (i, room) in info.rooms.iter().enumerate() {
        if let Some((id, m)) = room.validate().into_iter().next() {
            return Err(err(&format!("rooms[{i}].{}", id.replace('-', "_")), m));
        }
        if !seen.insert(room.room_no.clone()) {
            return Err(err(
                &format!("rooms[{i}].room_no"),
                format!("{} is in the file twice", room.room_no),
            ));
        }
    }
    for (kind, list) in [(StationKind::Vto, &info.vto), (StationKind::Vts, &info.vts)] {
        let name = kind.key();
        if list.len() > kind.max() {
            return Err(err(
                name,
                format!("At most {} {}", kind.max(), kind.label()),
            ));
        }
        for (i, s) in list.iter().enumerate() {
            if let Some((id, m)) = s.validate(kind).into_iter().next() {
                let field = if id.ends_with("-ip") { "ip" } else { "number" };
                return Err(err(&format!("{name}[{i}].{field}"), m));
            }
            if !seen.insert(s.number.clone()) {
                return Err(err(
                    &format!("{name}[{i}].number"),
                    format!("{} is in the file twice", s.number),
                ));
            }
        }
    }
    // Each card once, of a room in the file, as the device would store it.
    let mut numbers = HashSet::new();
    let mut per_room = std::collections::HashMap::<&str, usize>::new();
    let rooms: HashSet<&str> = info.rooms.iter().map(|r| r.room_no.as_str()).collect();
    for (i, c) in info.cards.iter().enumerate() {
        if normalize_number(&c.number).as_deref() != Some(c.number.as_str()) {
            return Err(err(
                &format!("cards[{i}].number"),
                "1 to 20 digits 0-9 or A-F (upper case)",
            ));
        }
        if !numbers.insert(c.number.as_str()) {
            return Err(err(
                &format!("cards[{i}].number"),
                format!("{} is in the file twice", c.number),
            ));
        }
        if !rooms.contains(c.room_no.as_str()) {
            return Err(err(
                &format!("cards[{i}].room_no"),
                format!("No room {} in the file", c.room_no),
            ));
        }
        let n = per_room.entry(c.room_no.as_str()).or_default();
        *n += 1;
        if *n > MAX_PER_ROOM {
            return Err(err(
                &format!("cards[{i}].room_no"),
                format!("A room has at most {MAX_PER_ROOM} cards"),
            ));
        }
        if let Err(m) = validate_name(&c.name) {
            return Err(err(&format!("cards[{i}].name"), m));
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> serde_json::Value {
        serde_json::json!({
            "format": FORMAT,
            "version": 1,
            "rooms": [{"room_no": "9901", "first_name": "Ada", "last_name": "", "nick_name": "",
                       "register_type": "Public"}],
            "vto": [{"number": "8002", "ip": "192.168.1.111"}],
            "vts": [{"number": "888888", "ip": "192.168.1.20"}],
            "cards": [{"number": "00AB12", "room_no": "9901", "name": "Ben", "main": true, "lost": false}],
        })
    }

    #[test]
    fn a_good_file_is_read_and_every_kind_of_bad_one_named() {
        let info = parse(&file().to_string()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(info.rooms[0].room_no, "9901");
        assert_eq!(info.vto[0].number, "8002");
        assert!(info.cards[0].main);
        // Older files have no cards.
        let mut old = file();
        old.as_object_mut().map(|o| o.remove("cards"));
        assert_eq!(parse(&old.to_string()).map(|i| i.cards.len()).ok(), Some(0));
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (serde_json::json!({"format": "x", "version": 1}), "format"),
            (
                {
                    let mut f = file();
                    f["version"] = 9.into();
                    f
                },
                "version",
            ),
            (
                {
                    let mut f = file();
                    f["rooms"][0]["room_no"] = "99a".into();
                    f
                },
                "rooms[0].room_no",
            ),
            (
                {
                    let mut f = file();
                    f["vto"][0]["ip"] = "door".into();
                    f
                },
                "vto[0].ip",
            ),
            (
                {
                    let mut f = file();
                    f["vts"][0]["number"] = "9901".into();
                    f
                },
                "vts[0].number",
            ),
            (
                {
                    let mut f = file();
                    f["digests"] = "x".into();
                    f
                },
                "",
            ),
            (
                {
                    let mut f = file();
                    f["cards"][0]["room_no"] = "9902".into();
                    f
                },
                "cards[0].room_no",
            ),
            (
                {
                    let mut f = file();
                    f["cards"][0]["number"] = "00ab12".into();
                    f
                },
                "cards[0].number",
            ),
            (
                {
                    let mut f = file();
                    let card = f["cards"][0].clone();
                    f["cards"] = serde_json::json!([card, card]);
                    f
                },
                "cards[1].number",
            ),
            (
                {
                    let mut f = file();
                    f["cards"][0]["name"] = "".into();
                    f
                },
                "cards[0].name",
            ),
        ];
        for (bad, field) in cases {
            let e = parse(&bad.to_string())
                .err()
                .unwrap_or_else(|| panic!("{bad} passed"));
            assert_eq!(e.field, field, "{bad}: {e:?}");
        }
        assert_eq!(
            parse("not json").err().map(|e| e.field),
            Some(String::new())
        );
        assert!(parse(&" ".repeat(MAX_BYTES + 1)).is_err());
    }
}
