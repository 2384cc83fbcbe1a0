//! Network Setting > Webhooks: on the events an integrator chooses (a call,
//! its answer, an unlock, an alarm) the device POSTs JSON to their URLs,
//! retrying with back-off; the page shows each delivery's result. Not in
//! the manual: Dahua devices have no webhooks, integrators ask for them.

use serde::{Deserialize, Serialize};

use super::{mail::PasswordUpdate, system_time::TimeDisplay, time::UnixMillis};

/// Webhooks at most.
pub const MAX_WEBHOOKS: usize = 8;
/// The longest URL.
pub const MAX_URL: usize = 512;
/// The longest secret.
pub const MAX_SECRET: usize = 128;
/// Deliveries the page shows (the newest).
pub const MAX_DELIVERIES: usize = 100;

choices! {
    /// What a webhook is sent for.
    HookEvent {
        /// The call button: a call rings.
        #[default]
        Call = ("call", "Call"),
        /// Someone answered the ringing call.
        Answer = ("answer", "Answer"),
        /// An attempt to open the door (granted or refused), with its method.
        Unlock = ("unlock", "Unlock"),
        /// The door forced, or open too long.
        Alarm = ("alarm", "Alarm"),
    }
}

/// One webhook as the page shows and edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Given by the device (0 in a new one).
    #[serde(default)]
    pub id: u32,
    pub url: String,
    pub events: Vec<HookEvent>,
    pub enabled: bool,
    /// Whether a secret is stored (answers only; the secret never leaves
    /// the device).
    #[serde(default)]
    pub has_secret: bool,
}

impl Default for Webhook {
    fn default() -> Self {
        Self {
            id: 0,
            url: String::new(),
            events: HookEvent::ALL.to_vec(),
            enabled: true,
            has_secret: false,
        }
    }
}

impl Webhook {
    /// Every field error, as (field id, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if let Err(m) = parse_url(&self.url) {
            errors.push(("hook-url", m.to_string()));
        }
        if self.events.is_empty() {
            errors.push(("hook-events", "Choose at least one event".into()));
        }
        errors
    }

    pub fn sends(&self, event: HookEvent) -> bool {
        self.enabled && self.events.contains(&event)
    }
}

/// Save (add or modify) a webhook: the secret is write-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookSave {
    pub hook: Webhook,
    #[serde(default)]
    pub secret: PasswordUpdate,
}

/// Where a URL sends: what a stored secret is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower case; an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
}

/// Checks a webhook URL: `http://` or `https://`, a host, an optional
/// port, a path; no user name or password in it (the secret is for that).
pub fn parse_url(url: &str) -> Result<Origin, &'static str> {
    let url = url.trim();
    if url.is_empty() {
        return Err("Enter the URL");
    }
    if url.len() > MAX_URL {
        return Err("At most 512 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("No spaces in a URL");
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("Starts with http:// or https://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err("Starts with http:// or https://"),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[end..].contains('#') {
        return Err("No #fragment: it is never sent");
    }
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("No user name or password in the URL: use Secret");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("An IPv6 address goes in [ ]")?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("Not an IPv6 address");
        }
        (addr.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("The port must be 1-65535")?,
    };
    let host = host.to_ascii_lowercase();
    let valid_name = host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if host.is_empty() || !(valid_name || host.contains(':')) {
        return Err("Not a host name or IP address");
    }
    Ok(Origin { scheme, host, port })
}

/// What became of one delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// Sent, not answered yet.
    Sending,
    /// The receiver answered 2xx with this status.
    Delivered(u16),
    /// Failed this time (`error`), tried again at `next`.
    Retrying { error: String, next: UnixMillis },
    /// Given up: the last error.
    Failed(String),
}

impl DeliveryResult {
    pub fn text(&self) -> String {
        match self {
            Self::Sending => "Sending".into(),
            Self::Delivered(code) => format!("Delivered ({code})"),
            Self::Retrying { error, .. } => format!("{error}; retrying"),
            Self::Failed(error) => format!("Failed: {error}"),
        }
    }

    pub fn delivered(&self) -> bool {
        matches!(self, Self::Delivered(_))
    }
}

/// One event sent to one webhook, with all its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Also the `X-Vto-Delivery` header: the same on every attempt.
    pub id: u64,
    pub time: UnixMillis,
    pub hook: u32,
    pub url: String,
    /// An event's key, or `test`.
    pub event: String,
    pub attempts: u32,
    pub result: DeliveryResult,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub hooks: Vec<Webhook>,
    /// Newest first, since the device started.
    pub deliveries: Vec<Delivery>,
    pub display: TimeDisplay,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let o = parse_url("http://192.168.1.5:8123/api/webhook/door").unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.host.as_str(), o.port),
            ("http", "192.168.1.5", 8123)
        );
        let o = parse_url("HTTPS://Hooks.Example.org/x?y=1").unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.host.as_str(), o.port),
            ("https", "hooks.example.org", 443)
        );
        let o = parse_url("http://[::1]:9/").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("::1", 9));
        assert_eq!(parse_url("http://h").unwrap().port, 80);
        for bad in [
            "",
            "ftp://h/",
            "h/path",
            "http://",
            "http://u:p@h/",
            "http://h:0/",
            "http://h:70000/",
            "http://h x/",
            "http://[::1/",
            "http://[zz]/",
            "http://h_1/",
            "http://h/#frag",
            "http://a..b/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        let long = format!("http://h/{}", "a".repeat(MAX_URL));
        assert!(parse_url(&long).is_err());
    }

    #[test]
    fn validation() {
        let mut h = Webhook {
            url: "http://h/".into(),
            ..Webhook::default()
        };
        assert!(h.validate().is_empty());
        h.events.clear();
        h.url = "nope".into();
        let fields: Vec<_> = h.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["hook-url", "hook-events"]);
    }

    #[test]
    fn sends_only_chosen_events_when_enabled() {
        let mut h = Webhook {
            events: vec![HookEvent::Unlock],
            ..Webhook::default()
        };
        assert!(h.sends(HookEvent::Unlock));
        assert!(!h.sends(HookEvent::Call));
        h.enabled = false;
        assert!(!h.sends(HookEvent::Unlock));
    }
}
