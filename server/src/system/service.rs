//! System and time as every front door sees it: the main page's
//! overview, Local Setting > Basic, System (the device's clock, NTP, auto
//! maintenance) and Security, the config manager's Device Info, reboot and
//! Restore Factory Defaults.

use std::{
    sync::{OnceLock, Weak},
    time::Duration,
};

use app::{
    error::ApiError,
    model::{
        config::{self, DeviceInfo, MailExport},
        security::SecuritySettings,
        security_log::SecurityEventKind,
        settings::BasicSettings,
        system::{AccountInfo, Overview, SystemInfo, SECURITY_BASELINE},
        system_time::{
            parse_local, plausible, ClockUpdate, SystemTimePage, TimeSettings, IMPLAUSIBLE,
        },
        time::UnixMillis,
    },
    services::{Caller, SetCookie, System},
};

use base64::Engine as _;

use super::{backup, lifecycle::Lifecycle, time::TimeService};
use crate::{
    account::{session, Auth},
    error::Error,
    services::Services,
    store::{
        settings::{SettingsStore, BASIC, CLOCK, IP_PERMISSIONS, MAIL, SECURITY, TIME},
        tables::{ClockRecord, MailRecord},
        Read, StoreError,
    },
};

pub struct SystemService {
    pub settings: std::sync::Arc<SettingsStore>,
    pub auth: std::sync::Arc<Auth>,
    pub time: std::sync::Arc<TimeService>,
    pub lifecycle: Lifecycle,
    /// The other areas, for the one apply path (set once they exist).
    pub services: OnceLock<Weak<Services>>,
    /// Held while a full backup or restore runs.
    pub backup_busy: tokio::sync::Mutex<()>,
}

/// What this binary is.
pub fn system_info() -> SystemInfo {
    SystemInfo {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        security_baseline: SECURITY_BASELINE.to_string(),
        build_commit: option_env!("VTO_BUILD_COMMIT")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    }
}

impl SystemService {
    /// One backup or restore at a time (each derives a 64 MiB key).
    fn one_backup(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, ApiError> {
        self.backup_busy.try_lock().map_err(|_| ApiError::Busy)
    }

    fn services(&self) -> Result<std::sync::Arc<Services>, Error> {
        self.services
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| Error::internal("the device is stopping"))
    }
}

#[async_trait::async_trait]
impl System for SystemService {
    async fn overview(&self, caller: &Caller) -> Result<Overview, ApiError> {
        let user = caller.session()?.user.clone();
        let (vto, email) = self
            .settings
            .read(move |r| {
                let vto = r.settings(BASIC)?;
                let email = r.account(&user)?.and_then(|a| a.email);
                Ok((vto, email))
            })
            .await?;
        let user = &caller.session()?.user;
        Ok(Overview {
            vto,
            system: system_info(),
            account: AccountInfo {
                user: user.clone(),
                email,
                two_factor: self.auth.two_factor_status(user).await?,
            },
            rtsp: self.services()?.network.rtsp(),
        })
    }

    async fn reboot(&self, caller: &Caller) -> Result<(), ApiError> {
        let session = caller.session()?;
        self.settings
            .log(SecurityEventKind::Rebooted, &session.user, caller.ip)
            .await?;
        tracing::warn!(ip = %caller.ip, "reboot requested");
        // Answer first, then restart.
        self.lifecycle.reboot_after(Duration::from_millis(200));
        Ok(())
    }

    async fn factory_reset(
        &self,
        caller: &Caller,
        password: String,
    ) -> Result<SetCookie, ApiError> {
        self.auth
            .factory_reset(caller.session()?, caller.ip, password)
            .await?;
        // The stored settings are gone with everything else: so is their
        // effect (accounts, registrations, the upstream client, the lock,
        // the cameras, the listeners, back to the command line's).
        self.services()?.apply().await?;
        Ok(SetCookie(session::clear_cookie(caller.secure)))
    }

    async fn basic_settings(&self, caller: &Caller) -> Result<BasicSettings, ApiError> {
        caller.session()?;
        self.settings.get(BASIC).await
    }

