//! Accounts, login, sessions and lockout.
//!
//! [`Auth`] owns the policy; [`lockout`] and [`session`] hold the pure parts
//! and [`password`] the hashing. Every change is one store transaction that
//! also writes its security log entry.

pub mod digest;
pub mod flood;
pub mod lockout;
pub mod online;
pub mod password;
pub mod recovery;
pub mod reset;
pub mod service;
#[cfg(test)]
mod service_tests;
pub mod session;
pub mod totp;
pub mod two_factor;
pub mod users;
#[cfg(test)]
mod users_tests;

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use app::{
    error::ApiError,
    model::{
        email, password as rules,
        security_log::{SecurityEvent, SecurityEventKind},
        two_factor::TwoFactorStatus,
        ADMIN_USER,
    },
    services::SessionRef,
};

pub use crate::error::random;
use crate::{
    clock::Clock,
    store::{
        settings::SettingsStore,
        tables::{AccountRecord, SessionRecord},
        Read, Store, StoreError, Writer,
    },
};
use flood::FloodLog;
use lockout::{Check, Failure, Key, Lockouts, Policy};
use session::Validity;

pub struct Auth {
    /// The store; its clock is what people read (record times, TOTP
    /// codes): the device's clock.
    pub store: SettingsStore,
    /// Expiries and lockouts: the host's clock, which nobody sets.
    clock: Arc<dyn Clock>,
    hasher: password::Hasher,
    lockouts: Mutex<Lockouts>,
    initialized: AtomicBool,
    reset_policy: reset::Policy,
    /// Password reset's limits per source, checked before the account's.
    reset_sources: Arc<Mutex<reset::SourceLimits>>,
    /// Failures in the security log, coalesced in a flood.
    flood: Arc<Mutex<FloodLog>>,
    /// Hash of the ticket -> a login waiting for its two-factor code.
    pending_logins: Mutex<HashMap<[u8; 32], two_factor::PendingLogin>>,
    /// User -> a two-factor enrolment waiting for its first code.
    enrolments: Mutex<HashMap<String, two_factor::PendingEnrolment>>,
    /// `Login to <serial>`: the realm of HTTP Digest and DHIP logins.
    realm: String,
    /// Clients connected through the front doors that keep connections.
    pub online: Arc<online::Online>,
    /// Sessions as last read ([`Self::validate`]).
    known: Mutex<session::Known>,
}

/// What a right password does to the failure count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Success {
    Clears,
    KeepsCount,
}

/// What a right password leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A new session: the cookie value.
    Session(String),
    /// Two-factor login: the ticket for the code step.
    SecondFactor(String),
}

impl LoginOutcome {
    /// The session's cookie value, when the login is complete.
    pub fn session(self) -> Result<String, ApiError> {
        match self {
            Self::Session(token) => Ok(token),
            Self::SecondFactor(_) => Err(ApiError::Unauthorized),
        }
    }
}

