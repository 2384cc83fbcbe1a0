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
    /// Failed logins from one address, whatever the user names, locked it.
    AddressLocked,
    /// Failed logins of one account from several addresses: its logins
    /// are slowed down (a growing delay, at most a minute).
    LoginsSlowed,
    /// The door's unlock or alarm records came faster than the disk took
    /// them: `detail` says how many were dropped.
    RecordsDropped,
    /// Config Manager: a full backup was made (sealed with a passphrase).
    BackupMade,
    /// Config Manager: everything was replaced from a full backup.
    BackupRestored,
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
            Self::AddressLocked => "Address locked after failed logins",
            Self::LoginsSlowed => "Account's logins slowed down after failed logins",
            Self::RecordsDropped => "Door records dropped",
            Self::BackupMade => "Full backup made",
            Self::BackupRestored => "Full backup restored",
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
                | Self::AddressLocked
                | Self::LoginsSlowed
                | Self::RecordsDropped
        )
    }

    /// Failures anyone can cause without credentials: a flood of them is
    /// coalesced into one row, and when the log is full they make room by
    /// dropping older failures, never other events.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::LoginFailed
                | Self::LockedOut
                | Self::LoginRefusedWhileLocked
                | Self::ResetCodeWrong
                | Self::ResetLocked
                | Self::TwoFactorFailed
                | Self::AddressLocked
                | Self::LoginsSlowed
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
    /// Failures that came after this one in a flood and were counted here
    /// instead of each getting a row (any user, any address).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub coalesced: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SecurityEvent {
    /// `4,812 more coalesced`, when failures were coalesced into this row.
    pub fn coalesced_text(&self) -> Option<String> {
        (self.coalesced > 0).then(|| format!("{} more coalesced", thousands(self.coalesced)))
    }
}

/// `4812` as `4,812`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    // A comma before every group of three counted from the right.
    let mut to_comma = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && to_comma == 0 {
            out.push(',');
            to_comma = 3;
        }
        out.push(c);
        to_comma -= 1;
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesced_count_is_written_with_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4812), "4,812");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let mut e = SecurityEvent {
            time: UnixMillis(0),
            kind: SecurityEventKind::LoginFailed,
            user: "root".into(),
            ip: "10.0.0.1".into(),
            detail: None,
            coalesced: 0,
        };
        assert_eq!(e.coalesced_text(), None);
        // Old rows (without the field) read as 0; 0 is not written.
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert!(!json.contains("coalesced"), "{json}");
        e.coalesced = 4812;
        assert_eq!(e.coalesced_text().as_deref(), Some("4,812 more coalesced"));
    }
}
