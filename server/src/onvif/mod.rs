//! ONVIF out (issue 21): the device and media services on the web port
//! (`http.rs`), WS-Discovery on UDP (`discovery.rs`), and Network Setting
//! > ONVIF (this service). The wire formats are the pure `onvif` crate's.
//!
//! ONVIF has a password of its own: WS-Security's PasswordDigest needs it
//! in clear on the device, and login passwords are kept only as argon2id.
//! It belongs to one account (whose role limits what ONVIF and RTSP give);
//! its HA1 is stored beside it so the same user and password pass HTTP
//! Digest for RTSP and the snapshot CGI, as Home Assistant uses them.

pub mod discovery;
pub mod http;

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, RwLock},
};

use app::{
    error::ApiError,
    model::{
        mail::PasswordUpdate,
        onvif::{OnvifPage, OnvifSettings},
        users::Role,
    },
    services::{self as api, Caller},
};
use onvif::{answer, soap::UsernameToken, wsse};

use crate::{
    account::Auth,
    store::{
        secret::Secret,
        settings::{SettingsStore, BASIC, ONVIF, VIDEO},
        tables::{AccountRecord, OnvifRecord, ACCOUNTS},
        Read,
    },
    system::time::TimeService,
};

/// The page's name in the security log.
const PAGE: &str = "ONVIF";

/// Where the other listeners ended up (known once they are bound).
#[derive(Clone, Copy, Debug, Default)]
pub struct Listeners {
    pub rtsp: Option<SocketAddr>,
    pub discovery: Option<SocketAddr>,
}

pub struct OnvifService {
    settings: Arc<SettingsStore>,
    auth: Arc<Auth>,
    time: Arc<TimeService>,
    serial: String,
    listeners: RwLock<Listeners>,
    replay: Mutex<wsse::Replay>,
}

/// Why a request was not let through.
#[derive(Debug)]
pub enum Denied {
    /// Wrong, missing or replayed credentials, or a locked account.
    NotAuthorized(String),
    Failed(ApiError),
}

impl OnvifService {
    pub fn new(
        settings: Arc<SettingsStore>,
        auth: Arc<Auth>,
        time: Arc<TimeService>,
        serial: String,
    ) -> Self {
        Self {
            settings,
            auth,
            time,
            serial,
            listeners: RwLock::default(),
            replay: Mutex::default(),
        }
    }

    pub fn set_listeners(&self, l: Listeners) {
        *self.listeners.write().unwrap_or_else(|p| p.into_inner()) = l;
    }

