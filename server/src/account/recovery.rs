//! The password reset flow (manual ch. 2.2) on top of [`super::reset`]:
//! availability, issuing a code, checking it, setting the new password.
//! Mailing the code is the caller's part (see `device.rs`).

use std::net::IpAddr;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest, Sha256};

use app::{
    error::ApiError,
    model::{
        reset::{code_error, normalize_code},
        security::SecuritySettings,
        security_log::SecurityEventKind as Kind,
        time::UnixMillis,
        ADMIN_USER,
    },
};

use super::{
    check_new_password, flood, random,
    reset::{code_from_random, Refusal, SourceWrong, StoredCode, Verdict},
    Auth,
};
use crate::store::{settings::SECURITY, tables::AccountRecord, Read};

/// A code to mail: the only time it exists in clear.
pub struct IssuedCode {
    pub code: String,
    pub email: String,
    pub valid_until: UnixMillis,
}

/// The account's reset address if reset is possible now.
fn reset_address(r: &impl Read) -> Result<Option<(AccountRecord, String)>, ApiError> {
    let settings: SecuritySettings = r.settings(SECURITY)?;
    if !settings.reset_password {
        return Ok(None);
    }
    Ok(r.account(ADMIN_USER)?.and_then(|a| {
        let email = a.email.clone()?;
        Some((a, email))
    }))
}

/// A refused request as the API says it.
fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Locked { retry_after_secs } => ApiError::ResetLocked { retry_after_secs },
        Refusal::TooSoon { retry_after_secs } => ApiError::TooManyRequests { retry_after_secs },
    }
}

fn hash_ticket(ticket: &str) -> Option<[u8; 32]> {
    let raw = URL_SAFE_NO_PAD.decode(ticket).ok()?;
    (raw.len() == 32).then(|| Sha256::digest(&raw).into())
}

impl Auth {
    /// The reset address, when Reset Password is on and one is set.
    pub async fn reset_email(&self) -> Result<Option<String>, ApiError> {
        if !self.is_initialized() {
            return Ok(None);
        }
        self.store
            .read(|r| Ok(reset_address(r)?.map(|(_, e)| e)))
            .await
    }

    /// Issues a new security code (voiding the old one) for the caller to
    /// mail.
    pub async fn reset_issue(&self, ip: IpAddr) -> Result<IssuedCode, ApiError> {
        let code = loop {
            if let Some(c) = code_from_random(&random::<32>()?) {
                break c;
            }
        };
        let salt = random::<16>()?;
        let now = self.clock.now();
        let policy = self.reset_policy;
        let stored = StoredCode::new(&code, salt, now);
        let event = self.event(Kind::ResetCodeSent, ADMIN_USER, ip);
        let sources = self.reset_sources.clone();
        let email = self
            .store
            .write(move |w| {
                let (mut account, email) = reset_address(w)?.ok_or(ApiError::ResetUnavailable)?;
                // The source's limits first: a stranger meets theirs long
                // before the account's.
                let mut sources = sources.lock().unwrap_or_else(|p| p.into_inner());
                sources
                    .may_request(ip, now, &policy)
                    .and_then(|()| account.reset.may_request(now, &policy))
                    .map_err(refusal)?;
                account.reset.issue(stored);
                w.put_account(ADMIN_USER, &account)?;
                w.log(&event)?;
                sources.requested(ip, now);
                Ok(email)
            })
            .await?;
        tracing::info!(%ip, "password reset: security code issued");
        Ok(IssuedCode {
            code,
            email,
            valid_until: now + policy.code_ttl_ms,
        })
    }

    /// Voids the current code (its mail could not be sent).
    pub async fn reset_void(&self) -> Result<(), ApiError> {
        self.store
            .write(|w| {
                if let Some(mut account) = w.account(ADMIN_USER)? {
                    account.reset.void_code();
                    w.put_account(ADMIN_USER, &account)?;
                }
                Ok(())
            })
            .await
    }

