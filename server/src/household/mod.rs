//! Household Setting (manual ch. 5): the rooms ([`rooms`]) and the other
//! VTO and the VTS ([`stations`]) as SIP accounts of this VTO's SIP server,
//! Publish Information, Status, the config manager's User Info, and
//! Network Setting > SIP Server (this VTO is the server, or registers to
//! another one). [`HouseholdService`] is the household as every front door
//! sees it; each change hands the SIP server its new accounts at once.

pub mod rooms;
pub mod sip_server;
pub mod stations;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::{
    error::ApiError,
    model::{
        card::Card,
        publish::{Publication, PublishPage, PublishRecord, MAX_HISTORY, PAGE_SIZE},
        room::{check_register_password, Room, RoomBatch, RoomEntry, RoomPage, MAX_ROOMS},
        sip_server::{SipServerPage, SipServerSettings},
        station::{Station, StationEntry, StationKind, StationPage},
        user_info::{self, UserInfo, UserInfoImported, FORMAT, VERSION},
    },
    services::{Caller, Household},
};

use crate::{
    error::Error,
    household::sip_server::SipService,
    store::secret::Secret,
    store::{
        settings::{SettingsStore, BASIC, SIP_SERVER},
        tables::{
            station_table, RoomRecord, SipServerRecord, StationRecord, ACCESS_CODES, CARDS,
            PUBLISH_LOG, SIP_ROOMS,
        },
        Read,
    },
    system::time::TimeService,
};
use rooms::{digests, digests_for, generate_password, invalid};
use stations::{refuse_in_use, register_password, taken_by};

pub struct HouseholdService {
    pub settings: Arc<SettingsStore>,
    pub time: Arc<TimeService>,
    pub sip: Arc<SipService>,
}

