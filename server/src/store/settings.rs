//! The settings pages as stored (one record each in [`SETTINGS`], under a
//! typed key that fixes the record's type), and [`SettingsStore`]: the one
//! way the services read and change stored state, where every settings
//! change and its security log entry are one transaction.

use std::{marker::PhantomData, net::IpAddr, sync::Arc};

use app::{
    error::ApiError,
    model::{
        access::{AccessSettings, UnlockLogSettings},
        ip_permissions::IpPermissions,
        network::NetworkSettings,
        security::SecuritySettings,
        security_log::{SecurityEvent, SecurityEventKind},
        settings::BasicSettings,
        system_time::TimeSettings,
        time::UnixMillis,
    },
};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    tables::{
        ClockRecord, IpcRecord, MailRecord, OnvifRecord, SipServerRecord, VideoRecord,
        WebhookRecord, SETTINGS,
    },
    Read, Reader, Store, StoreError, Writer,
};
use crate::{clock::Clock, error::Error, network::tls::TlsRecord};

/// A settings page's key in [`SETTINGS`]; `T` is its record.
pub struct Key<T> {
    pub name: &'static str,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Key<T> {}

impl<T> Key<T> {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            record: PhantomData,
        }
    }
}

pub const BASIC: Key<BasicSettings> = Key::new("basic");
pub const MAIL: Key<MailRecord> = Key::new("mail");
/// Network Setting > Webhooks (secrets included: never exported).
pub const WEBHOOKS: Key<WebhookRecord> = Key::new("webhooks");
/// Network Setting > ONVIF (its password included: never exported).
pub const ONVIF: Key<OnvifRecord> = Key::new("onvif");
pub const IP_PERMISSIONS: Key<IpPermissions> = Key::new("ip_permissions");
pub const SECURITY: Key<SecuritySettings> = Key::new("security");
pub const TIME: Key<TimeSettings> = Key::new("time");
/// Absent until Network Setting > Basic is saved (`--http` applies until
/// then).
pub const NETWORK: Key<NetworkSettings> = Key::new("network");
/// The HTTPS certificate and its key (never exported).
pub const TLS: Key<TlsRecord> = Key::new("tls");
pub const VIDEO: Key<VideoRecord> = Key::new("video");
pub const IPCS: Key<IpcRecord> = Key::new("ipcs");
pub const SIP_SERVER: Key<SipServerRecord> = Key::new("sip_server");
/// Access Control > Local.
pub const ACCESS: Key<AccessSettings> = Key::new("access");
/// The Unlock page's Records Kept.
pub const UNLOCK_LOG: Key<UnlockLogSettings> = Key::new("unlock_log");
/// The device's clock; kept by a factory reset, like a real device's RTC.
pub const CLOCK: Key<ClockRecord> = Key::new("clock");

/// User names as typed are kept at most this long in the log.
const MAX_USER_LEN: usize = 64;

/// A security log entry.
pub fn audit(kind: SecurityEventKind, user: &str, ip: IpAddr, time: UnixMillis) -> SecurityEvent {
    SecurityEvent {
        time,
        kind,
        user: user.chars().take(MAX_USER_LEN).collect(),
        ip: ip.to_string(),
        detail: None,
        coalesced: 0,
    }
}

impl Writer {
    pub fn put_settings<T: Serialize>(&self, key: Key<T>, record: &T) -> Result<(), StoreError> {
        self.put(SETTINGS, key.name, record)
    }
}

/// The store as the services use it: transactions on the blocking pool,
/// settings changes audited in the same transaction. Entries are timed by
/// the device's clock, as people read them.
pub struct SettingsStore {
    store: Arc<Store>,
    wall: Arc<dyn Clock>,
}

impl SettingsStore {
    pub fn new(store: Arc<Store>, wall: Arc<dyn Clock>) -> Self {
        Self { store, wall }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Now, by the device's clock.
    pub fn now(&self) -> UnixMillis {
        self.wall.now()
    }

    pub fn event(&self, kind: SecurityEventKind, user: &str, ip: IpAddr) -> SecurityEvent {
        audit(kind, user, ip, self.wall.now())
    }

    /// A read transaction, on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.read(f))
            .await
            .map_err(Error::Task)?
    }

    /// A write transaction, on the blocking pool: all of `f` or nothing.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Writer) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.write(f))
            .await
            .map_err(Error::Task)?
    }

    /// One page's record (its defaults when never saved).
    pub async fn get<T: DeserializeOwned + Default + Send + 'static>(
        &self,
        key: Key<T>,
    ) -> Result<T, ApiError> {
        self.read(move |r| Ok(r.settings(key)?)).await
    }

    /// Appends one event to the security log.
    pub async fn log(
        &self,
        kind: SecurityEventKind,
        user: &str,
        ip: IpAddr,
    ) -> Result<(), ApiError> {
        let event = self.event(kind, user, ip);
        self.write(move |w| Ok(w.log(&event)?)).await
    }

    /// Runs `f` and logs `kind` in one transaction.
    pub async fn write_logged<T: Send + 'static>(
        &self,
        kind: SecurityEventKind,
        user: &str,
        ip: IpAddr,
        f: impl FnOnce(&Writer) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let event = self.event(kind, user, ip);
        self.write(move |w| {
            let out = f(w)?;
            w.log(&event)?;
            Ok(out)
        })
        .await
    }

    /// Changes a settings record in place: `f` edits it and returns the
    /// names of what it changed; when there are any, the record is written
    /// and `page: names` audited in the same transaction. An error from
    /// `f` writes nothing. Answers the record as it now is.
    pub async fn update<T>(
        &self,
        user: &str,
        ip: IpAddr,
        page: &'static str,
        key: Key<T>,
        f: impl FnOnce(&mut T) -> Result<Vec<&'static str>, ApiError> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        let mut event = self.event(SecurityEventKind::SettingsChanged, user, ip);
        self.write(move |w| {
            let mut record = w.settings(key)?;
            let changed = f(&mut record)?;
            if !changed.is_empty() {
                w.put_settings(key, &record)?;
                event.detail = Some(format!("{page}: {}", changed.join(", ")));
                w.log(&event)?;
            }
            Ok(record)
        })
        .await
    }

    /// Saves a settings page: `f` writes and returns the names of the
    /// fields it changed; when there are any, the audit entry
    /// `page: fields` goes into the security log in the same transaction.
    pub async fn save(
        &self,
        user: &str,
        ip: IpAddr,
        page: &'static str,
        f: impl FnOnce(&Writer) -> Result<Vec<&'static str>, ApiError> + Send + 'static,
    ) -> Result<Vec<&'static str>, ApiError> {
        let mut event = self.event(SecurityEventKind::SettingsChanged, user, ip);
        self.write(move |w| {
            let changed = f(w)?;
            if !changed.is_empty() {
                event.detail = Some(format!("{page}: {}", changed.join(", ")));
                w.log(&event)?;
            }
            Ok(changed)
        })
        .await
    }
}