    /// Checks a typed security code; a right one gives a ticket for
    /// [`Self::reset_complete`].
    pub async fn reset_verify(&self, ip: IpAddr, typed: String) -> Result<String, ApiError> {
        if let Some(m) = code_error(&typed) {
            return Err(ApiError::invalid("code", m));
        }
        let code = normalize_code(&typed);
        let raw = random::<32>()?;
        let ticket = URL_SAFE_NO_PAD.encode(raw);
        let ticket_hash: [u8; 32] = Sha256::digest(raw).into();
        let now = self.clock.now();
        let policy = self.reset_policy;
        let (ok, wrong, locked) = (
            self.event(Kind::ResetCodeAccepted, ADMIN_USER, ip),
            self.event(Kind::ResetCodeWrong, ADMIN_USER, ip),
            self.event(Kind::ResetLocked, ADMIN_USER, ip),
        );
        let (sources, flood) = (self.reset_sources.clone(), self.flood.clone());
        // The verdict is committed whatever it is: failures must count.
        // Write transactions run one at a time, so the source's check and
        // its count cannot be raced by parallel guesses.
        let (verdict, source) = self
            .store
            .write(move |w| {
                let (mut account, _) = reset_address(w)?.ok_or(ApiError::ResetUnavailable)?;
                let mut sources = sources.lock().unwrap_or_else(|p| p.into_inner());
                // A source locked after its wrong codes never reaches the
                // account's count.
                if let Err(retry_after_secs) = sources.may_verify(ip, now) {
                    return Err(ApiError::ResetLocked { retry_after_secs });
                }
                let verdict = account.reset.verify(now, &policy, &code);
                let source = match &verdict {
                    Verdict::Wrong { .. } | Verdict::LockedNow { .. } => {
                        Some(sources.wrong(ip, now, &policy))
                    }
                    Verdict::Accepted => {
                        sources.right(ip, now);
                        None
                    }
                    _ => None,
                };
                match (&verdict, &source) {
                    (Verdict::Accepted, _) => {
                        account.reset.give_ticket(now, &policy, ticket_hash);
                        w.log(&ok)?;
                    }
                    (Verdict::LockedNow { .. }, _) | (_, Some(SourceWrong::LockedNow { .. })) => {
                        flood::record(w, &flood, &wrong, now)?;
                        flood::record(w, &flood, &locked, now)?;
                    }
                    (Verdict::Wrong { .. }, _) => flood::record(w, &flood, &wrong, now)?,
                    _ => {}
                }
                w.put_account(ADMIN_USER, &account)?;
                Ok((verdict, source))
            })
            .await?;
        if let (Verdict::Wrong { .. }, Some(SourceWrong::LockedNow { retry_after_secs })) =
            (&verdict, &source)
        {
            tracing::warn!(%ip, "password reset locked for an address after wrong codes");
            return Err(ApiError::ResetLocked {
                retry_after_secs: *retry_after_secs,
            });
        }
        let verdict = match (verdict, source) {
            (Verdict::Wrong { attempts_left }, Some(SourceWrong::AttemptsLeft(source_left))) => {
                Verdict::Wrong {
                    attempts_left: attempts_left.min(source_left),
                }
            }
            (v, _) => v,
        };
        match verdict {
            Verdict::Accepted => Ok(ticket),
            Verdict::Wrong { attempts_left } => {
                tracing::warn!(%ip, "password reset: wrong security code");
                Err(ApiError::invalid(
                    "code",
                    format!(
                        "Wrong security code. {attempts_left} {} left before password reset is locked.",
                        if attempts_left == 1 { "attempt" } else { "attempts" }
                    ),
                ))
            }
            Verdict::LockedNow {
                retry_after_secs,
                voided,
            } => {
                tracing::warn!(%ip, voided, "password reset locked after wrong codes");
                Err(ApiError::ResetLocked { retry_after_secs })
            }
            Verdict::Locked { retry_after_secs } => Err(ApiError::ResetLocked { retry_after_secs }),
            Verdict::NoCode => Err(ApiError::invalid(
                "code",
                "There is no valid security code: ask for a new one (Refresh QR Code).",
            )),
            Verdict::Expired => Err(ApiError::invalid(
                "code",
                "This security code has expired (codes are valid for 24 hours): ask for a new one (Refresh QR Code).",
            )),
        }
    }

    /// Sets the new password with a ticket from [`Self::reset_verify`];
    /// every session ends.
    pub async fn reset_complete(
        &self,
        ip: IpAddr,
        ticket: String,
        password: String,
    ) -> Result<(), ApiError> {
        check_new_password("password", &password)?;
        let expired = || {
            ApiError::invalid(
                "ticket",
                "This reset has expired: enter a security code again.",
            )
        };
        let hash = hash_ticket(&ticket).ok_or_else(expired)?;
        let ha1 = self.ha1(ADMIN_USER, &password);
        let password_hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let event = self.event(Kind::PasswordReset, ADMIN_USER, ip);
        self.store
            .write(move |w| {
                let (mut account, _) = reset_address(w)?.ok_or(ApiError::ResetUnavailable)?;
                if !account.reset.take_ticket(now, &hash) {
                    return Err(expired());
                }
                account.password_hash = password_hash;
                account.password_changed = now;
                account.digest_ha1 = account.totp.is_none().then_some(ha1);
                w.put_account(ADMIN_USER, &account)?;
                w.remove_sessions(|_, s| s.user == ADMIN_USER)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        tracing::warn!(%ip, "password reset by security code; all sessions ended");
        Ok(())
    }
}
