//! Password reset by emailed security code (manual ch. 2.2) as pure state
//! machines on a time passed in: [`ResetState`], the account's, lives in
//! the account record, so it survives a restart and every change is one
//! transaction; [`SourceLimits`], per source address (an IPv6 /64 counts as
//! one), in memory, is checked first, so a stranger is stopped at their
//! own address long before they could block the owner's reset (issue 22).
//!
//! - A code is valid for 24 hours, once; a new code voids the old one.
//! - Per source: 5 wrong codes in a row lock reset for that source for
//!   5 minutes, its third lock in a row for a day; at most one new code a
//!   minute and three a day.
//! - Per account: 20 wrong codes in a row (from any source) lock reset for
//!   5 minutes; the third lock in a row also voids the code. Wrong codes
//!   are counted across codes: asking for a new code does not reset the
//!   count. At most ten new codes a day, so the device cannot be used to
//!   flood a mailbox.
//! - A right code gives a ticket that sets the new password once, within
//!   10 minutes.

use std::{collections::HashMap, net::IpAddr};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use app::model::{
    reset::{CODE_ALPHABET, CODE_LEN},
    time::UnixMillis,
};

const MINUTE: i64 = 60 * 1000;
const DAY: i64 = 24 * 60 * MINUTE;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub code_ttl_ms: i64,
    /// Wrong codes in a row, from any source, that lock reset for all.
    pub max_failures: u32,
    /// How long a lock lasts (of the account, or of a source).
    pub lock_ms: i64,
    /// The lock that voids the code (counted in a row).
    pub lockouts_void_code: u32,
    /// At least this long between two codes of the account.
    pub request_interval_ms: i64,
    /// At most this many codes per day for the account.
    pub requests_per_day: usize,
    pub ticket_ttl_ms: i64,
    /// Wrong codes in a row from one source that lock reset for it.
    pub source_max_failures: u32,
    /// A source's locks in a row from which it is locked for a day.
    pub source_lockouts_long: u32,
    pub source_long_lock_ms: i64,
    /// At least this long between two codes asked for by one source.
    pub source_request_interval_ms: i64,
    /// At most this many codes per day for one source.
    pub source_requests_per_day: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            code_ttl_ms: DAY,
            max_failures: 20,
            lock_ms: 5 * MINUTE,
            lockouts_void_code: 3,
            request_interval_ms: 0,
            requests_per_day: 10,
            ticket_ttl_ms: 10 * MINUTE,
            source_max_failures: 5,
            source_lockouts_long: 3,
            source_long_lock_ms: DAY,
            source_request_interval_ms: MINUTE,
            source_requests_per_day: 3,
        }
    }
}

/// A code as stored: salted SHA-256 only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCode {
    pub salt: [u8; 16],
    pub hash: [u8; 32],
    pub issued: UnixMillis,
}

impl StoredCode {
    pub fn new(code: &str, salt: [u8; 16], issued: UnixMillis) -> Self {
        Self {
            salt,
            hash: hash_code(&salt, code),
            issued,
        }
    }

    fn matches(&self, code: &str) -> bool {
        // Both sides are hashes of equal length: comparing them leaks
        // nothing useful about the code.
        hash_code(&self.salt, code) == self.hash
    }
}

fn hash_code(salt: &[u8; 16], code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(code.as_bytes());
    h.finalize().into()
}

