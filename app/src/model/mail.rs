//! Network Setting > Email: the SMTP server that security codes and notices
//! go through. With no server set (the default) mail is written to the data
//! directory's `outbox/` instead.

use serde::{Deserialize, Serialize};

use super::email;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MailSecurity {
    /// Plain SMTP: only for a server on a trusted network.
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl MailSecurity {
    pub const ALL: [Self; 3] = [Self::None, Self::StartTls, Self::Tls];

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::StartTls => "STARTTLS",
            Self::Tls => "SSL/TLS",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The usual port for this security.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// The Email page as the browser sees it. The SMTP password is write-only:
/// only whether one is stored comes back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// SMTP Server: host name or IP address; empty means "outbox only".
    pub server: String,
    pub port: u16,
    pub security: MailSecurity,
    /// User Name for SMTP AUTH; empty means no authentication.
    pub user: String,
    /// Sender: the From address.
    pub sender: String,
    /// Whether a password is stored (never the password itself).
    pub has_password: bool,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            server: String::new(),
            port: MailSecurity::StartTls.default_port(),
            security: MailSecurity::StartTls,
            user: String::new(),
            sender: String::new(),
            has_password: false,
        }
    }
}

/// What happens to the stored SMTP password when the page is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PasswordUpdate {
    /// Keep what is stored (the field was left empty).
    #[default]
    Keep,
    Set(String),
    Clear,
}

impl PasswordUpdate {
    /// From a write-only password field and its "clear" check box: what was
    /// typed wins, an empty field keeps the stored one unless cleared.
    pub fn from_form(typed: String, clear: bool) -> Self {
        if !typed.is_empty() {
            Self::Set(typed)
        } else if clear {
            Self::Clear
        } else {
            Self::Keep
        }
    }
}

/// The most characters of a host name (RFC 1035).
const MAX_HOST: usize = 253;

/// Said next to a kept password whose destination changed.
pub const MOVED_PASSWORD: &str = "The server changed: enter the Password again (or clear it)";

impl MailSettings {
    /// Whether `self` sends the password nowhere else than `other` did:
    /// the same server (any case), port and security, or no server at all
    /// (the outbox). A stored password follows only that.
    pub fn same_destination(&self, other: &MailSettings) -> bool {
        !self.uses_server()
            || self.server.trim().eq_ignore_ascii_case(other.server.trim())
                && self.port == other.port
                && self.security == other.security
    }

    /// Whether mail goes to an SMTP server (otherwise to the outbox).
    pub fn uses_server(&self) -> bool {
        !self.server.trim().is_empty()
    }

    /// Every field error, as (field id, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if let Err(m) = validate_host(&self.server) {
            errors.push(("smtp-server", m.to_string()));
        }
        if self.port == 0 {
            errors.push(("smtp-port", "Enter a port from 1 to 65535".to_string()));
        }
        if self.user.chars().count() > 128 || self.user.chars().any(char::is_control) {
            errors.push((
                "smtp-user",
                "At most 128 characters, no control characters".to_string(),
            ));
        }
        if self.uses_server() || !self.sender.trim().is_empty() {
            if let Err(m) = email::validate(&self.sender) {
                errors.push(("sender", m.to_string()));
            }
        }
        errors
    }
}

/// An SMTP server field: empty, an IP address or a host name.
fn validate_host(host: &str) -> Result<(), &'static str> {
    let host = host.trim();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    if host.len() > MAX_HOST {
        return Err("A host name has at most 253 characters");
    }
    let ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if ok {
        Ok(())
    } else {
        Err("Enter a host name (mail.example.com) or an IP address")
    }
}

/// What the SMTP server (or the outbox) answered for one mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailReceipt {
    /// Where the mail went, e.g. `smtp.example.com:587` or the outbox file.
    pub via: String,
    /// The server's final reply, e.g. `250 OK queued as 1234`.
    pub answer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut MailSettings)) -> Vec<&'static str> {
        let mut s = MailSettings::default();
        f(&mut s);
        s.validate().into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn default_is_valid_outbox_only() {
        assert!(MailSettings::default().validate().is_empty());
        assert!(!MailSettings::default().uses_server());
    }

    #[test]
    fn server_needs_a_sender_and_a_sane_host() {
        assert_eq!(with(|s| s.server = "mail.example.com".into()), ["sender"]);
        assert!(with(|s| {
            s.server = "10.0.0.2".into();
            s.sender = "door@example.com".into();
        })
        .is_empty());
        assert!(with(|s| {
            s.server = "::1".into();
            s.sender = "door@example.com".into();
        })
        .is_empty());
        assert_eq!(
            with(|s| {
                s.server = "bad host!".into();
                s.sender = "door@example.com".into();
            }),
            ["smtp-server"]
        );
        assert_eq!(with(|s| s.port = 0), ["smtp-port"]);
        assert_eq!(with(|s| s.user = "a\nb".into()), ["smtp-user"]);
    }

    #[test]
    fn security_keys_round_trip() {
        for s in MailSecurity::ALL {
            assert_eq!(MailSecurity::from_key(s.key()), Some(s));
        }
        assert_eq!(MailSecurity::from_key("ssl3"), None);
    }
}
