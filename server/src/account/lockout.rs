//! Login failure counting (Cybersecurity appendix item 4, issue 22).
//!
//! Four limits, all checked before a password is:
//! - per user name and source: 5 consecutive failures lock that name for
//!   that source for 5 minutes (`--lockout-secs`);
//! - per source, across user names: 10 failures lock the source for the
//!   same time (rotating user names buys nothing); forgotten after an hour
//!   without one;
//! - per account, across sources: after 10 consecutive failures each further
//!   attempt waits 1 s, doubling with each failure up to 60 s: a slow,
//!   bounded back-off, never a lock an attacker could hold; a right
//!   password ends it, so does an hour without failures;
//! - user names without an account: a global budget of 10 password checks,
//!   one more every 6 s; beyond it they are answered as a wrong password
//!   without running argon2 (see [`Lockouts::unknown_user_check`]).
//!
//! A source is an IPv4 address or an IPv6 /64 ([`source_of`]): one host
//! holds a whole /64.
//!
//! A pure state machine: the caller passes the time in. An attempt is
//! reserved with [`Lockouts::begin`] before the password is checked and
//! settled with `fail`, `succeed` or `abandon`: attempts in flight count, so
//! parallel requests cannot try more passwords than the limits allow.
//! [`reserve`] wraps the reservation in a guard that abandons it when a
//! request is dropped before it settles.

use std::{
    collections::HashMap,
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    sync::{Mutex, MutexGuard},
};

use app::model::time::UnixMillis;

/// User names as typed are kept at most this long in logs and lockouts.
pub const MAX_USER_LEN: usize = 64;

const MINUTE: i64 = 60 * 1000;
const HOUR: i64 = 60 * MINUTE;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Consecutive failures of one user name from one source that lock.
    pub max_failures: u32,
    /// How long a lock lasts (of a user name for a source, of a source).
    pub lock_ms: i64,
    /// Failures older than this (with no lock) are forgotten.
    pub forget_ms: i64,
    /// At most this many (user, source) pairs, and as many sources, are
    /// tracked.
    pub max_entries: usize,
    /// Failures from one source, whatever the user name, that lock it.
    pub source_max_failures: u32,
    /// A source's failures are forgotten this long after its last one.
    pub source_forget_ms: i64,
    /// Consecutive failures of an account (from any source) before its
    /// back-off starts.
    pub account_free_failures: u32,
    /// The first back-off delay; it doubles with each further failure...
    pub backoff_first_ms: i64,
    /// ...up to this.
    pub backoff_max_ms: i64,
    /// An account's failures are forgotten this long after its last one.
    pub account_forget_ms: i64,
    /// Password checks for user names without an account, at once...
    pub unknown_burst: u32,
    /// ...and one more each this long.
    pub unknown_refill_ms: i64,
}

impl Policy {
    pub fn with_lock_secs(lock_secs: u64) -> Self {
        Self {
            lock_ms: i64::try_from(lock_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            ..Self::default()
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_ms: 5 * MINUTE,
            forget_ms: 24 * HOUR,
            max_entries: 4096,
            source_max_failures: 10,
            source_forget_ms: HOUR,
            account_free_failures: 10,
            backoff_first_ms: 1000,
            backoff_max_ms: MINUTE,
            account_forget_ms: HOUR,
            unknown_burst: 10,
            unknown_refill_ms: 6000,
        }
    }
}

/// The source an address counts as: an IPv4 address (also when written as
/// IPv4-mapped IPv6), or the /64 of an IPv6 address.
pub fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Who is attempting: the user name as typed (cut to [`MAX_USER_LEN`]) and
/// the source ([`source_of`] the address).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub user: String,
    pub ip: IpAddr,
}

