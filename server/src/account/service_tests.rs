//! The reset, mail and two-factor flows as the UI drives them, on
//! simulated time, with mail going to a real SMTP server (aiosmtpd).

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
};

use ::tests::smtp::{security_code, Options, Security, SmtpSink};
use app::{
    error::ApiError,
    model::{
        mail::{MailSecurity, MailSettings, PasswordUpdate},
        security::SecuritySettings,
        security_log::SecurityEventKind as Kind,
        time::UnixMillis,
    },
    services::{Account, Caller, Logs, Network, SessionRef, System},
};

use super::{tests::code_at, LoginOutcome};
use crate::{
    clock::sim::SimClock,
    services::Services,
    store::{Read, Store},
};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const GOOD: &str = "Door-Bell7x";
const NEW: &str = "Gate#Keeper42";
const OWNER: &str = "owner@example.com";
const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

struct Fixture {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    clock: Arc<SimClock>,
    services: Arc<Services>,
}

impl std::ops::Deref for Fixture {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}

fn anonymous() -> Caller {
    Caller {
        ip: IP,
        session: None,
        secure: false,
        // An address that is not this machine's: links use the
        // connection's local address.
        host: Some("192.168.1.108".into()),
        host_is_name: false,
        local: Some(std::net::SocketAddr::from(([192, 168, 1, 108], 80))),
    }
}

impl Fixture {
    async fn new(email: Option<&str>, ca: Option<Vec<u8>>) -> Fixture {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = dir.path().join("data");
        let store = Arc::new(Store::open(&data).unwrap_or_else(|e| panic!("{e}")));
        let clock = Arc::new(SimClock::at(T0));
        let services = Services::for_test(store, clock.clone(), &data, ca).await;
        services
            .account
            .auth
            .initialize(IP, GOOD.into(), email.map(str::to_string))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Fixture {
            _dir: dir,
            data,
            clock,
            services,
        }
    }

    /// A device whose mail goes to `sink`.
    async fn with_sink(sink: &SmtpSink) -> Fixture {
        let ca = sink
            .ca_pem
            .as_ref()
            .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{e}")));
        let f = Fixture::new(Some(OWNER), ca).await;
        let security = if sink.ca_pem.is_some() {
            MailSecurity::StartTls
        } else {
            MailSecurity::None
        };
        f.save_mail(sink, security, PasswordUpdate::Keep).await;
        f
    }

    async fn save_mail(&self, sink: &SmtpSink, security: MailSecurity, password: PasswordUpdate) {
        let s = MailSettings {
            server: "127.0.0.1".into(),
            port: sink.port,
            security,
            sender: "door@example.com".into(),
            ..MailSettings::default()
        };
        self.network
            .save_mail_settings(&self.admin().await, s, password)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    async fn admin(&self) -> Caller {
        let token = self
            .account
            .auth
            .login(IP, "admin".into(), GOOD.into())
            .await
            .and_then(LoginOutcome::session)
            .unwrap_or_else(|e| panic!("{e}"));
        let session: Option<SessionRef> = self
            .account
            .auth
            .validate(&token)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Caller {
            session,
            ..anonymous()
        }
    }

    async fn kinds(&self) -> Vec<Kind> {
        let (events, _) = self
            .account
            .auth
            .store
            .read(|r| Ok(r.security_events(0, 1000)?))
            .await
            .unwrap_or_default();
        events.into_iter().rev().map(|e| e.kind).collect()
    }
}

async fn code_from(sink: &SmtpSink, n: usize) -> String {
    let mails = sink.wait_for(n).await;
    security_code(&mails[n - 1]).unwrap_or_else(|| panic!("no code in {}", mails[n - 1]))
}

#[tokio::test]
async fn reset_by_mailed_code_works_once_and_ends_sessions() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    let before = f.admin().await;
    let info = f.account.reset_info(&anonymous()).await?;
    assert!(info.available);
    assert_eq!(info.email_hint.as_deref(), Some("o***r@e***.com"));

