//! The keypad's lockout, pure on a clock passed in: 5 wrong access
//! passwords in a row block the keypad (every room) for 5 minutes.

use app::model::time::UnixMillis;

pub const MAX_FAILURES: u32 = 5;
pub const LOCK_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Default)]
pub struct KeypadGuard {
    failures: u32,
    locked_until: Option<UnixMillis>,
}

impl KeypadGuard {
    /// Whether the keypad is blocked at `now`.
    pub fn locked(&self, now: UnixMillis) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// A wrong password; true when it blocks the keypad.
    pub fn fail(&mut self, now: UnixMillis) -> bool {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            self.locked_until = Some(now.saturating_add(LOCK_MS));
            return true;
        }
        false
    }

    pub fn succeed(&mut self) {
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
            assert!(!g.fail(i * 1000));
            assert!(!g.locked(i * 1000));
        }
        assert!(g.fail(10_000));
        assert!(g.locked(10_000));
        assert!(g.locked(10_000 + LOCK_MS - 1));
        assert!(!g.locked(10_000 + LOCK_MS));
        // Counting starts afresh after the block.
        assert!(!g.fail(10_000 + LOCK_MS));
    }

    #[test]
    fn a_right_password_resets_the_count() {
        let mut g = KeypadGuard::default();
        for i in 0..4 {
            g.fail(i);
        }
        g.succeed();
        for i in 0..4 {
            assert!(!g.fail(10 + i));
        }
        assert!(!g.locked(20));
    }
}
