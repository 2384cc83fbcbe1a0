//! Local Setting > Basic (manual 4.1): what the main page's VTO information
//! panel shows. The page that edits it comes with its own issue; until then
//! the manual's defaults apply.

use serde::{Deserialize, Serialize};

/// Device Type (manual table 4-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DeviceType {
    #[default]
    VillaStation,
    SecondConfirmation,
    FenceStation,
}

impl DeviceType {
    pub fn label(self) -> &'static str {
        match self {
            Self::VillaStation => "Villa Station",
            Self::SecondConfirmation => "Second Confirmation",
            Self::FenceStation => "Fence Station",
        }
    }
}

/// The Basic settings shown on the main page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BasicSettings {
    pub device_type: DeviceType,
    pub building_no: String,
    pub unit_no: String,
    pub vto_no: String,
}

impl Default for BasicSettings {
    fn default() -> Self {
        Self {
            device_type: DeviceType::VillaStation,
            building_no: "01".into(),
            unit_no: "1".into(),
            vto_no: "8001".into(),
        }
    }
}