    async fn save_basic_settings(
        &self,
        caller: &Caller,
        settings: BasicSettings,
    ) -> Result<BasicSettings, ApiError> {
        let session = caller.session()?;
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let saved = settings.clone();
        self.settings
            .save(&session.user, caller.ip, "Basic", move |w| {
                let old = w.settings(BASIC)?;
                w.put_settings(BASIC, &settings)?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        // The SIP server routes the Centre Call No. by these; with Server
        // Type VTO the VTO No. is the user name registered.
        let household = &self.services()?.household;
        household
            .sip
            .set_numbers(&saved.vto_no, &saved.centre_call_no, saved.call_centre_time);
        household.apply_sip_server().await?;
        Ok(saved)
    }

    async fn system_time(&self, caller: &Caller) -> Result<SystemTimePage, ApiError> {
        caller.session()?;
        Ok(self.time.page())
    }

    async fn save_system_time(
        &self,
        caller: &Caller,
        mut settings: TimeSettings,
        clock: ClockUpdate,
    ) -> Result<SystemTimePage, ApiError> {
        let session = caller.session()?;
        settings.ntp.server = settings.ntp.server.trim().to_string();
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let target = match &clock {
            ClockUpdate::Keep => None,
            ClockUpdate::Local(typed) => {
                let local = parse_local(typed)
                    .ok_or_else(|| ApiError::invalid("system-time", "Enter a date and a time"))?;
                let utc = settings.display.to_utc(local);
                if !plausible(utc) {
                    return Err(ApiError::invalid("system-time", IMPLAUSIBLE));
                }
                Some(utc)
            }
        };
        let offset = target.map(|t| self.time.clock().offset_for(t));
        let old = self.time.settings();
        let saved = settings.clone();
        self.settings
            .save(&session.user, caller.ip, "System", move |w| {
                let old = w.settings(TIME)?;
                w.put_settings(TIME, &settings)?;
                let mut changed = settings.changed_fields(&old);
                if let Some(offset_ms) = offset {
                    w.put_settings(CLOCK, &ClockRecord { offset_ms })?;
                    changed.push("System Time");
                }
                Ok(changed)
            })
            .await?;
        if let Some(offset_ms) = offset {
            self.time.clock().set_offset_ms(offset_ms);
        }
        // A new NTP setting is tried at once, so the page shows its result.
        if saved.ntp.enabled && saved.ntp != old.ntp {
            self.time.apply_and_await_sync(saved).await;
        } else {
            self.time.apply(saved);
        }
        Ok(self.time.page())
    }

    async fn sync_pc(&self, caller: &Caller, now: UnixMillis) -> Result<SystemTimePage, ApiError> {
        let session = caller.session()?;
        if !plausible(now) {
            return Err(ApiError::invalid(
                "sync-pc",
                format!("This PC's clock is not plausible: {IMPLAUSIBLE}"),
            ));
        }
        let offset_ms = self.time.clock().offset_for(now);
        self.settings
            .save(&session.user, caller.ip, "System", move |w| {
                w.put_settings(CLOCK, &ClockRecord { offset_ms })?;
                Ok(vec!["System Time (Sync PC)"])
            })
            .await?;
        self.time.clock().set_offset_ms(offset_ms);
        Ok(self.time.page())
    }

    async fn security_settings(&self, caller: &Caller) -> Result<SecuritySettings, ApiError> {
        caller.session()?;
        self.settings.get(SECURITY).await
    }

    async fn save_security_settings(
        &self,
        caller: &Caller,
        settings: SecuritySettings,
    ) -> Result<SecuritySettings, ApiError> {
        let session = caller.session()?;
        let saved = settings.clone();
        self.settings
            .write_logged(
                SecurityEventKind::SecuritySettingsChanged,
                &session.user,
                caller.ip,
                move |w| Ok(w.put_settings(SECURITY, &settings)?),
            )
            .await?;
        Ok(saved)
    }

    async fn export_device_info(&self, caller: &Caller) -> Result<DeviceInfo, ApiError> {
        caller.session()?;
        self.settings
            .read(|r| {
                let mail = r.settings(MAIL)?;
                Ok(DeviceInfo {
                    format: config::FORMAT.into(),
                    version: config::VERSION,
                    basic: r.settings(BASIC)?,
                    security: r.settings(SECURITY)?,
                    mail: MailExport::from(&mail.settings),
                    ip_permissions: r.settings(IP_PERMISSIONS)?,
                    system: Some(r.settings(TIME)?),
                })
            })
            .await
    }

    async fn import_device_info(&self, caller: &Caller, file: String) -> Result<(), ApiError> {
        let session = caller.session()?;
        let info = config::parse(&file).map_err(|e| ApiError::invalid("import", e.to_string()))?;
        if !info.ip_permissions.compile().allows(caller.ip) {
            return Err(ApiError::invalid(
                "import",
                format!(
                    "ip_permissions: the file's lists would shut out your own address {}",
                    caller.ip
                ),
            ));
        }
        let changed = self
            .settings
            .save(&session.user, caller.ip, "Device Info import", move |w| {
                let old_basic = w.settings(BASIC)?;
                let old_security = w.settings(SECURITY)?;
                let old_mail = w.settings(MAIL)?;
                let old_permissions = w.settings(IP_PERMISSIONS)?;
                let mut changed = info.basic.changed_fields(&old_basic);
                if old_permissions != info.ip_permissions {
                    changed.push("IP Permissions");
                }
                if info.security != old_security {
                    changed.push("Reset Password");
                }
                if MailExport::from(&old_mail.settings) != info.mail {
                    changed.push("Email");
                }
                if let Some(system) = &info.system {
                    let old = w.settings(TIME)?;
                    if *system != old {
                        changed.push("System");
                    }
                    w.put_settings(TIME, system)?;
                }
                w.put_settings(BASIC, &info.basic)?;
                w.put_settings(SECURITY, &info.security)?;
                // The file has no SMTP password: the stored one stays.
                let mail = MailRecord {
                    settings: info.mail.settings(),
                    password: old_mail.password,
                };
                w.put_settings(MAIL, &mail)?;
                w.put_settings(IP_PERMISSIONS, &info.ip_permissions)?;
                Ok(changed)
            })
            .await?;
        self.services()?.apply().await?;
        tracing::info!(ip = %caller.ip, changed = changed.len(), "device info imported");
        Ok(())
    }

    async fn backup(
        &self,
        caller: &Caller,
        password: String,
        passphrase: String,
    ) -> Result<String, ApiError> {
        let session = caller.session()?;
        if let Some(e) = config::backup_passphrase_error(&passphrase) {
            return Err(ApiError::invalid("backup-passphrase", e));
        }
        let _one = self.one_backup()?;
        self.auth
            .check_password(&session.user, caller.ip, password, "backup-password")
            .await?;
        let store = self.settings.store().clone();
        let file = tokio::task::spawn_blocking(move || backup::make(&store, &passphrase))
            .await
            .map_err(Error::Task)?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.settings
            .log(SecurityEventKind::BackupMade, &session.user, caller.ip)
            .await?;
        tracing::warn!(ip = %caller.ip, bytes = file.len(), "full backup made");
        Ok(base64::engine::general_purpose::STANDARD.encode(file))
    }

    async fn restore(
        &self,
        caller: &Caller,
        password: String,
        passphrase: String,
        file: String,
    ) -> Result<(), ApiError> {
        let session = caller.session()?;
        if file.len() > backup::MAX_BASE64 {
            return Err(ApiError::invalid(
                "restore-file",
                "The file is too large for a backup",
            ));
        }
        let file = base64::engine::general_purpose::STANDARD
            .decode(file.trim())
            .map_err(|_| ApiError::invalid("restore-file", "Not a vto backup file"))?;
        let _one = self.one_backup()?;
        self.auth
            .check_password(&session.user, caller.ip, password, "restore-password")
            .await?;
        let store = self.settings.store().clone();
        tokio::task::spawn_blocking(move || backup::restore(&store, &file, &passphrase))
            .await
            .map_err(Error::Task)?
            .map_err(|e| match e {
                backup::Error::File(backup::format::Error::WrongPassphraseOrDamaged) => {
                    ApiError::invalid("restore-passphrase", e.to_string())
                }
                backup::Error::File(_) | backup::Error::Store(StoreError::Decode(_)) => {
                    ApiError::invalid("restore-file", e.to_string())
                }
                e => ApiError::Internal(e.to_string()),
            })?;
        // Into the restored log, then a restart into the restored state.
        self.settings
            .log(SecurityEventKind::BackupRestored, &session.user, caller.ip)
            .await?;
        tracing::warn!(ip = %caller.ip, "full backup restored: restarting");
        self.lifecycle.reboot_after(Duration::from_millis(500));
        Ok(())
    }
}
