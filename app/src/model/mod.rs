//! Typed models shared by the browser and the server. Pure: no I/O here.

/// A closed set of choices for a select: each with a stable key (stored,
/// sent) and the manual's label (shown).
macro_rules! choices {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = ($key:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$v),+];

            pub fn key(self) -> &'static str {
                match self { $(Self::$v => $key),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $(Self::$v => $label),+ }
            }

            pub fn from_key(key: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.key() == key)
            }

            /// (key, label) pairs for a select.
            pub fn options() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|c| (c.key(), c.label())).collect()
            }
        }
    };
}

pub mod access;
pub mod call_log;
pub mod card;
pub mod config;
pub mod email;
pub mod intercom;
pub mod ip_permissions;
pub mod ipc;
pub mod live;
pub mod mail;
pub mod message;
pub mod network;
pub mod onvif;
pub mod password;
pub mod publish;
pub mod reset;
pub mod room;
pub mod security;
pub mod security_log;
pub mod settings;
pub mod sip_server;
pub mod sip_status;
pub mod station;
pub mod system;
pub mod system_time;
pub mod time;
pub mod two_factor;
pub mod user_info;
pub mod users;
pub mod video;
pub mod webhook;

/// The one account of the device (manual ch. 2.1).
pub const ADMIN_USER: &str = "admin";