/// A code from 16 random bytes... or more: `random` must hold at least
/// [`CODE_LEN`] bytes from a CSPRNG. Rejection sampling keeps every
/// character equally likely; `None` if the bytes ran out (ask again).
pub fn code_from_random(random: &[u8]) -> Option<String> {
    // The largest multiple of the alphabet's size that fits in a byte.
    let n = CODE_ALPHABET.len();
    let limit = 256 - 256 % n;
    let code: String = random
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(CODE_LEN)
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % n]))
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub hash: [u8; 32],
    pub expires: UnixMillis,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetState {
    pub code: Option<StoredCode>,
    /// Wrong codes in a row.
    pub failures: u32,
    pub locked_until: Option<UnixMillis>,
    /// Locks in a row.
    pub lockouts: u32,
    /// When the codes of the last day were issued.
    pub requests: Vec<UnixMillis>,
    pub ticket: Option<Ticket>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Locked after wrong codes.
    Locked { retry_after_secs: u64 },
    /// A code was issued too recently, or too many today.
    TooSoon { retry_after_secs: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The code was right; it is used up. Give out a ticket.
    Accepted,
    Wrong {
        attempts_left: u32,
    },
    /// This wrong code locked reset; `voided` if it also voided the code.
    LockedNow {
        retry_after_secs: u64,
        voided: bool,
    },
    Locked {
        retry_after_secs: u64,
    },
    /// No code to check against: none issued, used, voided or expired.
    NoCode,
    Expired,
}

fn secs_until(now: UnixMillis, until: UnixMillis) -> u64 {
    // Rounded up: "1 s" rather than "0 s" while still locked.
    u64::try_from((until - now + 999) / 1000).unwrap_or(0)
}

impl ResetState {
    fn lock_left(&self, now: UnixMillis) -> Option<u64> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| secs_until(now, until))
    }

    /// Whether a new code may be issued now.
    pub fn may_request(&self, now: UnixMillis, p: &Policy) -> Result<(), Refusal> {
        if let Some(retry_after_secs) = self.lock_left(now) {
            return Err(Refusal::Locked { retry_after_secs });
        }
        let recent: Vec<UnixMillis> = self
            .requests
            .iter()
            .copied()
            .filter(|t| now - *t < DAY)
            .collect();
        if let Some(last) = recent.iter().max() {
            let next = *last + p.request_interval_ms;
            if next > now {
                return Err(Refusal::TooSoon {
                    retry_after_secs: secs_until(now, next),
                });
            }
        }
        if recent.len() >= p.requests_per_day {
            let oldest = recent.iter().min().copied().unwrap_or(now);
            return Err(Refusal::TooSoon {
                retry_after_secs: secs_until(now, oldest + DAY),
            });
        }
        Ok(())
    }

    /// Records a new code (after [`Self::may_request`] said yes), voiding
    /// the old one and any ticket.
    pub fn issue(&mut self, code: StoredCode) {
        let now = code.issued;
        self.requests.retain(|t| now - *t < DAY);
        self.requests.push(now);
        self.code = Some(code);
        self.ticket = None;
    }

    /// Voids the current code (e.g. its mail could not be sent).
    pub fn void_code(&mut self) {
        self.code = None;
    }

    /// Checks a typed code.
    pub fn verify(&mut self, now: UnixMillis, p: &Policy, code: &str) -> Verdict {
        if let Some(retry_after_secs) = self.lock_left(now) {
            return Verdict::Locked { retry_after_secs };
        }
        let Some(stored) = &self.code else {
            return Verdict::NoCode;
        };
        if now - stored.issued >= p.code_ttl_ms {
            self.code = None;
            return Verdict::Expired;
        }
        if stored.matches(code) {
            self.code = None;
            self.failures = 0;
            self.lockouts = 0;
            self.locked_until = None;
            return Verdict::Accepted;
        }
        self.failures += 1;
        if self.failures < p.max_failures {
            return Verdict::Wrong {
                attempts_left: p.max_failures - self.failures,
            };
        }
        self.failures = 0;
        self.lockouts += 1;
        self.locked_until = Some(now + p.lock_ms);
        let voided = self.lockouts >= p.lockouts_void_code;
        if voided {
            self.code = None;
            self.lockouts = 0;
        }
        Verdict::LockedNow {
            retry_after_secs: secs_until(now, now + p.lock_ms),
            voided,
        }
    }

    /// Records the ticket given out after [`Verdict::Accepted`].
    pub fn give_ticket(&mut self, now: UnixMillis, p: &Policy, hash: [u8; 32]) {
        self.ticket = Some(Ticket {
            hash,
            expires: now + p.ticket_ttl_ms,
        });
    }

    /// Uses up the ticket with this hash; false if it is not the one, or
    /// expired.
    pub fn take_ticket(&mut self, now: UnixMillis, hash: &[u8; 32]) -> bool {
        match &self.ticket {
            Some(t) if t.hash == *hash && t.expires > now => {
                self.ticket = None;
                true
            }
            Some(t) if t.expires <= now => {
                self.ticket = None;
                false
            }
            _ => false,
        }
    }
}

