//! Network Setting > Basic (manual 6.1): the web server's listen address
//! and HTTP port (TCP/IP), and HTTPS with its port and certificate.
//!
//! The host's own IP configuration (addresses, gateway, DNS) belongs to the
//! operating system: the page shows it read-only. Until this page is saved
//! the device listens where its command line says (`--http`).

use serde::{Deserialize, Serialize};

use super::time::UnixMillis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSettings {
    /// The address the web server listens on: `0.0.0.0` or `::` for all,
    /// or one of the host's addresses.
    pub listen_address: String,
    pub http_port: u16,
    pub https: bool,
    pub https_port: u16,
}

impl Default for NetworkSettings {
    /// The manual's ports; all addresses.
    fn default() -> Self {
        Self {
            listen_address: "0.0.0.0".into(),
            http_port: 80,
            https: false,
            https_port: 443,
        }
    }
}

impl NetworkSettings {
    /// Every error: (field id, message). Whether the address and ports can
    /// really be used is known only when the device tries them.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self
            .listen_address
            .trim()
            .parse::<std::net::IpAddr>()
            .is_err()
        {
            errors.push((
                "listen-address",
                "Enter an IPv4 or IPv6 address (0.0.0.0 for all)".to_string(),
            ));
        }
        if self.http_port == 0 {
            errors.push(("http-port", "Enter a port from 1 to 65535".to_string()));
        }
        if self.https_port == 0 {
            errors.push(("https-port", "Enter a port from 1 to 65535".to_string()));
        } else if self.https && self.https_port == self.http_port {
            errors.push((
                "https-port",
                "HTTPS needs a port of its own, not the HTTP Port".to_string(),
            ));
        }
        errors
    }

    /// The manual's parameter names of what differs from `old`.
    pub fn changed_fields(&self, old: &Self) -> Vec<&'static str> {
        [
            (self.listen_address != old.listen_address, "IP Address"),
            (self.http_port != old.http_port, "HTTP Port"),
            (self.https != old.https, "HTTPS"),
            (self.https_port != old.https_port, "HTTPS Port"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }
}

/// Where the certificate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertificateKind {
    /// Made by the device (self-signed) when HTTPS was first enabled.
    Generated,
    Uploaded,
}

/// The HTTPS certificate as the page shows it (never the private key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub kind: CertificateKind,
    pub subject: String,
    /// Names and addresses it is valid for.
    pub names: Vec<String>,
    pub not_before: UnixMillis,
    pub not_after: UnixMillis,
    /// SHA-256 of the DER certificate, `AB:CD:...`.
    pub fingerprint: String,
    /// The certificate itself (public), to install it as trusted.
    pub pem: String,
}

/// One address of the host (read-only on the page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAddress {
    pub interface: String,
    pub address: String,
}

/// The Network Setting > Basic page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPage {
    pub settings: NetworkSettings,
    /// The RTSP server as started (`--rtsp`); `None`: off.
    #[serde(default)]
    pub rtsp: Option<RtspInfo>,
    pub host_name: String,
    pub host_addresses: Vec<HostAddress>,
    pub certificate: Option<CertificateInfo>,
    /// After a save that moved the web server: where the browser goes next.
    pub moved_to: Option<String>,
}

/// A certificate and its key to upload, PEM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateUpload {
    pub certificate: String,
    pub private_key: String,
}

/// Largest PEM file accepted for a certificate or a key.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (fn(&mut NetworkSettings), Option<&'static str>);

    #[test]
    fn validation_edges() {
        let cases: &[Case] = &[
            (|_| {}, None),
            (|s| s.listen_address = "::".into(), None),
            (|s| s.listen_address = "192.168.1.108".into(), None),
            (|s| s.listen_address = "fe80::1".into(), None),
            (|s| s.listen_address = String::new(), Some("listen-address")),
            (
                |s| s.listen_address = "192.168.1".into(),
                Some("listen-address"),
            ),
            (
                |s| s.listen_address = "vto.local".into(),
                Some("listen-address"),
            ),
            (|s| s.http_port = 0, Some("http-port")),
            (|s| s.http_port = 1, None),
            (|s| s.http_port = 65535, None),
            (|s| s.https_port = 0, Some("https-port")),
            (
                |s| {
                    s.https = true;
                    s.https_port = 80;
                },
                Some("https-port"),
            ),
            (|s| s.https_port = 80, None), // HTTPS off: not in use
        ];
        for (i, (change, field)) in cases.iter().enumerate() {
            let mut s = NetworkSettings::default();
            change(&mut s);
            assert_eq!(s.validate().first().map(|e| e.0), *field, "case {i}");
        }
    }

    #[test]
    fn changed_fields_name_the_manuals_parameters() {
        let old = NetworkSettings::default();
        let new = NetworkSettings {
            http_port: 8080,
            https: true,
            ..old.clone()
        };
        assert_eq!(new.changed_fields(&old), vec!["HTTP Port", "HTTPS"]);
    }
}

/// Where the RTSP server listens (`--rtsp`), as bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtspInfo {
    /// The address bound: `0.0.0.0` or `::` for all of the host's.
    pub address: String,
    pub port: u16,
}

impl RtspInfo {
    /// The door camera's stream at the Dahua layout (`subtype` 0: main,
    /// 1: sub). Bound to all addresses, the host is the one the page was
    /// opened at (`page_host`, as the browser's `location.hostname` gives
    /// it), or a placeholder before it is known.
    pub fn url(&self, page_host: Option<&str>, subtype: u8) -> String {
        let host = match self.address.parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_unspecified() => page_host.unwrap_or("DEVICE").to_string(),
            Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => self.address.clone(),
        };
        format!(
            "rtsp://{host}:{}/cam/realmonitor?channel=1&subtype={subtype}",
            self.port
        )
    }
}

#[cfg(test)]
mod rtsp_tests {
    use super::RtspInfo;

    #[test]
    fn the_rtsp_url_names_the_bound_address_or_the_pages_host() {
        let at = |address: &str| RtspInfo {
            address: address.into(),
            port: 554,
        };
        assert_eq!(
            at("192.168.1.20").url(Some("vto.local"), 0),
            "rtsp://192.168.1.20:554/cam/realmonitor?channel=1&subtype=0"
        );
        assert_eq!(
            at("0.0.0.0").url(Some("vto.local"), 1),
            "rtsp://vto.local:554/cam/realmonitor?channel=1&subtype=1"
        );
        assert_eq!(
            at("::").url(None, 0),
            "rtsp://DEVICE:554/cam/realmonitor?channel=1&subtype=0"
        );
        assert_eq!(
            at("fd00::5").url(Some("x"), 0),
            "rtsp://[fd00::5]:554/cam/realmonitor?channel=1&subtype=0"
        );
    }
}
