//! The device as the UI sees it: implements `app::backend::Device` on top of
//! [`Auth`], the store and the process lifecycle.

use std::{sync::Arc, time::Duration};

use app::{
    backend::{Caller, Device, SetCookie},
    error::ApiError,
    model::{
        access::{
            AccessSettings, AlarmLogPage, DoorStatus, SimAction, UnlockFilter, UnlockLogPage,
            UnlockLogSettings, UnlockRecord, UnlockVia,
        },
        call_log::{self, CallLogPage},
        card::{CardChange, RoomCards},
        config::{self, DeviceInfo, MailExport},
        ip_permissions::IpPermissions,
        ipc::{Ipc, IpcExport, IpcPage},
        live::{LiveAnswer, SourceStatus},
        mail::{MailReceipt, MailSettings, PasswordUpdate},
        network::{CertificateUpload, NetworkPage, NetworkSettings},
        reset::{format_code, mask_email, ResetInfo, ResetIssued, ResetTicket},
        room::{Room, RoomBatch, RoomPage},
        security::SecuritySettings,
        security_log::{SecurityEventKind, SecurityLogPage, PAGE_SIZE},
        settings::BasicSettings,
        station::{Station, StationKind, StationPage},
        system::{AccountInfo, EmailChanged, Overview, SetupState, SystemInfo, SECURITY_BASELINE},
        system_time::{
            parse_local, plausible, ClockUpdate, SystemTimePage, TimeSettings, IMPLAUSIBLE,
        },
        time::UnixMillis,
        two_factor::{LoginResult, RecoveryCodes, TotpEnrolment},
        video::{self, VideoPage, VideoSettings},
    },
};

mod access;
mod card;
mod door_events;
mod ipc;
mod publish;
mod room;
mod sip_server;
mod station;
mod user_info;

use crate::{
    auth::{session, Auth, LoginOutcome},
    clock::service::TimeService,
    http::listen::host_name_part,
    lifecycle::Lifecycle,
    mail::{Mail, MailConfig, Postman},
    media,
    network::{self, NetworkService},
    qr,
    store::{
        tables::{
            ClockRecord, MailRecord, VideoRecord, SETTINGS, SETTINGS_BASIC, SETTINGS_CLOCK,
            SETTINGS_IP_PERMISSIONS, SETTINGS_MAIL, SETTINGS_NETWORK, SETTINGS_SECURITY,
            SETTINGS_TIME, SETTINGS_TLS, SETTINGS_VIDEO,
        },
        Read,
    },
    tls::{self, TlsRecord},
};

pub struct DeviceImpl {
    pub sip: Arc<crate::sip::SipService>,
    pub auth: Arc<Auth>,
    pub lifecycle: Lifecycle,
    pub postman: Arc<Postman>,
    pub ip_filter: Arc<crate::ip_filter::IpFilter>,
    pub time: Arc<TimeService>,
    pub network: Arc<NetworkService>,
    pub media: Arc<crate::media::Media>,
    pub lock: Arc<crate::lock::LockService>,
    pub access: Arc<crate::access::AccessService>,
    pub storage: Arc<crate::storage::StoragePoint>,
}

impl DeviceImpl {
    fn video_page(&self, record: &VideoRecord) -> VideoPage {
        VideoPage {
            settings: record.settings.clone(),
            password_set: record.camera_password.is_some(),
            status: self.media.door.status(),
        }
    }

    async fn mail_record(&self) -> Result<MailRecord, ApiError> {
        self.auth.read(|r| Ok(r.settings(SETTINGS_MAIL)?)).await
    }

    async fn network_state(
        &self,
    ) -> Result<(Option<NetworkSettings>, Option<TlsRecord>), ApiError> {
        self.auth
            .read(|r| {
                Ok((
                    r.get(SETTINGS, SETTINGS_NETWORK)?,
                    r.get(SETTINGS, SETTINGS_TLS)?,
                ))
            })
            .await
    }

    async fn network_page(&self, moved_to: Option<String>) -> Result<NetworkPage, ApiError> {
        let (stored, tls) = self.network_state().await?;
        Ok(NetworkPage {
            settings: self.network.effective(stored),
            host_name: network::host_name(),
            host_addresses: network::host_addresses(),
            certificate: tls.as_ref().and_then(|t| tls::info(t).ok()),
            moved_to,
        })
    }

