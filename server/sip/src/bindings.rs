//! The registrar's bindings (RFC 3261 10.3): for each account, the
//! contacts where it can be reached, each until it expires. Pure: time is a
//! parameter; the device stores the result (redb) so registrations survive
//! a restart.
//!
//! Rules of this device:
//! - an expiry is clamped to [`MIN_EXPIRES`, `MAX_EXPIRES`] (Dahua
//!   registrars grant 60 s whatever is asked; far longer would keep a
//!   monitor that was unplugged "online" for hours);
//! - an account keeps at most [`MAX_CONTACTS`] contacts (a room's main
//!   monitor and its extensions register under their own numbers, so a
//!   few per account is plenty): a new one beyond that replaces the one
//!   that expires first;
//! - `Expires: 0` (or `;expires=0`) removes a contact, `Contact: *` with
//!   `Expires: 0` removes them all;
//! - a REGISTER older than the last one of the same Call-ID (lower or
//!   equal CSeq) changes nothing (RFC 3261 10.3 step 7).

use std::collections::BTreeMap;

use crate::time::Mono;

pub const MIN_EXPIRES: u32 = 60;
pub const MAX_EXPIRES: u32 = 3600;
/// Asked for when a REGISTER names no expiry (RFC 3261 10.2.1.1).
pub const DEFAULT_EXPIRES: u32 = 3600;
pub const MAX_CONTACTS: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI as the device sent it.
    pub contact: String,
    pub expires_at: Mono,
    /// Where the REGISTER came from (`ip:port`): where requests go back
    /// to behind a NAT (RFC 3581 symmetric response routing).
    pub source: String,
    pub transport: String,
    pub call_id: String,
    pub cseq: u32,
    pub user_agent: String,
    pub registered_at: Mono,
}

/// One REGISTER as the registrar sees it, already authenticated.
#[derive(Clone, Debug)]
pub struct Register {
    /// (contact URI, its `expires` parameter), in order.
    pub contacts: Vec<(String, Option<u32>)>,
    /// `Contact: *`.
    pub wildcard: bool,
    /// The Expires header.
    pub expires: Option<u32>,
    pub call_id: String,
    pub cseq: u32,
    pub source: String,
    pub transport: String,
    pub user_agent: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// RFC 3261 10.3 step 6: `*` only with Expires 0 and alone.
    #[error("Contact: * needs Expires: 0 and no other contact")]
    BadWildcard,
}

/// The expiry granted for `asked` seconds (0 stays 0: removal).
pub fn grant(asked: u32) -> u32 {
    if asked == 0 {
        0
    } else {
        asked.clamp(MIN_EXPIRES, MAX_EXPIRES)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    by_account: BTreeMap<String, Vec<Binding>>,
}

impl Bindings {
    pub fn from_map(by_account: BTreeMap<String, Vec<Binding>>) -> Self {
        Self { by_account }
    }

    pub fn as_map(&self) -> &BTreeMap<String, Vec<Binding>> {
        &self.by_account
    }

    /// Applies a REGISTER for `account`; returns its contacts now.
    pub fn register(
        &mut self,
        account: &str,
        req: &Register,
        now: Mono,
    ) -> Result<Vec<Binding>, RegisterError> {
        self.expire(now);
        if req.wildcard {
            if req.expires != Some(0) || !req.contacts.is_empty() {
                return Err(RegisterError::BadWildcard);
            }
            let list = self.by_account.entry(account.to_string()).or_default();
            // Only what this Call-ID has not already superseded.
            list.retain(|b| b.call_id == req.call_id && b.cseq >= req.cseq);
            let left = list.clone();
            if left.is_empty() {
                self.by_account.remove(account);
            }
            return Ok(left);
        }
        let list = self.by_account.entry(account.to_string()).or_default();
        for (contact, param) in &req.contacts {
            let asked = param.or(req.expires).unwrap_or(DEFAULT_EXPIRES);
            let seconds = grant(asked);
            let existing = list.iter().position(|b| same_contact(&b.contact, contact));
            if let Some(i) = existing {
                let b = &list[i];
                if b.call_id == req.call_id && req.cseq <= b.cseq {
                    continue;
                }
                if seconds == 0 {
                    list.remove(i);
                    continue;
                }
            } else if seconds == 0 {
                continue;
            }
            let binding = Binding {
                contact: contact.clone(),
                expires_at: now + i64::from(seconds) * 1000,
                source: req.source.clone(),
                transport: req.transport.clone(),
                call_id: req.call_id.clone(),
                cseq: req.cseq,
                user_agent: req.user_agent.clone(),
                registered_at: now,
            };
            match existing {
                Some(i) => list[i] = binding,
                None => {
                    if list.len() >= MAX_CONTACTS {
                        if let Some(first) = list
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, b)| b.expires_at)
                            .map(|(i, _)| i)
                        {
                            list.remove(first);
                        }
                    }
                    list.push(binding);
                }
            }
        }
        let now_list = list.clone();
        if now_list.is_empty() {
            self.by_account.remove(account);
        }
        Ok(now_list)
    }

    /// The live contacts of `account`.
    pub fn contacts(&self, account: &str, now: Mono) -> Vec<&Binding> {
        self.by_account
            .get(account)
            .map(|l| l.iter().filter(|b| b.expires_at > now).collect())
            .unwrap_or_default()
    }

    /// Drops what expired; returns the accounts that went offline.
    pub fn expire(&mut self, now: Mono) -> Vec<String> {
        let mut gone = Vec::new();
        self.by_account.retain(|account, list| {
            list.retain(|b| b.expires_at > now);
            if list.is_empty() {
                gone.push(account.clone());
                false
            } else {
                true
            }
        });
        gone
    }
}