impl Key {
    pub fn new(user: &str, ip: IpAddr) -> Self {
        Self {
            user: user.chars().take(MAX_USER_LEN).collect(),
            ip: source_of(ip),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Go ahead; settle the attempt afterwards.
    Allowed,
    /// As many attempts are in flight as may still fail before a limit:
    /// wait for them.
    Busy,
    /// Refused. `first_refusal` is true once per lock, so a caller can log
    /// the refusal without letting an attacker flood the log.
    Locked {
        retry_after_secs: u64,
        first_refusal: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not locked yet; this many attempts are left (before the user name or
    /// the whole source is locked for the source).
    AttemptsLeft(u32),
    /// This failure locked the user name for the source.
    LockedNow { retry_after_secs: u64 },
    /// This failure locked the source, for every user name.
    SourceLockedNow { retry_after_secs: u64 },
    /// This failure started the account's back-off: its next attempt, from
    /// anywhere, waits `retry_after_secs`.
    SlowedNow {
        attempts_left: u32,
        retry_after_secs: u64,
    },
}

impl Failure {
    /// Attempts left before a lock (0 once locked).
    pub fn attempts_left(&self) -> u32 {
        match *self {
            Self::AttemptsLeft(n)
            | Self::SlowedNow {
                attempts_left: n, ..
            } => n,
            Self::LockedNow { .. } | Self::SourceLockedNow { .. } => 0,
        }
    }
}

/// Failures of a user name from a source, or of a source.
#[derive(Clone, Debug)]
struct Entry {
    failures: u32,
    /// Attempts begun and not settled yet.
    pending: u32,
    locked_until: Option<UnixMillis>,
    refusal_seen: bool,
    last: UnixMillis,
}

impl Entry {
    fn new(now: UnixMillis) -> Self {
        Self {
            failures: 0,
            pending: 0,
            locked_until: None,
            refusal_seen: false,
            last: now,
        }
    }

    /// Ends an expired lock (the count starts again) or forgets old failures.
    fn expire(&mut self, now: UnixMillis, forget_ms: i64) {
        match self.locked_until {
            Some(until) if now >= until => {
                self.locked_until = None;
                self.failures = 0;
                self.refusal_seen = false;
            }
            None if now - self.last >= forget_ms => self.failures = 0,
            _ => {}
        }
    }

    fn refusal(&mut self, now: UnixMillis) -> Option<Check> {
        let until = self.locked_until?;
        let first_refusal = !self.refusal_seen;
        self.refusal_seen = true;
        Some(Check::Locked {
            retry_after_secs: secs_until(until, now),
            first_refusal,
        })
    }

    /// Counts a failure; what is left of the lock if it is locked now.
    fn fail(&mut self, now: UnixMillis, max: u32, lock_ms: i64) -> Option<u64> {
        self.pending = self.pending.saturating_sub(1);
        self.failures += 1;
        self.last = now;
        if self.failures < max {
            return None;
        }
        if self.locked_until.is_none() {
            self.locked_until = Some(now + lock_ms);
            self.refusal_seen = false;
        }
        self.locked_until.map(|until| secs_until(until, now))
    }

    /// Worth keeping: in flight, locked, or with recent failures.
    fn live(&self, now: UnixMillis, forget_ms: i64) -> bool {
        self.pending > 0
            || match self.locked_until {
                Some(until) => now < until,
                None => self.failures > 0 && now - self.last < forget_ms,
            }
    }
}

/// An account's failures from every source.
#[derive(Clone, Debug)]
struct Backoff {
    failures: u32,
    pending: u32,
    /// Once in back-off: no attempt before this.
    not_before: UnixMillis,
    refusal_seen: bool,
    last: UnixMillis,
}

/// The global budget of password checks for unknown user names.
#[derive(Clone, Debug)]
struct Bucket {
    tokens: u32,
    refilled: Option<UnixMillis>,
}

#[derive(Debug, Default)]
pub struct Lockouts {
    policy: Policy,
    entries: HashMap<Key, Entry>,
    sources: HashMap<IpAddr, Entry>,
    accounts: HashMap<String, Backoff>,
    unknown: Option<Bucket>,
}

fn secs_until(until: UnixMillis, now: UnixMillis) -> u64 {
    u64::try_from((until - now).max(0))
        .unwrap_or(0)
        .div_ceil(1000)
}

/// Keeps `map` below `max` entries: drops finished entries, then the
/// oldest unlocked one, then the oldest.
fn make_room<K: Clone + Eq + Hash>(
    map: &mut HashMap<K, Entry>,
    max: usize,
    now: UnixMillis,
    forget_ms: i64,
) {
    if map.len() < max {
        return;
    }
    map.retain(|_, e| e.live(now, forget_ms));
    if map.len() < max {
        return;
    }
    let victim = map
        .iter()
        .min_by_key(|(_, e)| (e.locked_until.is_some(), e.last))
        .map(|(k, _)| k.clone());
    if let Some(k) = victim {
        map.remove(&k);
    }
}

impl Lockouts {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// Before checking a password: may `key` try now? `known` says whether
    /// the user name is an account's (only accounts get a back-off).
    /// `Allowed` reserves the attempt.
    pub fn begin(&mut self, key: &Key, known: bool, now: UnixMillis) -> Check {
        let p = self.policy;
        self.expire(key, now);
        if !self.entries.contains_key(key) {
            make_room(&mut self.entries, p.max_entries, now, p.forget_ms);
        }
        if !self.sources.contains_key(&key.ip) {
            make_room(&mut self.sources, p.max_entries, now, p.source_forget_ms);
        }
        let pair = self
            .entries
            .entry(key.clone())
            .or_insert_with(|| Entry::new(now));
        if let Some(refused) = pair.refusal(now) {
            return refused;
        }
        let source = self
            .sources
            .entry(key.ip)
            .or_insert_with(|| Entry::new(now));
        if let Some(refused) = source.refusal(now) {
            return refused;
        }
        let mut account = None;
        if known {
            let a = self.accounts.entry(key.user.clone()).or_insert(Backoff {
                failures: 0,
                pending: 0,
                not_before: now,
                refusal_seen: false,
                last: now,
            });
            if a.failures >= p.account_free_failures {
                if now < a.not_before {
                    let first_refusal = !a.refusal_seen;
                    a.refusal_seen = true;
                    return Check::Locked {
                        retry_after_secs: secs_until(a.not_before, now),
                        first_refusal,
                    };
                }
                // In back-off: one attempt at a time.
                if a.pending > 0 {
                    return Check::Busy;
                }
            } else if a.failures + a.pending >= p.account_free_failures && a.pending > 0 {
                return Check::Busy;
            }
            account = Some(a);
        }
        if pair.failures + pair.pending >= p.max_failures
            || source.failures + source.pending >= p.source_max_failures
        {
            return Check::Busy;
        }
        pair.pending += 1;
        source.pending += 1;
        if let Some(a) = account {
            a.pending += 1;
        }
        Check::Allowed
    }

    /// After a wrong password (`known` as given to [`Self::begin`]).
    pub fn fail(&mut self, key: &Key, known: bool, now: UnixMillis) -> Failure {
        let p = self.policy;
        let pair = self
            .entries
            .entry(key.clone())
            .or_insert_with(|| Entry::new(now));
        let pair_lock = pair.fail(now, p.max_failures, p.lock_ms);
        let pair_left = p.max_failures.saturating_sub(pair.failures);
        let source = self
            .sources
            .entry(key.ip)
            .or_insert_with(|| Entry::new(now));
        let source_lock = source.fail(now, p.source_max_failures, p.lock_ms);
        let source_left = p.source_max_failures.saturating_sub(source.failures);
        let mut slowed = None;
        if known {
            let a = self.accounts.entry(key.user.clone()).or_insert(Backoff {
                failures: 0,
                pending: 1,
                not_before: now,
                refusal_seen: false,
                last: now,
            });
            a.pending = a.pending.saturating_sub(1);
            a.failures += 1;
            a.last = now;
            if a.failures >= p.account_free_failures {
                let doublings = (a.failures - p.account_free_failures).min(30);
                let delay = p
                    .backoff_first_ms
                    .saturating_mul(1 << doublings)
                    .min(p.backoff_max_ms);
                a.not_before = now + delay;
                if a.failures == p.account_free_failures {
                    a.refusal_seen = false;
                    slowed = Some(secs_until(a.not_before, now));
                }
            }
        }
        match (pair_lock, source_lock, slowed) {
            (Some(retry_after_secs), _, _) => Failure::LockedNow { retry_after_secs },
            (None, Some(retry_after_secs), _) => Failure::SourceLockedNow { retry_after_secs },
            (None, None, Some(retry_after_secs)) => Failure::SlowedNow {
                attempts_left: pair_left.min(source_left),
                retry_after_secs,
            },
            (None, None, None) => Failure::AttemptsLeft(pair_left.min(source_left)),
        }
    }

    /// After a correct password: the user name's and the account's counts
    /// start again (the source's stays: one right password must not buy
    /// guesses at other names).
    pub fn succeed(&mut self, key: &Key, known: bool) {
        if let Some(e) = self.entries.get_mut(key) {
            e.pending = e.pending.saturating_sub(1);
            e.failures = 0;
            if e.pending == 0 && e.locked_until.is_none() {
                self.entries.remove(key);
            }
        }
        if let Some(s) = self.sources.get_mut(&key.ip) {
            s.pending = s.pending.saturating_sub(1);
        }
        if known {
            self.accounts.remove(&key.user);
        }
    }

    /// The check could not be made (e.g. the device was busy), or a right
    /// password waits for its second factor: the attempt counts neither
    /// way.
    pub fn abandon(&mut self, key: &Key, known: bool) {
        if let Some(e) = self.entries.get_mut(key) {
            e.pending = e.pending.saturating_sub(1);
        }
        if let Some(s) = self.sources.get_mut(&key.ip) {
            s.pending = s.pending.saturating_sub(1);
        }
        if known {
            if let Some(a) = self.accounts.get_mut(&key.user) {
                a.pending = a.pending.saturating_sub(1);
            }
        }
    }

    /// A user name without an account: may its (dummy) password check run
    /// now? Spends from the global budget; `false` means answer as a wrong
    /// password without hashing.
    pub fn unknown_user_check(&mut self, now: UnixMillis) -> bool {
        let p = self.policy;
        let b = self.unknown.get_or_insert(Bucket {
            tokens: p.unknown_burst,
            refilled: Some(now),
        });
        let since = b.refilled.unwrap_or(now);
        let earned = if p.unknown_refill_ms > 0 {
            (now - since).max(0) / p.unknown_refill_ms
        } else {
            i64::from(p.unknown_burst)
        };
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            b.tokens = b.tokens.saturating_add(earned).min(p.unknown_burst);
            b.refilled = Some(if b.tokens == p.unknown_burst {
                now
            } else {
                since + i64::from(earned) * p.unknown_refill_ms
            });
        }
        if b.tokens > 0 {
            b.tokens -= 1;
            true
        } else {
            false
        }
    }

    /// Forgets everything (factory reset).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.sources.clear();
        self.accounts.clear();
        self.unknown = None;
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    /// Ends expired locks, forgets old failures.
    fn expire(&mut self, key: &Key, now: UnixMillis) {
        let p = self.policy;
        if let Some(e) = self.entries.get_mut(key) {
            e.expire(now, p.forget_ms);
        }
        if let Some(s) = self.sources.get_mut(&key.ip) {
            s.expire(now, p.source_forget_ms);
        }
        if let Some(a) = self.accounts.get(&key.user) {
            if a.pending == 0 && now - a.last >= p.account_forget_ms {
                self.accounts.remove(&key.user);
            }
        }
    }
}

/// An attempt reserved by [`reserve`]: settled with [`Reserved::fail`] or
/// [`Reserved::succeed`]; one dropped unsettled (the request went away
/// mid-check: a browser navigating away, a client timing out) is
/// abandoned, so it never holds a place for good.
pub struct Reserved<'a> {
    lockouts: &'a Mutex<Lockouts>,
    key: Key,
    known: bool,
    settled: bool,
}

impl Reserved<'_> {
    fn table(&self) -> MutexGuard<'_, Lockouts> {
        self.lockouts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn fail(mut self, now: UnixMillis) -> Failure {
        self.settled = true;
        self.table().fail(&self.key, self.known, now)
    }

    pub fn succeed(mut self) {
        self.settled = true;
        self.table().succeed(&self.key, self.known);
    }

    /// A right password when a second factor follows: earlier failures
    /// stay counted.
    pub fn keep_count(mut self) {
        self.settled = true;
        self.table().abandon(&self.key, self.known);
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.table().abandon(&self.key, self.known);
        }
    }
}

