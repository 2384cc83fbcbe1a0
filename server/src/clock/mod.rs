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
        UnixMillis(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Now on the host's monotonic clock, which never steps when the wall clock
/// is set (tokio's, so paused test time moves it): for timers, idle checks
/// and rate limits.
#[allow(clippy::disallowed_methods)]
pub fn monotonic() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// Milliseconds on the monotonic clock since `start` (a service's
/// start): the clock of nonces, sessions and keep-alives.
pub fn millis_since(start: tokio::time::Instant) -> u64 {
    let ms = monotonic().saturating_duration_since(start).as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// [`millis_since`] as the SIP core's time.
pub fn mono_since(start: tokio::time::Instant) -> sip::time::Mono {
    sip::time::Mono(i64::try_from(millis_since(start)).unwrap_or(i64::MAX))
}

/// Both clocks read at one moment. The SIP core runs on monotonic
/// milliseconds (since `start`), so a step of the host's clock neither
/// expires registrations nor fires timers; what is stored or shown is
/// wall time, converted here.
#[derive(Clone, Copy)]
pub struct Now {
    pub mono: sip::time::Mono,
    pub wall: UnixMillis,
}

impl Now {
    pub fn read(clock: &dyn Clock, start: tokio::time::Instant) -> Self {
        let mono = mono_since(start);
        let wall = clock.now();
        Self { mono, wall }
    }

    pub fn wall_of(self, at: sip::time::Mono) -> UnixMillis {
        self.wall + (at - self.mono)
    }

    pub fn mono_of(self, at: UnixMillis) -> sip::time::Mono {
        self.mono + (at - self.wall)
    }
}

/// The host's clock as a calendar time (certificate validity, WS-Security
/// timestamps).
pub fn host_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(SystemClock.now().0) * 1_000_000)
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
        now - self.host.now()
    }
}

impl Clock for DeviceClock {
    fn now(&self) -> UnixMillis {
        self.host.now() + self.offset_ms()
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
            Self(AtomicI64::new(ms.0))
        }

        pub fn advance_secs(&self, secs: i64) {
            self.0.fetch_add(secs * 1000, Ordering::SeqCst);
        }
    }

    impl Clock for SimClock {
        fn now(&self) -> UnixMillis {
            UnixMillis(self.0.load(Ordering::SeqCst))
        }
    }
}
