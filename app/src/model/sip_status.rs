//! Household Setting > Status (manual 5.5): every device of this SIP
//! server with its working state, IP address and last registration.

use serde::{Deserialize, Serialize};

use super::{system_time::TimeDisplay, time::UnixMillis};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The SIP user name (`9901#0`), or the room number for a room none
    /// of whose monitors was seen since the device started.
    pub number: String,
    /// What the number is: `Room` (an indoor monitor) or `VTS`.
    pub kind: String,
    pub online: bool,
    /// Where it registered from (empty if never seen).
    pub ip: String,
    /// When it last registered, if seen since the device started or
    /// registered now.
    pub last_registration: Option<UnixMillis>,
    /// Its User-Agent, as it says.
    pub user_agent: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPage {
    pub devices: Vec<DeviceStatus>,
    #[serde(default)]
    pub display: TimeDisplay,
}

/// How often the page asks again, in milliseconds.
pub const REFRESH_MS: u64 = 5_000;
