//! Two-factor login flows on top of [`super::totp`]: enrolment (password,
//! then a first valid code), the second login step, and disabling.

use std::net::IpAddr;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest, Sha256};

use app::{
    error::ApiError,
    model::{
        reset::{format_code, CODE_LEN},
        security_log::SecurityEventKind as Kind,
        time::UnixMillis,
        two_factor::{code_error, RecoveryCodes, TotpEnrolment},
    },
    services::SessionRef,
};

use super::{
    lockout::{Check, Key},
    random,
    reset::code_from_random,
    totp::{self, TotpRecord, Verdict, RECOVERY_CODES},
    wrong_password_as, Auth,
};
use crate::store::Read;

/// How long the code step of a login, or an enrolment, may take.
pub const PENDING_MS: i64 = 5 * 60 * 1000;
/// At most this many logins wait for their code at once.
const MAX_PENDING: usize = 256;

/// A login whose password was right, waiting for its code.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    pub user: String,
    pub ip: IpAddr,
    pub expires: UnixMillis,
}

/// An enrolment waiting for its first code.
#[derive(Clone, Debug)]
pub struct PendingEnrolment {
    pub secret: Vec<u8>,
    pub expires: UnixMillis,
}

fn wrong_code(attempts_left: u32) -> ApiError {
    let hint = match attempts_left {
        0 => String::new(),
        1 => " 1 attempt left before the account is locked for your address.".into(),
        n => format!(" {n} attempts left before the account is locked for your address."),
    };
    ApiError::invalid("code", format!("Wrong code.{hint}"))
}

impl Auth {
    /// After a right password on an account with two-factor login: a
    /// ticket for [`Self::login_code`].
    pub(super) fn pending_login(&self, user: &str, ip: IpAddr) -> Result<String, ApiError> {
        let raw = random::<32>()?;
        let now = self.clock.now();
        let mut pending = self.pending()?;
        pending.retain(|_, p| p.expires > now);
        if pending.len() >= MAX_PENDING {
            return Err(ApiError::Busy);
        }
        pending.insert(
            Sha256::digest(raw).into(),
            PendingLogin {
                user: user.to_string(),
                ip,
                expires: now + PENDING_MS,
            },
        );
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    fn pending(
        &self,
    ) -> Result<
        std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], PendingLogin>>,
        ApiError,
    > {
        self.pending_logins
            .lock()
            .map_err(|_| ApiError::Internal("pending logins poisoned".into()))
    }