    let issued = f.account.reset_request(&anonymous()).await?;
    assert_eq!(issued.qr_url, "http://192.168.1.108:80/reset?step=2");
    assert!(issued.qr_svg.starts_with("<svg"));
    assert_eq!(issued.valid_until, T0 + 24 * 3600 * 1000);
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("To: owner@example.com"), "{}", mails[0]);
    assert!(mails[0].contains("http://192.168.1.108:80/reset?step=2"));
    assert!(!mails[0].contains(GOOD), "never the password");
    let code = code_from(&sink, 1).await;

    let ticket = f.account.reset_verify(&anonymous(), code.clone()).await?;
    // Used once: the same code again is refused.
    assert!(matches!(
        f.account.reset_verify(&anonymous(), code).await,
        Err(ApiError::Invalid { ref field, .. }) if field == "code"
    ));
    // The new password must follow the rules.
    assert!(matches!(
        f.account.reset_complete(&anonymous(), ticket.ticket.clone(), "short".into()).await,
        Err(ApiError::Invalid { ref field, .. }) if field == "password"
    ));
    f.account
        .reset_complete(&anonymous(), ticket.ticket.clone(), NEW.into())
        .await?;
    // The ticket is spent too.
    assert!(f
        .account
        .reset_complete(&anonymous(), ticket.ticket, "Other#Pass99".into())
        .await
        .is_err());

    // Every session ended; the new password logs in, the old does not.
    let token_hash = before.session()?.id_hash;
    let still = f
        .account
        .auth
        .store
        .read(move |r| Ok(r.session(&token_hash)?))
        .await?;
    assert!(still.is_none(), "old sessions end");
    assert!(f
        .account
        .auth
        .login(IP, "admin".into(), NEW.into())
        .await
        .is_ok());
    assert!(f
        .account
        .auth
        .login(IP, "admin".into(), GOOD.into())
        .await
        .is_err());
    let kinds = f.kinds().await;
    for k in [
        Kind::ResetCodeSent,
        Kind::ResetCodeAccepted,
        Kind::PasswordReset,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
    Ok(())
}

/// The code's field error says `left` attempts are left.
fn says_left<T>(r: Result<T, ApiError>, left: u32) {
    let msg = r.err().and_then(|e| e.field_message("code"));
    let says = format!("{left} attempt");
    assert!(msg.as_deref().is_some_and(|m| m.contains(&says)), "{msg:?}");
}

#[tokio::test]
async fn five_wrong_codes_lock_reset_for_five_minutes() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    f.account.reset_request(&anonymous()).await?;
    let code = code_from(&sink, 1).await;
    for left in (1..5).rev() {
        let e = f
            .account
            .reset_verify(&anonymous(), "XXXXXXXXXX".into())
            .await;
        says_left(e, left);
    }
    assert_eq!(
        f.account
            .reset_verify(&anonymous(), "XXXXXXXXXX".into())
            .await,
        Err(ApiError::ResetLocked {
            retry_after_secs: 300
        })
    );
    // Locked: the right code too, and new codes.
    f.clock.advance_secs(299);
    assert_eq!(
        f.account.reset_verify(&anonymous(), code.clone()).await,
        Err(ApiError::ResetLocked {
            retry_after_secs: 1
        })
    );
    assert!(matches!(
        f.account.reset_request(&anonymous()).await,
        Err(ApiError::ResetLocked { .. })
    ));
    // The lock expires on its own.
    f.clock.advance_secs(1);
    assert!(f.account.reset_verify(&anonymous(), code).await.is_ok());
    assert!(f.kinds().await.contains(&Kind::ResetLocked));
    Ok(())
}

#[tokio::test]
async fn a_day_old_code_fails() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    f.account.reset_request(&anonymous()).await?;
    let code = code_from(&sink, 1).await;
    f.clock.advance_secs(24 * 3600);
    let e = f.account.reset_verify(&anonymous(), code).await;
    let msg = e
        .err()
        .and_then(|e| e.field_message("code"))
        .unwrap_or_default();
    assert!(msg.contains("expired"), "{msg}");
    Ok(())
}

#[tokio::test]
async fn a_refreshed_code_voids_the_old_one_and_requests_are_limited() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    f.account.reset_request(&anonymous()).await?;
    let old = code_from(&sink, 1).await;
    // Right away: too soon, and no mail goes out.
    assert_eq!(
        f.account.reset_request(&anonymous()).await.err(),
        Some(ApiError::TooManyRequests {
            retry_after_secs: 60
        })
    );
    f.clock.advance_secs(60);
    f.account.reset_request(&anonymous()).await?;
    let new = code_from(&sink, 2).await;
    assert_eq!(sink.mails().len(), 2);
    assert_ne!(old, new);
    assert!(f.account.reset_verify(&anonymous(), old).await.is_err());
    assert!(f.account.reset_verify(&anonymous(), new).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn reset_is_refused_when_disabled_or_without_an_address() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    f.system
        .save_security_settings(
            &f.admin().await,
            SecuritySettings {
                reset_password: false,
            },
        )
        .await?;
    assert!(!f.account.reset_info(&anonymous()).await?.available);
    assert_eq!(
        f.account.reset_request(&anonymous()).await.err(),
        Some(ApiError::ResetUnavailable)
    );
    assert_eq!(
        f.account
            .reset_verify(&anonymous(), "ACDEFGH347".into())
            .await
            .err(),
        Some(ApiError::ResetUnavailable)
    );

    let f = Fixture::new(None, None).await;
    assert!(!f.account.reset_info(&anonymous()).await?.available);
    assert_eq!(
        f.account.reset_request(&anonymous()).await.err(),
        Some(ApiError::ResetUnavailable)
    );
    assert!(sink.mails().is_empty());
    Ok(())
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_a_clear_error_and_voids_the_code() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    let port = sink.port;
    drop(sink);
    let e = f.account.reset_request(&anonymous()).await.err();
    let msg = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.starts_with(&format!(
            "The mail could not be sent: cannot talk to 127.0.0.1:{port}"
        )),
        "{msg}"
    );
    let voided = f
        .account
        .auth
        .store
        .read(|r| {
            Ok(r.account(app::model::ADMIN_USER)?
                .and_then(|a| a.reset.code))
        })
        .await?;
    assert!(voided.is_none());
    Ok(())
}

