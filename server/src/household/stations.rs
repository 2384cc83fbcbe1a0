//! Household Setting > VTO No. Management and VTS Management: the other
//! door stations and the management centres are SIP accounts like the
//! rooms (their Register Password kept as digests only, a generated one
//! shown once), and each may register only from its IP Address.
//!
//! This VTO is always first in the VTO list, "in use": it is the Basic
//! page's VTO No. at the SIP server's address, not stored here, and cannot
//! be modified or deleted.

use app::{
    error::ApiError,
    model::{
        room::check_register_password,
        station::{Station, StationKind},
    },
};

use super::rooms::{generate_password, invalid};
use crate::store::{
    settings::BASIC,
    tables::{station_table, RoomRecord, StationRecord, SIP_ROOMS},
    Read, Writer,
};

pub fn normalized(v: Station) -> Station {
    Station {
        number: v.number.trim().to_string(),
        ip: v.ip.trim().to_string(),
    }
}

/// What else `number` already is, if anything: a SIP user name must name
/// one account only.
pub fn taken_by(w: &Writer, kind: StationKind, number: &str) -> Result<Option<String>, ApiError> {
    let basic = w.settings(BASIC)?;
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
pub fn refuse_in_use(w: &Writer, kind: StationKind, number: &str) -> Result<(), ApiError> {
    let basic = w.settings(BASIC)?;
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
pub fn register_password(
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
