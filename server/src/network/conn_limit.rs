//! Connection limits where connections are accepted (issue 22): a limit
//! per source address and one in all, so that one address (or one IPv6
//! /64, which one host may hold whole) cannot take every slot of a
//! listener and keep a browser, a monitor or a recorder out.
//!
//! [`ConnLimits::try_acquire`] at accept gives a [`ConnSlot`] or nothing
//! (the connection is closed at once); the slot is released when it is
//! dropped, wherever the connection's task ends (a connection can vanish
//! at any `.await`). Pure bookkeeping: no I/O, no clock.
//!
//! The timeouts that go with it (a first request in time, no slow trickle)
//! belong to each protocol's read loop; [`Timeouts`] carries the one the
//! device is configured with.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::{Arc, Mutex},
    time::Duration,
};

/// Connections per source address and in all, for one listener.
#[derive(Clone)]
pub struct ConnLimits {
    inner: Arc<Inner>,
}

struct Inner {
    per_addr: usize,
    total: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    total: usize,
    by_addr: HashMap<IpAddr, usize>,
}

/// One connection's place; dropping it frees the place.
pub struct ConnSlot {
    inner: Arc<Inner>,
    key: IpAddr,
}

/// The group an address is counted in: an IPv4 address (IPv4-mapped IPv6
/// too) alone, an IPv6 address by its /64.
pub fn group(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

impl ConnLimits {
    /// At most `per_addr` connections from one address (group) and
    /// `total` in all.
    pub fn new(per_addr: usize, total: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                per_addr,
                total,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// A place for a connection from `ip`, if both limits allow one.
    pub fn try_acquire(&self, ip: IpAddr) -> Option<ConnSlot> {
        let key = group(ip);
        let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.total >= self.inner.total {
            return None;
        }
        let n = s.by_addr.entry(key).or_insert(0);
        if *n >= self.inner.per_addr {
            return None;
        }
        *n += 1;
        s.total += 1;
        Some(ConnSlot {
            inner: self.inner.clone(),
            key,
        })
    }

    /// Connections held now, in all.
    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .total
    }

    /// Connections held now from `ip`'s group.
    #[cfg(test)]
    pub fn held_by(&self, ip: IpAddr) -> usize {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_addr
            .get(&group(ip))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.by_addr.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.by_addr.remove(&self.key);
            }
        }
    }
}

/// How long a new connection may take to send its first whole request
/// (and a request once begun to be whole): an idle or trickling
/// connection (slowloris) is closed after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub first_request: Duration,
}

/// The default first-request timeout, seconds.
pub const FIRST_REQUEST_SECS: u64 = 10;

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            first_request: Duration::from_secs(FIRST_REQUEST_SECS),
        }
    }
}

/// Closes `stream` with a reset (no FIN handshake, no TIME_WAIT here): for
/// connections refused at accept.
pub fn reset(stream: tokio::net::TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Raises this process's open files limit to its hard limit: every
/// connection is a file, and the usual soft limit (1024) is below what the
/// listeners allow together.
#[allow(unsafe_code)] // getrlimit and setrlimit, nowhere else
pub fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= lim.rlim_max {
            return;
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            tracing::debug!("open files limit left as it is");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn one_address_cannot_take_every_slot() {
        let limits = ConnLimits::new(3, 5);
        let a: Vec<ConnSlot> = (0..10)
            .filter_map(|_| limits.try_acquire(ip("10.0.0.1")))
            .collect();
        assert_eq!(a.len(), 3);
        assert_eq!(limits.held_by(ip("10.0.0.1")), 3);
        // Others still get in, up to the total.
        let b = limits.try_acquire(ip("10.0.0.2"));
        let c = limits.try_acquire(ip("10.0.0.3"));
        assert!(b.is_some() && c.is_some());
        assert_eq!(limits.in_use(), 5);
        assert!(limits.try_acquire(ip("10.0.0.4")).is_none());
        // A dropped slot is free again, for anyone.
        drop(b);
        assert_eq!(limits.in_use(), 4);
        assert!(limits.try_acquire(ip("10.0.0.1")).is_none());
        let d = limits.try_acquire(ip("10.0.0.4"));
        assert!(d.is_some());
        drop(a);
        drop(c);
        drop(d);
        assert_eq!(limits.in_use(), 0);
        assert_eq!(limits.held_by(ip("10.0.0.1")), 0);
        // Nothing is left behind per address.
        let s = limits.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        assert!(s.by_addr.is_empty());
    }

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let limits = ConnLimits::new(2, 100);
        let x = limits.try_acquire(ip("2001:db8:1:2::1"));
        let y = limits.try_acquire(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert!(x.is_some() && y.is_some());
        assert!(limits.try_acquire(ip("2001:db8:1:2::abcd")).is_none());
        // The next /64 is another group.
        assert!(limits.try_acquire(ip("2001:db8:1:3::1")).is_some());
        let v4 = limits.try_acquire(ip("192.0.2.7"));
        let mapped = limits.try_acquire(ip("::ffff:192.0.2.7"));
        assert!(v4.is_some() && mapped.is_some());
        assert!(limits.try_acquire(ip("192.0.2.7")).is_none());
        assert_eq!(group(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(group(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
    }

    #[tokio::test]
    async fn slots_are_released_from_tasks_that_end_anywhere() {
        let limits = ConnLimits::new(64, 64);
        {
            let mut tasks = Vec::new();
            for i in 0..32u8 {
                let Some(slot) = limits.try_acquire(IpAddr::from([10, 0, 0, i % 4])) else {
                    panic!("no slot");
                };
                tasks.push(tokio::spawn(async move {
                    let _slot = slot;
                    if i % 2 == 0 {
                        std::future::pending::<()>().await;
                    }
                }));
            }
            assert_eq!(limits.in_use(), 32);
            // Half end by themselves, the others are aborted mid-await.
            for t in &tasks {
                t.abort();
            }
            for t in tasks {
                let _ = t.await;
            }
            assert_eq!(limits.in_use(), 0);
        }
    }
}
