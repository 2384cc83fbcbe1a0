//! Household Setting > VTS Management (manual 5.3): the management centres
//! (VTS) that register to this device's SIP server. A call to the Centre
//! Call No. (Local Setting > Basic, default 888888) rings every registered
//! VTS, within the Call Centre Time only; a VTS No. rings that VTS.
//!
//! The Register Password is kept as digests only, like a room's; a VTS may
//! register only from its IP Address (another address gets 403).

use serde::{Deserialize, Serialize};

/// VTS devices the SIP server keeps.
pub const MAX_VTS: usize = 16;
pub const MAX_VTS_DIGITS: usize = 16;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vts {
    pub vts_no: String,
    /// Where the VTS is: its REGISTERs must come from here.
    pub ip: String,
}

impl Vts {
    /// Field errors: (field id, message).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        let n = &self.vts_no;
        if n.is_empty() {
            errors.push(("vts-no", "Enter the VTS number".into()));
        } else if n.len() > MAX_VTS_DIGITS || !n.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(("vts-no", format!("1 to {MAX_VTS_DIGITS} digits")));
        }
        if self.ip.parse::<std::net::IpAddr>().is_err() {
            errors.push(("vts-ip", "Enter an IP address, e.g. 192.168.1.20".into()));
        }
        errors
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VtsEntry {
    pub vts: Vts,
    /// Registered now.
    pub online: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VtsPage {
    pub list: Vec<VtsEntry>,
    /// Right after Add: the VTS No. and its generated Register Password,
    /// shown this once.
    pub new_passwords: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vts_needs_digits_and_an_address() {
        let mut v = Vts {
            vts_no: "888888".into(),
            ip: "192.168.1.20".into(),
        };
        assert!(v.validate().is_empty());
        v.ip = "::1".into();
        assert!(v.validate().is_empty());
        for bad in ["", "88a", "12345678901234567"] {
            v.vts_no = bad.into();
            assert_eq!(v.validate()[0].0, "vts-no", "{bad}");
        }
        v.vts_no = "1".into();
        for bad in ["", "vts.local", "300.1.1.1"] {
            v.ip = bad.into();
            assert_eq!(v.validate()[0].0, "vts-ip", "{bad}");
        }
    }
}
