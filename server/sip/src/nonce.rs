//! Digest nonces: issued by the device, good for a while, each nonce count
//! used once. Pure: time is a parameter, randomness is passed in.
//!
//! A nonce that comes back is one of:
//! - good: issued here, not expired, its nonce count higher than any seen;
//! - stale: expired, or its count already used (a replay, or a Dahua client
//!   that re-sends its old nonce with `nc=00000001` on every refresh): the
//!   answer is a new challenge with `stale=true`, which clients follow
//!   without asking for the password and which is not a failed login;
//! - unknown: never issued here (or forgotten after a restart): a new
//!   challenge, also marked stale, so clients try again at once.

use std::collections::{HashMap, VecDeque};

use sha2::{Digest as _, Sha256};

use crate::time::Mono;

/// `2 * bytes` hex digits (at most 64) derived from a seed, a purpose and
/// a counter: the Call-IDs, tags, branches and client nonces a user agent
/// makes up, unpredictable without the seed and never repeated.
pub fn derived_hex(seed: &[u8; 16], what: &str, counter: u64, bytes: usize) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(what.as_bytes());
    h.update(counter.to_be_bytes());
    h.finalize()
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How long a nonce is good for.
pub const LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Nonces remembered at most: the oldest are forgotten first (their
/// clients then get a stale answer and a new nonce).
pub const MAX_TRACKED: usize = 8192;

#[derive(Debug, PartialEq, Eq)]
pub enum NonceCheck {
    Good,
    Stale,
    Unknown,
}

#[derive(Debug, Default)]
pub struct Nonces {
    /// nonce -> (issued at, highest nonce count used; 0 when none).
    issued: HashMap<String, (Mono, u32)>,
    /// Nonces in the order issued: the oldest go first, in O(1) (a
    /// registration flood must not make each new nonce scan them all).
    order: VecDeque<String>,
}

impl Nonces {
    /// A new nonce from 16 random bytes.
    pub fn issue(&mut self, random: [u8; 16], now: Mono) -> String {
        let nonce: String = random.iter().map(|b| format!("{b:02x}")).collect();
        self.issue_text(nonce, now)
    }

    /// Issues `nonce`, made by the caller from random bytes in the form its
    /// clients expect (Dahua's HTTP API writes decimal digits).
    pub fn issue_text(&mut self, nonce: String, now: Mono) -> String {
        while let Some(oldest) = self.order.front() {
            let expired = self
                .issued
                .get(oldest)
                .is_none_or(|(at, _)| (now - *at) > LIFETIME_MS);
            if !expired && self.issued.len() < MAX_TRACKED {
                break;
            }
            if let Some(n) = self.order.pop_front() {
                self.issued.remove(&n);
            }
        }
        if self.issued.insert(nonce.clone(), (now, 0)).is_none() {
            self.order.push_back(nonce.clone());
        }
        nonce
    }

    /// Checks `nonce` with its count (`nc`, hex; `None` without qop, which
    /// allows one use) and records the use when it is good.
    pub fn check(&mut self, nonce: &str, nc: Option<&str>, now: Mono) -> NonceCheck {
        let count = match nc {
            None => 1,
            Some(nc) => match u32::from_str_radix(nc, 16) {
                Ok(n) if n > 0 => n,
                _ => return NonceCheck::Stale,
            },
        };
        let Some((issued, last)) = self.issued.get_mut(nonce) else {
            return NonceCheck::Unknown;
        };
        if now - *issued > LIFETIME_MS || now < *issued {
            return NonceCheck::Stale;
        }
        if count <= *last {
            return NonceCheck::Stale;
        }
        *last = count;
        NonceCheck::Good
    }

    pub fn len(&self) -> usize {
        self.issued.len()
    }

    pub fn is_empty(&self) -> bool {
        self.issued.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Mono = Mono(1_800_000_000_000);

    #[test]
    fn each_count_is_good_once_and_nonces_expire() {
        let mut n = Nonces::default();
        let a = n.issue([1; 16], T0);
        assert_eq!(a.len(), 32);
        assert_eq!(n.check(&a, Some("00000001"), T0 + 10), NonceCheck::Good);
        // The same count again: a replay.
        assert_eq!(n.check(&a, Some("00000001"), T0 + 20), NonceCheck::Stale);
        assert_eq!(n.check(&a, Some("00000002"), T0 + 30), NonceCheck::Good);
        assert_eq!(n.check(&a, Some("00000002"), T0 + 40), NonceCheck::Stale);
        assert_eq!(n.check(&a, Some("00000001"), T0 + 50), NonceCheck::Stale);
        assert_eq!(
            n.check(&a, Some("00000009"), T0 + LIFETIME_MS + 1),
            NonceCheck::Stale
        );
        // Not hex, zero, or from before it was issued (a clock step back).
        let b = n.issue([2; 16], T0);
        assert_eq!(n.check(&b, Some("zz"), T0), NonceCheck::Stale);
        assert_eq!(n.check(&b, Some("0"), T0), NonceCheck::Stale);
        assert_eq!(n.check(&b, Some("1"), T0 - 1), NonceCheck::Stale);
        assert_eq!(n.check(&b, Some("1"), T0), NonceCheck::Good);
        assert_eq!(n.check("not-issued", Some("1"), T0), NonceCheck::Unknown);
    }

    #[test]
    fn without_qop_a_nonce_is_good_once() {
        let mut n = Nonces::default();
        let a = n.issue([3; 16], T0);
        assert_eq!(n.check(&a, None, T0), NonceCheck::Good);
        assert_eq!(n.check(&a, None, T0), NonceCheck::Stale);
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let mut n = Nonces::default();
        let first = n.issue([0; 16], T0);
        for i in 1..=MAX_TRACKED {
            let mut r = [0u8; 16];
            r[..8].copy_from_slice(&(i as u64).to_be_bytes());
            n.issue(r, T0 + i as i64);
        }
        assert_eq!(n.len(), MAX_TRACKED);
        assert_eq!(n.check(&first, Some("1"), T0 + 10), NonceCheck::Unknown);
        // Expired ones go first when room is needed.
        let late = T0 + LIFETIME_MS * 3;
        let fresh = n.issue([9; 16], late);
        assert_eq!(n.len(), 1);
        assert_eq!(n.check(&fresh, Some("1"), late), NonceCheck::Good);
    }
}
