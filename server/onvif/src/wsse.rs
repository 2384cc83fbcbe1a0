//! A UsernameToken checked against the device's ONVIF password: the
//! digest (or the text), Created within [`WINDOW_S`] of now, and a nonce
//! seen once. Time is passed in.

use std::collections::{HashSet, VecDeque};

use sha1::{Digest, Sha1};

use crate::soap::{PasswordType, UsernameToken};

/// How far Created may be from the device's time, either way (clients
/// take the device's clock from GetSystemDateAndTime first).
pub const WINDOW_S: i64 = 300;
/// Nonces remembered at most. Only tokens that proved the password are
/// remembered, so only a holder of the password can fill it; when full the
/// oldest is forgotten.
pub const MAX_NONCES: usize = 4096;

/// Why a token is refused (all answer NotAuthorized; the reason is for
/// the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    WrongUser,
    WrongPassword,
    /// A digest without Nonce or Created, or a Created unreadable.
    Incomplete,
    /// Created further than [`WINDOW_S`] from now.
    Expired,
    /// The same nonce and Created again.
    Replayed,
}

impl Refused {
    /// A wrong password (or user) counts toward the lockout; the others are
    /// a client's clock or a replay, not a guess.
    pub fn is_guess(self) -> bool {
        matches!(self, Self::WrongUser | Self::WrongPassword)
    }
}

/// Base64(SHA-1(nonce + created + password)).
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
    let mut sha = Sha1::new();
    sha.update(nonce);
    sha.update(created.as_bytes());
    sha.update(password.as_bytes());
    B64.encode(sha.finalize())
}

/// Equal in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Nonces of accepted tokens until their Created leaves the window.
#[derive(Debug, Default)]
pub struct Replay {
    order: VecDeque<(i64, [u8; 20])>,
    seen: HashSet<[u8; 20]>,
}

impl Replay {
    fn key(token: &UsernameToken) -> [u8; 20] {
        let mut sha = Sha1::new();
        sha.update(&token.nonce);
        sha.update(b"\0");
        sha.update(token.created.as_deref().unwrap_or("").as_bytes());
        sha.finalize().into()
    }

