//! Every redb table of the device, and the records stored in them.
//!
//! Values are `&[u8]` in the encoding of [`super::codec`]; the record types
//! below (and the `app` models stored as they are) define their content.
//! Changing a record in a way old data cannot be read with (renaming or
//! retyping a field without a serde default) needs a new
//! [`super::SCHEMA_VERSION`] and a migration step.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use app::model::{mail::MailSettings, time::UnixMillis};

use super::{secret::Secret, StoreError};
use crate::account::{reset::ResetState, totp::TotpRecord};

/// `schema_version` and other small facts about the database.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// User name -> [`AccountRecord`].
pub const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
/// SHA-256 of the session id -> [`SessionRecord`]. The id itself is never stored.
pub const SESSIONS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("sessions");
/// Sequence number -> [`app::model::security_log::SecurityEvent`].
pub const SECURITY_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("security_log");
/// Page name -> that settings page's `app` model (e.g. `basic` ->
/// [`app::model::settings::BasicSettings`]).
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// Room No. -> [`RoomRecord`] (Room No. Management, schema 2).
pub const SIP_ROOMS: TableDefinition<&str, &[u8]> = TableDefinition::new("sip_rooms");
/// SIP user name (e.g. `9901#0`) -> `Vec<`[`BindingRecord`]`>`: where it is
/// registered, so registrations survive a restart (schema 2).
pub const SIP_BINDINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("sip_bindings");

/// Sequence number -> [`app::model::call_log::CallRecord`] (Log Management
/// > Call, schema 3).
pub const CALL_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("call_log");

/// VTS No. -> [`StationRecord`] (VTS Management, schema 4).
pub const SIP_VTS: TableDefinition<&str, &[u8]> = TableDefinition::new("sip_vts");
/// Rec No. -> [`StationRecord`] (VTO No. Management, schema 5): the other
/// door stations (this one is not stored: it is the Basic page's VTO No.).
pub const SIP_VTO: TableDefinition<&str, &[u8]> = TableDefinition::new("sip_vto");

/// Sequence number -> [`app::model::publish::PublishRecord`] (Publish
/// Information > History Info, schema 6).
pub const PUBLISH_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("publish_log");

/// Sequence number -> [`app::model::access::UnlockRecord`] (Log Management
/// > Unlock, schema 7).
pub const UNLOCK_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("unlock_log");
/// Sequence number -> [`app::model::access::AlarmRecord`]: the door
/// sensor's alarms (schema 7).
pub const ALARM_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("alarm_log");

/// Card number -> [`app::model::card::Card`]: access cards, each of one
/// room (schema 7).
pub const CARDS: TableDefinition<&str, &[u8]> = TableDefinition::new("cards");
/// Room No. -> [`AccessCodeRecord`]: the keypad's access passwords
/// (schema 7).
pub const ACCESS_CODES: TableDefinition<&str, &[u8]> = TableDefinition::new("access_codes");

/// Network Setting > ONVIF as stored (under `onvif` in [`SETTINGS`]; never
/// exported). The password is kept in clear because WS-Security's
/// PasswordDigest needs it; `ha1` (`md5(user:realm:password)`) lets the
/// same user and password through HTTP Digest (RTSP, the snapshot CGI).
/// Both are password equivalents for ONVIF only (docs/security.md).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OnvifRecord {
    pub enabled: bool,
    pub discovery: bool,
    pub user: String,
    pub password: Option<Secret>,
    pub ha1: Option<Secret>,
}

impl OnvifRecord {
    /// The HA1 of the ONVIF password when ONVIF is on and `user` is its user.
    pub fn digest_for(&self, user: &str) -> Option<&str> {
        (self.enabled && self.user == user)
            .then_some(self.ha1.as_ref())
            .flatten()
            .map(Secret::as_str)
    }
}

/// A table's rows as raw key and value bytes (the full backup).
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;
/// Every table's rows, by name.
pub type Dump = Vec<(String, Rows)>;

