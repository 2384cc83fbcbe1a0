//! Household Setting > VTO No. Management and VTS Management: the other
//! door stations and the management centres are SIP accounts like the
//! rooms (their Register Password kept as digests only, a generated one
//! shown once), and each may register only from its IP Address.
//!
//! This VTO is always first in the VTO list, "in use": it is the Basic
//! page's VTO No. at the SIP server's address, not stored here, and cannot
//! be modified or deleted.

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        room::check_register_password,
        settings::BasicSettings,
        station::{Station, StationEntry, StationKind, StationPage},
    },
};

use super::{
    room::{digests_for, generate_password},
    DeviceImpl,
};
use crate::store::{
    tables::{station_table, RoomRecord, StationRecord, SETTINGS_BASIC, SIP_ROOMS},
    Read, Writer,
};

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message.into())
}

fn normalized(v: Station) -> Station {
    Station {
        number: v.number.trim().to_string(),
        ip: v.ip.trim().to_string(),
    }
}

/// What else `number` already is, if anything: a SIP user name must name
/// one account only.
fn taken_by(w: &Writer, kind: StationKind, number: &str) -> Result<Option<String>, ApiError> {
    let basic: BasicSettings = w.settings(SETTINGS_BASIC)?;
    if basic.vto_no == number {
        return Ok(Some("this VTO's VTO No.".into()));
    }
    // A VTS may well be numbered as the centre (888888): calls to it ring
    // all the VTS anyway. A door station may not.
    if kind == StationKind::Vto && basic.centre_call_no == number {
        return Ok(Some("the Centre Call No.".into()));
    }
    if w.get::<&str, RoomRecord>(SIP_ROOMS, number)?.is_some() {
        return Ok(Some(format!("room {number}")));
    }
    for kind in StationKind::ALL {
        if w.get::<&str, StationRecord>(station_table(*kind), number)?
            .is_some()
        {
            return Ok(Some(format!("{} {number}", kind.label())));
        }
    }
    Ok(None)
}

/// This VTO itself (the Basic page's VTO No.) is not touched here.
fn refuse_in_use(w: &Writer, kind: StationKind, number: &str) -> Result<(), ApiError> {
    let basic: BasicSettings = w.settings(SETTINGS_BASIC)?;
    if kind == StationKind::Vto && number == basic.vto_no {
        return Err(invalid(
            kind.field("no"),
            "The VTO in use cannot be modified or deleted",
        ));
    }
    Ok(())
}

/// The Register Password typed (checked) or generated (to show once), and
/// the warnings about a weak typed one.
fn register_password(
    kind: StationKind,
    typed: Option<String>,
) -> Result<(String, Vec<String>, bool), ApiError> {
    match typed.filter(|p| !p.is_empty()) {
        Some(p) => {
            let w = check_register_password(&p).map_err(|m| invalid(kind.field("password"), m))?;
            Ok((p, w, false))
        }
        None => Ok((generate_password()?, Vec::new(), true)),
    }
}

impl DeviceImpl {
    /// The list as the page shows it, and the SIP server takes it.
    pub(super) async fn stations_changed(
        &self,
        kind: StationKind,
    ) -> Result<StationPage, ApiError> {
        let (records, basic) = self
            .auth
            .read(move |r| {
                Ok((
                    crate::sip::stations_of(r, kind)?,
                    r.settings::<BasicSettings>(SETTINGS_BASIC)?,
                ))
            })
            .await?;
        self.sip
            .set_stations(kind, &records)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
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

    pub(super) async fn station_page(
        &self,
        caller: &Caller,
        kind: StationKind,
    ) -> Result<StationPage, ApiError> {
        caller.session()?;
        self.stations_changed(kind).await
    }

    pub(super) async fn add_station_with(
        &self,
        caller: &Caller,
        kind: StationKind,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        let station = normalized(station);
        if let Some((field, message)) = station.validate(kind).into_iter().next() {
            return Err(invalid(field, message));
        }
        let (password, warnings, generated) = register_password(kind, password)?;
        let record = StationRecord {
            digests: digests_for(vec![station.number.clone()], &password),
            station: station.clone(),
        };
        self.auth
            .save_settings(&session.user, caller.ip, kind.page(), move |w| {
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
    pub(super) async fn save_station_with(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: String,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        let station = normalized(station);
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
        self.auth
            .save_settings(&session.user, caller.ip, kind.page(), move |w| {
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
    pub(super) async fn delete_station_with(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: Option<String>,
    ) -> Result<StationPage, ApiError> {
        let session = caller.session()?;
        self.auth
            .save_settings(&session.user, caller.ip, kind.page(), move |w| {
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
}
