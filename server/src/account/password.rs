//! Password hashing: argon2id, m = 19 MiB, t = 2, p = 1 (the OWASP
//! recommendation; about 30-60 ms on a small ARM board), 16-byte random salt,
//! stored as a PHC string.
//!
//! Hashing runs on the blocking pool, at most [`MAX_CONCURRENT`] at once, so
//! a flood of login attempts cannot exhaust memory or starve the device.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier},
    Algorithm, Argon2, Params, Version,
};
use tokio::sync::Semaphore;

use app::error::ApiError;

pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
/// Hashes computed at the same time.
pub const MAX_CONCURRENT: usize = 2;
/// How long a request waits for its turn before the device says it is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

fn argon2() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| ApiError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Verified against when the user does not exist, so that the answer takes
/// as long as for a real account. Made on first use, not at start.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("vto-dummy-password").unwrap_or_default())
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT)),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `phc`; with no hash, checks against a
    /// dummy and answers false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, ApiError> {
        let real = phc.is_some();
        let ok = self
            .run(move || match &phc {
                Some(h) => verify_now(&password, h),
                None => verify_now(&password, dummy_hash()),
            })
            .await?;
        Ok(ok && real)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Busy)?
            .map_err(|_| ApiError::Busy)?;
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))?;
        Ok(out)
    }
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    argon2()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

fn verify_now(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // The parameters come from the stored hash, so older hashes still verify.
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() -> Result<(), ApiError> {
        let h = Hasher::new();
        let a = h.hash("Door-Bell7".into()).await?;
        let b = h.hash("Door-Bell7".into()).await?;
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("Door-Bell7"));
        assert!(h.verify("Door-Bell7".into(), Some(a.clone())).await?);
        assert!(!h.verify("Door-Bell8".into(), Some(a)).await?);
        assert!(!h.verify("x".into(), Some("not a hash".into())).await?);
        // No account: never true, even for the dummy's own password.
        assert!(!h.verify("vto-dummy-password".into(), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_hash_whose_caller_went_away_gives_its_slot_back() -> Result<(), ApiError> {
        let h = Hasher::new();
        // Callers that go away while their hash runs (or waits its turn).
        for _ in 0..MAX_CONCURRENT * 2 {
            let mut hashing = std::pin::pin!(h.hash("Door-Bell7".into()));
            let polled =
                std::future::poll_fn(|cx| std::task::Poll::Ready(hashing.as_mut().poll(cx))).await;
            assert!(polled.is_pending());
        }
        // Every slot comes back once those hashes end: the next callers
        // get theirs, not "busy".
        for _ in 0..MAX_CONCURRENT + 1 {
            assert!(h.hash("Door-Bell7".into()).await.is_ok());
        }
        assert_eq!(h.permits.available_permits(), MAX_CONCURRENT);
        Ok(())
    }
}
