//! Household Setting > Room No. Management: rooms are SIP accounts. The
//! Register Password becomes digests (HA1, MD5 and SHA-256, one per SIP
//! user name of the room's monitors) and is forgotten; a generated one is
//! shown once.

use app::{
    backend::Caller,
    error::ApiError,
    model::room::{
        check_register_password, Room, RoomBatch, RoomEntry, RoomPage, GENERATED_PASSWORD,
        MAX_ROOMS,
    },
};
use sip::{digest, registrar::DEFAULT_REALM};

use super::DeviceImpl;
use crate::store::{
    tables::{RoomRecord, SipDigest, SIP_ROOMS},
    Read,
};

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message.into())
}

/// Letters and digits only: some indoor monitors mangle other characters.
pub(super) fn generate_password() -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(GENERATED_PASSWORD);
    while out.len() < GENERATED_PASSWORD {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| ApiError::Internal(e.to_string()))?;
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

fn digests(room: &Room, password: &str) -> Vec<SipDigest> {
    digests_for(room.sip_users(), password)
}

/// HA1 digests (MD5 and SHA-256) of `password` for each SIP user.
pub(super) fn digests_for(users: Vec<String>, password: &str) -> Vec<SipDigest> {
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

fn normalized(mut room: Room) -> Room {
    room.room_no = room.room_no.trim().to_string();
    room.first_name = room.first_name.trim().to_string();
    room.last_name = room.last_name.trim().to_string();
    room.nick_name = room.nick_name.trim().to_string();
    room
}

impl DeviceImpl {
    async fn room_records(&self) -> Result<Vec<RoomRecord>, ApiError> {
        let all = self.auth.read(|r| Ok(r.all(SIP_ROOMS)?)).await?;
        Ok(all
            .into_iter()
            .map(|(_, r): (String, RoomRecord)| r)
            .collect())
    }

    fn room_page_of(&self, records: &[RoomRecord]) -> RoomPage {
        RoomPage {
            rooms: records
                .iter()
                .map(|r| RoomEntry {
                    room: r.room.clone(),
                    online: u8::try_from(self.sip.online(&r.room.sip_users())).unwrap_or(u8::MAX),
                })
                .collect(),
            ..RoomPage::default()
        }
    }

    /// After a change: the SIP server takes the new accounts.
    pub(super) async fn rooms_changed(&self) -> Result<Vec<RoomRecord>, ApiError> {
        let records = self.room_records().await?;
        self.sip
            .set_rooms(&records)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(records)
    }

    pub(super) async fn room_page(&self, caller: &Caller) -> Result<RoomPage, ApiError> {
        caller.session()?;
        Ok(self.room_page_of(&self.room_records().await?))
    }

    pub(super) async fn add_room_with(
        &self,
        caller: &Caller,
        room: Room,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        let room = normalized(room);
        if let Some((field, message)) = room.validate().into_iter().next() {
            return Err(invalid(field, message));
        }
        let typed = password.filter(|p| !p.is_empty());
        let (password, warnings, generated) = match typed {
            Some(p) => {
                let warnings =
                    check_register_password(&p).map_err(|m| invalid("room-password", m))?;
                (p, warnings, false)
            }
            None => (generate_password()?, Vec::new(), true),
        };
        // Hashing takes a moment (22 digests): not inside the transaction.
        let record = RoomRecord {
            digests: digests(&room, &password),
            room: room.clone(),
        };
        let room_no = room.room_no.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "Room No. Management", move |w| {
                let count = {
                    use redb::ReadableTableMetadata;
                    w.table(SIP_ROOMS)?
                        .len()
                        .map_err(crate::store::StoreError::from)?
                };
                if w.get::<&str, RoomRecord>(SIP_ROOMS, room_no.as_str())?
                    .is_some()
                {
                    return Err(invalid("room-no", format!("Room {room_no} exists already")));
                }
                if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_ROOMS {
                    return Err(invalid(
                        "room-no",
                        format!("All {MAX_ROOMS} rooms are in use: delete one first"),
                    ));
                }
                w.put(SIP_ROOMS, room_no.as_str(), &record)?;
                Ok(vec!["Add"])
            })
            .await?;
        let records = self.rooms_changed().await?;
        let mut page = self.room_page_of(&records);
        page.warnings = warnings;
        if generated {
            page.new_passwords = vec![(room.room_no, password)];
        }
        Ok(page)
    }

    /// Adds the rooms of a batch (manual 5.2.1) that do not exist yet, each
    /// with the typed Register Password or a generated one of its own.
    pub(super) async fn add_rooms_with(
        &self,
        caller: &Caller,
        batch: RoomBatch,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        let numbers = batch
            .room_numbers()
            .map_err(|(field, message)| invalid(field, message))?;
        let typed = password.filter(|p| !p.is_empty());
        let warnings = match &typed {
            Some(p) => check_register_password(p).map_err(|m| invalid("batch-password", m))?,
            None => Vec::new(),
        };
        let existing = self.room_records().await?;
        let is_new = |n: &String| !existing.iter().any(|r| &r.room.room_no == n);
        let skipped: Vec<String> = numbers.iter().filter(|n| !is_new(n)).cloned().collect();
        if existing.len() + numbers.len() - skipped.len() > MAX_ROOMS {
            return Err(invalid(
                "batch-layers",
                format!(
                    "{} more rooms would pass the {MAX_ROOMS} the device keeps ({} now)",
                    numbers.len() - skipped.len(),
                    existing.len()
                ),
            ));
        }
        // Hashing takes a moment (22 digests a room): before the
        // transaction, on a blocking thread.
        let fresh: Vec<String> = numbers.into_iter().filter(is_new).collect();
        let made = tokio::task::spawn_blocking(move || {
            fresh
                .into_iter()
                .map(|room_no| {
                    let password = match &typed {
                        Some(p) => p.clone(),
                        None => generate_password()?,
                    };
                    let room = Room {
                        room_no,
                        ..Room::default()
                    };
                    let record = RoomRecord {
                        digests: digests(&room, &password),
                        room,
                    };
                    Ok((record, typed.is_none().then_some(password)))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        let records: Vec<RoomRecord> = made.iter().map(|(r, _)| r.clone()).collect();
        self.auth
            .save_settings(&session.user, caller.ip, "Room No. Management", move |w| {
                for r in &records {
                    // Added meanwhile by someone else: all or nothing.
                    if w.get::<&str, RoomRecord>(SIP_ROOMS, r.room.room_no.as_str())?
                        .is_some()
                    {
                        return Err(invalid(
                            "batch-first",
                            format!("Room {} was added meanwhile: try again", r.room.room_no),
                        ));
                    }
                    w.put(SIP_ROOMS, r.room.room_no.as_str(), r)?;
                }
                Ok(if records.is_empty() {
                    vec![]
                } else {
                    vec!["Batch Add"]
                })
            })
            .await?;
        let records = self.rooms_changed().await?;
        let mut page = self.room_page_of(&records);
        page.warnings = warnings;
        page.skipped = skipped;
        page.new_passwords = made
            .into_iter()
            .filter_map(|(r, p)| Some((r.room.room_no, p?)))
            .collect();
        Ok(page)
    }

    pub(super) async fn save_room_names(
        &self,
        caller: &Caller,
        room: Room,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        let room = normalized(room);
        if let Some((field, message)) = room.validate().into_iter().next() {
            return Err(invalid(field, message));
        }
        self.auth
            .save_settings(&session.user, caller.ip, "Room No. Management", move |w| {
                let mut record: RoomRecord = w
                    .get(SIP_ROOMS, room.room_no.as_str())?
                    .ok_or_else(|| invalid("room-no", format!("No room {}", room.room_no)))?;
                record.room.first_name = room.first_name;
                record.room.last_name = room.last_name;
                record.room.nick_name = room.nick_name;
                w.put(SIP_ROOMS, room.room_no.as_str(), &record)?;
                Ok(vec!["Modify"])
            })
            .await?;
        Ok(self.room_page_of(&self.rooms_changed().await?))
    }

    pub(super) async fn remove_rooms(
        &self,
        caller: &Caller,
        which: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        self.auth
            .save_settings(
                &session.user,
                caller.ip,
                "Room No. Management",
                move |w| match &which {
                    Some(room_no) => {
                        if !w.remove(SIP_ROOMS, room_no.as_str())? {
                            return Err(invalid("room-no", format!("No room {room_no}")));
                        }
                        super::card::forget_room(w, room_no)?;
                        Ok(vec!["Delete"])
                    }
                    None => {
                        let all: Vec<(String, RoomRecord)> = w.all(SIP_ROOMS)?;
                        for (room_no, _) in &all {
                            w.remove(SIP_ROOMS, room_no.as_str())?;
                            super::card::forget_room(w, room_no)?;
                        }
                        Ok(if all.is_empty() {
                            vec![]
                        } else {
                            vec!["Clear"]
                        })
                    }
                },
            )
            .await?;
        Ok(self.room_page_of(&self.rooms_changed().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
