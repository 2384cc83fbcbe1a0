//! The security log: logins, failures, lockouts, logouts, initialization and
//! other account events. Never holds a password or a session id.

use serde::{Deserialize, Serialize};

use super::time::UnixMillis;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityEventKind {
    Initialized,
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    LoginRefusedWhileLocked,
    LoggedOut,
    PasswordChanged,
    EmailChanged,
    Rebooted,
    FactoryReset,
    ResetCodeSent,
    ResetCodeWrong,
    ResetLocked,
    ResetCodeAccepted,
    PasswordReset,
    EmailNoticeFailed,
    MailSettingsChanged,
    SecuritySettingsChanged,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorFailed,
    RecoveryCodeUsed,
    /// A settings page was saved; `detail` names the page and fields.
    SettingsChanged,
    /// Auto maintenance restarted the device's services.
    AutoMaintenance,
    /// Users: `detail` names the account (and its role).
    UserAdded,
    UserRoleChanged,
    UserPasswordSet,
    UserDeleted,
    /// Online Users: a connection ended by an admin; `detail` names whose.
    SessionEnded,
    /// The door's unlock or alarm records came faster than the disk took
    /// them: `detail` says how many were dropped.
    RecordsDropped,
}

impl SecurityEventKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Initialized => "Device initialized",
            Self::LoginSucceeded => "Login",
            Self::LoginFailed => "Login failed",
            Self::LockedOut => "Account locked for this address",
            Self::LoginRefusedWhileLocked => "Login refused: locked",
            Self::LoggedOut => "Logout",
            Self::PasswordChanged => "Password changed",
            Self::EmailChanged => "Email changed",
            Self::Rebooted => "Reboot",
            Self::FactoryReset => "Factory defaults restored",
            Self::ResetCodeSent => "Password reset: security code sent",
            Self::ResetCodeWrong => "Password reset: wrong security code",
            Self::ResetLocked => "Password reset locked",
            Self::ResetCodeAccepted => "Password reset: security code accepted",
            Self::PasswordReset => "Password reset",
            Self::EmailNoticeFailed => "Notice to the old email address not sent",
            Self::MailSettingsChanged => "Email settings changed",
            Self::SecuritySettingsChanged => "Security settings changed",
            Self::TwoFactorEnabled => "Two-factor login enabled",
            Self::TwoFactorDisabled => "Two-factor login disabled",
            Self::TwoFactorFailed => "Two-factor login: wrong code",
            Self::RecoveryCodeUsed => "Two-factor login: recovery code used",
            Self::SettingsChanged => "Settings changed",
            Self::AutoMaintenance => "Auto maintenance restart",
            Self::UserAdded => "Account added",
            Self::UserRoleChanged => "Account role changed",
            Self::UserPasswordSet => "Account password set by an admin",
            Self::UserDeleted => "Account deleted",
            Self::SessionEnded => "Connection ended by an admin",
            Self::RecordsDropped => "Door records dropped",
        }
    }

    /// Events an auditor should notice.
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            Self::LoginFailed
                | Self::LockedOut
                | Self::LoginRefusedWhileLocked
                | Self::ResetCodeWrong
                | Self::ResetLocked
                | Self::EmailNoticeFailed
                | Self::TwoFactorFailed
                | Self::RecordsDropped
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    pub time: UnixMillis,
    pub kind: SecurityEventKind,
    /// The user name as given (for failures: as typed, cut to 64 characters).
    pub user: String,
    /// The source address.
    pub ip: String,
    /// What changed, e.g. `Basic: VTO No., Centre Call No.` (names only,
    /// never values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One page of the log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityLogPage {
    pub events: Vec<SecurityEvent>,
    /// How many events the device keeps in all.
    pub total: u64,
    pub offset: u64,
    /// How the device shows times (Local Setting > System).
    #[serde(default)]
    pub display: super::system_time::TimeDisplay,
}

/// Events per page in the UI.
pub const PAGE_SIZE: u64 = 50;