    pub fn listeners(&self) -> Listeners {
        *self.listeners.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub async fn record(&self) -> Result<OnvifRecord, ApiError> {
        self.settings.get(ONVIF).await
    }

    /// Now by the device's clock, in Unix seconds: what
    /// GetSystemDateAndTime says and tokens are checked against.
    pub fn now_secs(&self) -> i64 {
        self.time.now().0.div_euclid(1000)
    }

    /// A WS-Security token checked against the ONVIF password, counted
    /// toward the lockout of (user, address) like a UI login.
    pub async fn token_login(
        &self,
        record: &OnvifRecord,
        token: &UsernameToken,
        ip: IpAddr,
    ) -> Result<Role, Denied> {
        let now = self.now_secs();
        let password = record.password.as_ref().map(Secret::as_str);
        let mut refused = None;
        let proves = || {
            let Some(password) = password else {
                refused = Some(wsse::Refused::WrongPassword);
                return false;
            };
            let mut replay = self.replay.lock().unwrap_or_else(|p| p.into_inner());
            match wsse::check(token, &record.user, password, now, &mut replay) {
                Ok(()) => true,
                Err(r) => {
                    refused = Some(r);
                    false
                }
            }
        };
        match self.auth.login_proved_by(&token.username, ip, proves).await {
            Ok(role) => Ok(role),
            Err(e) => {
                if let Some(r) = refused.filter(|r| !r.is_guess()) {
                    tracing::warn!(%ip, refused = ?r, "ONVIF token refused");
                }
                Err(denied(e))
            }
        }
    }

    /// The device as the answers describe it, reached at `local` (over
    /// HTTPS when `secure`).
    pub async fn device(
        &self,
        local: SocketAddr,
        secure: bool,
    ) -> Result<answer::Device, ApiError> {
        let (video, basic) = self
            .settings
            .read(|r| Ok((r.settings(VIDEO)?, r.settings(BASIC)?)))
            .await?;
        let v = video.settings;
        let (mw, mh) = v.main.format.size(v.standard);
        let (sw, sh) = v.sub.format.size(v.standard);
        let scheme = if secure { "https" } else { "http" };
        let rtsp = self
            .listeners()
            .rtsp
            .map(|r| format!("rtsp://{}", SocketAddr::new(local.ip(), r.port())));
        Ok(answer::Device {
            manufacturer: "vto".into(),
            model: crate::dahua::DEVICE_TYPE.into(),
            firmware: env!("CARGO_PKG_VERSION").into(),
            serial: self.serial.clone(),
            hardware_id: std::env::consts::ARCH.into(),
            name: if basic.vto_no.is_empty() {
                "vto".into()
            } else {
                format!("VTO {}", basic.vto_no)
            },
            hostname: "vto".into(),
            http: format!("{scheme}://{local}"),
            rtsp,
            address: local.ip().to_canonical().to_string(),
            streams: vec![
                answer::Stream {
                    token: "main".into(),
                    name: "Main Stream".into(),
                    subtype: 0,
                    width: u32::from(mw),
                    height: u32::from(mh),
                    fps: u32::from(v.main.fps),
                    bitrate_kbps: v.main.bitrate_kbps,
                },
                answer::Stream {
                    token: "sub".into(),
                    name: "Sub Stream".into(),
                    subtype: 1,
                    width: u32::from(sw),
                    height: u32::from(sh),
                    fps: u32::from(v.sub.fps),
                    bitrate_kbps: v.sub.bitrate_kbps,
                },
            ],
            now: self.now_secs(),
            ntp: self.time.settings().ntp.enabled,
        })
    }

    fn page(&self, r: &OnvifRecord, accounts: Vec<String>) -> OnvifPage {
        let l = self.listeners();
        OnvifPage {
            settings: OnvifSettings {
                enabled: r.enabled,
                discovery: r.discovery,
                user: r.user.clone(),
                has_password: r.password.is_some(),
            },
            accounts,
            device_service: answer::DEVICE_PATH.into(),
            rtsp: l.rtsp.map(|a| a.to_string()),
            discovery_on: l.discovery.map(|a| a.to_string()),
        }
    }
}

/// A login's error as the services say it.
fn denied(e: ApiError) -> Denied {
    match e {
        ApiError::BadCredentials { .. } | ApiError::NotInitialized => {
            Denied::NotAuthorized("Sender not Authorized".into())
        }
        ApiError::Locked { retry_after_secs } => Denied::NotAuthorized(format!(
            "Sender not Authorized: locked, try again in {retry_after_secs} s"
        )),
        ApiError::Busy => Denied::NotAuthorized("Sender not Authorized: busy, try again".into()),
        e => Denied::Failed(e),
    }
}

/// Applies a save to the stored record; the names of what changed.
fn saved(
    r: &mut OnvifRecord,
    s: OnvifSettings,
    password: PasswordUpdate,
    ha1: impl Fn(&str, &str) -> String,
) -> Result<Vec<&'static str>, ApiError> {
    let mut check = s.clone();
    check.has_password = r.password.is_some();
    if let Some((field, message)) = check.validate(&password).into_iter().next() {
        return Err(ApiError::invalid(field, message));
    }
    let mut changed = Vec::new();
    if r.enabled != s.enabled {
        r.enabled = s.enabled;
        changed.push("ONVIF");
    }
    if r.discovery != s.discovery {
        r.discovery = s.discovery;
        changed.push("WS-Discovery");
    }
    let user_changed = r.user != s.user;
    if user_changed {
        r.user = s.user;
        changed.push("User Name");
    }
    match password {
        PasswordUpdate::Set(p) => {
            if r.password.as_ref().map(Secret::as_str) != Some(p.as_str()) {
                changed.push("Password");
            }
            r.password = Some(Secret::new(p));
        }
        PasswordUpdate::Clear => {
            if r.password.take().is_some() {
                changed.push("Password");
            }
        }
        PasswordUpdate::Keep => {}
    }
    // The HA1 follows the user and the password.
    r.ha1 = r
        .password
        .as_ref()
        .map(|p| Secret::new(ha1(&r.user, p.as_str())));
    Ok(changed)
}