    fn forget_before(&mut self, now: i64) {
        while let Some(&(until, key)) = self.order.front() {
            if until >= now && self.order.len() < MAX_NONCES {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&key);
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Checks `token` against the device's `user` and `password` at `now`
/// (Unix seconds); an accepted digest's nonce goes into `replay`.
pub fn check(
    token: &UsernameToken,
    user: &str,
    password: &str,
    now: i64,
    replay: &mut Replay,
) -> Result<(), Refused> {
    let created = match (&token.created, token.kind) {
        (Some(c), _) => Some(crate::time::parse(c).ok_or(Refused::Incomplete)?),
        (None, PasswordType::Digest) => return Err(Refused::Incomplete),
        (None, PasswordType::Text) => None,
    };
    if token.kind == PasswordType::Digest && token.nonce.is_empty() {
        return Err(Refused::Incomplete);
    }
    if let Some(c) = created {
        if (c - now).abs() > WINDOW_S {
            return Err(Refused::Expired);
        }
    }
    let proves = match token.kind {
        PasswordType::Digest => same(
            token.password.as_bytes(),
            password_digest(
                &token.nonce,
                token.created.as_deref().unwrap_or(""),
                password,
            )
            .as_bytes(),
        ),
        PasswordType::Text => same(token.password.as_bytes(), password.as_bytes()),
    };
    // The user name is compared after the password's work, so timing
    // tells nothing of which was wrong.
    if token.username != user {
        return Err(Refused::WrongUser);
    }
    if !proves {
        return Err(Refused::WrongPassword);
    }
    if token.kind == PasswordType::Digest {
        replay.forget_before(now);
        let key = Replay::key(token);
        if !replay.seen.insert(key) {
            return Err(Refused::Replayed);
        }
        replay
            .order
            .push_back((created.unwrap_or(now) + WINDOW_S, key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_539_200; // 2026-12-06T06:40:00Z

    fn token(nonce: &[u8], created: &str, password: &str) -> UsernameToken {
        UsernameToken {
            username: "onvif".into(),
            password: password_digest(nonce, created, password),
            kind: PasswordType::Digest,
            nonce: nonce.to_vec(),
            created: Some(created.into()),
        }
    }

    #[test]
    fn the_digest_of_the_ws_security_specification() {
        // WSS UsernameToken Profile 1.1, 3.1's example.
        use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
        let nonce = B64.decode("LKqI6G/AikKCQrN0zqZFlg==").unwrap_or_default();
        assert_eq!(
            password_digest(&nonce, "2010-09-16T07:50:45Z", "userpassword"),
            "tuOSpGlFlIXsozq4HFNeeGeFLEI="
        );
    }

    #[test]
    fn digest_time_and_replay() {
        let mut replay = Replay::default();
        let t = token(b"0123456789abcdef", "2026-12-06T06:40:00Z", "pw");
        assert_eq!(check(&t, "onvif", "pw", NOW, &mut replay), Ok(()));
        // The same token again.
        assert_eq!(
            check(&t, "onvif", "pw", NOW + 1, &mut replay),
            Err(Refused::Replayed)
        );
        // Another nonce: fine.
        let t2 = token(b"0123456789abcdeX", "2026-12-06T06:40:00Z", "pw");
        assert_eq!(check(&t2, "onvif", "pw", NOW, &mut replay), Ok(()));
        assert_eq!(
            check(
                &token(b"n", "2026-12-06T06:40:00Z", "no"),
                "onvif",
                "pw",
                NOW,
                &mut replay
            ),
            Err(Refused::WrongPassword)
        );
        assert_eq!(
            check(&t2, "admin", "pw", NOW, &mut replay),
            Err(Refused::WrongUser)
        );
        // Five minutes either way, not more.
        let late = token(b"a", "2026-12-06T06:45:00Z", "pw");
        assert_eq!(check(&late, "onvif", "pw", NOW, &mut replay), Ok(()));
        let later = token(b"b", "2026-12-06T06:45:01Z", "pw");
        assert_eq!(
            check(&later, "onvif", "pw", NOW, &mut replay),
            Err(Refused::Expired)
        );
        let early = token(b"c", "2026-12-06T06:34:59Z", "pw");
        assert_eq!(
            check(&early, "onvif", "pw", NOW, &mut replay),
            Err(Refused::Expired)
        );
        let mut bad = token(b"", "2026-12-06T06:40:00Z", "pw");
        assert_eq!(
            check(&bad, "onvif", "pw", NOW, &mut replay),
            Err(Refused::Incomplete)
        );
        bad.nonce = b"x".to_vec();
        bad.created = None;
        assert_eq!(
            check(&bad, "onvif", "pw", NOW, &mut replay),
            Err(Refused::Incomplete)
        );
        assert!(!Refused::Replayed.is_guess() && Refused::WrongPassword.is_guess());
    }

    #[test]
    fn text_passwords() {
        let mut replay = Replay::default();
        let t = UsernameToken {
            username: "onvif".into(),
            password: "pw".into(),
            kind: PasswordType::Text,
            nonce: vec![],
            created: None,
        };
        assert_eq!(check(&t, "onvif", "pw", NOW, &mut replay), Ok(()));
        assert_eq!(
            check(&t, "onvif", "pX", NOW, &mut replay),
            Err(Refused::WrongPassword)
        );
        assert!(replay.is_empty());
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_what_the_window_refuses_anyway() {
        let mut replay = Replay::default();
        for i in 0..(MAX_NONCES + 10) {
            let t = token(&(i as u64).to_le_bytes(), "2026-12-06T06:40:00Z", "pw");
            assert_eq!(check(&t, "onvif", "pw", NOW, &mut replay), Ok(()));
        }
        assert!(replay.len() <= MAX_NONCES);
        // Past the window every entry goes.
        let t = token(b"late", "2026-12-06T06:50:00Z", "pw");
        assert_eq!(check(&t, "onvif", "pw", NOW + 600, &mut replay), Ok(()));
        assert_eq!(replay.len(), 1);
    }
}