#[tokio::test]
async fn without_smtp_the_code_goes_to_the_outbox() -> Result<(), ApiError> {
    let f = Fixture::new(Some(OWNER), None).await;
    let issued = f.account.reset_request(&anonymous()).await?;
    assert!(issued.delivery.starts_with("outbox/"));
    let dir = f.data.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).collect())
        .unwrap_or_default();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap_or_default();
    let code = security_code(&text).unwrap_or_default();
    assert!(f.account.reset_verify(&anonymous(), code).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn starttls_and_auth_with_a_write_only_password() -> Result<(), ApiError> {
    let sink = SmtpSink::start(Options {
        security: Some(Security::StartTls),
        auth: Some(("door", "s3cret")),
        ..Options::default()
    })
    .await;
    let f = Fixture::with_sink(&sink).await;
    let admin = f.admin().await;
    let mut s = f.network.mail_settings(&admin).await?;
    s.user = "door".into();
    // Without the password the server refuses: the answer is shown.
    let e = f
        .network
        .send_test_mail(&admin, s.clone(), PasswordUpdate::Keep)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("530") || e.contains("535"), "{e}");
    f.network
        .save_mail_settings(&admin, s, PasswordUpdate::Set("s3cret".into()))
        .await?;
    let shown = f.network.mail_settings(&admin).await?;
    assert!(shown.has_password);
    assert!(!serde_json::to_string(&shown)
        .unwrap_or_default()
        .contains("s3cret"));
    let receipt = f
        .network
        .send_test_mail(&admin, shown.clone(), PasswordUpdate::Keep)
        .await?;
    assert!(receipt.answer.starts_with("250"), "{receipt:?}");
    f.account.reset_request(&anonymous()).await?;
    assert!(code_from(&sink, 2).await.len() == 10);
    // Clearing works and is what the page then shows.
    let cleared = f
        .network
        .save_mail_settings(&admin, shown, PasswordUpdate::Clear)
        .await?;
    assert!(!cleared.has_password);
    Ok(())
}

#[tokio::test]
async fn bad_mail_settings_change_nothing() -> Result<(), ApiError> {
    let f = Fixture::new(Some(OWNER), None).await;
    let admin = f.admin().await;
    let bad = MailSettings {
        server: "mail.example.com".into(),
        sender: "not an address".into(),
        ..MailSettings::default()
    };
    let e = f
        .network
        .save_mail_settings(&admin, bad, PasswordUpdate::Set("x".into()))
        .await;
    assert!(matches!(e, Err(ApiError::Invalid { ref field, .. }) if field == "sender"));
    assert_eq!(
        f.network.mail_settings(&admin).await?,
        MailSettings::default()
    );
    assert!(!f.kinds().await.contains(&Kind::MailSettingsChanged));
    Ok(())
}

#[tokio::test]
async fn an_email_change_notifies_the_old_address() -> Result<(), ApiError> {
    let sink = SmtpSink::plain().await;
    let f = Fixture::with_sink(&sink).await;
    let admin = f.admin().await;
    // Not without the password.
    assert!(f
        .account
        .change_email(&admin, "wrong".into(), Some("thief@example.net".into()))
        .await
        .is_err());
    let changed = f
        .account
        .change_email(&admin, GOOD.into(), Some("new@example.org".into()))
        .await?;
    assert!(matches!(changed.notice, Some(Ok(_))));
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("To: owner@example.com"));
    assert!(mails[0].contains("new@example.org"));
    Ok(())
}

