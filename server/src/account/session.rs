//! Login sessions: a 256-bit random id in an HttpOnly, SameSite=Strict
//! cookie; only its SHA-256 is stored. Idle timeout and absolute lifetime.

use std::collections::HashMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest, Sha256};

use app::{
    error::ApiError,
    model::{time::UnixMillis, users::Role},
};

use crate::store::tables::SessionRecord;

pub const COOKIE: &str = "vto_session";
/// A session unused this long ends.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// No session lives longer than this.
pub const ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;
/// `last_seen` is written at most this often (not on every request).
pub const TOUCH_EVERY_MS: i64 = 60 * 1000;
/// Sessions kept per account; the oldest go first.
pub const MAX_PER_USER: usize = 32;

/// A stored session and its account's role (`None`: the account is gone).
pub type Found = (SessionRecord, Option<Role>);

/// Sessions as last read from the store, good while the store has made no
/// commit since: whatever changes a session (a login, logout, touch, an
/// account's new role, password or removal) commits, so every request
/// with a cookie need not read the database.
#[derive(Debug, Default)]
pub struct Known {
    /// `Store::changes` when `found` was read.
    changes: u64,
    found: HashMap<[u8; 32], Found>,
}

impl Known {
    /// Sessions kept at most (a device has a handful).
    const MAX: usize = 256;

    pub fn get(&self, changes: u64, hash: &[u8; 32]) -> Option<Found> {
        if changes != self.changes {
            return None;
        }
        self.found.get(hash).cloned()
    }

    /// `found` as read at `changes` (read before the lookup).
    pub fn put(&mut self, changes: u64, hash: [u8; 32], found: Found) {
        if changes < self.changes {
            return; // an older read than what is kept
        }
        if changes > self.changes || self.found.len() >= Self::MAX {
            self.found.clear();
            self.changes = changes;
        }
        self.found.insert(hash, found);
    }
}

/// A new session id: the cookie value and the hash to store.
pub struct NewId {
    pub token: String,
    pub hash: [u8; 32],
}

pub fn new_id() -> Result<NewId, ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    Ok(NewId {
        token: URL_SAFE_NO_PAD.encode(raw),
        hash: Sha256::digest(raw).into(),
    })
}

/// The stored hash for a cookie value, if the value is a well-formed id.
pub fn hash_token(token: &str) -> Option<[u8; 32]> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    (raw.len() == 32).then(|| Sha256::digest(&raw).into())
}

/// The session cookie's value in a `Cookie` request header.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE).then_some(value)
    })
}

pub fn set_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

#[derive(Debug, PartialEq, Eq)]
pub enum Validity {
    Valid { touch: bool },
    Expired,
}

pub fn validity(s: &SessionRecord, now: UnixMillis) -> Validity {
    if now - s.last_seen >= IDLE_MS || now - s.created >= ABSOLUTE_MS || now < s.created {
        Validity::Expired
    } else {
        Validity::Valid {
            touch: now - s.last_seen >= TOUCH_EVERY_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);
    const MIN: i64 = 60_000;

    fn rec(created: UnixMillis, last_seen: UnixMillis) -> SessionRecord {
        SessionRecord {
            user: "admin".into(),
            created,
            last_seen,
            ip: "127.0.0.1".into(),
        }
    }

    #[test]
    fn known_sessions_hold_only_until_the_next_commit() {
        let mut known = Known::default();
        let found = (rec(T0, T0), Some(Role::Admin));
        known.put(5, [1; 32], found.clone());
        assert!(known.get(5, &[1; 32]).is_some());
        assert!(known.get(5, &[2; 32]).is_none());
        // A commit since: read again.
        assert!(known.get(6, &[1; 32]).is_none());
        known.put(6, [2; 32], found.clone());
        assert!(known.get(6, &[1; 32]).is_none(), "cleared on a newer read");
        assert!(known.get(6, &[2; 32]).is_some());
        // A read that began before the last commit is not kept.
        known.put(5, [1; 32], found);
        assert!(known.get(5, &[1; 32]).is_none());
        assert!(known.get(6, &[1; 32]).is_none());
    }

    #[test]
    fn ids_are_random_256_bit_and_hash_back() -> Result<(), ApiError> {
        let a = new_id()?;
        let b = new_id()?;
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(hash_token(&a.token), Some(a.hash));
        assert_ne!(
            a.hash.to_vec(),
            URL_SAFE_NO_PAD.decode(&a.token).unwrap_or_default()
        );
        assert_eq!(hash_token("short"), None);
        assert_eq!(hash_token("not base64 !!"), None);
        Ok(())
    }

    #[test]
    fn cookie_parsing_and_flags() {
        assert_eq!(
            token_from_cookie_header("a=1; vto_session=abc; b=2"),
            Some("abc")
        );
        assert_eq!(token_from_cookie_header("xvto_session=abc"), None);
        assert_eq!(token_from_cookie_header(""), None);
        let c = set_cookie("abc", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(set_cookie("abc", true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn idle_timeout_and_absolute_lifetime() {
        assert_eq!(validity(&rec(T0, T0), T0), Validity::Valid { touch: false });
        assert_eq!(
            validity(&rec(T0, T0), T0 + MIN),
            Validity::Valid { touch: true }
        );
        assert_eq!(
            validity(&rec(T0, T0), T0 + 30 * MIN - 1),
            Validity::Valid { touch: true }
        );
        assert_eq!(validity(&rec(T0, T0), T0 + 30 * MIN), Validity::Expired);
        // Kept busy, it still ends after 12 hours.
        let busy = rec(T0, T0 + 12 * 60 * MIN - MIN);
        assert_eq!(validity(&busy, T0 + 12 * 60 * MIN), Validity::Expired);
        // A clock that went backwards past the creation ends it too.
        assert_eq!(validity(&rec(T0, T0), T0 - 1), Validity::Expired);
    }
}
