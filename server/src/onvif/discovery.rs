//! WS-Discovery on UDP (`--discovery`, 3702 on a device, joined to
//! 239.255.255.250): a Probe gets this device's ProbeMatches while ONVIF
//! and WS-Discovery are on. The answer goes only to the datagram's source
//! (never a ReplyTo), and answers are rate-limited: a ProbeMatches is
//! several times a Probe's size, and a forged source address must not
//! turn the device into an amplifier.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use onvif::{
    answer::{self, DEVICE_PATH},
    discovery::{self, Match},
};
use tokio::net::UdpSocket;

use super::OnvifService;
use crate::{network::ip_filter::IpFilter, services::Services};

/// WS-Discovery's multicast group.
pub const MULTICAST: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// Answers per second at most, all sources together (a burst of this many).
const ANSWERS_PER_S: f64 = 10.0;
/// One answer per source address per this long.
const PER_SOURCE: Duration = Duration::from_millis(200);
/// Sources remembered for [`PER_SOURCE`] at most.
const MAX_SOURCES: usize = 1024;

/// Binds the socket; joins the multicast group when bound to all IPv4
/// addresses (a failure to join is logged: unicast probes still work).
pub async fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr).await?;
    if addr.ip() == IpAddr::V4(Ipv4Addr::UNSPECIFIED) {
        if let Err(e) = socket.join_multicast_v4(MULTICAST, Ipv4Addr::UNSPECIFIED) {
            tracing::warn!(error = %e, "WS-Discovery: cannot join 239.255.255.250");
        }
    }
    Ok(socket)
}

/// Answers allowed now: a token bucket over all sources and a minimum
/// interval per source.
struct Limiter {
    tokens: f64,
    last: tokio::time::Instant,
    sources: HashMap<IpAddr, tokio::time::Instant>,
}

impl Limiter {
    fn new(now: tokio::time::Instant) -> Self {
        Self {
            tokens: ANSWERS_PER_S,
            last: now,
            sources: HashMap::new(),
        }
    }

    fn allow(&mut self, source: IpAddr, now: tokio::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * ANSWERS_PER_S).min(ANSWERS_PER_S);
        if self
            .sources
            .get(&source)
            .is_some_and(|t| now.saturating_duration_since(*t) < PER_SOURCE)
        {
            return false;
        }
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        if self.sources.len() >= MAX_SOURCES {
            self.sources
                .retain(|_, t| now.saturating_duration_since(*t) < PER_SOURCE);
        }
        if self.sources.len() < MAX_SOURCES {
            self.sources.insert(source, now);
        }
        true
    }
}

/// The device's address as seen from `peer`: the socket's own when bound to
/// one, else the one the host would send from (a connected UDP socket sends
/// nothing).
async fn local_ip_towards(socket: &UdpSocket, peer: SocketAddr) -> Option<IpAddr> {
    let bound = socket.local_addr().ok()?.ip();
    if !bound.is_unspecified() {
        return Some(bound);
    }
    let probe = UdpSocket::bind(SocketAddr::new(bound, 0)).await.ok()?;
    probe.connect(peer).await.ok()?;
    Some(probe.local_addr().ok()?.ip())
}

pub async fn serve(
    socket: UdpSocket,
    services: Arc<Services>,
    onvif: Arc<OnvifService>,
    ip_filter: Arc<IpFilter>,
) {
    let mut buf = vec![0u8; discovery::MAX_PROBE + 1];
    let mut limiter = Limiter::new(crate::clock::monotonic());
    let endpoint = discovery::endpoint(onvif.serial());
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "WS-Discovery receive");
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        if !ip_filter.allows(ip) {
            continue;
        }
        let Some(probe) = discovery::parse_probe(&buf[..n]) else {
            continue;
        };
        let record = match onvif.record().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "WS-Discovery: settings");
                continue;
            }
        };
        if !(record.enabled && record.discovery) {
            continue;
        }
        if !limiter.allow(ip, crate::clock::monotonic()) {
            tracing::debug!(%ip, "WS-Discovery: answer rate-limited");
            continue;
        }
        let Some(local) = local_ip_towards(&socket, peer).await else {
            continue;
        };
        let Ok(web) = services.network.web() else {
            continue;
        };
        let (http, https) = web.addresses();
        let mut xaddrs = Vec::new();
        if let Some(a) = http {
            xaddrs.push(format!(
                "http://{}{DEVICE_PATH}",
                SocketAddr::new(local, a.port())
            ));
        }
        if let Some(a) = https {
            xaddrs.push(format!(
                "https://{}{DEVICE_PATH}",
                SocketAddr::new(local, a.port())
            ));
        }
        let Ok(device) = onvif.device(SocketAddr::new(local, 0), false).await else {
            continue;
        };
        let scopes = answer::scopes(&device);
        if !probe.matches(&scopes) {
            continue;
        }
        let Ok(random) = crate::error::random::<16>() else {
            continue;
        };
        let message_id = discovery::urn_uuid(random);
        let xaddrs = xaddrs.join(" ");
        let text = discovery::probe_matches(
            &probe,
            &Match {
                endpoint: &endpoint,
                scopes: &scopes,
                xaddrs: &xaddrs,
                metadata_version: 1,
                message_id: &message_id,
            },
        );
        if let Err(e) = socket.send_to(text.as_bytes(), peer).await {
            tracing::debug!(error = %e, "WS-Discovery send");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_limited_per_source_and_overall() {
        let t0 = crate::clock::monotonic();
        let mut l = Limiter::new(t0);
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(l.allow(a, t0));
        assert!(!l.allow(a, t0 + Duration::from_millis(100)));
        assert!(l.allow(a, t0 + Duration::from_millis(250)));
        // Many sources at once: the bucket's burst, then nothing.
        let t1 = t0 + Duration::from_secs(5);
        let granted = (0..100u8)
            .filter(|i| l.allow(IpAddr::from([10, 1, 0, *i]), t1))
            .count();
        assert_eq!(granted, ANSWERS_PER_S as usize);
        // A second later the bucket has refilled.
        assert!(l.allow(IpAddr::from([10, 2, 0, 1]), t1 + Duration::from_secs(1)));
        assert!(l.sources.len() <= MAX_SOURCES);
    }
}
