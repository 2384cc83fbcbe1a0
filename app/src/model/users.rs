//! Accounts besides `admin` and what each role may do (the manual's
//! cybersecurity appendix: "assign accounts and privileges reasonably").
//!
//! Every front door (the UI's endpoints, the HTTP CGI API, its event
//! stream, DHIP) asks [`Role::may`] with the [`Right`] its request needs.

use serde::{Deserialize, Serialize};

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
}
