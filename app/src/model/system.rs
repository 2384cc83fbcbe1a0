//! The main page's panels (manual ch. 3, table 3-1).

use serde::{Deserialize, Serialize};

use super::{settings::BasicSettings, two_factor::TwoFactorStatus};

/// The security baseline this build implements; docs/security.md lists what
/// each version contains.
pub const SECURITY_BASELINE: &str = "1.2";

/// System information: what is running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub software_version: String,
    pub security_baseline: String,
    /// The git commit the binary was built from, when the build knew it.
    pub build_commit: Option<String>,
}

/// The signed-in account, for the header's account dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub user: String,
    pub email: Option<String>,
    #[serde(default)]
    pub two_factor: TwoFactorStatus,
}

/// The email address was changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChanged {
    /// What became of the notice to the old address: `Ok` with the
    /// server's answer, `Err` with why it failed; `None` when there was no
    /// old address.
    pub notice: Option<Result<String, String>>,
}

/// Everything the main interface shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub vto: BasicSettings,
    pub system: SystemInfo,
    pub account: AccountInfo,
    /// The RTSP server as started; `None`: off.
    #[serde(default)]
    pub rtsp: Option<super::network::RtspInfo>,
}

/// Whether the device has been initialized (manual ch. 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupState {
    pub initialized: bool,
    /// Changes each time the device's services start: the UI waits for a
    /// new one after a reboot.
    pub boot_id: u64,
}
