//! Household Setting > VTO No. Management (manual 5.1) and VTS Management
//! (5.3): the door stations (VTO) and management centres (VTS) that
//! register to this device's SIP server. Both are a number, a Register
//! Password and the IP Address the station must register from (another
//! address gets 403).
//!
//! - A VTO No. (Rec No.) rings that door station; this VTO itself is always
//!   in the list ("in use": it cannot be modified or deleted).
//! - A call to the Centre Call No. (Local Setting > Basic, default 888888)
//!   rings every registered VTS, within the Call Centre Time only; a VTS No.
//!   rings that VTS.
//!
//! The Register Password is kept as digests only, like a room's.

use serde::{Deserialize, Serialize};

choices! {
    /// Which list a station is in.
    StationKind {
        #[default]
        Vto = ("vto", "VTO"),
        Vts = ("vts", "VTS"),
    }
}

impl StationKind {
    /// The manual's name of the number field.
    pub fn number_label(self) -> &'static str {
        match self {
            Self::Vto => "Rec No.",
            Self::Vts => "VTS No.",
        }
    }

    /// The page (and its security log name).
    pub fn page(self) -> &'static str {
        match self {
            Self::Vto => "VTO No. Management",
            Self::Vts => "VTS Management",
        }
    }

    /// The id of a form field of this kind's page: `vto-no`, `vts-ip` ...
    pub fn field(self, name: &str) -> &'static str {
        match (self, name) {
            (Self::Vto, "no") => "vto-no",
            (Self::Vto, "ip") => "vto-ip",
            (Self::Vto, "password") => "vto-password",
            (Self::Vts, "no") => "vts-no",
            (Self::Vts, "ip") => "vts-ip",
            (Self::Vts, "password") => "vts-password",
            (Self::Vto, "delete") => "vto-delete",
            (Self::Vts, "delete") => "vts-delete",
            (Self::Vto, "clear") => "vto-clear",
            (Self::Vts, "clear") => "vts-clear",
            _ => "",
        }
    }

    /// Stations kept per list.
    pub fn max(self) -> usize {
        match self {
            Self::Vto => MAX_VTO,
            Self::Vts => MAX_VTS,
        }
    }
}

/// Door stations besides this one (a villa or a small building).
pub const MAX_VTO: usize = 32;
/// Management centres.
pub const MAX_VTS: usize = 16;
pub const MAX_STATION_DIGITS: usize = 16;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Station {
    /// Rec No. of a VTO, VTS No. of a VTS (stored as `vts_no` before
    /// VTO No. Management existed).
    #[serde(alias = "vts_no")]
    pub number: String,
    /// Where the station is: its REGISTERs must come from here.
    pub ip: String,
}

impl Station {
    /// Field errors: (field id, message); ids are `vto-no`, `vts-ip` ...
    pub fn validate(&self, kind: StationKind) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        let n = &self.number;
        if n.is_empty() {
            errors.push((
                kind.field("no"),
                format!("Enter the {}", kind.number_label()),
            ));
        } else if n.len() > MAX_STATION_DIGITS || !n.bytes().all(|b| b.is_ascii_digit()) {
            errors.push((
                kind.field("no"),
                format!("1 to {MAX_STATION_DIGITS} digits"),
            ));
        }
        if self.ip.parse::<std::net::IpAddr>().is_err() {
            errors.push((
                kind.field("ip"),
                "Enter an IP address, e.g. 192.168.1.20".into(),
            ));
        }
        errors
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationEntry {
    pub station: Station,
    /// Registered now (this VTO: always).
    pub online: bool,
    /// This VTO itself: it cannot be modified or deleted.
    pub in_use: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationPage {
    pub list: Vec<StationEntry>,
    /// Right after Add (or a Modify that renumbered): the number and its
    /// generated Register Password, shown this once.
    pub new_passwords: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_station_needs_digits_and_an_address() {
        let mut v = Station {
            number: "888888".into(),
            ip: "192.168.1.20".into(),
        };
        assert!(v.validate(StationKind::Vts).is_empty());
        v.ip = "::1".into();
        assert!(v.validate(StationKind::Vto).is_empty());
        for bad in ["", "88a", "12345678901234567"] {
            v.number = bad.into();
            assert_eq!(v.validate(StationKind::Vts)[0].0, "vts-no", "{bad}");
            assert_eq!(v.validate(StationKind::Vto)[0].0, "vto-no", "{bad}");
        }
        v.number = "1".into();
        for bad in ["", "vts.local", "300.1.1.1"] {
            v.ip = bad.into();
            assert_eq!(v.validate(StationKind::Vts)[0].0, "vts-ip", "{bad}");
        }
    }

    #[test]
    fn records_stored_before_vto_management_still_read() {
        let old: Station = serde_json::from_str(r#"{"vts_no":"888001","ip":"10.0.0.2"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.number, "888001");
    }
}
