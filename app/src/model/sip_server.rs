//! Network Setting > SIP Server (manual 6.2): either this VTO is the SIP
//! server (Enable: the registrar and proxy of Household Setting), or it
//! registers as a client to another server and keeps that registration
//! alive.
//!
//! - Server Type VTO: another door station is the server; the Username is
//!   this VTO's VTO No. (Local Setting > Basic), as the manual says to keep
//!   the default.
//! - Server Type Other: any SIP registrar (Kamailio, Asterisk ...); the
//!   Username is free.
//!
//! The Password is write-only: stored on the device (it must answer digest
//! challenges with it), never shown, exported or logged.

use serde::{Deserialize, Serialize};

use super::time::UnixMillis;

choices! {
    /// Which kind of server this VTO registers to when it is not one.
    ServerType {
        #[default]
        Vto = ("vto", "VTO"),
        Other = ("other", "Other"),
    }
}

choices! {
    /// The digest challenges this SIP server offers (RFC 8760). One only
    /// by default: Dahua devices speak MD5 only, and baresip gives up on a
    /// 401 with two challenges.
    DigestChoice {
        #[default]
        Md5 = ("md5", "MD5"),
        Sha256 = ("sha256", "SHA-256"),
        Both = ("both", "MD5 and SHA-256"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SipServerSettings {
    /// This VTO is the SIP server.
    pub enabled: bool,
    /// With `enabled`: the challenges offered.
    pub digest: DigestChoice,
    pub server_type: ServerType,
    /// IP Addr. of the server to register to.
    pub ip: String,
    pub port: u16,
    /// With Server Type Other; with VTO the VTO No. is used.
    pub username: String,
    /// SIP Domain (the To/From domain and the Request-URI).
    pub domain: String,
}

impl Default for SipServerSettings {
    /// The manual's defaults: this VTO is the server; port 5060, domain VDP.
    fn default() -> Self {
        Self {
            enabled: true,
            digest: DigestChoice::Md5,
            server_type: ServerType::Vto,
            ip: String::new(),
            port: 5060,
            username: String::new(),
            domain: "VDP".into(),
        }
    }
}

/// What a SIP Domain may be: a host name or address (it goes into URIs).
fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// What a SIP user name may be here: digits and letters, `#` for a monitor
/// (`9901#1`), `.`, `-`, `_`.
pub fn valid_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"#.-_".contains(&b))
}

impl SipServerSettings {
    /// Field errors: (field id, message). `password_known`: a password is
    /// stored or typed (the client needs one).
    pub fn validate(&self, password_known: bool) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self.enabled {
            return errors;
        }
        if self.ip.trim().parse::<std::net::IpAddr>().is_err() {
            errors.push((
                "sip-ip",
                "Enter the server's IP address, e.g. 192.168.1.108".into(),
            ));
        }
        if self.port == 0 {
            errors.push(("sip-port", "Enter a port from 1 to 65535".into()));
        }
        if self.server_type == ServerType::Other && !valid_user(self.username.trim()) {
            errors.push(("sip-username", "1 to 32 letters, digits or # . - _".into()));
        }
        if !password_known {
            errors.push(("sip-password", "Enter the register password".into()));
        }
        if !valid_domain(self.domain.trim()) {
            errors.push((
                "sip-domain",
                "Letters, digits, dots and hyphens, e.g. VDP".into(),
            ));
        }
        errors
    }

    /// The manual's names of what differs from `old`.
    pub fn changed_fields(&self, old: &Self) -> Vec<&'static str> {
        [
            (self.enabled != old.enabled, "SIP Server"),
            (self.digest != old.digest, "Digest Algorithm"),
            (self.server_type != old.server_type, "Server Type"),
            (self.ip != old.ip, "IP Addr."),
            (self.port != old.port, "Port"),
            (self.username != old.username, "Username"),
            (self.domain != old.domain, "SIP Domain"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }
}

/// How the registration to another server stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Registration {
    /// This VTO is the server: nothing to register.
    NotUsed,
    Registering,
    Registered {
        until: UnixMillis,
    },
    Failed {
        reason: String,
        retry_at: UnixMillis,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipServerPage {
    pub settings: SipServerSettings,
    /// A password is stored (it is never sent back).
    pub password_set: bool,
    /// The Username in use with Server Type VTO: this VTO's VTO No.
    pub vto_no: String,
    pub registration: Registration,
    /// Where this device's SIP port is (`--sip`), as others reach it.
    pub address: Option<String>,
    #[serde(default)]
    pub display: super::system_time::TimeDisplay,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_needs_a_server_a_password_and_a_domain() {
        let mut s = SipServerSettings::default();
        assert!(s.validate(false).is_empty(), "the server needs nothing");
        s.enabled = false;
        let fields: Vec<_> = s.validate(false).into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["sip-ip", "sip-password"]);
        s.ip = "127.0.0.1".into();
        assert!(s.validate(true).is_empty());
        s.server_type = ServerType::Other;
        assert_eq!(s.validate(true)[0].0, "sip-username");
        for bad in ["a b", "x@y", "a\r\nVia: z"] {
            s.username = bad.into();
            assert_eq!(s.validate(true)[0].0, "sip-username", "{bad:?}");
        }
        s.username = "9901#1".into();
        assert!(s.validate(true).is_empty());
        for bad in ["", "VDP>", "a;b", "v d p"] {
            s.domain = bad.into();
            assert_eq!(s.validate(true)[0].0, "sip-domain", "{bad:?}");
        }
        s.domain = "VDP".into();
        s.port = 0;
        assert_eq!(s.validate(true)[0].0, "sip-port");
    }
}
