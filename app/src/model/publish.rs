//! Household Setting > Publish Information (manual 5.6): Send Info sends a
//! title and content from this VTO (the SIP server) to one number or to
//! every device (All device) as SIP MESSAGE, and tells per device whether
//! it took it; History Info lists what was sent, newest first.
//!
//! A number is a room (all its monitors), a monitor (`9901#1`), a VTO or a
//! VTS. The title travels in the `Subject` header, the content as the
//! text/plain body. The manual's Period of validity is reserved for future
//! use there, and is not offered here.

use serde::{Deserialize, Serialize};

use super::{sip_server::valid_user, system_time::TimeDisplay, time::UnixMillis};

pub const MAX_TITLE: usize = 64;
pub const MAX_CONTENT: usize = 1_000;
/// History Info keeps this many; the oldest go first.
pub const MAX_HISTORY: u64 = 200;
pub const PAGE_SIZE: u64 = 20;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Publication {
    /// The target's number; ignored with `all`.
    pub number: String,
    /// All device.
    pub all: bool,
    pub title: String,
    pub content: String,
}

impl Publication {
    /// Field errors: (field id, message).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if !self.all && !valid_user(self.number.trim()) {
            errors.push((
                "publish-no",
                "Enter a number (9901, 9901#1, 8002) or choose All device".into(),
            ));
        }
        let title = self.title.trim();
        if title.is_empty() {
            errors.push(("publish-title", "Enter a title".into()));
        } else if title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
            errors.push((
                "publish-title",
                format!("One line of up to {MAX_TITLE} characters"),
            ));
        }
        let content = self.content.trim();
        if content.is_empty() {
            errors.push(("publish-content", "Enter the content".into()));
        } else if content.chars().count() > MAX_CONTENT
            || content
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            errors.push((
                "publish-content",
                format!("Up to {MAX_CONTENT} characters of text"),
            ));
        }
        errors
    }
}

/// What one device did with the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// A 2xx.
    Delivered,
    /// A failure response: its code and reason.
    Refused(u16, String),
    /// Registered, but nothing came back in time.
    NoAnswer,
    /// Not registered: nothing was sent.
    Offline,
}

impl DeliveryResult {
    pub fn text(&self) -> String {
        match self {
            Self::Delivered => "Delivered".into(),
            Self::Refused(code, reason) => format!("Refused: {code} {reason}"),
            Self::NoAnswer => "No answer".into(),
            Self::Offline => "Offline".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The SIP user (`9901#0`), or the number of an account none of whose
    /// devices is registered.
    pub device: String,
    pub result: DeliveryResult,
}

/// One Send Info, as History Info keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRecord {
    pub at: UnixMillis,
    pub title: String,
    /// The number, or "All device".
    pub target: String,
    pub deliveries: Vec<Delivery>,
}

impl PublishRecord {
    /// E.g. "2 of 3 delivered".
    pub fn summary(&self) -> String {
        let ok = self
            .deliveries
            .iter()
            .filter(|d| d.result == DeliveryResult::Delivered)
            .count();
        format!("{ok} of {} delivered", self.deliveries.len())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPage {
    pub records: Vec<PublishRecord>,
    /// Records kept.
    pub total: u64,
    /// Where this page starts.
    pub offset: u64,
    #[serde(default)]
    pub display: TimeDisplay,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Publication {
        Publication {
            number: "9901".into(),
            all: false,
            title: "Water".into(),
            content: "No water from 9 to 12.\nThe caretaker".into(),
        }
    }

    #[test]
    fn a_publication_needs_a_target_a_title_and_text() {
        assert!(ok().validate().is_empty());
        let mut p = ok();
        p.number = String::new();
        assert_eq!(p.validate()[0].0, "publish-no");
        p.all = true;
        assert!(p.validate().is_empty(), "All device needs no number");
        for (title, bad) in [
            ("", true),
            ("a\nb", true),
            (&"x".repeat(65)[..], true),
            ("Ok", false),
        ] {
            let p = Publication {
                title: title.into(),
                ..ok()
            };
            assert_eq!(
                p.validate().iter().any(|e| e.0 == "publish-title"),
                bad,
                "{title:?}"
            );
        }
        for (content, bad) in [
            ("", true),
            ("a\u{7}b", true),
            (&"x".repeat(1001)[..], true),
            ("a\r\nb\tc", false),
        ] {
            let p = Publication {
                content: content.into(),
                ..ok()
            };
            assert_eq!(
                p.validate().iter().any(|e| e.0 == "publish-content"),
                bad,
                "{content:?}"
            );
        }
    }

    #[test]
    fn a_record_sums_up_its_deliveries() {
        let r = PublishRecord {
            at: UnixMillis(0),
            title: "t".into(),
            target: "9901".into(),
            deliveries: vec![
                Delivery {
                    device: "9901#0".into(),
                    result: DeliveryResult::Delivered,
                },
                Delivery {
                    device: "9901#1".into(),
                    result: DeliveryResult::Refused(403, "Forbidden".into()),
                },
                Delivery {
                    device: "9902".into(),
                    result: DeliveryResult::Offline,
                },
            ],
        };
        assert_eq!(r.summary(), "1 of 3 delivered");
        assert_eq!(r.deliveries[1].result.text(), "Refused: 403 Forbidden");
    }
}
