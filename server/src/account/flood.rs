//! Failures in the security log without letting a flood push the trail
//! out (issue 22): failures (`SecurityEventKind::is_failure`) get a row
//! each while a budget lasts (20 at once, one more every 5 minutes); beyond
//! it they are counted in one row ("…, 4,812 more coalesced") until 10
//! minutes pass without a failure. With the store's rule that failures make
//! room only by dropping older failures, a flood never pushes other events
//! out.
//!
//! [`FloodLog`] is the pure decision, on a time passed in; [`record`]
//! applies it in a write transaction.

use std::sync::Mutex;

use app::model::{security_log::SecurityEvent, time::UnixMillis};

use crate::store::{StoreError, Writer};

const MINUTE: i64 = 60 * 1000;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures that get their own row at once...
    pub burst: u32,
    /// ...and one more each this long.
    pub refill_ms: i64,
    /// A coalescing row takes failures until this long passes without one.
    pub quiet_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            burst: 20,
            refill_ms: 5 * MINUTE,
            quiet_ms: 10 * MINUTE,
        }
    }
}

/// Where a failure goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// A row of its own.
    Own,
    /// A row of its own that counts the failures after it: tell
    /// [`FloodLog::opened`] its sequence number.
    Open,
    /// Counted in this row.
    Into(u64),
}

#[derive(Debug, Default)]
pub struct FloodLog {
    policy: Policy,
    tokens: u32,
    refilled: Option<UnixMillis>,
    /// The row counting the current flood.
    open: Option<u64>,
    last_failure: Option<UnixMillis>,
}

impl FloodLog {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            tokens: policy.burst,
            ..Self::default()
        }
    }

    /// Where a failure at `now` goes.
    pub fn decide(&mut self, now: UnixMillis) -> Row {
        let p = self.policy;
        let since = *self.refilled.get_or_insert(now);
        if p.refill_ms > 0 {
            let earned = (now - since).max(0) / p.refill_ms;
            if earned > 0 {
                let earned = u32::try_from(earned).unwrap_or(u32::MAX);
                self.tokens = self.tokens.saturating_add(earned).min(p.burst);
                self.refilled = Some(if self.tokens == p.burst {
                    now
                } else {
                    since + i64::from(earned) * p.refill_ms
                });
            }
        }
        let flooding = self.last_failure.is_some_and(|t| now - t < p.quiet_ms);
        self.last_failure = Some(now);
        match self.open {
            Some(seq) if flooding => return Row::Into(seq),
            _ => self.open = None,
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            Row::Own
        } else {
            Row::Open
        }
    }

    /// The row of a [`Row::Open`] decision was written as `seq`.
    pub fn opened(&mut self, seq: u64) {
        self.open = Some(seq);
    }

    /// Forgets everything (factory reset: the log is empty).
    pub fn clear(&mut self) {
        *self = Self::new(self.policy);
    }
}

/// Logs a failure in `w`'s transaction, as `flood` decides.
pub fn record(
    w: &Writer,
    flood: &Mutex<FloodLog>,
    event: &SecurityEvent,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let mut flood = flood.lock().unwrap_or_else(|p| p.into_inner());
    match flood.decide(now) {
        Row::Own => w.log(event),
        Row::Into(seq) if w.coalesce_into(seq)? => Ok(()),
        // A new flood, or its row is gone (dropped, or that transaction
        // failed): this failure opens a row.
        Row::Open | Row::Into(_) => {
            let seq = w.log_within(event, crate::store::MAX_SECURITY_EVENTS)?;
            flood.opened(seq);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);
    const SEC: i64 = 1000;

    #[test]
    fn a_flood_becomes_one_row() {
        let mut f = FloodLog::new(Policy::default());
        for i in 0..20 {
            assert_eq!(f.decide(T0 + i), Row::Own);
        }
        assert_eq!(f.decide(T0 + 20), Row::Open);
        f.opened(77);
        // Thousands more, for hours, as long as they keep coming: one row.
        let mut now = T0;
        for _ in 0..5000 {
            now = now + 5 * SEC;
            assert_eq!(f.decide(now), Row::Into(77));
        }
    }

    #[test]
    fn a_quiet_spell_closes_the_row() {
        let mut f = FloodLog::new(Policy::default());
        for _ in 0..20 {
            f.decide(T0);
        }
        assert_eq!(f.decide(T0), Row::Open);
        f.opened(5);
        assert_eq!(f.decide(T0 + 599 * SEC), Row::Into(5));
        // Ten minutes without a failure: the row is closed; three own rows
        // were earned since the flood began.
        let later = T0 + 1199 * SEC;
        for _ in 0..3 {
            assert_eq!(f.decide(later), Row::Own);
        }
        assert_eq!(f.decide(later), Row::Open);
        f.opened(9);
        assert_eq!(f.decide(later), Row::Into(9));
    }

    #[test]
    fn bursts_with_pauses_get_few_rows() {
        // 20 failures, a 10-minute pause, again, for a day: at most three
        // rows a round after the first.
        let mut f = FloodLog::new(Policy::default());
        let mut rows = 0;
        let mut seq = 0;
        let mut now = T0;
        while now < T0 + 24 * 3600 * SEC {
            for _ in 0..20 {
                match f.decide(now) {
                    Row::Own => rows += 1,
                    Row::Open => {
                        rows += 1;
                        seq += 1;
                        f.opened(seq);
                    }
                    Row::Into(_) => {}
                }
            }
            now = now + 600 * SEC;
        }
        assert!(rows <= 20 + 3 * 144, "{rows}");
    }
}