/// Contacts are the same when their URIs are, ignoring case in the scheme
/// and host (a cheap form of RFC 3261 19.1.4 that is enough for refreshes,
/// which repeat the contact byte for byte).
fn same_contact(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Mono = Mono(1_800_000_000_000);

    fn req(contacts: &[(&str, Option<u32>)], expires: Option<u32>, cseq: u32) -> Register {
        Register {
            contacts: contacts.iter().map(|(c, e)| (c.to_string(), *e)).collect(),
            wildcard: false,
            expires,
            call_id: "call-1".into(),
            cseq,
            source: "10.0.0.9:5060".into(),
            transport: "UDP".into(),
            user_agent: "test".into(),
        }
    }

    #[test]
    fn expiry_is_clamped_and_bindings_expire() {
        let mut b = Bindings::default();
        let got = b
            .register(
                "9901#0",
                &req(&[("sip:9901%230@10.0.0.9", None)], Some(5), 1),
                T0,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got[0].expires_at, T0 + i64::from(MIN_EXPIRES) * 1000);
        let got = b
            .register(
                "9901#0",
                &req(&[("sip:9901%230@10.0.0.9", Some(999_999))], None, 2),
                T0,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.len(), 1, "a refresh replaces, not adds");
        assert_eq!(got[0].expires_at, T0 + i64::from(MAX_EXPIRES) * 1000);
        assert_eq!(b.contacts("9901#0", T0 + 1000).len(), 1);
        assert_eq!(
            b.expire(T0 + i64::from(MAX_EXPIRES) * 1000),
            ["9901#0".to_string()]
        );
        assert!(b.contacts("9901#0", T0).is_empty());
        assert_eq!(grant(0), 0);
        assert_eq!(grant(60), 60);
        assert_eq!(grant(120), 120);
        // No expiry named: the default, clamped.
        let got = b
            .register("8001", &req(&[("sip:8001@10.0.0.2", None)], None, 1), T0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got[0].expires_at,
            T0 + i64::from(DEFAULT_EXPIRES.min(MAX_EXPIRES)) * 1000
        );
    }

    #[test]
    fn several_contacts_removal_and_old_requests() {
        let mut b = Bindings::default();
        let r = req(&[("sip:a@1", None), ("sip:a@2", Some(120))], Some(300), 5);
        assert_eq!(b.register("9901", &r, T0).map(|l| l.len()), Ok(2));
        // An older CSeq of the same call changes nothing.
        let old = req(&[("sip:a@1", Some(0))], None, 4);
        assert_eq!(b.register("9901", &old, T0).map(|l| l.len()), Ok(2));
        // Expires 0 removes that one.
        let remove = req(&[("sip:A@1", Some(0))], None, 6);
        let left = b.register("9901", &remove, T0).unwrap_or_default();
        assert_eq!(
            left.iter().map(|b| b.contact.as_str()).collect::<Vec<_>>(),
            ["sip:a@2"]
        );
        // Removing what is not there is fine.
        assert_eq!(
            b.register("9901", &req(&[("sip:x@9", Some(0))], None, 7), T0)
                .map(|l| l.len()),
            Ok(1)
        );
        // `*` needs Expires 0 and nothing else.
        let mut star = req(&[], Some(3600), 8);
        star.wildcard = true;
        assert_eq!(
            b.register("9901", &star, T0),
            Err(RegisterError::BadWildcard)
        );
        star.expires = Some(0);
        assert_eq!(b.register("9901", &star, T0), Ok(vec![]));
        assert!(b.as_map().is_empty());
    }

    #[test]
    fn contacts_per_account_are_bounded() {
        let mut b = Bindings::default();
        for i in 0..(MAX_CONTACTS + 3) {
            let contact = format!("sip:m@10.0.0.{i}");
            let r = req(
                &[(contact.as_str(), Some(600 + i as u32))],
                None,
                1 + i as u32,
            );
            b.register("9901", &r, T0).unwrap_or_else(|e| panic!("{e}"));
        }
        let list = b.contacts("9901", T0);
        assert_eq!(list.len(), MAX_CONTACTS);
        // The ones that would expire first made room.
        assert!(!list.iter().any(|c| c.contact == "sip:m@10.0.0.0"));
        assert!(list.iter().any(|c| c.contact == "sip:m@10.0.0.12"));
    }
}
