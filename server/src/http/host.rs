//! Which Host a request may name. A web page elsewhere can point a DNS name
//! of its own at the device (DNS rebinding) and then read its answers as
//! same-origin; the browser still sends that name as Host. So every
//! request must name the device: an IP address, `localhost`, the host's
//! own name (or `NAME.local`), or a name given with `--host-name`.
//! Everything else gets 421 before any route runs.
//!
//! Links that leave the device (the reset mail) are built from the Host
//! only when it is one of the device's names or its own addresses;
//! otherwise from the address the connection reached ([`link_host`]).

use std::net::{IpAddr, SocketAddr};

/// The device's names (lower case, without a trailing dot).
#[derive(Clone, Debug)]
pub struct HostPolicy {
    names: Vec<String>,
}

/// What a Host header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// No Host (HTTP/1.0): not a browser, so not a rebinding page.
    Absent,
    /// An IP address: a rebinding page cannot make a browser send one.
    Address(IpAddr),
    /// One of the device's names.
    Name,
    /// Anything else: refused.
    Stranger,
}

impl HostPolicy {
    /// `host_name` is the kernel's; `extra` the operator's `--host-name`s.
    pub fn new(host_name: &str, extra: &[String]) -> Self {
        let mut names = vec!["localhost".to_string()];
        let host_name = normalize(host_name);
        if !host_name.is_empty() {
            names.push(format!("{host_name}.local"));
            names.push(host_name);
        }
        names.extend(extra.iter().map(|n| normalize(n)).filter(|n| !n.is_empty()));
        names.sort();
        names.dedup();
        Self { names }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Classifies a Host header value (`host[:port]`, `[v6][:port]`).
    pub fn classify(&self, host: Option<&str>) -> Named {
        let Some(host) = host else {
            return Named::Absent;
        };
        let Some((name, _port)) = split_host(host) else {
            return Named::Stranger;
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Named::Address(ip);
        }
        let name = normalize(name);
        if self.names.contains(&name) {
            Named::Name
        } else {
            Named::Stranger
        }
    }

    pub fn allows(&self, host: Option<&str>) -> bool {
        self.classify(host) != Named::Stranger
    }
}

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `(host, port)` of a Host value: `[v6]` loses its brackets; a port, when
/// present, must be a number. `None` for anything that is not a plain
/// host (spaces, paths, user info, empty).
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plain {
        return None;
    }
    let port = |p: &str| p.parse::<u16>().ok();
    if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        return match after {
            "" => Some((v6, None)),
            a => Some((v6, Some(port(a.strip_prefix(':')?)?))),
        };
    }
    match host.split_once(':') {
        None => Some((host, None)),
        Some((name, p)) => Some((name, Some(port(p)?))),
    }
}

/// `host[:port]` for links that leave the device: the Host when it is one
/// of the device's names (`is_name`, from [`HostPolicy::classify`]) or one
/// of `own` (the device's addresses); otherwise the address the connection
/// reached, which the caller cannot choose.
pub fn link_host(
    host: Option<&str>,
    is_name: bool,
    local: Option<SocketAddr>,
    own: &[IpAddr],
) -> Option<String> {
    let trusted = match host.and_then(split_host) {
        Some(_) if is_name => true,
        Some((name, _)) => name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || own.contains(&ip.to_canonical())),
        None => false,
    };
    match (trusted, host) {
        (true, Some(h)) => Some(h.to_string()),
        _ => local.map(|l| match l.ip().to_canonical() {
            IpAddr::V6(v6) => format!("[{v6}]:{}", l.port()),
            v4 => format!("{v4}:{}", l.port()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HostPolicy {
        HostPolicy::new("VTO-door\n", &["door.example.net.".into()])
    }

    #[test]
    fn names_and_addresses_pass() {
        let p = policy();
        for ok in [
            "192.168.1.110",
            "192.168.1.110:8080",
            "[fe80::1]:80",
            "[::1]",
            "localhost:8080",
            "vto-door",
            "VTO-door.local:80",
            "door.example.net",
            "door.example.net.:443",
        ] {
            assert!(p.allows(Some(ok)), "{ok}");
        }
        assert_eq!(p.classify(None), Named::Absent);
        assert!(p.allows(None));
    }

    #[test]
    fn strangers_are_refused() {
        let p = policy();
        for bad in [
            "evil.example",
            "evil.example:8080",
            "vto-door.evil.example",
            "door.example.net.evil.example",
            "other.local",
            "printer",
            "",
            "192.168.1.110:http",
            "[::1",
            "[::1]x",
            "a b",
            "user@192.168.1.110",
            "192.168.1.110/x",
        ] {
            assert_eq!(p.classify(Some(bad)), Named::Stranger, "{bad}");
        }
    }

    #[test]
    fn links_name_the_device_never_what_a_stranger_chose() {
        let p = policy();
        let local: SocketAddr = "192.168.1.110:80".parse().unwrap_or_else(|e| panic!("{e}"));
        let own: Vec<IpAddr> = vec!["192.168.1.110".parse().unwrap_or_else(|e| panic!("{e}"))];
        let link = |h: Option<&str>| link_host(h, p.classify(h) == Named::Name, Some(local), &own);
        assert_eq!(
            link(Some("door.example.net")).as_deref(),
            Some("door.example.net")
        );
        assert_eq!(
            link(Some("192.168.1.110:80")).as_deref(),
            Some("192.168.1.110:80")
        );
        // An address that is not the device's: the connection's instead.
        assert_eq!(link(Some("6.6.6.6")).as_deref(), Some("192.168.1.110:80"));
        assert_eq!(
            link(Some("evil.example")).as_deref(),
            Some("192.168.1.110:80")
        );
        assert_eq!(link(None).as_deref(), Some("192.168.1.110:80"));
        let v6: SocketAddr = "[fe80::1]:8080".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            link_host(Some("6.6.6.6"), false, Some(v6), &own).as_deref(),
            Some("[fe80::1]:8080")
        );
        assert_eq!(link_host(Some("6.6.6.6"), false, None, &own), None);
    }
}
