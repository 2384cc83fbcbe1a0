//! Time in the SIP core. Every timer and expiry (transactions, ringing,
//! nonces, registrations, the REGISTER client) runs on a monotonic clock:
//! setting the host's clock (NTP stepping it at boot on a board without a
//! real-time clock) must neither expire registrations nor fire timers.
//! What people read (the call log, registration times) is wall time, made
//! by the device from [`Mono`] when it stores or shows it.

use std::ops::{Add, Sub};

/// Milliseconds on a monotonic clock, from any fixed start (the device
/// uses its start). Not a calendar time: only differences mean anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mono(pub i64);

/// A later instant: `now + timeout_ms`.
impl Add<i64> for Mono {
    type Output = Mono;
    fn add(self, ms: i64) -> Mono {
        Mono(self.0.saturating_add(ms))
    }
}

/// An earlier instant: `expires_at - margin_ms`.
impl Sub<i64> for Mono {
    type Output = Mono;
    fn sub(self, ms: i64) -> Mono {
        Mono(self.0.saturating_sub(ms))
    }
}

/// Milliseconds between two instants (negative when `self` is earlier).
impl Sub for Mono {
    type Output = i64;
    fn sub(self, earlier: Mono) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}