/// Reserves an attempt for `key` in `lockouts` (`known`: the user name is
/// an account's), or says why not.
pub fn reserve(
    lockouts: &Mutex<Lockouts>,
    key: Key,
    known: bool,
    now: UnixMillis,
) -> Result<Reserved<'_>, Check> {
    let check = lockouts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .begin(&key, known, now);
    match check {
        Check::Allowed => Ok(Reserved {
            lockouts,
            key,
            known,
            settled: false,
        }),
        refused => Err(refused),
    }
}

#[cfg(test)]
impl Lockouts {
    /// Attempts of `key` reserved and not settled.
    pub fn pending(&self, key: &Key) -> u32 {
        self.entries.get(key).map_or(0, |e| e.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);
    const SEC: i64 = 1000;

    /// One attempt with a wrong password.
    fn wrong(l: &mut Lockouts, k: &Key, now: UnixMillis) -> Failure {
        assert_eq!(l.begin(k, false, now), Check::Allowed);
        l.fail(k, false, now)
    }

    fn key(user: &str, ip: [u8; 4]) -> Key {
        Key::new(user, IpAddr::from(ip))
    }

    #[test]
    fn five_failures_lock_for_five_minutes() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for left in [4, 3, 2, 1] {
            assert_eq!(wrong(&mut l, &k, T0), Failure::AttemptsLeft(left));
        }
        assert_eq!(
            wrong(&mut l, &k, T0),
            Failure::LockedNow {
                retry_after_secs: 300
            }
        );
        // Refused while locked, a correct password included (the caller
        // checks before verifying); the refusal is reported once.
        assert_eq!(
            l.begin(&k, false, T0 + 28 * SEC),
            Check::Locked {
                retry_after_secs: 272,
                first_refusal: true
            }
        );
        assert_eq!(
            l.begin(&k, false, T0 + 299_001),
            Check::Locked {
                retry_after_secs: 1,
                first_refusal: false
            }
        );
        // Expired: allowed again, with a fresh count.
        assert_eq!(l.begin(&k, false, T0 + 300 * SEC), Check::Allowed);
        assert_eq!(wrong(&mut l, &k, T0 + 301 * SEC), Failure::AttemptsLeft(4));
    }

