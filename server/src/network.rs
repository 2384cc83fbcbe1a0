//! Network Setting > Basic behind the UI: which listeners the settings
//! mean, the host's own names and addresses (read-only), and the HTTPS
//! certificate. [`crate::http::listen::WebServer`] does the listening.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, OnceLock},
};

use app::{
    error::ApiError,
    model::network::{HostAddress, NetworkSettings},
};

use crate::{
    http::listen::{Plan, WebServer},
    tls::{self, TlsRecord},
};

pub struct NetworkService {
    web: OnceLock<Arc<WebServer>>,
    /// `--http`: in force until the page is saved, and after a factory reset.
    cli_http: SocketAddr,
}

impl NetworkService {
    pub fn new(cli_http: SocketAddr) -> Self {
        Self {
            web: OnceLock::new(),
            cli_http,
        }
    }

    /// The web server exists only once the router (which holds the device)
    /// does.
    pub fn attach(&self, web: Arc<WebServer>) {
        let _ = self.web.set(web);
    }

    pub fn web(&self) -> Result<&Arc<WebServer>, ApiError> {
        self.web
            .get()
            .ok_or_else(|| ApiError::Internal("web server not started".into()))
    }

    /// The settings in force: the stored ones, or the command line's with
    /// the port actually bound.
    pub fn effective(&self, stored: Option<NetworkSettings>) -> NetworkSettings {
        if let Some(s) = stored {
            return s;
        }
        let (http, _) = self
            .web
            .get()
            .map(|w| w.addresses())
            .unwrap_or((None, None));
        let http = http.unwrap_or(self.cli_http);
        NetworkSettings {
            listen_address: http.ip().to_string(),
            http_port: http.port(),
            https: false,
            ..NetworkSettings::default()
        }
    }

    pub fn cli_http(&self) -> SocketAddr {
        self.cli_http
    }
}

/// The HTTP address the settings name (validated before).
pub fn http_addr(s: &NetworkSettings) -> Option<SocketAddr> {
    let ip: IpAddr = s.listen_address.trim().parse().ok()?;
    Some(SocketAddr::new(ip, s.http_port))
}

/// The listeners `s` means; `tls` serves HTTPS when it is on.
pub fn plan(s: &NetworkSettings, tls: Option<&TlsRecord>) -> Result<Plan, (&'static str, String)> {
    let http = http_addr(s).ok_or((
        "listen-address",
        "Enter an IPv4 or IPv6 address (0.0.0.0 for all)".to_string(),
    ))?;
    let https = match (s.https, tls) {
        (false, _) => None,
        (true, None) => return Err(("https", "No certificate for HTTPS".to_string())),
        (true, Some(record)) => Some((
            SocketAddr::new(http.ip(), s.https_port),
            tls::server_config(record)?,
        )),
    };
    Ok(Plan { http, https })
}

/// The host's name (from the kernel).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Every address of the host, loopback included.
pub fn host_addresses() -> Vec<HostAddress> {
    let mut out: Vec<HostAddress> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| HostAddress {
            address: i.ip().to_string(),
            interface: i.name,
        })
        .collect();
    out.sort_by(|a, b| (&a.interface, &a.address).cmp(&(&b.interface, &b.address)));
    out
}

/// A new self-signed certificate for this host.
pub fn generate_certificate() -> Result<TlsRecord, ApiError> {
    let addresses: Vec<IpAddr> = host_addresses()
        .iter()
        .filter_map(|a| a.address.parse().ok())
        .collect();
    tls::generate(&tls::device_names(&host_name(), &addresses)).map_err(ApiError::Internal)
}
