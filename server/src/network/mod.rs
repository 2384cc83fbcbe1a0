//! Network Setting > Basic behind the UI: which listeners the settings
//! mean, the host's own names and addresses (read-only), and the HTTPS
//! certificate. [`listen::WebServer`] does the listening; [`service`] is
//! Network Setting as every front door sees it.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, OnceLock},
};

use crate::error::Error;
use app::{
    error::ApiError,
    model::network::{HostAddress, NetworkSettings},
};

pub mod conn_limit;
pub mod ip_filter;
pub mod listen;
pub mod service;
pub mod tls;

use crate::{mail::Postman, store::settings::SettingsStore, system::time::TimeService};
use ip_filter::IpFilter;
use listen::{Plan, WebServer};
use tls::TlsRecord;

pub struct NetworkService {
    web: OnceLock<Arc<WebServer>>,
    /// `--http`: in force until the page is saved, and after a factory reset.
    cli_http: SocketAddr,
    settings: Arc<SettingsStore>,
    /// IP Permissions, checked where connections are accepted.
    pub ip_filter: Arc<IpFilter>,
    /// Email: the test mail.
    postman: Arc<Postman>,
    time: Arc<TimeService>,
    /// The RTSP server's bound address, once it listens.
    rtsp: OnceLock<SocketAddr>,
}

impl NetworkService {
    pub fn new(
        cli_http: SocketAddr,
        settings: Arc<SettingsStore>,
        ip_filter: Arc<IpFilter>,
        postman: Arc<Postman>,
        time: Arc<TimeService>,
    ) -> Self {
        Self {
            web: OnceLock::new(),
            cli_http,
            settings,
            ip_filter,
            postman,
            time,
            rtsp: OnceLock::new(),
        }
    }

    /// The listeners the stored settings mean (the command line's without
    /// them). At start the listeners are not up yet: `start_listeners`
    /// brings them up, with its fallbacks; later a failure is logged and
    /// the listeners in use stay.
    pub fn apply_listeners(&self, stored: Option<&NetworkSettings>, tls: Option<&TlsRecord>) {
        let Some(web) = self.web.get().filter(|w| w.addresses().0.is_some()) else {
            return;
        };
        let plan = match stored {
            Some(s) => match plan(s, tls) {
                Ok(p) => p,
                Err((_, e)) => {
                    tracing::warn!(error = %e, "listeners not moved");
                    return;
                }
            },
            // Back to the command line's listener (a port of 0 keeps the
            // one in use), without HTTPS.
            None => Plan {
                http: self.cli_http,
                https: None,
            },
        };
        match web.prepare(plan) {
            Ok(p) => {
                if let Err(e) = web.commit(p) {
                    tracing::warn!(error = %e, "listeners not moved");
                }
            }
            Err((_, e)) => tracing::warn!(error = %e, "listeners not moved"),
        }
    }

    /// The RTSP server listens on `addr` (`--rtsp`).
    pub fn set_rtsp(&self, addr: SocketAddr) {
        let _ = self.rtsp.set(addr);
    }

    /// The RTSP server as started, for the pages; `None`: off.
    pub fn rtsp(&self) -> Option<app::model::network::RtspInfo> {
        self.rtsp.get().map(|a| app::model::network::RtspInfo {
            address: a.ip().to_canonical().to_string(),
            port: a.port(),
        })
    }

    /// The web server exists only once the router (which holds the device)
    /// does.
    pub fn attach(&self, web: Arc<WebServer>) {
        let _ = self.web.set(web);
    }

    pub fn web(&self) -> Result<&Arc<WebServer>, ApiError> {
        Ok(self
            .web
            .get()
            .ok_or_else(|| Error::internal("web server not started"))?)
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
    Ok(tls::generate(&tls::device_names(&host_name(), &addresses)).map_err(Error::Internal)?)
}
