use std::net::{IpAddr, Ipv4Addr};

use app::model::{security_log::SecurityEventKind as Kind, time::UnixMillis};

use super::*;
use crate::clock::sim::SimClock;

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const GOOD: &str = "Door-Bell7x";
const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));
const OTHER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 21));

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<SimClock>,
    auth: Auth,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().to_path_buf();
    let store = Arc::new(Store::open(&path).unwrap_or_else(|e| panic!("store: {e}")));
    let clock = Arc::new(SimClock::at(T0));
    let auth =
        Auth::new(store, clock.clone(), Policy::default()).unwrap_or_else(|e| panic!("auth: {e}"));
    Fixture {
        _dir: dir,
        path,
        clock,
        auth,
    }
}

async fn initialized() -> Fixture {
    let f = fixture();
    f.auth
        .initialize(IP, GOOD.into(), Some("owner@example.com".into()))
        .await
        .unwrap_or_else(|e| panic!("initialize: {e}"));
    f
}

/// Logs in from `ip` and returns the session token.
async fn login_token(f: &Fixture, ip: IpAddr) -> Result<String, ApiError> {
    f.auth
        .login(ip, "admin".into(), GOOD.into())
        .await?
        .session()
}

async fn valid(f: &Fixture, token: &str) -> Result<SessionRef, ApiError> {
    f.auth.validate(token).await?.ok_or(ApiError::Unauthorized)
}

/// Logs in and returns the validated session.
async fn session(f: &Fixture) -> Result<SessionRef, ApiError> {
    valid(f, &login_token(f, IP).await?).await
}

async fn kinds(f: &Fixture) -> Vec<Kind> {
    let (events, _) = f
        .auth
        .store
        .read(|r| Ok(r.security_events(0, 100)?))
        .await
        .unwrap_or_default();
    events.into_iter().rev().map(|e| e.kind).collect()
}