    /// Stores a new certificate and serves it at once if HTTPS runs.
    async fn replace_certificate(
        &self,
        caller: &Caller,
        record: TlsRecord,
    ) -> Result<NetworkPage, ApiError> {
        let session = caller.session()?;
        let (stored, _) = self.network_state().await?;
        let settings = self.network.effective(stored);
        let prepared = if settings.https {
            let plan = network::plan(&settings, Some(&record))
                .map_err(|(f, m)| ApiError::invalid(f, m))?;
            Some(
                self.network
                    .web()?
                    .prepare(plan)
                    .map_err(|(f, m)| ApiError::invalid(f, m))?,
            )
        } else {
            None
        };
        self.auth
            .save_settings(&session.user, caller.ip, "Network Basic", move |w| {
                w.put(SETTINGS, SETTINGS_TLS, &record)?;
                Ok(vec!["Certificate"])
            })
            .await?;
        if let Some(p) = prepared {
            self.network
                .web()?
                .commit(p)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        self.network_page(None).await
    }

    /// Sends `mail` with `config`; a failure is an error for the user.
    async fn send(&self, config: &MailConfig, mail: Mail) -> Result<MailReceipt, ApiError> {
        self.postman.send(config, mail).await.map_err(|e| {
            tracing::warn!(error = %e, "mail not sent");
            ApiError::Mail(e.to_string())
        })
    }

    async fn send_configured(&self, mail: Mail) -> Result<MailReceipt, ApiError> {
        let record = self.mail_record().await?;
        let config = MailConfig {
            settings: record.settings,
            password: record.password,
        };
        self.send(&config, mail).await
    }
}

/// `http(s)://host` of the request, when the browser named a host.
fn origin(caller: &Caller) -> Option<String> {
    caller
        .host
        .as_ref()
        .map(|h| format!("{}://{h}", if caller.secure { "https" } else { "http" }))
}

fn reset_mail(to: String, code: &str, url: Option<&str>, valid_until: &str) -> Mail {
    // Lines under 76 characters keep the mail in plain 7-bit text.
    let link = url
        .map(|u| format!("Enter it on the reset page (step 2/3):\n{u}\n\n"))
        .unwrap_or_default();
    Mail {
        to,
        subject: "VTO password reset: your security code".into(),
        body: format!(
            "Someone asked to reset the password of your door station (VTO).\n\n\
             Security code: {}\n\n\
             {link}\
             The code works once, until {}.\n\
             A newer code voids this one.\n\n\
             If you did not ask for this, ignore this mail:\n\
             the password stays as it is. This mail never contains a password.\n",
            format_code(code),
            valid_until
        ),
    }
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

#[async_trait::async_trait]
impl Device for DeviceImpl {
    async fn setup_state(&self) -> Result<SetupState, ApiError> {
        Ok(SetupState {
            initialized: self.auth.is_initialized(),
            boot_id: self.lifecycle.boot_id(),
        })
    }

    async fn initialize(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<(), ApiError> {
        self.auth.initialize(caller.ip, password, email).await
    }

    async fn login(
        &self,
        caller: &Caller,
        user: String,
        password: String,
    ) -> Result<(Option<SetCookie>, LoginResult), ApiError> {
        match self.auth.login(caller.ip, user, password).await? {
            LoginOutcome::Session(token) => Ok((
                Some(SetCookie(session::set_cookie(&token, caller.secure))),
                LoginResult {
                    second_factor: None,
                },
            )),
            LoginOutcome::SecondFactor(ticket) => Ok((
                None,
                LoginResult {
                    second_factor: Some(ticket),
                },
            )),
        }
    }

    async fn login_code(
        &self,
        caller: &Caller,
        ticket: String,
        code: String,
    ) -> Result<SetCookie, ApiError> {
        let token = self.auth.login_code(caller.ip, ticket, code).await?;
        Ok(SetCookie(session::set_cookie(&token, caller.secure)))
    }

    async fn logout(&self, caller: &Caller) -> Result<SetCookie, ApiError> {
        self.auth.logout(caller.session()?, caller.ip).await?;
        Ok(SetCookie(session::clear_cookie(caller.secure)))
    }

    async fn overview(&self, caller: &Caller) -> Result<Overview, ApiError> {
        let user = caller.session()?.user.clone();
        let (vto, email) = self
            .auth
            .read(move |r| {
                let vto: BasicSettings = r.settings(SETTINGS_BASIC)?;
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
        })
    }

    async fn change_password(
        &self,
        caller: &Caller,
        old_password: String,
        new_password: String,
    ) -> Result<(), ApiError> {
        self.auth
            .change_password(caller.session()?, caller.ip, old_password, new_password)
            .await
    }

    async fn change_email(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<EmailChanged, ApiError> {
        let session = caller.session()?;
        let old = self
            .auth
            .change_email(session, caller.ip, password, email)
            .await?;
        let new = self
            .auth
            .read({
                let user = session.user.clone();
                move |r| Ok(r.account(&user)?.and_then(|a| a.email))
            })
            .await?;
        let Some(old) = old.filter(|o| Some(o) != new.as_ref()) else {
            return Ok(EmailChanged { notice: None });
        };
        // The old address learns of the change: whoever changed it may not
        // be its owner.
        let mail = Mail {
            to: old,
            subject: "VTO: the password reset address was changed".into(),
            body: format!(
                "The password reset address of your door station (VTO)\n\
                 was changed to {}\n\
                 at {} from {}.\n\n\
                 Security codes for a password reset no longer come here.\n\
                 If this was not you, log in, set the address back\n\
                 and change the password.\n",
                new.as_deref().unwrap_or("(none)"),
                self.time.format(self.time.now()),
                caller.ip
            ),
        };
        let notice = match self.send_configured(mail).await {
            Ok(r) => Ok(r.answer),
            Err(e) => {
                self.auth
                    .log(
                        SecurityEventKind::EmailNoticeFailed,
                        &session.user,
                        caller.ip,
                    )
                    .await?;
                Err(e.to_string())
            }
        };
        Ok(EmailChanged {
            notice: Some(notice),
        })
    }

    async fn reboot(&self, caller: &Caller) -> Result<(), ApiError> {
        let session = caller.session()?;
        self.auth
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
        // effect.
        self.ip_filter.set(&IpPermissions::default());
        self.time.apply(TimeSettings::default());
        if let Ok(door) = media::door_ingest(&VideoSettings::default(), None) {
            self.media.set_door(door).await;
        }
        self.apply_ipcs(&Default::default()).await;
        // Back to the command line's listener (a port of 0 keeps the one in
        // use) without HTTPS.
        if let Ok(web) = self.network.web() {
            let plan = crate::http::listen::Plan {
                http: self.network.cli_http(),
                https: None,
            };
            match web.prepare(plan) {
                Ok(p) => {
                    if let Err(e) = web.commit(p) {
                        tracing::warn!(error = %e, "listeners not reset");
                    }
                }
                Err((_, e)) => tracing::warn!(error = %e, "listeners not reset"),
            }
        }
        Ok(SetCookie(session::clear_cookie(caller.secure)))
    }

    async fn security_log(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<SecurityLogPage, ApiError> {
        caller.session()?;
        let (events, total) = self
            .auth
            .read(move |r| Ok(r.security_events(offset, PAGE_SIZE)?))
            .await?;
        Ok(SecurityLogPage {
            events,
            total,
            offset,
            display: self.time.display(),
        })
    }

    async fn call_log(&self, caller: &Caller, offset: u64) -> Result<CallLogPage, ApiError> {
        caller.session()?;
        let sip = self.sip.clone();
        let (records, total) =
            tokio::task::spawn_blocking(move || sip.call_log(offset, call_log::PAGE_SIZE))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(CallLogPage {
            records,
            total,
            offset,
            display: self.time.display(),
        })
    }

    async fn export_call_log(&self, caller: &Caller) -> Result<String, ApiError> {
        caller.session()?;
        let sip = self.sip.clone();
        let (records, _) =
            tokio::task::spawn_blocking(move || sip.call_log(0, call_log::MAX_RECORDS))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(call_log::to_csv(&records, &self.time.display()))
    }

    async fn reset_info(&self) -> Result<ResetInfo, ApiError> {
        let email = self.auth.reset_email().await?;
        Ok(ResetInfo {
            available: email.is_some(),
            email_hint: email.as_deref().map(mask_email),
        })
    }

    async fn reset_request(&self, caller: &Caller) -> Result<ResetIssued, ApiError> {
        let issued = self.auth.reset_issue(caller.ip).await?;
        let url = origin(caller).map(|o| format!("{o}/reset?step=2"));
        let hint = mask_email(&issued.email);
        // The code expires by the host's clock; people read the device's.
        let valid_until = self.auth.to_wall(issued.valid_until);
        let valid_until_text = self.time.format(valid_until);
        let mail = reset_mail(
            issued.email,
            &issued.code,
            url.as_deref(),
            &valid_until_text,
        );
        let receipt = match self.send_configured(mail).await {
            Ok(r) => r,
            Err(e) => {
                // A code nobody received must not stay valid.
                self.auth.reset_void().await?;
                return Err(e);
            }
        };
        let qr_url = url.unwrap_or_else(|| "/reset?step=2".into());
        Ok(ResetIssued {
            email_hint: hint,
            qr_svg: qr::svg(&qr_url)?,
            qr_url,
            valid_until,
            valid_until_text,
            delivery: receipt.via,
        })
    }

    async fn reset_verify(&self, caller: &Caller, code: String) -> Result<ResetTicket, ApiError> {
        let ticket = self.auth.reset_verify(caller.ip, code).await?;
        Ok(ResetTicket { ticket })
    }

    async fn reset_complete(
        &self,
        caller: &Caller,
        ticket: String,
        password: String,
    ) -> Result<(), ApiError> {
        self.auth.reset_complete(caller.ip, ticket, password).await
    }

    async fn mail_settings(&self, caller: &Caller) -> Result<MailSettings, ApiError> {
        caller.session()?;
        let record = self.mail_record().await?;
        Ok(MailSettings {
            has_password: record.password.is_some(),
            ..record.settings
        })
    }

    async fn save_mail_settings(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailSettings, ApiError> {
        let session = caller.session()?;
        let settings = checked_mail_settings(settings)?;
        let saved = self
            .auth
            .write_logged(
                SecurityEventKind::MailSettingsChanged,
                &session.user,
                caller.ip,
                move |w| {
                    let old: MailRecord = w.settings(SETTINGS_MAIL)?;
                    let password = match password {
                        PasswordUpdate::Keep => old.password,
                        PasswordUpdate::Set(p) => Some(p),
                        PasswordUpdate::Clear => None,
                    };
                    let record = MailRecord {
                        settings: MailSettings {
                            has_password: false,
                            ..settings
                        },
                        password,
                    };
                    w.put(crate::store::tables::SETTINGS, SETTINGS_MAIL, &record)?;
                    Ok(MailSettings {
                        has_password: record.password.is_some(),
                        ..record.settings
                    })
                },
            )
            .await?;
        tracing::info!(ip = %caller.ip, "email settings saved");
        Ok(saved)
    }

    async fn send_test_mail(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailReceipt, ApiError> {
        let session = caller.session()?;
        let settings = checked_mail_settings(settings)?;
        let user = session.user.clone();
        let (stored, to) = self
            .auth
            .read(move |r| {
                let record: MailRecord = r.settings(SETTINGS_MAIL)?;
                Ok((record.password, r.account(&user)?.and_then(|a| a.email)))
            })
            .await?;
        let to = to.ok_or_else(|| {
            ApiError::invalid(
                "test",
                "Set an email address under Account first: the test mail goes there.",
            )
        })?;
        let password = match password {
            PasswordUpdate::Keep => stored,
            PasswordUpdate::Set(p) => Some(p),
            PasswordUpdate::Clear => None,
        };
        let mail = Mail {
            to,
            subject: "VTO test mail".into(),
            body: format!(
                "This is a test mail from your door station (VTO),\n\
                 sent at {}.\n\
                 Security codes for a password reset will come this way.\n",
                self.time.format(self.time.now())
            ),
        };
        self.send(&MailConfig { settings, password }, mail).await
    }

    async fn basic_settings(&self, caller: &Caller) -> Result<BasicSettings, ApiError> {
        caller.session()?;
        self.auth.read(|r| Ok(r.settings(SETTINGS_BASIC)?)).await
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
        self.auth
            .save_settings(&session.user, caller.ip, "Basic", move |w| {
                let old: BasicSettings = w.settings(SETTINGS_BASIC)?;
                w.put(crate::store::tables::SETTINGS, SETTINGS_BASIC, &settings)?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        self.sip
            .set_centre(&saved.centre_call_no, saved.call_centre_time);
        // With Server Type VTO the VTO No. is the user name registered.
        self.apply_sip_server().await?;
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
        self.auth
            .save_settings(&session.user, caller.ip, "System", move |w| {
                let old: TimeSettings = w.settings(SETTINGS_TIME)?;
                w.put(SETTINGS, SETTINGS_TIME, &settings)?;
                let mut changed = settings.changed_fields(&old);
                if let Some(offset_ms) = offset {
                    w.put(SETTINGS, SETTINGS_CLOCK, &ClockRecord { offset_ms })?;
                    changed.push("System Time");
                }
                Ok(changed)
            })
            .await?;
        if let Some(offset_ms) = offset {
            self.time.clock().set_offset_ms(offset_ms);
        }
        self.time.apply(saved.clone());
        // A new NTP setting is tried at once, so the page shows its result.
        if saved.ntp.enabled && saved.ntp != old.ntp {
            self.time.sync_ntp().await;
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
        self.auth
            .save_settings(&session.user, caller.ip, "System", move |w| {
                w.put(SETTINGS, SETTINGS_CLOCK, &ClockRecord { offset_ms })?;
                Ok(vec!["System Time (Sync PC)"])
            })
            .await?;
        self.time.clock().set_offset_ms(offset_ms);
        Ok(self.time.page())
    }

    async fn live_offer(
        &self,
        caller: &Caller,
        source: String,
        sdp: String,
    ) -> Result<LiveAnswer, ApiError> {
        caller.session()?;
        let camera = self
            .media
            .source(&source)
            .ok_or_else(|| ApiError::invalid("source", format!("No camera named {source}")))?;
        if sdp.len() > 64 * 1024 {
            return Err(ApiError::invalid("sdp", "The offer is too large"));
        }
        let live = self.media.live().map_err(ApiError::Internal)?;
        let (id, sdp) = live
            .offer(camera, sdp)
            .await
            .map_err(|e| ApiError::invalid("sdp", e))?;
        tracing::info!(ip = %caller.ip, source, viewers = live.count(), "live view started");
        Ok(LiveAnswer { id, sdp })
    }

    async fn live_status(&self, caller: &Caller, source: String) -> Result<SourceStatus, ApiError> {
        caller.session()?;
        self.media
            .source(&source)
            .map(|s| s.status())
            .ok_or_else(|| ApiError::invalid("source", format!("No camera named {source}")))
    }

    async fn rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError> {
        self.room_page(caller).await
    }

    async fn stations(&self, caller: &Caller, kind: StationKind) -> Result<StationPage, ApiError> {
        self.station_page(caller, kind).await
    }

    async fn add_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        self.add_station_with(caller, kind, station, password).await
    }

    async fn save_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: String,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError> {
        self.save_station_with(caller, kind, number, station, password)
            .await
    }

    async fn delete_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: Option<String>,
    ) -> Result<StationPage, ApiError> {
        self.delete_station_with(caller, kind, number).await
    }

    async fn export_user_info(
        &self,
        caller: &Caller,
    ) -> Result<app::model::user_info::UserInfo, ApiError> {
        self.export_user_info_with(caller).await
    }

    async fn import_user_info(
        &self,
        caller: &Caller,
        file: String,
    ) -> Result<app::model::user_info::UserInfoImported, ApiError> {
        self.import_user_info_with(caller, file).await
    }

    async fn access_settings(&self, caller: &Caller) -> Result<AccessSettings, ApiError> {
        self.access_page(caller).await
    }

    async fn save_access_settings(
        &self,
        caller: &Caller,
        settings: AccessSettings,
    ) -> Result<AccessSettings, ApiError> {
        self.save_access(caller, settings).await
    }

    async fn door_status(&self, caller: &Caller, seen: u64) -> Result<DoorStatus, ApiError> {
        self.door(caller, seen).await
    }

    async fn unlock(&self, caller: &Caller, via: UnlockVia) -> Result<UnlockRecord, ApiError> {
        self.remote_unlock(caller, via).await
    }

    async fn simulate(&self, caller: &Caller, action: SimAction) -> Result<DoorStatus, ApiError> {
        self.simulate_at_door(caller, action).await
    }

    async fn unlock_log(
        &self,
        caller: &Caller,
        offset: u64,
        filter: UnlockFilter,
    ) -> Result<UnlockLogPage, ApiError> {
        self.unlock_page(caller, offset, filter).await
    }

    async fn export_unlock_log(
        &self,
        caller: &Caller,
        filter: UnlockFilter,
    ) -> Result<String, ApiError> {
        self.unlock_csv(caller, filter).await
    }

    async fn alarm_log(&self, caller: &Caller, offset: u64) -> Result<AlarmLogPage, ApiError> {
        self.alarm_page(caller, offset).await
    }

    async fn save_unlock_log_settings(
        &self,
        caller: &Caller,
        settings: UnlockLogSettings,
    ) -> Result<UnlockLogSettings, ApiError> {
        self.save_unlock_keep(caller, settings).await
    }

    async fn room_cards(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        self.room_cards_page(caller, room_no).await
    }

    async fn issue_card(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        self.issue_start(caller, room_no).await
    }

    async fn name_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        name: String,
    ) -> Result<RoomCards, ApiError> {
        self.issue_name(caller, room_no, number, name).await
    }

    async fn confirm_send_card(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        self.issue_confirm(caller, room_no).await
    }

    async fn cancel_issue(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        self.issue_cancel(caller, room_no).await
    }

    async fn change_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        change: CardChange,
    ) -> Result<RoomCards, ApiError> {
        self.card_change(caller, room_no, number, change).await
    }

    async fn set_access_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: Option<String>,
    ) -> Result<RoomCards, ApiError> {
        self.access_password(caller, room_no, password).await
    }

    async fn present_card(&self, caller: &Caller, number: String) -> Result<DoorStatus, ApiError> {
        self.sim_card(caller, number).await
    }

    async fn enter_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: String,
    ) -> Result<DoorStatus, ApiError> {
        self.sim_keypad(caller, room_no, password).await
    }

    async fn publish(
        &self,
        caller: &Caller,
        publication: app::model::publish::Publication,
    ) -> Result<app::model::publish::PublishRecord, ApiError> {
        self.publish_with(caller, publication).await
    }

    async fn publish_history(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<app::model::publish::PublishPage, ApiError> {
        self.publish_history_page(caller, offset).await
    }

    async fn sip_status(
        &self,
        caller: &Caller,
    ) -> Result<app::model::sip_status::StatusPage, ApiError> {
        caller.session()?;
        Ok(app::model::sip_status::StatusPage {
            devices: self.sip.status(),
            display: self.time.display(),
        })
    }

    async fn add_rooms(
        &self,
        caller: &Caller,
        batch: RoomBatch,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        self.add_rooms_with(caller, batch, password).await
    }

    async fn add_room(
        &self,
        caller: &Caller,
        room: Room,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError> {
        self.add_room_with(caller, room, password).await
    }

    async fn save_room(&self, caller: &Caller, room: Room) -> Result<RoomPage, ApiError> {
        self.save_room_names(caller, room).await
    }

    async fn delete_room(&self, caller: &Caller, room_no: String) -> Result<RoomPage, ApiError> {
        self.remove_rooms(caller, Some(room_no)).await
    }

    async fn clear_rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError> {
        self.remove_rooms(caller, None).await
    }

    async fn ipc_list(&self, caller: &Caller) -> Result<IpcPage, ApiError> {
        self.ipc_page(caller).await
    }

    async fn save_ipc(
        &self,
        caller: &Caller,
        id: Option<u32>,
        ipc: Ipc,
        password: PasswordUpdate,
    ) -> Result<IpcPage, ApiError> {
        self.change_ipcs(caller, ipc::IpcChange::Save(id, ipc, password))
            .await
    }

    async fn delete_ipc(&self, caller: &Caller, id: u32) -> Result<IpcPage, ApiError> {
        self.change_ipcs(caller, ipc::IpcChange::Delete(id)).await
    }

    async fn export_ipcs(&self, caller: &Caller) -> Result<IpcExport, ApiError> {
        self.export_ipc_list(caller).await
    }

    async fn import_ipcs(&self, caller: &Caller, file: String) -> Result<IpcPage, ApiError> {
        caller.session()?;
        if file.len() > 256 * 1024 {
            return Err(ApiError::invalid("file", "The file is too large"));
        }
        let list = IpcExport::parse(&file).map_err(|m| ApiError::invalid("file", m))?;
        self.change_ipcs(caller, ipc::IpcChange::Import(list)).await
    }

    async fn video_settings(&self, caller: &Caller) -> Result<VideoPage, ApiError> {
        caller.session()?;
        let record: VideoRecord = self.auth.read(|r| Ok(r.settings(SETTINGS_VIDEO)?)).await?;
        Ok(self.video_page(&record))
    }

    async fn save_video_settings(
        &self,
        caller: &Caller,
        mut settings: VideoSettings,
        password: PasswordUpdate,
    ) -> Result<VideoPage, ApiError> {
        let session = caller.session()?;
        settings.camera.url = settings.camera.url.trim().to_string();
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if let PasswordUpdate::Set(p) = &password {
            if p.chars().count() > video::MAX_CREDENTIAL {
                return Err(ApiError::invalid(
                    "camera-password",
                    "At most 64 characters",
                ));
            }
        }
        // Checked before anything is stored: what cannot be applied is not
        // saved (the password plays no part in that).
        media::door_ingest(&settings, None).map_err(|m| ApiError::invalid("camera-url", m))?;
        // The kept password is read in the same transaction that writes,
        // so a password set meanwhile by someone else is not undone.
        let saved = Arc::new(std::sync::Mutex::new(None::<VideoRecord>));
        let out = saved.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "Video & Audio", move |w| {
                let old: VideoRecord = w.settings(SETTINGS_VIDEO)?;
                let camera_password = match password {
                    PasswordUpdate::Keep => old.camera_password.clone(),
                    PasswordUpdate::Set(p) => Some(p),
                    PasswordUpdate::Clear => None,
                };
                let record = VideoRecord {
                    settings,
                    camera_password,
                };
                w.put(SETTINGS, SETTINGS_VIDEO, &record)?;
                let mut changed = record.settings.changed_fields(&old.settings);
                if record.camera_password != old.camera_password {
                    changed.push("Password");
                }
                *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(record);
                Ok(changed)
            })
            .await?;
        let record = saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ApiError::Internal("the saved video settings went missing".into()))?;
        let ingest = media::door_ingest(&record.settings, record.camera_password.as_deref())
            .map_err(|m| ApiError::invalid("camera-url", m))?;
        self.media.set_door(ingest).await;
        Ok(self.video_page(&record))
    }

    async fn live_end(&self, caller: &Caller, id: String) -> Result<(), ApiError> {
        caller.session()?;
        if let Some(live) = self.media.live_if_started() {
            live.end(&id).await;
        }
        Ok(())
    }

    async fn sip_server(
        &self,
        caller: &Caller,
    ) -> Result<app::model::sip_server::SipServerPage, ApiError> {
        self.sip_server_page(caller).await
    }

    async fn save_sip_server(
        &self,
        caller: &Caller,
        settings: app::model::sip_server::SipServerSettings,
        password: Option<String>,
    ) -> Result<app::model::sip_server::SipServerPage, ApiError> {
        self.save_sip_server_with(caller, settings, password).await
    }

    async fn network(&self, caller: &Caller) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        self.network_page(None).await
    }

    async fn save_network(
        &self,
        caller: &Caller,
        mut settings: NetworkSettings,
    ) -> Result<NetworkPage, ApiError> {
        let session = caller.session()?;
        settings.listen_address = settings.listen_address.trim().to_string();
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let (stored, tls) = self.network_state().await?;
        let old = self.network.effective(stored);
        // HTTPS needs a certificate: the device makes one the first time.
        let new_tls = match &tls {
            None if settings.https => Some(network::generate_certificate()?),
            _ => None,
        };
        let plan = network::plan(&settings, new_tls.as_ref().or(tls.as_ref()))
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        // New sockets are bound before anything is stored: a port in use
        // is refused and nothing changes.
        let prepared = self
            .network
            .web()?
            .prepare(plan)
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        let saved = settings.clone();
        let old_for_log = old.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "Network Basic", move |w| {
                w.put(SETTINGS, SETTINGS_NETWORK, &settings)?;
                let mut changed = settings.changed_fields(&old_for_log);
                if let Some(record) = &new_tls {
                    w.put(SETTINGS, SETTINGS_TLS, record)?;
                    changed.push("Certificate");
                }
                Ok(changed)
            })
            .await?;
        self.network
            .web()?
            .commit(prepared)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        tracing::info!(ip = %caller.ip, "network settings saved");
        self.network_page(moved_to(caller, &old, &saved)).await
    }

    async fn upload_certificate(
        &self,
        caller: &Caller,
        upload: CertificateUpload,
    ) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        let record = tls::upload(&upload.certificate, &upload.private_key)
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        self.replace_certificate(caller, record).await
    }

    async fn new_certificate(&self, caller: &Caller) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        let record = network::generate_certificate()?;
        self.replace_certificate(caller, record).await
    }