#[async_trait::async_trait]
impl api::Onvif for OnvifService {
    async fn onvif(&self, caller: &Caller) -> Result<OnvifPage, ApiError> {
        caller.session()?;
        let (record, accounts) = self
            .settings
            .read(|r| {
                let accounts = r
                    .all::<AccountRecord>(ACCOUNTS)?
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect();
                Ok((r.settings(ONVIF)?, accounts))
            })
            .await?;
        Ok(self.page(&record, accounts))
    }

    async fn save_onvif(
        &self,
        caller: &Caller,
        settings: OnvifSettings,
        password: PasswordUpdate,
    ) -> Result<OnvifPage, ApiError> {
        let session = caller.session()?;
        let auth = self.auth.clone();
        let user = settings.user.clone();
        let exists = self
            .settings
            .read(move |r| Ok(user.is_empty() || r.account(&user)?.is_some()))
            .await?;
        if !exists {
            return Err(ApiError::invalid("onvif-user", "No such account"));
        }
        let record = self
            .settings
            .update(&session.user, caller.ip, PAGE, ONVIF, move |r| {
                saved(r, settings, password, |u, p| auth.ha1(u, p))
            })
            .await?;
        tracing::info!(ip = %caller.ip, enabled = record.enabled, "ONVIF saved");
        self.onvif(caller).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha1(u: &str, p: &str) -> String {
        format!("{u}:{p}")
    }

    fn on(user: &str) -> OnvifSettings {
        OnvifSettings {
            enabled: true,
            discovery: true,
            user: user.into(),
            has_password: false,
        }
    }

    #[test]
    fn a_save_sets_the_password_and_its_ha1_and_says_what_changed() {
        let mut r = OnvifRecord::default();
        // Enabling without a password: refused, nothing changed.
        let e = saved(&mut r, on("admin"), PasswordUpdate::Keep, ha1);
        assert!(matches!(e, Err(ApiError::Invalid { ref field, .. }) if field == "onvif-password"));
        assert!(!r.enabled && r.password.is_none());
        let changed = saved(
            &mut r,
            on("admin"),
            PasswordUpdate::Set("Onvif-Pass-1".into()),
            ha1,
        )
        .unwrap_or_default();
        assert_eq!(changed, ["ONVIF", "WS-Discovery", "User Name", "Password"]);
        assert_eq!(
            r.ha1.as_ref().map(Secret::as_str),
            Some("admin:Onvif-Pass-1")
        );
        assert_eq!(r.digest_for("admin"), Some("admin:Onvif-Pass-1"));
        assert_eq!(r.digest_for("other"), None);
        // Another user keeps the password; the HA1 follows.
        let changed = saved(&mut r, on("viewer"), PasswordUpdate::Keep, ha1).unwrap_or_default();
        assert_eq!(changed, ["User Name"]);
        assert_eq!(
            r.ha1.as_ref().map(Secret::as_str),
            Some("viewer:Onvif-Pass-1")
        );
        // Off: no digest for anyone, the password stays.
        let mut off = on("viewer");
        off.enabled = false;
        assert_eq!(
            saved(&mut r, off, PasswordUpdate::Keep, ha1).unwrap_or_default(),
            ["ONVIF"]
        );
        assert_eq!(r.digest_for("viewer"), None);
        assert!(r.password.is_some());
        // The password never reaches Debug output.
        assert!(!format!("{r:?}").contains("Onvif-Pass-1"));
    }
}
