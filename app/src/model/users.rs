//! Accounts besides `admin` and what each role may do (the manual's
//! cybersecurity appendix: "assign accounts and privileges reasonably").
//!
//! Every front door (the UI's endpoints, the HTTP CGI API, its event
//! stream, DHIP) asks [`Role::may`] with the [`Right`] its request needs.

use serde::{Deserialize, Serialize};

use super::{system_time::TimeDisplay, time::UnixMillis};

/// What an account may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Everything, settings included (`admin` always has it).
    #[default]
    Admin,
    /// Live view, snapshots, open the door, answer calls, the logs.
    Operator,
    /// Live view only.
    Viewer,
}

/// One thing a request may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Right {
    /// Watch the door and the cameras.
    LiveView,
    /// Take a snapshot, read the door's events.
    Snapshot,
    /// Open the door, answer and reject calls.
    OpenDoor,
    /// Read the unlock, call and alarm logs.
    Logs,
    /// Change settings, manage users and everything else.
    Settings,
}

pub const ROLES: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];

impl Role {
    pub fn may(self, right: Right) -> bool {
        match self {
            Self::Admin => true,
            Self::Operator => right != Right::Settings,
            Self::Viewer => right == Right::LiveView,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Admin",
            Self::Operator => "Operator",
            Self::Viewer => "Viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ROLES.into_iter().find(|r| r.label() == s)
    }
}

/// Longest user name.
pub const MAX_USER_NAME: usize = 32;

/// The user name rules: 1-32 letters, digits, `_`, `-`, `.` or `@`
/// (case-sensitive). The message, for the field, when broken.
pub fn check_user_name(name: &str) -> Result<(), &'static str> {
    let len = name.chars().count();
    if len == 0 {
        return Err("Enter a user name");
    }
    if len > MAX_USER_NAME {
        return Err("At most 32 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c))
    {
        return Err("Only letters, digits, _ - . and @");
    }
    Ok(())
}

/// The signed-in account: who the pages are for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: String,
    pub role: Role,
}

/// One account as the Users page lists it (never a hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    pub user: String,
    pub role: Role,
    pub two_factor: bool,
    pub created: UnixMillis,
}

/// The Users page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserEntry>,
    /// Who is looking (may not delete themselves).
    pub me: String,
    pub display: TimeDisplay,
}

/// A new account, as the Add dialog sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub user: String,
    pub password: String,
    pub role: Role,
}

/// Which connection an Online Users row is: a web session by a short
/// handle (never its id), or another front door's connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OnlineKey {
    Web(String),
    Other(u64),
}

/// One row of Online Users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineEntry {
    pub key: OnlineKey,
    pub user: String,
    pub role: Role,
    pub ip: String,
    /// "Web", or the front door's name.
    pub door: String,
    pub since: UnixMillis,
    /// Web sessions: when it last made a request (to the minute).
    pub last_seen: Option<UnixMillis>,
    /// The session this page is shown in.
    pub this_session: bool,
}

/// The Online Users page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlinePage {
    pub entries: Vec<OnlineEntry>,
    pub display: TimeDisplay,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege() {
        use Right::*;
        let all = [LiveView, Snapshot, OpenDoor, Logs, Settings];
        assert!(all.iter().all(|r| Role::Admin.may(*r)));
        assert!(all[..4].iter().all(|r| Role::Operator.may(*r)));
        assert!(!Role::Operator.may(Settings));
        assert!(Role::Viewer.may(LiveView));
        assert!(all[1..].iter().all(|r| !Role::Viewer.may(*r)));
        for r in ROLES {
            assert_eq!(Role::parse(r.label()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn user_name_rules() {
        for ok in ["op", "a", "Front.Door-2_x@home", &"x".repeat(32)] {
            assert_eq!(check_user_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_user_name(""), Err("Enter a user name"));
        assert_eq!(
            check_user_name(&"x".repeat(33)),
            Err("At most 32 characters")
        );
        for bad in ["a b", "a/b", "ü", "a:b", "a\u{0}"] {
            assert!(check_user_name(bad).is_err(), "{bad}");
        }
    }
}
