//! The Dahua-compatible front doors (issue 20): what integrations written
//! for Dahua door stations (Home Assistant's Dahua integration,
//! python-amcrest, aiodahua, openHAB, DahuaVTO2MQTT) talk to.
//!
//! - [`cgi`]: the HTTP CGI API under `/cgi-bin/` on the web port;
//! - [`config`]: `configManager.cgi`'s tables over vto's settings;
//! - HTTP Digest is [`crate::account::digest`]'s (shared with RTSP),
//!   checked against the accounts' HA1 by the account service (same
//!   lockout as the UI);
//! - [`dhip`]: DHIP on TCP 5000 (login, keep-alive, events, the door);
//! - [`records`]: `recordFinder.cgi` over the Log service;
//! - [`feed`]: the door's events in Dahua's codes, for the CGI event
//!   stream and DHIP.
//!
//! The wire formats are the pure `dahua` crate's; these modules call the
//! per-area services like every other front door, checking each request's
//! [`Right`](app::model::users::Right) against the account's role.

pub mod cgi;
pub mod config;
pub mod dhip;
pub mod feed;
pub mod records;

use std::sync::Arc;

use crate::{account::Auth, services::Services};

/// The device type every Dahua front door reports. Clients treat a type
/// that starts with `VTO` as a door station.
pub const DEVICE_TYPE: &str = "VTO-vto";

pub struct Dahua {
    pub services: Arc<Services>,
    pub auth: Arc<Auth>,
    pub gate: crate::account::digest::Gate,
    pub feed: Arc<feed::Feed>,
    /// The serial number (`getSerialNo`, the realm).
    pub serial: String,
    /// Where the monotonic clock of the nonces starts.
    start: tokio::time::Instant,
}

impl Dahua {
    pub fn new(
        services: Arc<Services>,
        auth: Arc<Auth>,
        serial: String,
    ) -> Result<Self, crate::error::Error> {
        let gate = crate::account::digest::Gate::new(auth.realm(), crate::error::random::<16>()?);
        Ok(Self {
            services,
            auth,
            gate,
            feed: Arc::default(),
            serial,
            start: crate::clock::monotonic(),
        })
    }

    /// Milliseconds since start, for the nonces.
    pub(crate) fn mono(&self) -> sip::time::Mono {
        crate::clock::mono_since(self.start)
    }
}