/// A table as creation, wipe and the full backup see it, whatever its key
/// and value types.
pub trait AnyTable: Sync {
    fn name(&self) -> &str;
    fn create(&self, txn: &redb::WriteTransaction) -> Result<(), redb::TableError>;
    fn delete(&self, txn: &redb::WriteTransaction) -> Result<bool, redb::TableError>;
    /// Every row as raw key and value bytes, in key order.
    fn dump(&self, txn: &redb::ReadTransaction) -> Result<Rows, StoreError>;
    /// Inserts raw rows (as [`AnyTable::dump`] gave them); bytes of the wrong
    /// shape for the table's types are an error, never a panic.
    fn load(
        &self,
        txn: &redb::WriteTransaction,
        rows: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError>;
}

/// Key and value types whose raw bytes can be checked before redb's
/// `from_bytes` (which panics on bytes of the wrong shape).
pub trait Raw: redb::Value {
    fn fits(bytes: &[u8]) -> bool;
}

impl Raw for &str {
    fn fits(bytes: &[u8]) -> bool {
        std::str::from_utf8(bytes).is_ok()
    }
}

impl Raw for &[u8] {
    fn fits(_: &[u8]) -> bool {
        true
    }
}

impl Raw for u64 {
    fn fits(bytes: &[u8]) -> bool {
        bytes.len() == 8
    }
}

impl Raw for [u8; 32] {
    fn fits(bytes: &[u8]) -> bool {
        bytes.len() == 32
    }
}

impl<K: redb::Key + Raw + Sync + 'static, V: redb::Value + Raw + Sync + 'static> AnyTable
    for TableDefinition<'static, K, V>
{
    fn name(&self) -> &str {
        redb::TableHandle::name(self)
    }

    fn create(&self, txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
        txn.open_table(*self).map(drop)
    }

    fn delete(&self, txn: &redb::WriteTransaction) -> Result<bool, redb::TableError> {
        txn.delete_table(*self)
    }

    fn dump(&self, txn: &redb::ReadTransaction) -> Result<Rows, StoreError> {
        use redb::ReadableTable as _;
        let table = txn.open_table(*self)?;
        let mut rows = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            rows.push((
                K::as_bytes(&k.value()).as_ref().to_vec(),
                V::as_bytes(&v.value()).as_ref().to_vec(),
            ));
        }
        Ok(rows)
    }

    fn load(
        &self,
        txn: &redb::WriteTransaction,
        rows: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut table = txn.open_table(*self)?;
        for (k, v) in rows {
            if !K::fits(k) || !V::fits(v) {
                return Err(StoreError::Decode(format!(
                    "a row of {} of the wrong shape",
                    self.name()
                )));
            }
            table.insert(K::from_bytes(k), V::from_bytes(v))?;
        }
        Ok(())
    }
}

/// Every table of the device's data (all but [`META`]): the one list that
/// creation and Restore Factory Defaults go through, so a new table can
/// be neither left out of a wipe nor of a new database.
pub const ALL_TABLES: &[&dyn AnyTable] = &[
    &ACCOUNTS,
    &SESSIONS,
    &SECURITY_LOG,
    &SETTINGS,
    &SIP_ROOMS,
    &SIP_BINDINGS,
    &CALL_LOG,
    &SIP_VTS,
    &SIP_VTO,
    &PUBLISH_LOG,
    &UNLOCK_LOG,
    &ALARM_LOG,
    &CARDS,
    &ACCESS_CODES,
];

/// The table of a kind of station.
pub fn station_table(
    kind: app::model::station::StationKind,
) -> TableDefinition<'static, &'static str, &'static [u8]> {
    match kind {
        app::model::station::StationKind::Vto => SIP_VTO,
        app::model::station::StationKind::Vts => SIP_VTS,
    }
}

pub const META_SCHEMA_VERSION: &str = "schema_version";
/// The device's serial number as a random `u64`, drawn when the database
/// is created; kept by Restore Factory Defaults (a device keeps its
/// serial), so clients that remember the device find it again.
pub const META_SERIAL: &str = "serial";
/// Network Setting > SIP Server as stored: the page's settings and the
/// password for another server, which never leaves the device (not to the
/// browser, not in an export, not in a log).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SipServerRecord {
    pub settings: app::model::sip_server::SipServerSettings,
    pub password: Option<Secret>,
}