    #[test]
    fn lock_is_per_user_and_address() {
        let mut l = Lockouts::new(Policy::default());
        let a = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            wrong(&mut l, &a, T0);
        }
        assert!(matches!(l.begin(&a, false, T0), Check::Locked { .. }));
        assert_eq!(
            l.begin(&key("admin", [10, 0, 0, 2]), false, T0),
            Check::Allowed
        );
        assert_eq!(
            l.begin(&key("other", [10, 0, 0, 1]), false, T0),
            Check::Allowed
        );
    }

    #[test]
    fn success_resets_the_count() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..4 {
            wrong(&mut l, &k, T0);
        }
        l.succeed(&k, false);
        assert_eq!(wrong(&mut l, &k, T0), Failure::AttemptsLeft(4));
    }

    #[test]
    fn failures_a_day_apart_are_not_consecutive() {
        let k = key("admin", [10, 0, 0, 1]);
        let mut l = Lockouts::new(Policy::default());
        for _ in 0..4 {
            wrong(&mut l, &k, T0);
        }
        assert!(matches!(
            wrong(&mut l, &k, T0 + 23 * 3600 * SEC),
            Failure::LockedNow { .. }
        ));
        let mut l = Lockouts::new(Policy::default());
        for _ in 0..4 {
            wrong(&mut l, &k, T0);
        }
        assert_eq!(
            wrong(&mut l, &k, T0 + 24 * 3600 * SEC),
            Failure::AttemptsLeft(4)
        );
    }

    #[test]
    fn configured_lock_length() {
        let mut l = Lockouts::new(Policy::with_lock_secs(2));
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..4 {
            wrong(&mut l, &k, T0);
        }
        assert_eq!(
            wrong(&mut l, &k, T0),
            Failure::LockedNow {
                retry_after_secs: 2
            }
        );
        assert!(matches!(
            l.begin(&k, false, T0 + 1999),
            Check::Locked { .. }
        ));
        assert_eq!(l.begin(&k, false, T0 + 2000), Check::Allowed);
    }

    #[test]
    fn table_stays_bounded_and_keeps_locks() {
        let policy = Policy {
            max_entries: 8,
            ..Policy::default()
        };
        let mut l = Lockouts::new(policy);
        let locked = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            wrong(&mut l, &locked, T0);
        }
        for i in 0..100u8 {
            wrong(&mut l, &key("admin", [10, 0, 1, i]), T0 + i64::from(i));
        }
        assert!(l.tracked() <= 8);
        assert!(matches!(
            l.begin(&locked, false, T0 + 200),
            Check::Locked { .. }
        ));
    }

    #[test]
    fn attempts_in_flight_count_toward_the_limit() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        // Twenty requests at once: five may check a password, no more.
        let checks: Vec<Check> = (0..20).map(|_| l.begin(&k, false, T0)).collect();
        assert_eq!(checks.iter().filter(|c| **c == Check::Allowed).count(), 5);
        assert!(checks[5..].iter().all(|c| *c == Check::Busy));
        for _ in 0..4 {
            l.fail(&k, false, T0);
        }
        assert!(matches!(l.fail(&k, false, T0), Failure::LockedNow { .. }));
        assert!(matches!(l.begin(&k, false, T0), Check::Locked { .. }));
    }

    #[test]
    fn abandoned_and_successful_attempts_release_their_slot() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            assert_eq!(l.begin(&k, false, T0), Check::Allowed);
        }
        assert_eq!(l.begin(&k, false, T0), Check::Busy);
        l.abandon(&k, false);
        assert_eq!(l.begin(&k, false, T0), Check::Allowed);
        l.succeed(&k, false);
        // Four still in flight, none failed: one more may go.
        assert_eq!(l.begin(&k, false, T0), Check::Allowed);
        assert_eq!(l.begin(&k, false, T0), Check::Busy);
    }

    #[test]
    fn clear_forgets_locks() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            wrong(&mut l, &k, T0);
        }
        l.clear();
        assert_eq!(l.begin(&k, false, T0), Check::Allowed);
    }

    fn v6(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0u8; 16]))
    }

    #[test]
    fn rotating_user_names_lock_the_source() {
        let mut l = Lockouts::new(Policy::default());
        let ip = [10, 0, 0, 9];
        for i in 0..9 {
            let left = match wrong(&mut l, &key(&format!("user{i}"), ip), T0) {
                Failure::AttemptsLeft(n) => n,
                other => panic!("{other:?}"),
            };
            assert_eq!(left, (9 - i).min(4));
        }
        assert_eq!(
            wrong(&mut l, &key("user9", ip), T0),
            Failure::SourceLockedNow {
                retry_after_secs: 300
            }
        );
        // Every name is refused from there, the owner's too...
        assert_eq!(
            l.begin(&key("admin", ip), true, T0 + SEC),
            Check::Locked {
                retry_after_secs: 299,
                first_refusal: true
            }
        );
        assert!(matches!(
            l.begin(&key("user10", ip), false, T0 + SEC),
            Check::Locked {
                first_refusal: false,
                ..
            }
        ));
        // ...and from nowhere else; the lock ends.
        assert_eq!(
            l.begin(&key("admin", [10, 0, 0, 10]), true, T0),
            Check::Allowed
        );
        assert_eq!(
            l.begin(&key("user11", ip), false, T0 + 300 * SEC),
            Check::Allowed
        );
    }

    #[test]
    fn a_right_password_does_not_clear_the_source() {
        let mut l = Lockouts::new(Policy::default());
        let ip = [10, 0, 0, 9];
        for i in 0..9 {
            wrong(&mut l, &key(&format!("user{i}"), ip), T0);
        }
        let mine = key("viewer", ip);
        assert_eq!(l.begin(&mine, true, T0), Check::Allowed);
        l.succeed(&mine, true);
        assert!(matches!(
            wrong(&mut l, &key("admin", ip), T0),
            Failure::SourceLockedNow { .. }
        ));
    }

    #[test]
    fn source_failures_are_forgotten_after_an_hour() {
        let mut l = Lockouts::new(Policy::default());
        let ip = [10, 0, 0, 9];
        for i in 0..9 {
            wrong(&mut l, &key(&format!("user{i}"), ip), T0);
        }
        assert_eq!(
            wrong(&mut l, &key("user9", ip), T0 + 3600 * SEC),
            Failure::AttemptsLeft(4)
        );
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source() {
        assert_eq!(
            Key::new("a", v6("2001:db8:1:2:aaaa::1")),
            Key::new("a", v6("2001:db8:1:2:bbbb:cccc:dddd:eeee"))
        );
        assert_ne!(
            Key::new("a", v6("2001:db8:1:2::1")),
            Key::new("a", v6("2001:db8:1:3::1"))
        );
        assert_eq!(
            Key::new("a", v6("::ffff:10.0.0.1")),
            key("a", [10, 0, 0, 1])
        );
        let mut l = Lockouts::new(Policy::default());
        // A new address of the /64 for every guess: still 5 for a name...
        for i in 0..4u16 {
            let ip = IpAddr::from([0x2001u16, 0xdb8, 1, 2, i, i, i, i]);
            wrong(&mut l, &Key::new("admin", ip), T0);
        }
        let last = IpAddr::from([0x2001u16, 0xdb8, 1, 2, 9, 9, 9, 9]);
        assert!(matches!(
            wrong(&mut l, &Key::new("admin", last), T0),
            Failure::LockedNow { .. }
        ));
        // ...and 10 in all for the /64.
        for i in 0..4u16 {
            let ip = IpAddr::from([0x2001u16, 0xdb8, 1, 2, 7, 7, 7, i]);
            wrong(&mut l, &Key::new(&format!("u{i}"), ip), T0);
        }
        let ip = IpAddr::from([0x2001u16, 0xdb8, 1, 2, 8, 8, 8, 8]);
        assert!(matches!(
            wrong(&mut l, &Key::new("u9", ip), T0),
            Failure::SourceLockedNow { .. }
        ));
        let other = IpAddr::from([0x2001u16, 0xdb8, 1, 3, 0, 0, 0, 1]);
        assert_eq!(l.begin(&Key::new("admin", other), true, T0), Check::Allowed);
    }

    /// A wrong password for the account `admin` from 10.0.1.`n`.
    fn wrong_from(l: &mut Lockouts, n: u8, now: UnixMillis) -> Failure {
        let k = key("admin", [10, 0, 1, n]);
        assert_eq!(l.begin(&k, true, now), Check::Allowed, "from {n}");
        l.fail(&k, true, now)
    }

    #[test]
    fn rotating_sources_meet_a_bounded_account_back_off() {
        let mut l = Lockouts::new(Policy::default());
        for n in 0..9 {
            assert_eq!(wrong_from(&mut l, n, T0), Failure::AttemptsLeft(4));
        }
        assert_eq!(
            wrong_from(&mut l, 9, T0),
            Failure::SlowedNow {
                attempts_left: 4,
                retry_after_secs: 1
            }
        );
        // From a fresh source: wait a second (the refusal reported once).
        let fresh = key("admin", [10, 0, 2, 1]);
        assert_eq!(
            l.begin(&fresh, true, T0 + 500),
            Check::Locked {
                retry_after_secs: 1,
                first_refusal: true
            }
        );
        // Another name is not slowed down.
        assert_eq!(
            l.begin(&key("viewer", [10, 0, 2, 1]), true, T0 + 500),
            Check::Allowed
        );
        // Each failure doubles the delay, up to a minute.
        let mut now = T0;
        let mut delays = Vec::new();
        for n in 10..20 {
            let wait = match l.begin(&key("admin", [10, 0, 3, n]), true, now) {
                Check::Locked {
                    retry_after_secs, ..
                } => retry_after_secs,
                other => panic!("{other:?}"),
            };
            delays.push(wait);
            now = now + i64::try_from(wait).unwrap_or(0) * SEC;
            assert!(matches!(
                wrong_from(&mut l, n, now),
                Failure::AttemptsLeft(_)
            ));
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        // The owner, from a clean source, after at most a minute.
        let owner = key("admin", [10, 0, 4, 1]);
        assert!(matches!(
            l.begin(&owner, true, now + 59 * SEC),
            Check::Locked {
                retry_after_secs: 1,
                ..
            }
        ));
        assert_eq!(l.begin(&owner, true, now + 60 * SEC), Check::Allowed);
        l.succeed(&owner, true);
        // A right password ends the back-off.
        assert_eq!(
            wrong_from(&mut l, 30, now + 60 * SEC),
            Failure::AttemptsLeft(4)
        );
    }

    #[test]
    fn in_back_off_one_attempt_at_a_time() {
        let mut l = Lockouts::new(Policy::default());
        for n in 0..10 {
            wrong_from(&mut l, n, T0);
        }
        let later = T0 + SEC;
        let a = key("admin", [10, 0, 5, 1]);
        let b = key("admin", [10, 0, 5, 2]);
        assert_eq!(l.begin(&a, true, later), Check::Allowed);
        assert_eq!(l.begin(&b, true, later), Check::Busy);
        l.abandon(&a, true);
        assert_eq!(l.begin(&b, true, later), Check::Allowed);
    }

    #[test]
    fn parallel_attempts_cannot_jump_the_back_off() {
        let mut l = Lockouts::new(Policy::default());
        for n in 0..8 {
            wrong_from(&mut l, n, T0);
        }
        // Two failures may still come before the back-off: two in flight.
        let checks: Vec<Check> = (0..5u8)
            .map(|n| l.begin(&key("admin", [10, 0, 6, n]), true, T0))
            .collect();
        assert_eq!(
            checks,
            [
                Check::Allowed,
                Check::Allowed,
                Check::Busy,
                Check::Busy,
                Check::Busy
            ]
        );
    }

    #[test]
    fn an_account_is_forgotten_after_an_hour_without_failures() {
        let mut l = Lockouts::new(Policy::default());
        for n in 0..12 {
            let now = T0 + i64::from(n) * 10 * SEC;
            wrong_from(&mut l, n, now);
        }
        let quiet = T0 + 110 * SEC + 3600 * SEC;
        assert_eq!(wrong_from(&mut l, 40, quiet), Failure::AttemptsLeft(4));
    }

    #[test]
    fn unknown_user_names_share_a_budget() {
        let mut l = Lockouts::new(Policy::default());
        let spent: Vec<bool> = (0..12).map(|_| l.unknown_user_check(T0)).collect();
        assert_eq!(spent.iter().filter(|b| **b).count(), 10);
        assert!(!spent[10] && !spent[11]);
        assert!(!l.unknown_user_check(T0 + 5999));
        assert!(l.unknown_user_check(T0 + 6000));
        assert!(!l.unknown_user_check(T0 + 6001));
        // Refilled up to the burst, no more.
        let later = T0 + 3600 * SEC;
        assert_eq!((0..20).filter(|_| l.unknown_user_check(later)).count(), 10);
    }

    #[test]
    fn unknown_user_names_get_no_back_off() {
        let mut l = Lockouts::new(Policy::default());
        for n in 0..30u8 {
            let k = key("nobody", [10, 0, 7, n]);
            assert_eq!(l.begin(&k, false, T0), Check::Allowed);
            assert_eq!(l.fail(&k, false, T0), Failure::AttemptsLeft(4));
        }
    }
}
