//! The keypad's lockout, pure on a clock passed in: 5 wrong access
//! passwords in a row block the keypad (every room) for 5 minutes. A check
//! is reserved before the password is hashed ([`KeypadGuard::begin`]), so
//! attempts in flight count: parallel ones cannot try more than the limit.

use app::model::time::UnixMillis;

pub const MAX_FAILURES: u32 = 5;
pub const LOCK_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Default)]
pub struct KeypadGuard {
    failures: u32,
    /// Checks begun and not settled.
    pending: u32,
    locked_until: Option<UnixMillis>,
}

impl KeypadGuard {
    /// Whether the keypad is blocked at `now`.
    pub fn locked(&self, now: UnixMillis) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// Before a check: may one begin now? Reserves it when it may (settle
    /// it with `fail`, `succeed` or `abandon`).
    pub fn begin(&mut self, now: UnixMillis) -> bool {
        if self.locked(now) || self.failures + self.pending >= MAX_FAILURES {
            return false;
        }
        self.pending += 1;
        true
    }

    /// A check that could not be made (or whose caller went away).
    pub fn abandon(&mut self) {
        self.pending = self.pending.saturating_sub(1);
    }

    /// A wrong password; true when it blocks the keypad.
    pub fn fail(&mut self, now: UnixMillis) -> bool {
        self.pending = self.pending.saturating_sub(1);
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            self.locked_until = Some(now + LOCK_MS);
            return true;
        }
        false
    }

    /// Checks reserved and not settled.
    #[cfg(test)]
    pub fn pending(&self) -> u32 {
        self.pending
    }

    pub fn succeed(&mut self) {
        self.pending = self.pending.saturating_sub(1);
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_block_for_five_minutes() {
        let mut g = KeypadGuard::default();
        for i in 0..4 {
            assert!(!g.fail(UnixMillis(i * 1000)));
            assert!(!g.locked(UnixMillis(i * 1000)));
        }
        assert!(g.fail(UnixMillis(10_000)));
        assert!(g.locked(UnixMillis(10_000)));
        assert!(g.locked(UnixMillis(10_000 + LOCK_MS - 1)));
        assert!(!g.locked(UnixMillis(10_000 + LOCK_MS)));
        // Counting starts afresh after the block.
        assert!(!g.fail(UnixMillis(10_000 + LOCK_MS)));
    }

    #[test]
    fn checks_in_flight_count_and_an_abandoned_one_frees_its_place() {
        let mut g = KeypadGuard::default();
        for _ in 0..MAX_FAILURES {
            assert!(g.begin(UnixMillis(0)));
        }
        assert!(
            !g.begin(UnixMillis(0)),
            "no more checks than could still fail"
        );
        g.abandon();
        assert!(g.begin(UnixMillis(0)), "an abandoned check frees its place");
        for _ in 0..MAX_FAILURES {
            g.abandon();
        }
        assert_eq!(g.pending, 0);
        assert!(!g.locked(UnixMillis(0)));
    }

    #[test]
    fn a_right_password_resets_the_count() {
        let mut g = KeypadGuard::default();
        for i in 0..4 {
            g.fail(UnixMillis(i));
        }
        g.succeed();
        for i in 0..4 {
            assert!(!g.fail(UnixMillis(10 + i)));
        }
        assert!(!g.locked(UnixMillis(20)));
    }
}