/// The device's clock: how far it is from the host's.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClockRecord {
    pub offset_ms: i64,
}

/// Local Setting > Video & Audio as stored: the page's settings and the
/// RTSP camera's password, which never leaves the device (not to the
/// browser, not in an export, not in a log).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoRecord {
    pub settings: app::model::video::VideoSettings,
    pub camera_password: Option<Secret>,
}

/// IPC Setting as stored: each camera with its id and password (which never
/// leaves the device).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IpcRecord {
    /// The id the next added camera gets (ids are never reused, so a viewer
    /// of a deleted camera never sees another in its place).
    pub next_id: u32,
    pub ipcs: Vec<StoredIpc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredIpc {
    pub id: u32,
    pub ipc: app::model::ipc::Ipc,
    pub password: Option<Secret>,
}

/// A room and the digests of its Register Password, one per SIP user name
/// of its monitors (`9901`, `9901#0` ... `9901#9`): the password itself is
/// never stored (and this record has no `Debug`).
#[derive(Clone, Serialize, Deserialize)]
pub struct RoomRecord {
    pub room: app::model::room::Room,
    pub digests: Vec<SipDigest>,
}

/// A door station (VTO) or management centre (VTS) and the digests of its
/// Register Password.
#[derive(Clone, Serialize, Deserialize)]
pub struct StationRecord {
    /// `vts` in records written before VTO No. Management existed.
    #[serde(alias = "vts")]
    pub station: app::model::station::Station,
    pub digests: Vec<SipDigest>,
}

/// A room's access password for the keypad, as argon2id only (no `Debug`
/// needed: nothing in it is the password).
#[derive(Clone, Serialize, Deserialize)]
pub struct AccessCodeRecord {
    pub hash: String,
}

/// HA1 = H(user:realm:password) for MD5 and SHA-256.
#[derive(Clone, Serialize, Deserialize)]
pub struct SipDigest {
    pub user: String,
    pub realm: String,
    pub md5: String,
    pub sha256: String,
}

/// One registered contact (see `sip::bindings::Binding`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRecord {
    pub contact: String,
    pub expires_at: UnixMillis,
    pub source: String,
    pub transport: String,
    pub call_id: String,
    pub cseq: u32,
    pub user_agent: String,
    pub registered_at: UnixMillis,
}

/// The one account (user name `admin`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountRecord {
    /// argon2id PHC string (salt and parameters included).
    pub password_hash: String,
    /// Address for password reset, if the user gave one.
    pub email: Option<String>,
    pub created: UnixMillis,
    pub password_changed: UnixMillis,
    /// Password reset by emailed code: codes (hashed), failures, locks.
    #[serde(default)]
    pub reset: ResetState,
    /// Two-factor login, when enabled.
    #[serde(default)]
    pub totp: Option<TotpRecord>,
    /// What the account may do (accounts stored before roles are `admin`:
    /// Admin).
    #[serde(default)]
    pub role: app::model::users::Role,
    /// `md5(user:realm:password)` in lower-case hex, for HTTP Digest and
    /// DHIP logins (the realm holds the device's serial). An MD5 password
    /// equivalent, as SIP digests are; written whenever the password is
    /// set or typed at a UI login, absent before that.
    #[serde(default)]
    pub digest_ha1: Option<String>,
}

/// A login session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user: String,
    pub created: UnixMillis,
    pub last_seen: UnixMillis,
    /// Where the login came from.
    pub ip: String,
}

/// Network Setting > Webhooks as stored: each webhook with its secret,
/// which never leaves the device (it only signs what is sent to that
/// webhook's URL).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookRecord {
    pub hooks: Vec<StoredHook>,
    /// The id the next new webhook gets (ids are never reused, so a
    /// delivery names the webhook it was for).
    pub next_id: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredHook {
    /// As the page shows it (`has_secret` false: `secret` says).
    pub hook: app::model::webhook::Webhook,
    #[serde(default)]
    pub secret: Option<Secret>,
}

/// Network Setting > Email as stored: the page's settings and the SMTP
/// password, which never leaves the device (not to the browser, not in an
/// export, not in a log).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MailRecord {
    pub settings: MailSettings,
    pub password: Option<Secret>,
}
