//! IP Permissions (manual 6.3) where connections are accepted: a refused
//! peer's connection is closed before a byte is read, so it gets no page
//! at all. Every listener of the device goes through [`IpFilter`]: the web
//! listeners (HTTP and HTTPS) through
//! [`crate::network::listen::FilterAcceptor`]; SIP over TCP, DHIP and RTSP
//! at accept, before their connection limits
//! ([`crate::network::conn_limit`]); SIP over UDP per datagram.

use std::{
    net::IpAddr,
    sync::{Mutex, RwLock},
    time::{Duration, Instant},
};

use app::model::ip_permissions::{IpPermissions, Policy};

/// Refusals are logged at most this often (each log line counts the ones
/// it stands for), so a flood cannot fill the log.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct IpFilter {
    policy: RwLock<Policy>,
    log: Mutex<(Option<Instant>, u64)>,
}

impl IpFilter {
    pub fn new(settings: &IpPermissions) -> Self {
        Self {
            policy: RwLock::new(settings.compile()),
            log: Mutex::new((None, 0)),
        }
    }

    /// Takes new settings into force for the next connection.
    pub fn set(&self, settings: &IpPermissions) {
        if let Ok(mut p) = self.policy.write() {
            *p = settings.compile();
        }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        // A poisoned lock fails closed only if it was closed before: use
        // whatever policy is there.
        let allowed = match self.policy.read() {
            Ok(p) => p.allows(ip),
            Err(poisoned) => poisoned.into_inner().allows(ip),
        };
        if !allowed {
            self.log_refusal(ip);
        }
        allowed
    }

    fn log_refusal(&self, ip: IpAddr) {
        let Ok(mut log) = self.log.lock() else {
            return;
        };
        log.1 += 1;
        let due = log.0.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if due {
            tracing::warn!(%ip, refused = log.1, "connection refused by IP Permissions");
            *log = (Some(crate::clock::monotonic().into_std()), 0);
        }
    }
}
