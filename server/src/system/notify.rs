//! The service manager's notifications (systemd's `sd_notify` protocol):
//! `READY=1` once the web listener serves, `WATCHDOG=1` while the loops
//! that matter answer (so a hung SIP or lock task gets the service
//! restarted), `STOPPING=1` on the way out. Not under systemd (no
//! `$NOTIFY_SOCKET`), each does nothing.

use std::{
    ffi::OsStr,
    os::{
        linux::net::SocketAddrExt,
        unix::{
            ffi::OsStrExt,
            net::{SocketAddr, UnixDatagram},
        },
    },
    time::Duration,
};

/// Where notifications go, if anywhere.
pub struct Notifier {
    to: Option<(UnixDatagram, SocketAddr)>,
    /// How often to tell the watchdog we are live, if it watches us.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok();
        let to = std::env::var_os("NOTIFY_SOCKET").and_then(|name| {
            let Some(addr) = address(name.as_bytes()) else {
                tracing::warn!(socket = ?name, "NOTIFY_SOCKET is not a socket address; not notifying");
                return None;
            };
            let socket = UnixDatagram::unbound().ok()?;
            // A service manager that does not read must not stall us.
            socket.set_nonblocking(true).ok()?;
            Some((socket, addr))
        });
        let watchdog = to.as_ref().and_then(|_| {
            watchdog_every(
                var("WATCHDOG_USEC").as_deref(),
                var("WATCHDOG_PID").as_deref(),
                std::process::id(),
            )
        });
        Self { to, watchdog }
    }

    /// How often the watchdog wants to hear from us (`None`: it does not).
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Sends one notification (`READY=1`, `WATCHDOG=1`, `STOPPING=1` …).
    pub fn notify(&self, state: &str) {
        if let Some((socket, addr)) = &self.to {
            if let Err(e) = socket.send_to_addr(state.as_bytes(), addr) {
                tracing::warn!(error = %e, state, "service manager not notified");
            }
        }
    }
}

/// `@name` is an abstract socket, `/path` a file; anything else is not
/// meant for us.
fn address(name: &[u8]) -> Option<SocketAddr> {
    match name.first() {
        Some(b'@') => SocketAddr::from_abstract_name(&name[1..]).ok(),
        Some(b'/') => SocketAddr::from_pathname(OsStr::from_bytes(name)).ok(),
        _ => None,
    }
}

/// The period of our `WATCHDOG=1`: a third of the manager's timeout, so
/// one late check still leaves time for the next. Only for the process
/// the manager names, if it names one (a child must not answer for us).
fn watchdog_every(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    if pid.is_some_and(|pid| pid.trim().parse::<u32>().ok() != Some(me)) {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 3))
}

/// Decides, at each period, whether the loops that matter are live: each
/// named beat (a count its loop advances while it runs) must have moved
/// since the last check.
#[derive(Default)]
pub struct Watchdog {
    last: Vec<(&'static str, u64)>,
}

impl Watchdog {
    /// `Err(name)`: that loop has not moved since the last check. The
    /// first check has nothing to compare with and passes.
    pub fn check(&mut self, beats: &[(&'static str, u64)]) -> Result<(), &'static str> {
        let stuck = beats.iter().find(|(name, now)| {
            self.last
                .iter()
                .any(|(seen, before)| seen == name && before == now)
        });
        self.last = beats.to_vec();
        match stuck {
            Some((name, _)) => Err(name),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_that_stops_moving_fails_the_check_until_it_moves_again() {
        let mut dog = Watchdog::default();
        assert_eq!(dog.check(&[("lock", 0), ("SIP", 5)]), Ok(()));
        assert_eq!(dog.check(&[("lock", 1), ("SIP", 9)]), Ok(()));
        assert_eq!(dog.check(&[("lock", 2), ("SIP", 9)]), Err("SIP"));
        assert_eq!(dog.check(&[("lock", 2), ("SIP", 10)]), Err("lock"));
        assert_eq!(dog.check(&[("lock", 3), ("SIP", 11)]), Ok(()));
    }

    #[test]
    fn the_watchdog_period_is_a_third_of_the_timeout_and_only_for_us() {
        let every = |usec, pid| watchdog_every(usec, pid, 42);
        assert_eq!(every(Some("3000000"), None), Some(Duration::from_secs(1)));
        assert_eq!(
            every(Some("3000000"), Some("42")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(every(Some("3000000"), Some("43")), None);
        assert_eq!(every(Some("0"), None), None);
        assert_eq!(every(Some("soon"), None), None);
        assert_eq!(every(None, None), None);
    }

    #[test]
    fn notifications_reach_a_file_socket_and_an_abstract_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notify");
        let file = UnixDatagram::bind(&path).expect("bind");
        let name = format!("vto-notify-test-{}", std::process::id());
        let abs = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract");
        let abstract_socket = UnixDatagram::bind_addr(&abs).expect("bind abstract");
        for (spec, socket) in [
            (path.as_os_str().as_bytes().to_vec(), &file),
            (format!("@{name}").into_bytes(), &abstract_socket),
        ] {
            let to = address(&spec).expect("an address");
            let notifier = Notifier {
                to: Some((UnixDatagram::unbound().expect("socket"), to)),
                watchdog: None,
            };
            notifier.notify("READY=1");
            let mut buf = [0u8; 64];
            let n = socket.recv(&mut buf).expect("received");
            assert_eq!(&buf[..n], b"READY=1");
        }
        assert!(address(b"relative/path").is_none());
        assert!(address(b"").is_none());
    }
}
