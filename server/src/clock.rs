//! Time as a parameter: everything that expires (sessions, lockouts) asks a
//! [`Clock`], so tests run it on simulated time.

use app::model::time::UnixMillis;

pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC milliseconds since the Unix epoch.
    fn now(&self) -> UnixMillis;
}

/// The host's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
pub mod sim {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    /// A clock that only moves when told to.
    pub struct SimClock(AtomicI64);

    impl SimClock {
        pub fn at(ms: UnixMillis) -> Self {
            Self(AtomicI64::new(ms))
        }

        pub fn advance_secs(&self, secs: i64) {
            self.0.fetch_add(secs * 1000, Ordering::SeqCst);
        }
    }

    impl Clock for SimClock {
        fn now(&self) -> UnixMillis {
            self.0.load(Ordering::SeqCst)
        }
    }
}