#[tokio::test]
async fn two_factor_enrolment_login_replay_and_disable() -> Result<(), ApiError> {
    let f = Fixture::new(Some(OWNER), None).await;
    let admin = f.admin().await;
    assert!(f.account.totp_begin(&admin, "wrong".into()).await.is_err());
    let e = f.account.totp_begin(&admin, GOOD.into()).await?;
    assert!(e.otpauth_uri.starts_with("otpauth://totp/VTO:admin?"));
    assert!(e.qr_svg.starts_with("<svg"));
    assert!(f
        .account
        .totp_confirm(&admin, "000000".into())
        .await
        .is_err());
    let recovery = f
        .account
        .totp_confirm(&admin, code_at(&e.secret, T0))
        .await?;
    assert_eq!(recovery.codes.len(), 10);

    // Login now needs a code after the password; no session before it.
    let (cookie, result) = f
        .account
        .login(&anonymous(), "admin".into(), GOOD.into())
        .await?;
    assert!(cookie.is_none());
    let ticket = result.second_factor.unwrap_or_default();
    // The enrolment's code was used: not again within its window.
    assert!(f
        .account
        .login_code(&anonymous(), ticket.clone(), code_at(&e.secret, T0))
        .await
        .is_err());
    f.clock.advance_secs(30);
    let cookie = f
        .account
        .login_code(
            &anonymous(),
            ticket.clone(),
            code_at(&e.secret, T0 + 30_000),
        )
        .await?;
    assert!(cookie.0.contains("HttpOnly"));
    // The ticket is spent.
    assert!(f
        .account
        .login_code(&anonymous(), ticket, code_at(&e.secret, T0 + 30_000))
        .await
        .is_err());

    // A recovery code works once.
    let (_, r) = f
        .account
        .login(&anonymous(), "admin".into(), GOOD.into())
        .await?;
    let t = r.second_factor.unwrap_or_default();
    f.account
        .login_code(&anonymous(), t, recovery.codes[0].clone())
        .await?;
    let (_, r) = f
        .account
        .login(&anonymous(), "admin".into(), GOOD.into())
        .await?;
    let t = r.second_factor.unwrap_or_default();
    assert!(f
        .account
        .login_code(&anonymous(), t, recovery.codes[0].clone())
        .await
        .is_err());

    // Disabling needs the password and a code.
    let session = Caller {
        session: f
            .account
            .auth
            .validate(
                &f.account
                    .auth
                    .login_code(
                        IP,
                        match f
                            .account
                            .auth
                            .login(IP, "admin".into(), GOOD.into())
                            .await?
                        {
                            LoginOutcome::SecondFactor(t) => t,
                            LoginOutcome::Session(_) => String::new(),
                        },
                        recovery.codes[1].clone(),
                    )
                    .await?,
            )
            .await?,
        ..anonymous()
    };
    assert!(f
        .account
        .totp_disable(&session, GOOD.into(), "123456".into())
        .await
        .is_err());
    f.clock.advance_secs(30);
    f.account
        .totp_disable(&session, GOOD.into(), code_at(&e.secret, T0 + 60_000))
        .await?;
    let (cookie, _) = f
        .account
        .login(&anonymous(), "admin".into(), GOOD.into())
        .await?;
    assert!(cookie.is_some(), "password alone again");
    let kinds = f.kinds().await;
    for k in [
        Kind::TwoFactorEnabled,
        Kind::TwoFactorFailed,
        Kind::RecoveryCodeUsed,
        Kind::TwoFactorDisabled,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
    Ok(())
}

#[tokio::test]
async fn wrong_two_factor_codes_count_toward_the_lockout() -> Result<(), ApiError> {
    let f = Fixture::new(Some(OWNER), None).await;
    let admin = f.admin().await;
    let e = f.account.totp_begin(&admin, GOOD.into()).await?;
    f.account
        .totp_confirm(&admin, code_at(&e.secret, T0))
        .await?;
    // A right password before each guess does not clear the count.
    let mut t = String::new();
    for left in (1..5).rev() {
        let (_, r) = f
            .account
            .login(&anonymous(), "admin".into(), GOOD.into())
            .await?;
        t = r.second_factor.unwrap_or_default();
        let e = f
            .account
            .login_code(&anonymous(), t.clone(), "000000".into())
            .await;
        says_left(e, left);
    }
    assert_eq!(
        f.account
            .login_code(&anonymous(), t, "000000".into())
            .await
            .err(),
        Some(ApiError::Locked {
            retry_after_secs: 300
        })
    );
    // The password is locked for this address as well.
    assert!(matches!(
        f.account
            .login(&anonymous(), "admin".into(), GOOD.into())
            .await,
        Err(ApiError::Locked { .. })
    ));
    Ok(())
}

mod system_time {
    use app::model::system_time::{ClockUpdate, TimeSettings};

    use super::*;

    #[tokio::test]
    async fn the_device_clock_moves_records_and_codes_not_expiries() -> Result<(), ApiError> {
        let f = Fixture::new(None, None).await;
        let admin = f.admin().await;
        let d = &f.services;
        assert_eq!(d.system.system_time(&admin).await?.now, T0);

        // 2030-01-01 12:00 in GMT+01:00.
        let settings = TimeSettings {
            display: app::model::system_time::TimeDisplay {
                zone: 60,
                ..Default::default()
            },
            ..TimeSettings::default()
        };
        let page = d
            .system
            .save_system_time(
                &admin,
                settings.clone(),
                ClockUpdate::Local("2030-01-01T12:00:00".into()),
            )
            .await?;
        const NOON_UTC_2030: UnixMillis = UnixMillis(1_893_495_600_000); // 2030-01-01T11:00:00Z
        assert_eq!(page.now, NOON_UTC_2030);
        assert_eq!(page.settings, settings);

        // The device's clock runs on from there.
        f.clock.advance_secs(60);
        assert_eq!(
            d.system.system_time(&admin).await?.now,
            NOON_UTC_2030 + 60_000
        );
        // Records carry the device's clock, in UTC: the save itself by the
        // clock as it was before it.
        let log = d.logs.security_log(&admin, 0).await?;
        let newest = &log.events[0];
        assert_eq!(newest.time, T0);
        assert_eq!(newest.detail.as_deref(), Some("System: Zone, System Time"));
        assert_eq!(log.display.zone, 60);

        // Sync PC, then an implausible PC clock: refused, nothing moves.
        let page = d.system.sync_pc(&admin, T0 + 5_000).await?;
        assert_eq!(page.now, T0 + 5_000);
        d.account.logout(&admin).await?;
        let admin = f.admin().await;
        let log = d.logs.security_log(&admin, 0).await?;
        assert_eq!(log.events[0].kind, Kind::LoginSucceeded);
        assert_eq!(log.events[0].time, T0 + 5_000);
        let events = log.total;
        assert!(matches!(
            d.system.sync_pc(&admin, UnixMillis(0)).await,
            Err(ApiError::Invalid { .. })
        ));
        assert_eq!(d.system.system_time(&admin).await?.now, T0 + 5_000);
        assert_eq!(d.logs.security_log(&admin, 0).await?.total, events);
        // Without a session: nothing.
        assert_eq!(
            d.system.sync_pc(&anonymous(), T0).await,
            Err(ApiError::Unauthorized)
        );
        Ok(())
    }

    #[tokio::test]
    async fn totp_codes_follow_the_device_clock() -> Result<(), ApiError> {
        let f = Fixture::new(None, None).await;
        let admin = f.admin().await;
        let d = &f.services;
        let e = d.account.totp_begin(&admin, GOOD.into()).await?;
        // The device's clock a day ahead of the host's: the code of the
        // device's time is the one that counts.
        d.system.sync_pc(&admin, T0 + 86_400_000).await?;
        assert!(d
            .account
            .totp_confirm(&admin, code_at(&e.secret, T0))
            .await
            .is_err());
        d.account
            .totp_confirm(&admin, code_at(&e.secret, T0 + 86_400_000))
            .await?;
        Ok(())
    }
}

/// The SIP server routes the Centre Call No. by Local Setting > Basic, as
/// saved and as imported with Device Info.
#[tokio::test]
async fn the_sip_server_follows_the_centre_call_number() -> Result<(), ApiError> {
    let f = Fixture::new(Some(OWNER), None).await;
    let admin = f.admin().await;
    assert_eq!(f.household.sip.centre().number, "888888");
    let mut basic = f.system.basic_settings(&admin).await?;
    basic.centre_call_no = "777777".into();
    basic.call_centre_time = app::model::settings::DailyPeriod {
        start: 8 * 60,
        end: 18 * 60,
    };
    f.system.save_basic_settings(&admin, basic).await?;
    assert_eq!(f.household.sip.centre().number, "777777");
    assert_eq!(f.household.sip.centre().from, 8 * 60);
    let mut info = f.system.export_device_info(&admin).await?;
    info.basic.centre_call_no = "666666".into();
    let file = serde_json::to_string(&info).map_err(|e| ApiError::Internal(e.to_string()))?;
    f.system.import_device_info(&admin, file).await?;
    assert_eq!(f.household.sip.centre().number, "666666");
    Ok(())
}