#[tokio::test]
async fn initialization_validates_and_happens_once() -> Result<(), ApiError> {
    let f = fixture();
    assert!(!f.auth.is_initialized());
    let weak = f.auth.initialize(IP, "abc123".into(), None).await;
    assert!(matches!(weak, Err(ApiError::Invalid { ref field, .. }) if field == "password"));
    let bad_mail = f
        .auth
        .initialize(IP, GOOD.into(), Some("nope".into()))
        .await;
    assert!(matches!(bad_mail, Err(ApiError::Invalid { ref field, .. }) if field == "email"));
    assert!(!f.auth.is_initialized(), "refused attempts change nothing");
    f.auth.initialize(IP, GOOD.into(), None).await?;
    assert!(f.auth.is_initialized());
    assert_eq!(
        f.auth.initialize(IP, "Other-Pass9".into(), None).await,
        Err(ApiError::AlreadyInitialized)
    );
    assert_eq!(kinds(&f).await, [Kind::Initialized]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_initialization_leaves_one_password() -> Result<(), ApiError> {
    let f = Arc::new(fixture());
    let attempts = ["Alpha-Door1", "Bravo-Door2", "Delta-Door3", "Kilo-Door4"];
    let mut tasks = Vec::new();
    for p in attempts {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            (p, f.auth.initialize(IP, p.into(), None).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (p, r) = t.await.map_err(|e| ApiError::Internal(e.to_string()))?;
        match r {
            Ok(()) => winners.push(p),
            Err(e) => assert_eq!(e, ApiError::AlreadyInitialized),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    // The winner's password is the one that works.
    f.auth.login(IP, "admin".into(), winners[0].into()).await?;
    for p in attempts.iter().filter(|p| **p != winners[0]) {
        assert!(f
            .auth
            .login(OTHER_IP, "admin".into(), (*p).into())
            .await
            .is_err());
    }
    Ok(())
}

#[tokio::test]
async fn lockout_after_five_failures_then_expiry() -> Result<(), ApiError> {
    let f = initialized().await;
    for left in [4, 3, 2, 1] {
        assert_eq!(
            f.auth.login(IP, "admin".into(), "Wrong-Pass1".into()).await,
            Err(ApiError::BadCredentials {
                attempts_left: left
            })
        );
    }
    assert_eq!(
        f.auth.login(IP, "admin".into(), "Wrong-Pass1".into()).await,
        Err(ApiError::Locked {
            retry_after_secs: 300
        })
    );
    f.clock.advance_secs(100);
    // The right password is refused while locked ...
    assert_eq!(
        f.auth.login(IP, "admin".into(), GOOD.into()).await,
        Err(ApiError::Locked {
            retry_after_secs: 200
        })
    );
    // ... from this address only.
    f.auth.login(OTHER_IP, "admin".into(), GOOD.into()).await?;
    f.clock.advance_secs(200);
    f.auth.login(IP, "admin".into(), GOOD.into()).await?;
    let k = kinds(&f).await;
    assert_eq!(k.iter().filter(|k| **k == Kind::LoginFailed).count(), 5);
    assert!(k.contains(&Kind::LockedOut));
    assert!(k.contains(&Kind::LoginRefusedWhileLocked));
    Ok(())
}

#[tokio::test]
async fn unknown_user_looks_like_a_wrong_password() -> Result<(), ApiError> {
    let f = initialized().await;
    let unknown = f.auth.login(IP, "root".into(), GOOD.into()).await;
    let wrong = f.auth.login(IP, "admin".into(), "Wrong-Pass1".into()).await;
    assert_eq!(unknown, Err(ApiError::BadCredentials { attempts_left: 4 }));
    assert_eq!(wrong, Err(ApiError::BadCredentials { attempts_left: 4 }));
    Ok(())
}

#[tokio::test]
async fn sessions_validate_expire_and_end() -> Result<(), ApiError> {
    let f = initialized().await;
    let token = login_token(&f, IP).await?;
    let s = f.auth.validate(&token).await?;
    assert_eq!(s.as_ref().map(|s| s.user.as_str()), Some("admin"));
    assert_eq!(f.auth.validate("garbage").await?, None);
    // Used every 20 minutes it stays; idle for 30 it ends.
    f.clock.advance_secs(20 * 60);
    assert!(f.auth.validate(&token).await?.is_some());
    f.clock.advance_secs(20 * 60);
    assert!(f.auth.validate(&token).await?.is_some());
    f.clock.advance_secs(30 * 60);
    assert_eq!(f.auth.validate(&token).await?, None);

    let token = login_token(&f, IP).await?;
    let s = valid(&f, &token).await?;
    f.auth.logout(&s, IP).await?;
    assert_eq!(f.auth.validate(&token).await?, None);
    Ok(())
}

#[tokio::test]
async fn password_change_needs_old_password_and_ends_other_sessions() -> Result<(), ApiError> {
    let f = initialized().await;
    let mine = login_token(&f, IP).await?;
    let other = login_token(&f, OTHER_IP).await?;
    let s = valid(&f, &mine).await?;
    let wrong = f
        .auth
        .change_password(&s, IP, "Wrong-Pass1".into(), "Gate#Keeper42".into())
        .await;
    assert!(matches!(wrong, Err(ApiError::Invalid { ref field, .. }) if field == "old_password"));
    let weak = f
        .auth
        .change_password(&s, IP, GOOD.into(), "password".into())
        .await;
    assert!(matches!(weak, Err(ApiError::Invalid { ref field, .. }) if field == "new_password"));
    f.auth
        .change_password(&s, IP, GOOD.into(), "Gate#Keeper42".into())
        .await?;
    assert!(f.auth.validate(&mine).await?.is_some());
    assert_eq!(f.auth.validate(&other).await?, None);
    assert!(f.auth.login(IP, "admin".into(), GOOD.into()).await.is_err());
    f.auth
        .login(IP, "admin".into(), "Gate#Keeper42".into())
        .await?;
    Ok(())
}

#[tokio::test]
async fn email_change_needs_password_and_a_valid_address() -> Result<(), ApiError> {
    let f = initialized().await;
    let s = session(&f).await?;
    let email = || async {
        f.auth
            .store
            .read(|r| Ok(r.account("admin")?.and_then(|a| a.email)))
            .await
    };
    let no_pw = f
        .auth
        .change_email(&s, IP, "Wrong-Pass1".into(), Some("new@example.com".into()))
        .await;
    assert!(matches!(no_pw, Err(ApiError::Invalid { ref field, .. }) if field == "password"));
    let bad = f
        .auth
        .change_email(&s, IP, GOOD.into(), Some("not-an-address".into()))
        .await;
    assert!(matches!(bad, Err(ApiError::Invalid { ref field, .. }) if field == "email"));
    assert_eq!(email().await?.as_deref(), Some("owner@example.com"));
    f.auth
        .change_email(&s, IP, GOOD.into(), Some("new@example.com".into()))
        .await?;
    assert_eq!(email().await?.as_deref(), Some("new@example.com"));
    f.auth.change_email(&s, IP, GOOD.into(), None).await?;
    assert_eq!(email().await?, None);
    Ok(())
}

#[tokio::test]
async fn factory_reset_wipes_after_the_password() -> Result<(), ApiError> {
    let f = initialized().await;
    let t = login_token(&f, IP).await?;
    let s = valid(&f, &t).await?;
    assert!(f
        .auth
        .factory_reset(&s, IP, "Wrong-Pass1".into())
        .await
        .is_err());
    assert!(f.auth.is_initialized());
    f.auth.factory_reset(&s, IP, GOOD.into()).await?;
    assert!(!f.auth.is_initialized());
    assert_eq!(f.auth.validate(&t).await?, None);
    assert_eq!(kinds(&f).await, [Kind::FactoryReset]);
    f.auth.initialize(IP, "Gate#Keeper42".into(), None).await?;
    Ok(())
}

#[tokio::test]
async fn no_secret_reaches_the_database_file() -> Result<(), ApiError> {
    let f = initialized().await;
    let token = login_token(&f, IP).await?;
    let s = valid(&f, &token).await?;
    f.auth
        .change_password(&s, IP, GOOD.into(), "Gate#Keeper42".into())
        .await?;
    let bytes = std::fs::read(f.path.join(crate::store::DB_FILE))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(GOOD.as_bytes()));
    assert!(!contains(b"Gate#Keeper42"));
    assert!(!contains(token.as_bytes()));
    assert!(contains(b"$argon2id$"), "the hashes are there");
    Ok(())
}

/// Polls `fut` until `reserved` says its attempt is held, then drops it:
/// a request that goes away mid-check (the browser navigates away, a
/// client times out).
async fn drop_when_reserved<F: std::future::Future>(fut: F, reserved: impl Fn() -> bool) {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..10_000 {
        let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        assert!(
            polled.is_pending(),
            "the check ended before it could be dropped"
        );
        if reserved() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("the attempt was never reserved");
}

fn pending(f: &Fixture) -> u32 {
    f.auth
        .lockouts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pending(&lockout::Key::new("admin", IP))
}

#[tokio::test]
async fn a_login_dropped_mid_check_leaves_no_reservation() -> Result<(), ApiError> {
    let f = initialized().await;
    // More dropped logins than the lockout's limit: each once held a place.
    for _ in 0..6 {
        drop_when_reserved(
            f.auth.login(IP, "admin".into(), "Wrong-Pass1".into()),
            || pending(&f) > 0,
        )
        .await;
        assert_eq!(pending(&f), 0, "the dropped attempt is abandoned");
    }
    // The right password still works: not "busy", not locked.
    session(&f).await?;
    Ok(())
}

#[tokio::test]
async fn a_two_factor_code_dropped_mid_check_leaves_no_reservation() -> Result<(), ApiError> {
    let f = initialized().await;
    let s = session(&f).await?;
    let enrolment = f.auth.totp_begin(&s, IP, GOOD.into()).await?;
    let code = code_at(&enrolment.secret, f.clock.now());
    f.auth.totp_confirm(&s, IP, code).await?;
    for _ in 0..6 {
        let LoginOutcome::SecondFactor(ticket) =
            f.auth.login(IP, "admin".into(), GOOD.into()).await?
        else {
            panic!("a second factor was expected");
        };
        drop_when_reserved(f.auth.login_code(IP, ticket, "123456".into()), || {
            pending(&f) > 0
        })
        .await;
        assert_eq!(pending(&f), 0, "the dropped attempt is abandoned");
    }
    f.clock.advance_secs(60);
    let LoginOutcome::SecondFactor(ticket) = f.auth.login(IP, "admin".into(), GOOD.into()).await?
    else {
        panic!("a second factor was expected");
    };
    let code = code_at(&enrolment.secret, f.clock.now());
    f.auth.login_code(IP, ticket, code).await?;
    Ok(())
}

#[tokio::test]
async fn pending_two_factor_logins_stop_at_256_until_they_expire() -> Result<(), ApiError> {
    let f = initialized().await;
    let s = session(&f).await?;
    let enrolment = f.auth.totp_begin(&s, IP, GOOD.into()).await?;
    let code = code_at(&enrolment.secret, f.clock.now());
    f.auth.totp_confirm(&s, IP, code).await?;
    // The first ticket is waiting for its code; 255 more fill the table.
    let LoginOutcome::SecondFactor(first) = f.auth.login(IP, "admin".into(), GOOD.into()).await?
    else {
        panic!("a second factor was expected");
    };
    for _ in 1..256 {
        f.auth.pending_login("admin", OTHER_IP)?;
    }
    // The 257th right password is refused as busy, not queued.
    let full = f.auth.login(IP, "admin".into(), GOOD.into()).await;
    assert!(matches!(full, Err(ApiError::Busy)), "{full:?}");
    // Tickets already issued are not pushed out by the bound.
    f.clock.advance_secs(30);
    let code = code_at(&enrolment.secret, f.clock.now());
    f.auth.login_code(IP, first, code).await?;
    // Once the others expire (5 minutes), a login finds room again.
    f.clock.advance_secs(5 * 60);
    let again = f.auth.login(IP, "admin".into(), GOOD.into()).await?;
    assert!(matches!(again, LoginOutcome::SecondFactor(_)));
    Ok(())
}

/// The current TOTP code for a base32 secret at `now`.
pub(super) fn code_at(secret_b32: &str, now: UnixMillis) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map(|s| s.as_ref().to_vec())
        .unwrap_or_default();
    totp::totp(&secret, "admin")
        .map(|t| {
            t.generate(u64::try_from(now.0 / 1000).unwrap_or(0))
                .to_string()
        })
        .unwrap_or_default()
}

/// The stored HA1 of `user`.
async fn stored_ha1(f: &Fixture, user: &'static str) -> Option<String> {
    f.auth
        .store
        .read(move |r| Ok(r.account(user)?.and_then(|a| a.digest_ha1)))
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn digest_logins_check_the_ha1_of_the_password_and_count_toward_the_lockout(
) -> Result<(), ApiError> {
    let f = initialized().await;
    let realm = f.auth.realm().to_string();
    assert!(realm.starts_with("Login to ") && !realm.contains(','));
    let ha1 = dahua::dhip::ha1("admin", &realm, GOOD);
    assert_eq!(stored_ha1(&f, "admin").await, Some(ha1.clone()));
    let right = ha1.clone();
    let role = f
        .auth
        .digest_login("admin", IP, move |h| h == right)
        .await?;
    assert_eq!(role, app::model::users::Role::Admin);
    // Four wrong answers count down, the fifth locks; the UI's login from
    // the same address is locked too, another address is not.
    for left in [4, 3, 2, 1] {
        let e = f.auth.digest_login("admin", IP, |_| false).await;
        assert_eq!(
            e,
            Err(ApiError::BadCredentials {
                attempts_left: left
            })
        );
    }
    let e = f.auth.digest_login("admin", IP, |_| false).await;
    assert!(matches!(e, Err(ApiError::Locked { .. })), "{e:?}");
    let right = ha1.clone();
    let e = f.auth.digest_login("admin", IP, move |h| h == right).await;
    assert!(matches!(e, Err(ApiError::Locked { .. })), "{e:?}");
    assert!(matches!(
        login_token(&f, IP).await,
        Err(ApiError::Locked { .. })
    ));
    assert!(login_token(&f, OTHER_IP).await.is_ok());
    // Unknown users prove nothing.
    let e = f.auth.digest_login("root", OTHER_IP, |_| true).await;
    assert!(matches!(e, Err(ApiError::BadCredentials { .. })), "{e:?}");
    assert!(kinds(&f).await.contains(&Kind::LockedOut));
    Ok(())
}

#[tokio::test]
async fn the_ha1_follows_password_changes_and_a_login_fills_a_missing_one() -> Result<(), ApiError>
{
    let f = initialized().await;
    // An account stored before digests: no HA1 until the next login.
    f.auth
        .store
        .write(|w| {
            let mut a = w.account("admin")?.ok_or(ApiError::Unauthorized)?;
            a.digest_ha1 = None;
            w.put_account("admin", &a)?;
            Ok(())
        })
        .await?;
    let e = f.auth.digest_login("admin", IP, |_| true).await;
    assert!(matches!(e, Err(ApiError::BadCredentials { .. })), "{e:?}");
    let s = session(&f).await?;
    let realm = f.auth.realm().to_string();
    assert_eq!(
        stored_ha1(&f, "admin").await,
        Some(dahua::dhip::ha1("admin", &realm, GOOD))
    );
    let new = "Front-Door9y";
    f.auth
        .change_password(&s, IP, GOOD.into(), new.into())
        .await?;
    assert_eq!(
        stored_ha1(&f, "admin").await,
        Some(dahua::dhip::ha1("admin", &realm, new))
    );
    Ok(())
}

#[tokio::test]
async fn two_factor_accounts_have_no_ha1_and_digest_logins_are_refused() -> Result<(), ApiError> {
    let f = initialized().await;
    let s = session(&f).await?;
    let enrolment = f.auth.totp_begin(&s, IP, GOOD.into()).await?;
    let code = code_at(&enrolment.secret, f.clock.now());
    f.auth.totp_confirm(&s, IP, code).await?;
    assert_eq!(stored_ha1(&f, "admin").await, None);
    let e = f.auth.digest_login("admin", IP, |_| true).await;
    assert!(matches!(e, Err(ApiError::BadCredentials { .. })), "{e:?}");
    // The password step of a two-factor login does not store one either.
    let _ticket = f.auth.login(IP, "admin".into(), GOOD.into()).await?;
    assert_eq!(stored_ha1(&f, "admin").await, None);
    Ok(())
}