impl Auth {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, policy: Policy) -> Result<Self, ApiError> {
        let initialized = store.read(|r| r.has_account())?;
        let realm = dahua::dhip::realm(&store.serial()?);
        Ok(Self {
            realm,
            online: Arc::default(),
            store: SettingsStore::new(store, clock.clone()),
            clock,
            hasher: password::Hasher::new(),
            reset_policy: reset::Policy {
                lock_ms: policy.lock_ms,
                ..reset::Policy::default()
            },
            lockouts: Mutex::new(Lockouts::new(policy)),
            reset_sources: Arc::default(),
            flood: Arc::new(Mutex::new(FloodLog::new(flood::Policy::default()))),
            initialized: AtomicBool::new(initialized),
            pending_logins: Mutex::new(HashMap::new()),
            enrolments: Mutex::new(HashMap::new()),
            known: Mutex::default(),
        })
    }

    /// Records and codes then follow `wall` (the device's clock); expiries
    /// stay on the clock given to [`Self::new`].
    pub fn with_wall_clock(mut self, wall: Arc<dyn Clock>) -> Self {
        self.store = SettingsStore::new(self.store.store().clone(), wall);
        self
    }

    /// Now, by the device's clock.
    pub fn now(&self) -> app::model::time::UnixMillis {
        self.store.now()
    }

    /// A time of the expiry clock as the device's clock reads it.
    pub fn to_wall(&self, t: app::model::time::UnixMillis) -> app::model::time::UnixMillis {
        t + (self.store.now() - self.clock.now())
    }

    /// The realm of HTTP Digest and DHIP logins: `Login to <serial>`.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// What Digest and DHIP logins check `user`'s password with.
    /// `md5(user:realm:password)`: what HTTP Digest and DHIP check.
    pub fn ha1(&self, user: &str, password: &str) -> String {
        dahua::dhip::ha1(user, &self.realm, password)
    }

    pub fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::SeqCst)
    }

    fn event(&self, kind: SecurityEventKind, user: &str, ip: IpAddr) -> SecurityEvent {
        self.store.event(kind, user, ip)
    }

    /// Logs a failure anyone can cause, coalesced in a flood ([`flood`]).
    async fn log_failure(
        &self,
        kind: SecurityEventKind,
        user: &str,
        ip: IpAddr,
    ) -> Result<(), ApiError> {
        let event = self.event(kind, user, ip);
        let (flood, now) = (self.flood.clone(), self.clock.now());
        self.store
            .write(move |w| Ok(flood::record(w, &flood, &event, now)?))
            .await
    }

    /// Initialization (manual ch. 1): sets the admin password once.
    pub async fn initialize(
        &self,
        ip: IpAddr,
        password: String,
        email: Option<String>,
    ) -> Result<(), ApiError> {
        if self.is_initialized() {
            return Err(ApiError::AlreadyInitialized);
        }
        check_new_password("password", &password)?;
        let email = check_email(email)?;
        let digest_ha1 = Some(self.ha1(ADMIN_USER, &password));
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let account = AccountRecord {
            password_hash: hash,
            email,
            created: now,
            password_changed: now,
            reset: Default::default(),
            totp: None,
            role: Default::default(),
            digest_ha1,
        };
        let event = self.event(SecurityEventKind::Initialized, ADMIN_USER, ip);
        // The transaction decides: of two concurrent attempts one finds the
        // account already there.
        self.store
            .write(move |w| {
                if w.has_account()? {
                    return Err(ApiError::AlreadyInitialized);
                }
                w.put_account(ADMIN_USER, &account)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        self.initialized.store(true, Ordering::SeqCst);
        tracing::info!(%ip, "device initialized");
        Ok(())
    }

    /// Checks the current password, typed in a form's `field`, for `user`
    /// from `ip`, counting failures toward the lockout: empty or wrong is
    /// that field's error (a lockout stays a lockout).
    pub async fn check_password(
        &self,
        user: &str,
        ip: IpAddr,
        password: String,
        field: &'static str,
    ) -> Result<(), ApiError> {
        if password.is_empty() {
            return Err(ApiError::invalid(field, "Enter the current password"));
        }
        self.verify_password(user, ip, password, Success::Clears)
            .await
            .map_err(wrong_password_as(field))
    }

    /// As [`Self::check_password`]; with [`Success::KeepsCount`] a right
    /// password leaves earlier failures counted: when a second factor
    /// follows, only it clears them, or each right password would buy an
    /// attacker 4 more code guesses.
    async fn verify_password(
        &self,
        user: &str,
        ip: IpAddr,
        password: String,
        success: Success,
    ) -> Result<(), ApiError> {
        let user_owned = user.to_string();
        let hash = self
            .store
            .read(move |r| Ok(r.account(&user_owned)?.map(|a| a.password_hash)))
            .await?;
        let attempt = self.reserve(user, ip, hash.is_some()).await?;
        // The attempt is reserved: whatever happens next settles it, and a
        // request dropped on the way abandons it (the guard's drop).
        // A user name without an account gets a dummy check only while the
        // global budget lasts: a flood of made-up names must not keep the
        // argon2 slots from the owner.
        let check = hash.is_some() || self.lock().unknown_user_check(self.clock.now());
        let verified = if check {
            self.hasher.verify(password, hash).await?
        } else {
            false
        };
        match verified {
            true => {
                match success {
                    Success::Clears => attempt.succeed(),
                    Success::KeepsCount => attempt.keep_count(),
                }
                Ok(())
            }
            false => Err(self.failed(attempt, user, ip, "password").await),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lockouts> {
        self.lockouts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn known(&self) -> std::sync::MutexGuard<'_, session::Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Login: a new session, or with two-factor login on, a ticket for
    /// the code step.
    pub async fn login(
        &self,
        ip: IpAddr,
        user: String,
        password: String,
    ) -> Result<LoginOutcome, ApiError> {
        if !self.is_initialized() {
            return Err(ApiError::NotInitialized);
        }
        let owned = user.clone();
        let two_factor = self
            .store
            .read(move |r| Ok(r.account(&owned)?.and_then(|a| a.totp).is_some()))
            .await?;
        let success = if two_factor {
            Success::KeepsCount
        } else {
            Success::Clears
        };
        let ha1 = self.ha1(&user, &password);
        self.verify_password(&user, ip, password, success).await?;
        if two_factor {
            return Ok(LoginOutcome::SecondFactor(self.pending_login(&user, ip)?));
        }
        self.remember_digest(&user, ha1).await?;
        Ok(LoginOutcome::Session(
            self.start_session(&user, ip, &[]).await?,
        ))
    }

    /// Stores `ha1` for Digest and DHIP logins when it differs from the
    /// stored one (accounts from before digests get theirs at a login).
    async fn remember_digest(&self, user: &str, ha1: String) -> Result<(), ApiError> {
        let user = user.to_string();
        self.store
            .write(move |w| {
                let Some(mut account) = w.account(&user)? else {
                    return Ok(());
                };
                if account.totp.is_none() && account.digest_ha1.as_deref() != Some(ha1.as_str()) {
                    account.digest_ha1 = Some(ha1);
                    w.put_account(&user, &account)?;
                }
                Ok(())
            })
            .await
    }

    /// A login by HTTP Digest or DHIP: `proves` checks the client's answer
    /// against the account's HA1. Counts toward the same lockout per
    /// (user, address) as the UI's logins; accounts with two-factor login
    /// (which these protocols cannot ask for) or without a stored HA1 are
    /// refused like a wrong password. The account's role when it proves.
    pub async fn digest_login(
        &self,
        user: &str,
        ip: IpAddr,
        proves: impl Fn(&str) -> bool + Send + 'static,
    ) -> Result<app::model::users::Role, ApiError> {
        if !self.is_initialized() {
            return Err(ApiError::NotInitialized);
        }
        let known = self.role(user).await?.is_some();
        let attempt = self.reserve(user, ip, known).await?;
        let owned = user.to_string();
        let role = self
            .store
            .read(move |r| {
                let Some(a) = r.account(&owned)? else {
                    return Ok(None);
                };
                if let (None, Some(ha1)) = (&a.totp, &a.digest_ha1) {
                    if proves(ha1) {
                        return Ok(Some(a.role));
                    }
                }
                // The ONVIF password of the ONVIF user: recorders and Home
                // Assistant give RTSP and the snapshot the ONVIF credentials.
                let onvif = r.settings(crate::store::settings::ONVIF)?;
                Ok(onvif
                    .digest_for(&owned)
                    .filter(|h| proves(h))
                    .map(|_| a.role))
            })
            .await?;
        match role {
            Some(role) => {
                attempt.succeed();
                Ok(role)
            }
            None => Err(self.failed(attempt, user, ip, "digest").await),
        }
    }

    /// A login proved by something other than the account's own password
    /// (ONVIF's WS-Security token against the ONVIF password): the attempt
    /// is reserved before `proves` runs and counts toward the same lockout
    /// per (user, address) as the UI's logins. The account's role when it
    /// proves and exists.
    pub async fn login_proved_by(
        &self,
        user: &str,
        ip: IpAddr,
        proves: impl FnOnce() -> bool,
    ) -> Result<app::model::users::Role, ApiError> {
        if !self.is_initialized() {
            return Err(ApiError::NotInitialized);
        }
        let role = self.role(user).await?;
        let attempt = self.reserve(user, ip, role.is_some()).await?;
        let role = if proves() { role } else { None };
        match role {
            Some(role) => {
                attempt.succeed();
                Ok(role)
            }
            None => Err(self.failed(attempt, user, ip, "ws_security").await),
        }
    }

    /// The role of `user`'s account, if it exists.
    pub async fn role(&self, user: &str) -> Result<Option<app::model::users::Role>, ApiError> {
        let owned = user.to_string();
        self.store
            .read(move |r| Ok(r.account(&owned)?.map(|a| a.role)))
            .await
    }

    /// Reserves a login attempt of `user` from `ip` (`known`: `user` has
    /// an account), or says why not.
    async fn reserve(
        &self,
        user: &str,
        ip: IpAddr,
        known: bool,
    ) -> Result<lockout::Reserved<'_>, ApiError> {
        match lockout::reserve(&self.lockouts, Key::new(user, ip), known, self.clock.now()) {
            Ok(attempt) => Ok(attempt),
            Err(Check::Locked {
                retry_after_secs,
                first_refusal,
            }) => {
                if first_refusal {
                    self.log_failure(SecurityEventKind::LoginRefusedWhileLocked, user, ip)
                        .await?;
                }
                Err(ApiError::Locked { retry_after_secs })
            }
            Err(_) => Err(ApiError::Busy),
        }
    }

    /// Settles a failed attempt: logged, counted, perhaps a lockout.
    async fn failed(
        &self,
        attempt: lockout::Reserved<'_>,
        user: &str,
        ip: IpAddr,
        how: &str,
    ) -> ApiError {
        let failure = attempt.fail(self.clock.now());
        crate::metrics::METRICS.login_failed(how);
        tracing::warn!(%ip, "wrong password");
        match self
            .log_failed(&failure, SecurityEventKind::LoginFailed, user, ip)
            .await
        {
            Err(e) => e,
            Ok(Some(retry_after_secs)) => ApiError::Locked { retry_after_secs },
            Ok(None) => ApiError::BadCredentials {
                attempts_left: failure.attempts_left(),
            },
        }
    }

    /// Logs a failed attempt (as `kind`) and the lock or back-off it led
    /// to; how long the lock lasts if it locked.
    async fn log_failed(
        &self,
        failure: &Failure,
        kind: SecurityEventKind,
        user: &str,
        ip: IpAddr,
    ) -> Result<Option<u64>, ApiError> {
        self.log_failure(kind, user, ip).await?;
        let (then, locked) = match *failure {
            Failure::AttemptsLeft(_) => return Ok(None),
            Failure::LockedNow { retry_after_secs } => {
                tracing::warn!(%ip, retry_after_secs, "account locked for address");
                (SecurityEventKind::LockedOut, Some(retry_after_secs))
            }
            Failure::SourceLockedNow { retry_after_secs } => {
                tracing::warn!(%ip, retry_after_secs, "address locked after failures");
                (SecurityEventKind::AddressLocked, Some(retry_after_secs))
            }
            Failure::SlowedNow {
                retry_after_secs, ..
            } => {
                tracing::warn!(%ip, retry_after_secs, "account's logins slowed down");
                (SecurityEventKind::LoginsSlowed, None)
            }
        };
        self.log_failure(then, user, ip).await?;
        Ok(locked)
    }

    /// Creates a session for `user`, logging the login (and `also`).
    async fn start_session(
        &self,
        user: &str,
        ip: IpAddr,
        also: &[SecurityEventKind],
    ) -> Result<String, ApiError> {
        let id = session::new_id()?;
        let now = self.clock.now();
        let record = SessionRecord {
            user: user.to_string(),
            created: now,
            last_seen: now,
            ip: ip.to_string(),
        };
        let mut events = vec![self.event(SecurityEventKind::LoginSucceeded, user, ip)];
        events.extend(also.iter().map(|k| self.event(*k, user, ip)));
        let hash = id.hash;
        self.store
            .write(move |w| {
                w.put_session(&hash, &record)?;
                drop_oldest_sessions(w, &record.user)?;
                for e in &events {
                    w.log(e)?;
                }
                Ok(())
            })
            .await?;
        tracing::info!(%ip, "login");
        Ok(id.token)
    }

    /// Two-factor state of `user`'s account.
    pub async fn two_factor_status(&self, user: &str) -> Result<TwoFactorStatus, ApiError> {
        let user = user.to_string();
        self.store
            .read(move |r| {
                Ok(r.account(&user)?
                    .and_then(|a| a.totp)
                    .map(|t| TwoFactorStatus {
                        enabled: true,
                        recovery_codes_left: t.recovery.len(),
                    })
                    .unwrap_or_default())
            })
            .await
    }

    /// The session a cookie value stands for, if it is valid now.
    pub async fn validate(&self, token: &str) -> Result<Option<SessionRef>, ApiError> {
        let Some(hash) = session::hash_token(token) else {
            return Ok(None);
        };
        // Before the read: a commit during it makes what is read stale.
        let changes = self.store.store().changes();
        let known = self.known().get(changes, &hash);
        let found = match known {
            Some(found) => Some(found),
            // Read in place, not on the blocking pool: two lookups take
            // microseconds, and every request with a cookie comes through
            // here (a hop to another thread costs a wake-up on a busy
            // board).
            None => {
                let found = self.store.store().read(|r| {
                    let Some(record) = r.session(&hash)? else {
                        return Ok::<_, StoreError>(None);
                    };
                    let role = r.account(&record.user)?.map(|a| a.role);
                    Ok(Some((record, role)))
                })?;
                if let Some(found) = &found {
                    self.known().put(changes, hash, found.clone());
                }
                found
            }
        };
        let Some((record, role)) = found else {
            return Ok(None);
        };
        let now = self.clock.now();
        // A session whose account is gone ends with it.
        let validity = match role {
            Some(_) => session::validity(&record, now),
            None => Validity::Expired,
        };
        match validity {
            Validity::Expired => {
                self.store
                    .write(move |w| Ok(w.remove_session(&hash)?))
                    .await?;
                Ok(None)
            }
            Validity::Valid { touch } => {
                if touch {
                    let mut touched = record.clone();
                    touched.last_seen = now;
                    // Without a disk sync (milliseconds on the request's
                    // path once a minute): a power cut that loses it only
                    // makes the session's idle time older.
                    let store = self.store.store().clone();
                    tokio::task::spawn_blocking(move || {
                        store.write_unsynced(|w| w.put_session(&hash, &touched))
                    })
                    .await
                    .map_err(crate::error::Error::Task)??;
                }
                Ok(Some(SessionRef {
                    id_hash: hash,
                    user: record.user,
                    role: role.unwrap_or(app::model::users::Role::Viewer),
                }))
            }
        }
    }

    pub async fn logout(&self, session: &SessionRef, ip: IpAddr) -> Result<(), ApiError> {
        let hash = session.id_hash;
        let event = self.event(SecurityEventKind::LoggedOut, &session.user, ip);
        self.store
            .write(move |w| {
                w.remove_session(&hash)?;
                w.log(&event)?;
                Ok(())
            })
            .await
    }

    /// Changes the password; every other session of the account ends.
    pub async fn change_password(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        old: String,
        new: String,
    ) -> Result<(), ApiError> {
        if old.is_empty() {
            return Err(ApiError::invalid(
                "old_password",
                "Enter the current password",
            ));
        }
        check_password_of(&session.user, "new_password", &new)?;
        if old == new {
            return Err(ApiError::invalid(
                "new_password",
                "The new password must differ from the old one",
            ));
        }
        self.check_password(&session.user, ip, old, "old_password")
            .await?;
        let ha1 = self.ha1(&session.user, &new);
        let hash = self.hasher.hash(new).await?;
        let (user, keep) = (session.user.clone(), session.id_hash);
        let now = self.clock.now();
        let event = self.event(SecurityEventKind::PasswordChanged, &user, ip);
        self.store
            .write(move |w| {
                let mut account = w.account(&user)?.ok_or(ApiError::Unauthorized)?;
                account.password_hash = hash;
                account.password_changed = now;
                account.digest_ha1 = account.totp.is_none().then_some(ha1);
                w.put_account(&user, &account)?;
                w.remove_sessions(|id, s| s.user == user && *id != keep)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        tracing::info!(%ip, "password changed");
        Ok(())
    }

    /// Sets or removes the reset email; needs the current password.
    /// Returns the address it replaced.
    pub async fn change_email(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        password: String,
        email: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let email = check_email(email)?;
        self.check_password(&session.user, ip, password, "password")
            .await?;
        let user = session.user.clone();
        let event = self.event(SecurityEventKind::EmailChanged, &user, ip);
        self.store
            .write(move |w| {
                let mut account = w.account(&user)?.ok_or(ApiError::Unauthorized)?;
                let old = std::mem::replace(&mut account.email, email);
                w.put_account(&user, &account)?;
                w.log(&event)?;
                Ok(old)
            })
            .await
    }

    /// Factory reset: after the password, every table is emptied in one
    /// transaction; the log then holds only the reset itself.
    pub async fn factory_reset(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        password: String,
    ) -> Result<(), ApiError> {
        self.check_password(&session.user, ip, password, "password")
            .await?;
        let event = self.event(SecurityEventKind::FactoryReset, &session.user, ip);
        self.store
            .write(move |w| {
                w.wipe()?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        self.initialized.store(false, Ordering::SeqCst);
        self.lock().clear();
        self.reset_sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.flood.lock().unwrap_or_else(|p| p.into_inner()).clear();
        if let Ok(mut p) = self.pending_logins.lock() {
            p.clear();
        }
        if let Ok(mut e) = self.enrolments.lock() {
            e.clear();
        }
        tracing::warn!(%ip, "factory defaults restored");
        Ok(())
    }

    /// Deletes expired sessions.
    pub async fn purge_sessions(&self) -> Result<usize, ApiError> {
        let now = self.clock.now();
        self.store
            .write(move |w| {
                Ok(w.remove_sessions(|_, s| session::validity(s, now) == Validity::Expired)?)
            })
            .await
    }
}

/// A wrong current password in a form is that field's error (a lockout
/// stays a lockout).
fn wrong_password_as(field: &'static str) -> impl Fn(ApiError) -> ApiError {
    move |e| match e {
        ApiError::BadCredentials { attempts_left } => {
            ApiError::wrong_password(field, attempts_left)
        }
        other => other,
    }
}

/// The password rules, authoritative on the server; `field` names the form
/// field for the error.
fn check_new_password(field: &str, password: &str) -> Result<(), ApiError> {
    check_password_of(ADMIN_USER, field, password)
}

/// [`check_new_password`] for `user`'s password.
fn check_password_of(user: &str, field: &str, password: &str) -> Result<(), ApiError> {
    match rules::first_error(user, password) {
        Some(rule) => Err(ApiError::invalid(field, rule.message(user))),
        None => Ok(()),
    }
}

fn check_email(email: Option<String>) -> Result<Option<String>, ApiError> {
    match email.map(|e| e.trim().to_string()) {
        None => Ok(None),
        Some(e) if e.is_empty() => Ok(None),
        Some(e) => match email::validate(&e) {
            Ok(()) => Ok(Some(e)),
            Err(m) => Err(ApiError::invalid("email", m)),
        },
    }
}

/// Keeps at most [`session::MAX_PER_USER`] sessions for `user`.
fn drop_oldest_sessions(w: &Writer, user: &str) -> Result<(), StoreError> {
    let mut mine: Vec<(_, [u8; 32])> = w
        .sessions()?
        .into_iter()
        .filter(|(_, s)| s.user == user)
        .map(|(id, s)| (s.created, id))
        .collect();
    if mine.len() <= session::MAX_PER_USER {
        return Ok(());
    }
    mine.sort();
    let excess = mine.len() - session::MAX_PER_USER;
    let doomed: Vec<[u8; 32]> = mine.into_iter().take(excess).map(|(_, id)| id).collect();
    w.remove_sessions(|id, _| doomed.contains(id))?;
    Ok(())
}

#[cfg(test)]
mod tests;