/// Reset's limits per source address, checked before the account's.
#[derive(Debug, Default)]
pub struct SourceLimits {
    entries: HashMap<IpAddr, SourceEntry>,
}

#[derive(Clone, Debug)]
struct SourceEntry {
    /// When the codes this source asked for in the last day were issued.
    requests: Vec<UnixMillis>,
    /// Wrong codes in a row.
    failures: u32,
    locked_until: Option<UnixMillis>,
    /// Locks in a row.
    lockouts: u32,
    last: UnixMillis,
}

/// What a wrong code does to its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceWrong {
    AttemptsLeft(u32),
    LockedNow { retry_after_secs: u64 },
}

/// At most this many sources are tracked.
const MAX_SOURCES: usize = 1024;

impl SourceLimits {
    fn entry(&mut self, ip: IpAddr, now: UnixMillis) -> &mut SourceEntry {
        let source = super::lockout::source_of(ip);
        if !self.entries.contains_key(&source) && self.entries.len() >= MAX_SOURCES {
            self.entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now)
                    || e.requests.iter().any(|t| now - *t < DAY)
                    || (e.failures > 0 && now - e.last < DAY)
            });
            if self.entries.len() >= MAX_SOURCES {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| (e.locked_until.is_some_and(|u| u > now), e.last))
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries.entry(source).or_insert(SourceEntry {
            requests: Vec::new(),
            failures: 0,
            locked_until: None,
            lockouts: 0,
            last: now,
        })
    }

    fn lock_left(e: &SourceEntry, now: UnixMillis) -> Option<u64> {
        e.locked_until
            .filter(|until| *until > now)
            .map(|until| secs_until(now, until))
    }

    /// Whether `ip` may ask for a new code now.
    pub fn may_request(&mut self, ip: IpAddr, now: UnixMillis, p: &Policy) -> Result<(), Refusal> {
        let e = self.entry(ip, now);
        if let Some(retry_after_secs) = Self::lock_left(e, now) {
            return Err(Refusal::Locked { retry_after_secs });
        }
        e.requests.retain(|t| now - *t < DAY);
        if let Some(last) = e.requests.iter().max() {
            let next = *last + p.source_request_interval_ms;
            if next > now {
                return Err(Refusal::TooSoon {
                    retry_after_secs: secs_until(now, next),
                });
            }
        }
        if e.requests.len() >= p.source_requests_per_day {
            let oldest = e.requests.iter().min().copied().unwrap_or(now);
            return Err(Refusal::TooSoon {
                retry_after_secs: secs_until(now, oldest + DAY),
            });
        }
        Ok(())
    }

    /// A code was issued to `ip`.
    pub fn requested(&mut self, ip: IpAddr, now: UnixMillis) {
        let e = self.entry(ip, now);
        e.requests.push(now);
        e.last = now;
    }

    /// Whether `ip` may check a code now: the seconds left of its lock if
    /// not.
    pub fn may_verify(&mut self, ip: IpAddr, now: UnixMillis) -> Result<(), u64> {
        match Self::lock_left(self.entry(ip, now), now) {
            Some(left) => Err(left),
            None => Ok(()),
        }
    }

    /// A wrong code from `ip`.
    pub fn wrong(&mut self, ip: IpAddr, now: UnixMillis, p: &Policy) -> SourceWrong {
        let e = self.entry(ip, now);
        e.last = now;
        e.failures += 1;
        if e.failures < p.source_max_failures {
            return SourceWrong::AttemptsLeft(p.source_max_failures - e.failures);
        }
        e.failures = 0;
        e.lockouts += 1;
        let lock_ms = if e.lockouts >= p.source_lockouts_long {
            e.lockouts = 0;
            p.source_long_lock_ms
        } else {
            p.lock_ms
        };
        e.locked_until = Some(now + lock_ms);
        SourceWrong::LockedNow {
            retry_after_secs: secs_until(now, now + lock_ms),
        }
    }

    /// A right code from `ip`: its counts start again.
    pub fn right(&mut self, ip: IpAddr, now: UnixMillis) {
        let e = self.entry(ip, now);
        e.failures = 0;
        e.lockouts = 0;
    }

    /// Forgets everything (factory reset).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);
    const CODE: &str = "ACDEFGH347";

    /// The account's limits as they were before per-source limits (5 wrong
    /// codes, a minute between codes): the account's machine is the same.
    fn policy() -> Policy {
        Policy {
            max_failures: 5,
            request_interval_ms: MINUTE,
            ..Policy::default()
        }
    }

    fn issued(at: UnixMillis) -> ResetState {
        let mut s = ResetState::default();
        s.issue(StoredCode::new(CODE, [7; 16], at));
        s
    }

    #[test]
    fn a_code_works_once() {
        let p = policy();
        let mut s = issued(T0);
        assert_eq!(s.verify(T0 + 1000, &p, CODE), Verdict::Accepted);
        assert_eq!(s.verify(T0 + 2000, &p, CODE), Verdict::NoCode);
    }

    #[test]
    fn only_the_hash_is_kept() {
        let s = issued(T0);
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert!(!json.contains(CODE));
        assert!(!json.contains("ACDE"));
    }

    #[test]
    fn a_code_expires_after_24_hours() {
        let p = policy();
        let mut s = issued(T0);
        assert_eq!(s.verify(T0 + DAY, &p, CODE), Verdict::Expired);
        assert_eq!(s.verify(T0 + DAY, &p, CODE), Verdict::NoCode);
        let mut s = issued(T0);
        assert_eq!(s.verify(T0 + DAY - 1, &p, CODE), Verdict::Accepted);
    }

    #[test]
    fn five_wrong_codes_lock_for_five_minutes() {
        let p = policy();
        let mut s = issued(T0);
        for left in (1..5).rev() {
            assert_eq!(
                s.verify(T0, &p, "WRONGWRONG"),
                Verdict::Wrong {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            s.verify(T0, &p, "WRONGWRONG"),
            Verdict::LockedNow {
                retry_after_secs: 300,
                voided: false
            }
        );
        // Even the right code is refused while locked.
        assert_eq!(
            s.verify(T0 + 299_500, &p, CODE),
            Verdict::Locked {
                retry_after_secs: 1
            }
        );
        assert!(matches!(
            s.may_request(T0 + 1000, &p),
            Err(Refusal::Locked { .. })
        ));
        // The lock expires; the code still works.
        assert_eq!(s.verify(T0 + 300_000, &p, CODE), Verdict::Accepted);
    }

    #[test]
    fn a_right_code_resets_the_count() {
        let p = policy();
        let mut s = issued(T0);
        for _ in 0..4 {
            s.verify(T0, &p, "WRONGWRONG");
        }
        assert_eq!(s.verify(T0, &p, CODE), Verdict::Accepted);
        s.issue(StoredCode::new(CODE, [8; 16], T0 + 2 * MINUTE));
        assert_eq!(
            s.verify(T0 + 2 * MINUTE, &p, "WRONGWRONG"),
            Verdict::Wrong { attempts_left: 4 }
        );
    }

    #[test]
    fn a_new_code_does_not_reset_the_count() {
        let p = policy();
        let mut s = issued(T0);
        for _ in 0..4 {
            s.verify(T0, &p, "WRONGWRONG");
        }
        s.issue(StoredCode::new(CODE, [8; 16], T0 + MINUTE));
        assert!(matches!(
            s.verify(T0 + MINUTE, &p, "WRONGWRONG"),
            Verdict::LockedNow { .. }
        ));
    }

    #[test]
    fn the_third_lock_in_a_row_voids_the_code() {
        let p = policy();
        let mut s = issued(T0);
        let mut now = T0;
        for round in 1..=3 {
            for _ in 0..4 {
                s.verify(now, &p, "WRONGWRONG");
            }
            let v = s.verify(now, &p, "WRONGWRONG");
            assert_eq!(
                v,
                Verdict::LockedNow {
                    retry_after_secs: 300,
                    voided: round == 3
                }
            );
            now = now + p.lock_ms;
        }
        assert_eq!(s.verify(now, &p, CODE), Verdict::NoCode);
    }

    #[test]
    fn a_new_code_voids_the_old_one_and_the_ticket() {
        let p = policy();
        let mut s = issued(T0);
        s.give_ticket(T0, &p, [1; 32]);
        s.issue(StoredCode::new("KMNPQRTUVW", [9; 16], T0 + MINUTE));
        assert!(matches!(
            s.verify(T0 + MINUTE, &p, CODE),
            Verdict::Wrong { .. }
        ));
        assert!(!s.take_ticket(T0 + MINUTE, &[1; 32]));
        assert_eq!(s.verify(T0 + MINUTE, &p, "KMNPQRTUVW"), Verdict::Accepted);
    }

    #[test]
    fn requests_are_rate_limited() {
        let p = policy();
        let mut s = ResetState::default();
        let mut now = T0;
        for _ in 0..10 {
            assert_eq!(s.may_request(now, &p), Ok(()));
            s.issue(StoredCode::new(CODE, [0; 16], now));
            assert_eq!(
                s.may_request(now + 1000, &p),
                Err(Refusal::TooSoon {
                    retry_after_secs: 59
                })
            );
            now = now + MINUTE;
        }
        // Ten today: the next one when the first is a day old.
        assert_eq!(
            s.may_request(now, &p),
            Err(Refusal::TooSoon {
                retry_after_secs: 86_400 - 600
            })
        );
        assert_eq!(s.may_request(T0 + DAY, &p), Ok(()));
        s.issue(StoredCode::new(CODE, [0; 16], T0 + DAY));
        assert!(s.requests.len() <= 10, "old requests are forgotten");
    }

    #[test]
    fn tickets_work_once_and_expire() {
        let p = policy();
        let mut s = ResetState::default();
        s.give_ticket(T0, &p, [1; 32]);
        assert!(!s.take_ticket(T0, &[2; 32]));
        assert!(s.take_ticket(T0, &[1; 32]));
        assert!(!s.take_ticket(T0, &[1; 32]));
        s.give_ticket(T0, &p, [1; 32]);
        assert!(!s.take_ticket(T0 + p.ticket_ttl_ms, &[1; 32]));
    }

    #[test]
    fn codes_use_the_alphabet_evenly() {
        let random: Vec<u8> = (0..=255).collect();
        let code = code_from_random(&random).unwrap_or_default();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        // Bytes at or above the cut-off are skipped, not folded.
        assert_eq!(code_from_random(&[255; 64]), None);
        assert_eq!(code_from_random(&[0; 10]).as_deref(), Some("3333333333"));
    }

    const WRONG: &str = "WRONGWRONG";

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn five_wrong_codes_lock_a_source_not_the_owner() {
        let p = Policy::default();
        let mut account = issued(T0);
        let mut sources = SourceLimits::default();
        let stranger = ip(66);
        for left in (1..5).rev() {
            assert_eq!(sources.may_verify(stranger, T0), Ok(()));
            assert!(matches!(
                account.verify(T0, &p, WRONG),
                Verdict::Wrong { .. }
            ));
            assert_eq!(
                sources.wrong(stranger, T0, &p),
                SourceWrong::AttemptsLeft(left)
            );
        }
        account.verify(T0, &p, WRONG);
        assert_eq!(
            sources.wrong(stranger, T0, &p),
            SourceWrong::LockedNow {
                retry_after_secs: 300
            }
        );
        // The stranger's guesses stop at their address: the account is
        // not locked and the owner's code still works.
        assert_eq!(sources.may_verify(stranger, T0 + 1000), Err(299));
        assert!(matches!(
            sources.may_request(stranger, T0 + 1000, &p),
            Err(Refusal::Locked { .. })
        ));
        assert_eq!(sources.may_verify(ip(1), T0), Ok(()));
        assert_eq!(account.verify(T0, &p, CODE), Verdict::Accepted);
    }

    #[test]
    fn a_sources_third_lock_lasts_a_day() {
        let p = Policy::default();
        let mut sources = SourceLimits::default();
        let stranger = ip(66);
        let mut now = T0;
        for round in 1..=3 {
            for _ in 0..4 {
                sources.wrong(stranger, now, &p);
            }
            let lock = if round == 3 { 86_400 } else { 300 };
            assert_eq!(
                sources.wrong(stranger, now, &p),
                SourceWrong::LockedNow {
                    retry_after_secs: lock
                }
            );
            now = now + p.lock_ms;
        }
        assert!(sources.may_verify(stranger, now).is_err());
        assert_eq!(
            sources.may_verify(stranger, T0 + 2 * p.lock_ms + DAY),
            Ok(())
        );
    }

    #[test]
    fn one_source_cannot_reach_the_account_lock_in_a_day() {
        // 15 wrong codes a day from one source, 20 lock the account.
        let p = Policy::default();
        let mut account = issued(T0);
        let mut sources = SourceLimits::default();
        let stranger = ip(66);
        let mut now = T0;
        while now < T0 + DAY - 2 * MINUTE {
            if sources.may_verify(stranger, now).is_ok() {
                assert!(matches!(
                    account.verify(now, &p, WRONG),
                    Verdict::Wrong { .. }
                ));
                sources.wrong(stranger, now, &p);
            }
            now = now + 10 * 1000;
        }
        assert!(account.may_request(now, &p).is_ok());
        assert_eq!(account.verify(now, &p, CODE), Verdict::Accepted);
    }

    #[test]
    fn a_source_asks_for_three_codes_a_day_the_account_ten() {
        let p = Policy::default();
        let mut account = ResetState::default();
        let mut sources = SourceLimits::default();
        let stranger = ip(66);
        let mut now = T0;
        for _ in 0..3 {
            assert_eq!(sources.may_request(stranger, now, &p), Ok(()));
            assert_eq!(account.may_request(now, &p), Ok(()));
            account.issue(StoredCode::new(CODE, [0; 16], now));
            sources.requested(stranger, now);
            assert_eq!(
                sources.may_request(stranger, now + 1000, &p),
                Err(Refusal::TooSoon {
                    retry_after_secs: 59
                })
            );
            now = now + MINUTE;
        }
        assert!(matches!(
            sources.may_request(stranger, now, &p),
            Err(Refusal::TooSoon { .. })
        ));
        // The owner, elsewhere, right after the stranger's code.
        let owner = ip(1);
        let just_after = now - MINUTE + 1000;
        assert_eq!(sources.may_request(owner, just_after, &p), Ok(()));
        assert_eq!(account.may_request(just_after, &p), Ok(()));
    }

    #[test]
    fn sources_are_ipv6_slash_64s() {
        let p = Policy::default();
        let mut sources = SourceLimits::default();
        for i in 0..5u16 {
            sources.wrong(IpAddr::from([0x2001u16, 0xdb8, 0, 1, i, 0, 0, 1]), T0, &p);
        }
        assert!(sources
            .may_verify(IpAddr::from([0x2001u16, 0xdb8, 0, 1, 0xffff, 0, 0, 9]), T0)
            .is_err());
        assert_eq!(
            sources.may_verify(IpAddr::from([0x2001u16, 0xdb8, 0, 2, 0, 0, 0, 1]), T0),
            Ok(())
        );
    }
}
