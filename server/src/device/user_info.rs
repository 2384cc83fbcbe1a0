//! Config manager, User Info: the rooms, VTO and VTS lists out to a file
//! and back (see `app::model::user_info`); Register Passwords never leave.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        card::Card,
        settings::BasicSettings,
        station::StationKind,
        user_info::{self, UserInfo, UserInfoImported, FORMAT, VERSION},
    },
};

use super::{
    room::{digests_for, generate_password},
    DeviceImpl,
};
use crate::store::{
    tables::{
        station_table, RoomRecord, StationRecord, ACCESS_CODES, CARDS, SETTINGS_BASIC, SIP_ROOMS,
    },
    Read,
};

impl DeviceImpl {
    pub(super) async fn export_user_info_with(
        &self,
        caller: &Caller,
    ) -> Result<UserInfo, ApiError> {
        caller.session()?;
        self.auth
            .read(|r| {
                let rooms: Vec<(String, RoomRecord)> = r.all(SIP_ROOMS)?;
                let station = |kind| -> Result<Vec<_>, ApiError> {
                    Ok(crate::sip::stations_of(r, kind)?
                        .into_iter()
                        .map(|s| s.station)
                        .collect())
                };
                let mut rooms: Vec<_> = rooms.into_iter().map(|(_, r)| r.room).collect();
                rooms.sort_by(|a, b| {
                    (a.room_no.len(), &a.room_no).cmp(&(b.room_no.len(), &b.room_no))
                });
                let cards: Vec<(String, Card)> = r.all(CARDS)?;
                Ok(UserInfo {
                    format: FORMAT.into(),
                    version: VERSION,
                    rooms,
                    vto: station(StationKind::Vto)?,
                    vts: station(StationKind::Vts)?,
                    cards: cards.into_iter().map(|(_, c)| c).collect(),
                })
            })
            .await
    }

    pub(super) async fn import_user_info_with(
        &self,
        caller: &Caller,
        file: String,
    ) -> Result<UserInfoImported, ApiError> {
        let session = caller.session()?;
        let info =
            user_info::parse(&file).map_err(|e| ApiError::invalid("import-user", e.to_string()))?;
        // Filled in the transaction: how many, and the new passwords.
        let done = Arc::new(Mutex::new(UserInfoImported {
            rooms: info.rooms.len(),
            vto: info.vto.len(),
            vts: info.vts.len(),
            new_passwords: Vec::new(),
        }));
        let out = done.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "User Info import", move |w| {
                let basic: BasicSettings = w.settings(SETTINGS_BASIC)?;
                let mut done = out.lock().unwrap_or_else(|p| p.into_inner());
                // Known numbers keep their digests (their devices stay
                // registered); new ones get a generated password.
                let old_rooms: HashMap<String, RoomRecord> =
                    w.all(SIP_ROOMS)?.into_iter().collect();
                for room_no in old_rooms.keys() {
                    w.remove(SIP_ROOMS, room_no.as_str())?;
                }
                // The file's cards replace all; a room that goes takes its
                // access password.
                let old_cards: Vec<(String, Card)> = w.all(CARDS)?;
                for (number, _) in &old_cards {
                    w.remove(CARDS, number.as_str())?;
                }
                for room_no in old_rooms.keys() {
                    if !info.rooms.iter().any(|r| &r.room_no == room_no) {
                        w.remove(ACCESS_CODES, room_no.as_str())?;
                    }
                }
                for card in &info.cards {
                    w.put(CARDS, card.number.as_str(), card)?;
                }
                for room in info.rooms {
                    let digests = match old_rooms.get(&room.room_no) {
                        Some(old) => old.digests.clone(),
                        None => {
                            let pw = generate_password()?;
                            done.new_passwords.push((room.room_no.clone(), pw.clone()));
                            digests_for(room.sip_users(), &pw)
                        }
                    };
                    w.put(
                        SIP_ROOMS,
                        room.room_no.clone().as_str(),
                        &RoomRecord { room, digests },
                    )?;
                }
                for (kind, list) in [(StationKind::Vto, info.vto), (StationKind::Vts, info.vts)] {
                    let table = station_table(kind);
                    let old: HashMap<String, StationRecord> = w.all(table)?.into_iter().collect();
                    for number in old.keys() {
                        w.remove(table, number.as_str())?;
                    }
                    for station in list {
                        if kind == StationKind::Vto && station.number == basic.vto_no {
                            return Err(ApiError::invalid(
                                "import-user",
                                format!("vto: {} is this VTO's VTO No.", station.number),
                            ));
                        }
                        let digests = match old.get(&station.number) {
                            Some(o) => o.digests.clone(),
                            None => {
                                let pw = generate_password()?;
                                done.new_passwords
                                    .push((station.number.clone(), pw.clone()));
                                digests_for(vec![station.number.clone()], &pw)
                            }
                        };
                        let number = station.number.clone();
                        w.put(table, number.as_str(), &StationRecord { station, digests })?;
                    }
                }
                Ok(vec!["Rooms", "VTO", "VTS", "Cards"])
            })
            .await?;
        // The SIP server takes the new accounts.
        self.rooms_changed().await?;
        for kind in [StationKind::Vto, StationKind::Vts] {
            self.stations_changed(kind).await?;
        }
        let done = done.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(done)
    }
}