    async fn ip_permissions(&self, caller: &Caller) -> Result<IpPermissions, ApiError> {
        caller.session()?;
        self.auth
            .read(|r| Ok(r.settings(SETTINGS_IP_PERMISSIONS)?))
            .await
    }

    async fn save_ip_permissions(
        &self,
        caller: &Caller,
        mut settings: IpPermissions,
    ) -> Result<IpPermissions, ApiError> {
        let session = caller.session()?;
        for list in [&mut settings.white_list, &mut settings.black_list] {
            *list = list.iter().map(|e| e.trim().to_string()).collect();
        }
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if !settings.compile().allows(caller.ip) {
            let field = match settings.mode {
                app::model::ip_permissions::ListMode::WhiteList => "white-list",
                app::model::ip_permissions::ListMode::BlackList => "black-list",
            };
            return Err(ApiError::invalid(
                field,
                format!(
                    "This would shut out your own address {}: the page could not be reached any more. Add it to the white list (or take it off the black list) first.",
                    caller.ip
                ),
            ));
        }
        let saved = settings.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "IP Permissions", move |w| {
                let old: IpPermissions = w.settings(SETTINGS_IP_PERMISSIONS)?;
                w.put(
                    crate::store::tables::SETTINGS,
                    SETTINGS_IP_PERMISSIONS,
                    &settings,
                )?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        // In force once stored: the next connection is checked.
        self.ip_filter.set(&saved);
        Ok(saved)
    }

    async fn export_device_info(&self, caller: &Caller) -> Result<DeviceInfo, ApiError> {
        caller.session()?;
        self.auth
            .read(|r| {
                let mail: MailRecord = r.settings(SETTINGS_MAIL)?;
                Ok(DeviceInfo {
                    format: config::FORMAT.into(),
                    version: config::VERSION,
                    basic: r.settings(SETTINGS_BASIC)?,
                    security: r.settings(SETTINGS_SECURITY)?,
                    mail: MailExport::from(&mail.settings),
                    ip_permissions: r.settings(SETTINGS_IP_PERMISSIONS)?,
                    system: Some(r.settings(SETTINGS_TIME)?),
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
        let permissions = info.ip_permissions.clone();
        let system = info.system.clone();
        let basic = info.basic.clone();
        let changed = self
            .auth
            .save_settings(&session.user, caller.ip, "Device Info import", move |w| {
                let old_basic: BasicSettings = w.settings(SETTINGS_BASIC)?;
                let old_security: SecuritySettings = w.settings(SETTINGS_SECURITY)?;
                let old_mail: MailRecord = w.settings(SETTINGS_MAIL)?;
                let old_permissions: IpPermissions = w.settings(SETTINGS_IP_PERMISSIONS)?;
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
                    let old: TimeSettings = w.settings(SETTINGS_TIME)?;
                    if *system != old {
                        changed.push("System");
                    }
                    w.put(SETTINGS, SETTINGS_TIME, system)?;
                }
                let settings = crate::store::tables::SETTINGS;
                w.put(settings, SETTINGS_BASIC, &info.basic)?;
                w.put(settings, SETTINGS_SECURITY, &info.security)?;
                // The file has no SMTP password: the stored one stays.
                let mail = MailRecord {
                    settings: info.mail.settings(),
                    password: old_mail.password,
                };
                w.put(settings, SETTINGS_MAIL, &mail)?;
                w.put(settings, SETTINGS_IP_PERMISSIONS, &info.ip_permissions)?;
                Ok(changed)
            })
            .await?;
        self.ip_filter.set(&permissions);
        if let Some(system) = system {
            self.time.apply(system);
        }
        // The SIP server routes the Centre Call No. by these.
        self.sip
            .set_centre(&basic.centre_call_no, basic.call_centre_time);
        self.apply_sip_server().await?;
        tracing::info!(ip = %caller.ip, changed = changed.len(), "device info imported");
        Ok(())
    }

    async fn security_settings(&self, caller: &Caller) -> Result<SecuritySettings, ApiError> {
        caller.session()?;
        self.auth.read(|r| Ok(r.settings(SETTINGS_SECURITY)?)).await
    }

    async fn save_security_settings(
        &self,
        caller: &Caller,
        settings: SecuritySettings,
    ) -> Result<SecuritySettings, ApiError> {
        let session = caller.session()?;
        let saved = settings.clone();
        self.auth
            .write_logged(
                SecurityEventKind::SecuritySettingsChanged,
                &session.user,
                caller.ip,
                move |w| Ok(w.put(crate::store::tables::SETTINGS, SETTINGS_SECURITY, &settings)?),
            )
            .await?;
        Ok(saved)
    }

    async fn totp_begin(
        &self,
        caller: &Caller,
        password: String,
    ) -> Result<TotpEnrolment, ApiError> {
        self.auth
            .totp_begin(caller.session()?, caller.ip, password)
            .await
    }

    async fn totp_confirm(&self, caller: &Caller, code: String) -> Result<RecoveryCodes, ApiError> {
        self.auth
            .totp_confirm(caller.session()?, caller.ip, code)
            .await
    }

    async fn totp_disable(
        &self,
        caller: &Caller,
        password: String,
        code: String,
    ) -> Result<(), ApiError> {
        self.auth
            .totp_disable(caller.session()?, caller.ip, password, code)
            .await
    }
}

/// Where the browser finds the Network page after a save that moved the
/// web server; `None` when it stays where it is.
fn moved_to(caller: &Caller, old: &NetworkSettings, new: &NetworkSettings) -> Option<String> {
    let unchanged = old.listen_address == new.listen_address
        && old.http_port == new.http_port
        && old.https == new.https
        && (!new.https || old.https_port == new.https_port);
    if unchanged && caller.secure == new.https {
        return None;
    }
    let ip: std::net::IpAddr = new.listen_address.parse().ok()?;
    let listen = match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    // The name the browser used, unless the server now listens only on
    // another address.
    let host = match caller.host.as_deref().map(host_name_part) {
        Some(h) if ip.is_unspecified() || h.trim_matches(['[', ']']) == ip.to_string() => {
            h.to_string()
        }
        _ => listen,
    };
    let (scheme, port, default) = if new.https {
        ("https", new.https_port, 443)
    } else {
        ("http", new.http_port, 80)
    };
    let port = if port == default {
        String::new()
    } else {
        format!(":{port}")
    };
    Some(format!("{scheme}://{host}{port}/network/basic"))
}

/// The page's settings, trimmed, or the first field error.
fn checked_mail_settings(mut s: MailSettings) -> Result<MailSettings, ApiError> {
    s.server = s.server.trim().to_string();
    s.sender = s.sender.trim().to_string();
    if let Some((field, message)) = s.validate().into_iter().next() {
        return Err(ApiError::invalid(field, message));
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
