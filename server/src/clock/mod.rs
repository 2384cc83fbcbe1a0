//! Time as a parameter: everything that expires (sessions, lockouts) asks a
//! [`Clock`], so tests run it on simulated time. Expiries run on the host's
//! clock; what people read (records, TOTP, mail) on the [`DeviceClock`];
//! timers on [`monotonic`]. This module is the only place that reads the
//! clocks (`clippy.toml` denies `now()` everywhere else).

use app::model::time::UnixMillis;

pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC milliseconds since the Unix epoch.
    fn now(&self) -> UnixMillis;
}

/// The host's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    // The one reading of the host's wall clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> UnixMillis {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Now on the host's monotonic clock, which never steps when the wall clock
/// is set (tokio's, so paused test time moves it): for timers, idle checks
/// and rate limits.
#[allow(clippy::disallowed_methods)]
pub fn monotonic() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// The host's clock as a calendar time (certificate validity, WS-Security
/// timestamps).
pub fn host_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(SystemClock.now()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The device's clock: the host's clock plus a stored offset, so the
/// device's time can be set (Sync PC, NTP) without touching the host's.
pub struct DeviceClock {
    host: std::sync::Arc<dyn Clock>,
    offset_ms: std::sync::atomic::AtomicI64,
}

impl DeviceClock {
    pub fn new(host: std::sync::Arc<dyn Clock>, offset_ms: i64) -> Self {
        Self {
            host,
            offset_ms: std::sync::atomic::AtomicI64::new(offset_ms),
        }
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms
            .store(offset_ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// The offset that makes the device's clock read `now`.
    pub fn offset_for(&self, now: UnixMillis) -> i64 {
        now.saturating_sub(self.host.now())
    }
}

impl Clock for DeviceClock {
    fn now(&self) -> UnixMillis {
        self.host.now().saturating_add(self.offset_ms())
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
