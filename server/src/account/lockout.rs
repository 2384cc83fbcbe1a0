//! Login failure counting (Cybersecurity appendix item 4): 5 consecutive
//! failures lock the account for the source address for 5 minutes.
//!
//! A pure state machine: the caller passes the time in. An attempt is
//! reserved with [`Lockouts::begin`] before the password is checked and
//! settled with `fail`, `succeed` or `abandon`: attempts in flight count, so
//! parallel requests cannot try more passwords than the limit allows.
//! [`reserve`] wraps the reservation in a guard that abandons it when a
//! request is dropped before it settles.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, MutexGuard},
};

use app::model::time::UnixMillis;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Consecutive failures that lock.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_ms: i64,
    /// Failures older than this (with no lock) are forgotten.
    pub forget_ms: i64,
    /// At most this many (user, address) pairs are tracked.
    pub max_entries: usize,
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
            lock_ms: 5 * 60 * 1000,
            forget_ms: 24 * 60 * 60 * 1000,
            max_entries: 4096,
        }
    }
}

/// Who is attempting: the user name as typed and the source address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub user: String,
    pub ip: IpAddr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Go ahead; settle the attempt afterwards.
    Allowed,
    /// As many attempts are in flight as may still fail before the lock:
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
    /// Not locked yet; this many attempts are left.
    AttemptsLeft(u32),
    /// This failure locked the account for the address.
    LockedNow { retry_after_secs: u64 },
}

#[derive(Clone, Debug)]
struct Entry {
    failures: u32,
    /// Attempts begun and not settled yet.
    pending: u32,
    locked_until: Option<UnixMillis>,
    refusal_seen: bool,
    last: UnixMillis,
}

#[derive(Debug, Default)]
pub struct Lockouts {
    policy: Policy,
    entries: HashMap<Key, Entry>,
}

fn secs_until(until: UnixMillis, now: UnixMillis) -> u64 {
    u64::try_from((until - now).max(0))
        .unwrap_or(0)
        .div_ceil(1000)
}

impl Lockouts {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            entries: HashMap::new(),
        }
    }

    /// Before checking a password: may `key` try now? `Allowed` reserves
    /// the attempt.
    pub fn begin(&mut self, key: &Key, now: UnixMillis) -> Check {
        self.expire(key, now);
        if !self.entries.contains_key(key) {
            self.make_room(now);
        }
        let max = self.policy.max_failures;
        let entry = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            pending: 0,
            locked_until: None,
            refusal_seen: false,
            last: now,
        });
        if let Some(until) = entry.locked_until {
            let first_refusal = !entry.refusal_seen;
            entry.refusal_seen = true;
            return Check::Locked {
                retry_after_secs: secs_until(until, now),
                first_refusal,
            };
        }
        if entry.failures + entry.pending >= max {
            return Check::Busy;
        }
        entry.pending += 1;
        Check::Allowed
    }

    /// After a wrong password.
    pub fn fail(&mut self, key: &Key, now: UnixMillis) -> Failure {
        let policy = self.policy;
        let entry = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            pending: 1,
            locked_until: None,
            refusal_seen: false,
            last: now,
        });
        entry.pending = entry.pending.saturating_sub(1);
        entry.failures += 1;
        entry.last = now;
        if entry.failures >= policy.max_failures {
            let until = now + policy.lock_ms;
            entry.locked_until = Some(until);
            entry.refusal_seen = false;
            Failure::LockedNow {
                retry_after_secs: secs_until(until, now),
            }
        } else {
            Failure::AttemptsLeft(policy.max_failures - entry.failures)
        }
    }

    /// After a correct password: the count starts again.
    pub fn succeed(&mut self, key: &Key) {
        if let Some(e) = self.entries.get_mut(key) {
            e.pending = e.pending.saturating_sub(1);
            e.failures = 0;
            if e.pending == 0 && e.locked_until.is_none() {
                self.entries.remove(key);
            }
        }
    }

    /// The check could not be made (e.g. the device was busy): the attempt
    /// counts neither way.
    pub fn abandon(&mut self, key: &Key) {
        if let Some(e) = self.entries.get_mut(key) {
            e.pending = e.pending.saturating_sub(1);
        }
    }

    /// Forgets everything (factory reset).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    /// Ends an expired lock (the count starts again) or forgets old failures.
    fn expire(&mut self, key: &Key, now: UnixMillis) {
        let forget_ms = self.policy.forget_ms;
        if let Some(e) = self.entries.get_mut(key) {
            match e.locked_until {
                // A lock that ran out: the count starts again.
                Some(until) if now >= until => {
                    e.locked_until = None;
                    e.failures = 0;
                    e.refusal_seen = false;
                }
                None if now - e.last >= forget_ms => e.failures = 0,
                _ => {}
            }
        }
    }

    /// Keeps the table bounded: drops finished entries, then the oldest
    /// unlocked one, then the oldest.
    fn make_room(&mut self, now: UnixMillis) {
        if self.entries.len() < self.policy.max_entries {
            return;
        }
        let forget_ms = self.policy.forget_ms;
        self.entries.retain(|_, e| {
            e.pending > 0
                || match e.locked_until {
                    Some(until) => now < until,
                    None => e.failures > 0 && now - e.last < forget_ms,
                }
        });
        if self.entries.len() < self.policy.max_entries {
            return;
        }
        let victim = self
            .entries
            .iter()
            .min_by_key(|(_, e)| (e.locked_until.is_some(), e.last))
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            self.entries.remove(&k);
        }
    }
}