    /// The second login step: a code from the app or a recovery code.
    /// Wrong codes count toward the same lockout as wrong passwords.
    pub async fn login_code(
        &self,
        ip: IpAddr,
        ticket: String,
        code: String,
    ) -> Result<String, ApiError> {
        let expired = || {
            ApiError::invalid(
                "ticket",
                "This login has expired: enter the password again.",
            )
        };
        let hash: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&ticket)
            .ok()
            .filter(|r| r.len() == 32)
            .map(|r| Sha256::digest(&r).into())
            .ok_or_else(expired)?;
        let now = self.clock.now();
        let login = self
            .pending()?
            .get(&hash)
            .filter(|p| p.expires > now && p.ip == ip)
            .cloned()
            .ok_or_else(expired)?;
        if let Some(m) = code_error(&code) {
            return Err(ApiError::invalid("code", m));
        }
        let verdict = self.verify_code(&login.user, ip, code, false).await;
        if matches!(verdict, Err(ApiError::Locked { .. })) {
            self.pending()?.remove(&hash);
        }
        let verdict = verdict?;
        self.pending()?.remove(&hash);
        let also: &[Kind] = match verdict {
            Some(Verdict::RecoveryAccepted) => {
                tracing::warn!(%ip, "login with a recovery code");
                &[Kind::RecoveryCodeUsed]
            }
            // Accepted, or two-factor login was switched off meanwhile (the
            // password alone was then enough).
            _ => &[],
        };
        self.start_session(&login.user, ip, also).await
    }

    /// Checks a code for `user`'s two-factor login, counting wrong ones
    /// toward the login lockout. Returns `None` when two-factor login is
    /// off; with `disable`, a right code also turns it off.
    async fn verify_code(
        &self,
        user: &str,
        ip: IpAddr,
        code: String,
        disable: bool,
    ) -> Result<Option<Verdict>, ApiError> {
        let now = self.clock.now();
        let wall = self.store.now();
        // Limited as passwords are: per user and source, per source, and
        // the account's back-off across sources.
        let attempt = match super::lockout::reserve(&self.lockouts, Key::new(user, ip), true, now) {
            Ok(attempt) => attempt,
            Err(Check::Locked {
                retry_after_secs, ..
            }) => return Err(ApiError::Locked { retry_after_secs }),
            Err(_) => return Err(ApiError::Busy),
        };
        let owned = user.to_string();
        let off = self.event(Kind::TwoFactorDisabled, user, ip);
        let verdict = self
            .store
            .write(move |w| {
                let mut account = w.account(&owned)?.ok_or(ApiError::Unauthorized)?;
                let Some(record) = account.totp.as_mut() else {
                    return Ok(None);
                };
                let verdict = record.verify(&code, wall);
                if disable && matches!(verdict, Verdict::Accepted | Verdict::RecoveryAccepted) {
                    account.totp = None;
                    w.log(&off)?;
                }
                w.put_account(&owned, &account)?;
                Ok(Some(verdict))
            })
            .await;
        // A failed write or a dropped request: the guard abandons it.
        match verdict? {
            Some(Verdict::Wrong | Verdict::Replayed) => {
                let failure = attempt.fail(now);
                tracing::warn!(%ip, "wrong two-factor code");
                match self
                    .log_failed(&failure, Kind::TwoFactorFailed, user, ip)
                    .await?
                {
                    Some(retry_after_secs) => Err(ApiError::Locked { retry_after_secs }),
                    None => Err(wrong_code(failure.attempts_left())),
                }
            }
            v => {
                attempt.succeed();
                Ok(v)
            }
        }
    }

    pub async fn totp_begin(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        password: String,
    ) -> Result<TotpEnrolment, ApiError> {
        self.check_password(&session.user, ip, password, "password")
            .await?;
        let user = session.user.clone();
        let enabled = self
            .store
            .read(move |r| Ok(r.account(&user)?.and_then(|a| a.totp).is_some()))
            .await?;
        if enabled {
            return Err(ApiError::invalid(
                "password",
                "Two-factor login is already enabled",
            ));
        }
        let secret = random::<20>()?.to_vec();
        let uri = totp::otpauth_uri(&secret, &session.user)
            .ok_or_else(|| ApiError::Internal("otpauth URI".into()))?;
        let qr_svg = crate::qr::svg(&uri)?;
        let base32 = totp::base32(&secret);
        self.enrolments()?.insert(
            session.user.clone(),
            PendingEnrolment {
                secret,
                expires: self.clock.now() + 2 * PENDING_MS,
            },
        );
        Ok(TotpEnrolment {
            secret: base32,
            otpauth_uri: uri,
            qr_svg,
        })
    }

    fn enrolments(
        &self,
    ) -> Result<
        std::sync::MutexGuard<'_, std::collections::HashMap<String, PendingEnrolment>>,
        ApiError,
    > {
        self.enrolments
            .lock()
            .map_err(|_| ApiError::Internal("enrolments poisoned".into()))
    }

    /// Ends enrolment with the first code from the app: two-factor login is
    /// on, and the recovery codes are returned (the only time they exist in
    /// clear).
    pub async fn totp_confirm(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        code: String,
    ) -> Result<RecoveryCodes, ApiError> {
        let now = self.clock.now();
        let pending = self
            .enrolments()?
            .get(&session.user)
            .filter(|p| p.expires > now)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid(
                    "totp-code",
                    "The set-up has expired: start again with your password.",
                )
            })?;
        let Some(step) = totp::check_code(&pending.secret, &code, self.store.now()) else {
            return Err(ApiError::invalid(
                "totp-code",
                "Wrong code: check the app's time and enter its current code.",
            ));
        };
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        while codes.len() < RECOVERY_CODES {
            if let Some(c) = code_from_random(&random::<32>()?) {
                codes.push(format_code(&c));
            }
        }
        debug_assert!(codes.iter().all(|c| c.len() > CODE_LEN));
        let record = TotpRecord::new(
            pending.secret,
            step,
            random::<16>()?,
            &codes,
            self.store.now(),
        );
        let user = session.user.clone();
        let event = self.event(Kind::TwoFactorEnabled, &user, ip);
        self.store
            .write(move |w| {
                let mut account = w.account(&user)?.ok_or(ApiError::Unauthorized)?;
                account.totp = Some(record);
                // Digest and DHIP cannot ask for the code: no HA1 to check.
                account.digest_ha1 = None;
                w.put_account(&user, &account)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        self.enrolments()?.remove(&session.user);
        tracing::info!(%ip, "two-factor login enabled");
        Ok(RecoveryCodes { codes })
    }

    /// Turns two-factor login off: needs the password and a code.
    pub async fn totp_disable(
        &self,
        session: &SessionRef,
        ip: IpAddr,
        password: String,
        code: String,
    ) -> Result<(), ApiError> {
        if password.is_empty() {
            return Err(ApiError::invalid("password", "Enter the current password"));
        }
        if let Some(m) = code_error(&code) {
            return Err(ApiError::invalid("code", m));
        }
        // The password does not clear earlier wrong codes (see login).
        self.verify_password(&session.user, ip, password, super::Success::KeepsCount)
            .await
            .map_err(wrong_password_as("password"))?;
        if self
            .verify_code(&session.user, ip, code, true)
            .await?
            .is_some()
        {
            tracing::warn!(%ip, "two-factor login disabled");
        }
        Ok(())
    }

    /// Drops expired pending logins and enrolments.
    pub fn purge_pending(&self) -> Result<(), ApiError> {
        let now = self.clock.now();
        self.pending()?.retain(|_, p| p.expires > now);
        self.enrolments()?.retain(|_, p| p.expires > now);
        Ok(())
    }
}