impl HouseholdService {
    async fn room_records(&self) -> Result<Vec<RoomRecord>, ApiError> {
        let all = self.settings.read(|r| Ok(r.all(SIP_ROOMS)?)).await?;
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
    pub async fn rooms_changed(&self) -> Result<Vec<RoomRecord>, ApiError> {
        let records = self.room_records().await?;
        self.sip.set_rooms(&records)?;
        Ok(records)
    }

    /// The list as the page shows it, and the SIP server takes it.
    pub async fn stations_changed(&self, kind: StationKind) -> Result<StationPage, ApiError> {
        let (records, basic) = self
            .settings
            .read(move |r| Ok((sip_server::stations_of(r, kind)?, r.settings(BASIC)?)))
            .await?;
        self.sip.set_stations(kind, &records)?;
        let mut list = Vec::with_capacity(records.len() + 1);
        if kind == StationKind::Vto {
            list.push(StationEntry {
                station: Station {
                    number: basic.vto_no,
                    ip: self
                        .sip
                        .address()
                        .map(|a| a.ip().to_string())
                        .unwrap_or_default(),
                },
                online: true,
                in_use: true,
            });
        }
        list.extend(records.into_iter().map(|r| StationEntry {
            online: self.sip.online(std::slice::from_ref(&r.station.number)) > 0,
            station: r.station,
            in_use: false,
        }));
        Ok(StationPage {
            list,
            ..StationPage::default()
        })
    }

    /// The stored settings as the SIP service takes them.
    pub async fn apply_sip_server(&self) -> Result<(), ApiError> {
        let (record, basic) = self
            .settings
            .read(|r| Ok((r.settings(SIP_SERVER)?, r.settings(BASIC)?)))
            .await?;
        self.sip
            .set_upstream(sip_server::wanted_from(&record, &basic.vto_no));
        self.sip.set_digest(record.settings.digest);
        Ok(())
    }

    async fn remove_rooms(
        &self,
        caller: &Caller,
        which: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        self.settings
            .save(
                &session.user,
                caller.ip,
                "Room No. Management",
                move |w| match &which {
                    Some(room_no) => {
                        if !w.remove(SIP_ROOMS, room_no.as_str())? {
                            return Err(invalid("room-no", format!("No room {room_no}")));
                        }
                        crate::door::forget_room(w, room_no)?;
                        Ok(vec!["Delete"])
                    }
                    None => {
                        let all: Vec<(String, RoomRecord)> = w.all(SIP_ROOMS)?;
                        for (room_no, _) in &all {
                            w.remove(SIP_ROOMS, room_no.as_str())?;
                            crate::door::forget_room(w, room_no)?;
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

#[async_trait::async_trait]
impl Household for HouseholdService {
    async fn rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError> {
        caller.session()?;
        Ok(self.room_page_of(&self.room_records().await?))
    }

    async fn add_room(
        &self,
        caller: &Caller,
        room: Room,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        let room = rooms::normalized(room);
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
        self.settings
            .save(&session.user, caller.ip, "Room No. Management", move |w| {
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
    async fn add_rooms(
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
        .map_err(Error::Task)??;
        let records: Vec<RoomRecord> = made.iter().map(|(r, _)| r.clone()).collect();
        self.settings
            .save(&session.user, caller.ip, "Room No. Management", move |w| {
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

    async fn save_room(&self, caller: &Caller, room: Room) -> Result<RoomPage, ApiError> {
        let session = caller.session()?;
        let room = rooms::normalized(room);
        if let Some((field, message)) = room.validate().into_iter().next() {
            return Err(invalid(field, message));
        }
        self.settings
            .save(&session.user, caller.ip, "Room No. Management", move |w| {
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

    async fn delete_room(&self, caller: &Caller, room_no: String) -> Result<RoomPage, ApiError> {
        self.remove_rooms(caller, Some(room_no)).await
    }

    async fn clear_rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError> {
        self.remove_rooms(caller, None).await
    }

    async fn stations(&self, caller: &Caller, kind: StationKind) -> Result<StationPage, ApiError> {
        caller.session()?;
        self.stations_changed(kind).await
    }

    async fn add_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        let station = stations::normalized(station);
        if let Some((field, message)) = station.validate(kind).into_iter().next() {
            return Err(invalid(field, message));
        }
        let (password, warnings, generated) = register_password(kind, password)?;
        let record = StationRecord {
            digests: digests_for(vec![station.number.clone()], &password),
            station: station.clone(),
        };
        self.settings
            .save(&session.user, caller.ip, kind.page(), move |w| {
                let number = &record.station.number;
                if let Some(what) = taken_by(w, kind, number)? {
                    return Err(invalid(
                        kind.field("no"),
                        format!("{number} is {what} already"),
                    ));
                }
                let table = station_table(kind);
                if w.all::<StationRecord>(table)?.len() >= kind.max() {
                    return Err(invalid(
                        kind.field("no"),
                        format!(
                            "All {} {} are in use: delete one first",
                            kind.max(),
                            kind.label()
                        ),
                    ));
                }
                w.put(table, number.as_str(), &record)?;
                Ok(vec!["Add"])
            })
            .await?;
        let mut page = self.stations_changed(kind).await?;
        page.warnings = warnings;
        if generated {
            page.new_passwords = vec![(station.number, password)];
        }
        Ok(page)
    }

    /// Modify: the IP Address, and (a VTO) the Rec No. A new number needs
    /// new digests (they hash the user name): the password typed, else a
    /// generated one shown once; the station registers again with it.
    async fn save_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: String,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        let station = stations::normalized(station);
        if let Some((field, message)) = station.validate(kind).into_iter().next() {
            return Err(invalid(field, message));
        }
        let renumbered = station.number != number;
        if renumbered && kind == StationKind::Vts {
            return Err(invalid(
                kind.field("no"),
                "A VTS No. cannot be changed: delete the VTS and add it again",
            ));
        }
        let new_password = if renumbered {
            Some(register_password(kind, password)?)
        } else {
            None
        };
        let digests = new_password
            .as_ref()
            .map(|(p, _, _)| digests_for(vec![station.number.clone()], p));
        let target = station.clone();
        self.settings
            .save(&session.user, caller.ip, kind.page(), move |w| {
                refuse_in_use(w, kind, &number)?;
                let table = station_table(kind);
                let mut record: StationRecord =
                    w.get(table, number.as_str())?.ok_or_else(|| {
                        invalid(kind.field("no"), format!("No {} {number}", kind.label()))
                    })?;
                if record.station == target {
                    return Ok(vec![]);
                }
                if let Some(digests) = digests {
                    if let Some(what) = taken_by(w, kind, &target.number)? {
                        return Err(invalid(
                            kind.field("no"),
                            format!("{} is {what} already", target.number),
                        ));
                    }
                    w.remove(table, number.as_str())?;
                    record.digests = digests;
                }
                record.station = target;
                w.put(table, record.station.number.as_str(), &record)?;
                Ok(vec!["Modify"])
            })
            .await?;
        let mut page = self.stations_changed(kind).await?;
        if let Some((password, warnings, generated)) = new_password {
            page.warnings = warnings;
            if generated {
                page.new_passwords = vec![(station.number, password)];
            }
        }
        Ok(page)
    }

    /// Delete one, or Clear (all but this VTO, which is not stored).
    async fn delete_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        self.settings
            .save(&session.user, caller.ip, kind.page(), move |w| {
                let table = station_table(kind);
                match &number {
                    Some(number) => {
                        refuse_in_use(w, kind, number)?;
                        if !w.remove(table, number.as_str())? {
                            return Err(invalid(
                                kind.field("no"),
                                format!("No {} {number}", kind.label()),
                            ));
                        }
                        Ok(vec!["Delete"])
                    }
                    None => {
                        let all: Vec<(String, StationRecord)> = w.all(table)?;
                        for (n, _) in &all {
                            w.remove(table, n.as_str())?;
                        }
                        Ok(if all.is_empty() {
                            vec![]
                        } else {
                            vec!["Clear"]
                        })
                    }
                }
            })
            .await?;
        self.stations_changed(kind).await
    }

    async fn publish(
        &self,
        caller: &Caller,
        publication: Publication,
    ) -> Result<PublishRecord, ApiError> {
        caller.session()?;
        if let Some((field, message)) = publication.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if self.sip.is_client() {
            return Err(ApiError::invalid(
                "publish-no",
                "This VTO is not the SIP server (Network Setting > SIP Server)".to_string(),
            ));
        }
        let basic = self.settings.get(BASIC).await?;
        let number = publication.number.trim().to_string();
        let target = (!publication.all).then_some(number.as_str());
        let title = publication.title.trim().to_string();
        let content = publication.content.trim().to_string();
        let deliveries = self
            .sip
            .publish(&basic.vto_no, target, &title, &content)
            .await
            .map_err(|m| ApiError::invalid("publish-no", m))?;
        let record = PublishRecord {
            at: self.time.now(),
            title,
            target: if publication.all {
                "All device".into()
            } else {
                number
            },
            deliveries,
        };
        let stored = record.clone();
        self.settings
            .write(move |w| {
                w.append(PUBLISH_LOG, &stored, MAX_HISTORY)?;
                Ok(())
            })
            .await?;
        tracing::info!(
            target = %record.target,
            summary = %record.summary(),
            "publish information sent"
        );
        Ok(record)
    }

    async fn publish_history(&self, caller: &Caller, offset: u64) -> Result<PublishPage, ApiError> {
        caller.session()?;
        let (records, total) = self
            .settings
            .read(move |r| Ok(r.newest_first(PUBLISH_LOG, offset, PAGE_SIZE)?))
            .await?;
        Ok(PublishPage {
            records,
            total,
            offset,
            display: self.time.display(),
        })
    }

    async fn export_user_info(&self, caller: &Caller) -> Result<UserInfo, ApiError> {
        caller.session()?;
        self.settings
            .read(|r| {
                let rooms: Vec<(String, RoomRecord)> = r.all(SIP_ROOMS)?;
                let station = |kind| -> Result<Vec<_>, ApiError> {
                    Ok(sip_server::stations_of(r, kind)?
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

    async fn import_user_info(
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
        self.settings
            .save(&session.user, caller.ip, "User Info import", move |w| {
                let basic = w.settings(BASIC)?;
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

    async fn sip_status(
        &self,
        caller: &Caller,
    ) -> Result<app::model::sip_status::StatusPage, ApiError> {
        caller.session()?;
        Ok(app::model::sip_status::StatusPage {
            devices: self.sip.status(),
            display: self.time.display(),
        })
    }

    async fn sip_server(&self, caller: &Caller) -> Result<SipServerPage, ApiError> {
        caller.session()?;
        let (record, basic) = self
            .settings
            .read(|r| Ok((r.settings(SIP_SERVER)?, r.settings(BASIC)?)))
            .await?;
        Ok(SipServerPage {
            password_set: record.password.is_some(),
            settings: record.settings,
            vto_no: basic.vto_no,
            registration: self.sip.upstream_status(),
            address: self.sip.address().map(|a| a.to_string()),
            display: self.time.display(),
        })
    }

    async fn save_sip_server(
        &self,
        caller: &Caller,
        settings: SipServerSettings,
        password: Option<String>,
    ) -> Result<SipServerPage, ApiError> {
        let session = caller.session()?;
        let settings = trimmed(settings);
        let typed = password.filter(|p| !p.is_empty());
        if typed
            .as_ref()
            .is_some_and(|p| p.len() > 64 || p.chars().any(char::is_control))
        {
            return Err(ApiError::invalid(
                "sip-password",
                "Up to 64 characters, no control characters".to_string(),
            ));
        }
        self.settings
            .save(&session.user, caller.ip, "SIP Server", move |w| {
                let old: SipServerRecord = w.settings(SIP_SERVER)?;
                // A kept password registers only where it was stored for.
                let moved = !settings.ip.eq_ignore_ascii_case(&old.settings.ip)
                    || settings.port != old.settings.port;
                if typed.is_none() && old.password.is_some() && moved {
                    return Err(ApiError::invalid(
                        "sip-password",
                        "The IP Addr. or Port changed: enter the Password again",
                    ));
                }
                let password = typed.clone().map(Secret::new).or(old.password.clone());
                if let Some((field, message)) =
                    settings.validate(password.is_some()).into_iter().next()
                {
                    return Err(ApiError::invalid(field, message));
                }
                let mut changed = settings.changed_fields(&old.settings);
                if typed.is_some() {
                    changed.push("Password");
                }
                w.put_settings(SIP_SERVER, &SipServerRecord { settings, password })?;
                Ok(changed)
            })
            .await?;
        self.apply_sip_server().await?;
        self.sip_server(caller).await
    }
}

fn trimmed(mut s: SipServerSettings) -> SipServerSettings {
    s.ip = s.ip.trim().to_string();
    s.username = s.username.trim().to_string();
    s.domain = s.domain.trim().to_string();
    s
}