/// An attempt reserved by [`Lockouts::reserve`]: settled with
/// [`Reserved::fail`] or [`Reserved::succeed`]; one dropped unsettled (the
/// request went away mid-check: a browser navigating away, a client timing
/// out) is abandoned, so it never holds a place for good.
pub struct Reserved<'a> {
    lockouts: &'a Mutex<Lockouts>,
    key: Key,
    settled: bool,
}

impl Reserved<'_> {
    fn table(&self) -> MutexGuard<'_, Lockouts> {
        self.lockouts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn fail(mut self, now: UnixMillis) -> Failure {
        self.settled = true;
        self.table().fail(&self.key, now)
    }

    pub fn succeed(mut self) {
        self.settled = true;
        self.table().succeed(&self.key);
    }

    /// A right password when a second factor follows: earlier failures
    /// stay counted.
    pub fn keep_count(mut self) {
        self.settled = true;
        self.table().abandon(&self.key);
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.table().abandon(&self.key);
        }
    }
}

/// Reserves an attempt for `key` in `lockouts`, or says why not.
pub fn reserve<'a>(
    lockouts: &'a Mutex<Lockouts>,
    key: Key,
    now: UnixMillis,
) -> Result<Reserved<'a>, Check> {
    let check = lockouts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .begin(&key, now);
    match check {
        Check::Allowed => Ok(Reserved {
            lockouts,
            key,
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
        assert_eq!(l.begin(k, now), Check::Allowed);
        l.fail(k, now)
    }

    fn key(user: &str, ip: [u8; 4]) -> Key {
        Key {
            user: user.into(),
            ip: IpAddr::from(ip),
        }
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
            l.begin(&k, T0 + 28 * SEC),
            Check::Locked {
                retry_after_secs: 272,
                first_refusal: true
            }
        );
        assert_eq!(
            l.begin(&k, T0 + 299_001),
            Check::Locked {
                retry_after_secs: 1,
                first_refusal: false
            }
        );
        // Expired: allowed again, with a fresh count.
        assert_eq!(l.begin(&k, T0 + 300 * SEC), Check::Allowed);
        assert_eq!(wrong(&mut l, &k, T0 + 301 * SEC), Failure::AttemptsLeft(4));
    }

    #[test]
    fn lock_is_per_user_and_address() {
        let mut l = Lockouts::new(Policy::default());
        let a = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            wrong(&mut l, &a, T0);
        }
        assert!(matches!(l.begin(&a, T0), Check::Locked { .. }));
        assert_eq!(l.begin(&key("admin", [10, 0, 0, 2]), T0), Check::Allowed);
        assert_eq!(l.begin(&key("other", [10, 0, 0, 1]), T0), Check::Allowed);
    }

    #[test]
    fn success_resets_the_count() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..4 {
            wrong(&mut l, &k, T0);
        }
        l.succeed(&k);
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
        assert!(matches!(l.begin(&k, T0 + 1999), Check::Locked { .. }));
        assert_eq!(l.begin(&k, T0 + 2000), Check::Allowed);
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
        assert!(matches!(l.begin(&locked, T0 + 200), Check::Locked { .. }));
    }

    #[test]
    fn attempts_in_flight_count_toward_the_limit() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        // Twenty requests at once: five may check a password, no more.
        let checks: Vec<Check> = (0..20).map(|_| l.begin(&k, T0)).collect();
        assert_eq!(checks.iter().filter(|c| **c == Check::Allowed).count(), 5);
        assert!(checks[5..].iter().all(|c| *c == Check::Busy));
        for _ in 0..4 {
            l.fail(&k, T0);
        }
        assert!(matches!(l.fail(&k, T0), Failure::LockedNow { .. }));
        assert!(matches!(l.begin(&k, T0), Check::Locked { .. }));
    }

    #[test]
    fn abandoned_and_successful_attempts_release_their_slot() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            assert_eq!(l.begin(&k, T0), Check::Allowed);
        }
        assert_eq!(l.begin(&k, T0), Check::Busy);
        l.abandon(&k);
        assert_eq!(l.begin(&k, T0), Check::Allowed);
        l.succeed(&k);
        // Four still in flight, none failed: one more may go.
        assert_eq!(l.begin(&k, T0), Check::Allowed);
        assert_eq!(l.begin(&k, T0), Check::Busy);
    }

    #[test]
    fn clear_forgets_locks() {
        let mut l = Lockouts::new(Policy::default());
        let k = key("admin", [10, 0, 0, 1]);
        for _ in 0..5 {
            wrong(&mut l, &k, T0);
        }
        l.clear();
        assert_eq!(l.begin(&k, T0), Check::Allowed);
    }
}
