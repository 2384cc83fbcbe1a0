//! HTTP Digest as Dahua devices speak it, on the CGI API and on RTSP (see
//! `../shared/guide/dahua-interop.md`): the challenge
//! `Digest realm="Login to <serial>",qop="auth",nonce="<digits>",opaque="<hex>"`
//! (no `algorithm`: MD5; no commas in the realm), HA2 over the client's
//! `uri=` as given, which must name the request's target once both are
//! decoded. Basic, a stale nonce or an unknown one all get a new
//! challenge (401), never 403: clients take a 403 as a wrong password.
//!
//! The nonce bookkeeping is [`sip::nonce::Nonces`] (pure, time passed in);
//! the password check is the account service's
//! ([`crate::account::Auth::digest_login`]), so lockouts are shared with
//! the UI's logins.

use std::sync::Mutex;

use sip::{
    digest::Credentials,
    nonce::{NonceCheck, Nonces},
    time::Mono,
};

/// What a request's `Authorization` header amounts to.
#[derive(Debug)]
pub enum Verdict {
    /// No usable credentials (none, Basic, unparsable, another realm or
    /// target): challenge, `stale` when only the nonce was the problem.
    Challenge { stale: bool },
    /// A good nonce for this target: the response still has to prove the
    /// password (`Credentials::check` against the account's HA1).
    Prove(Box<Credentials>),
}

pub struct Gate {
    realm: String,
    opaque: String,
    nonces: Mutex<Nonces>,
}

impl Gate {
    /// `opaque_seed`: random bytes; the opaque value is their hex (fixed
    /// for the life of the process, as devices keep it).
    pub fn new(realm: &str, opaque_seed: [u8; 16]) -> Self {
        Self {
            realm: realm.to_string(),
            opaque: opaque_seed.iter().map(|b| format!("{b:02x}")).collect(),
            nonces: Mutex::new(Nonces::default()),
        }
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, Nonces> {
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A `WWW-Authenticate` value with a new nonce made of `random`.
    pub fn challenge(&self, random: [u8; 16], stale: bool, now: Mono) -> String {
        // Devices' nonces are decimal digits: the random number in base 10.
        let nonce = self
            .nonces()
            .issue_text(u128::from_le_bytes(random).to_string(), now);
        let mut out = format!(
            "Digest realm=\"{}\",qop=\"auth\",nonce=\"{nonce}\",opaque=\"{}\"",
            self.realm, self.opaque
        );
        if stale {
            out.push_str(",stale=TRUE");
        }
        out
    }

    /// Checks everything but the password: the scheme, the realm, the
    /// `uri=` against `target` (path and query as received) and the nonce
    /// (its use is recorded).
    pub fn check(&self, authorization: Option<&str>, target: &str, now: Mono) -> Verdict {
        let Some(creds) = authorization.and_then(|v| Credentials::parse(v).ok()) else {
            return Verdict::Challenge { stale: false };
        };
        if creds.realm != self.realm || !dahua::cgi::same_target(&creds.uri, target) {
            return Verdict::Challenge { stale: false };
        }
        let nc = creds.qop.as_ref().map(|(nc, _)| nc.as_str());
        match self.nonces().check(&creds.nonce, nc, now) {
            NonceCheck::Good => Verdict::Prove(Box::new(creds)),
            NonceCheck::Stale | NonceCheck::Unknown => Verdict::Challenge { stale: true },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "Login to 0K3F9ZQ2M1A7B";

    fn field<'a>(challenge: &'a str, name: &str) -> &'a str {
        let start = challenge
            .find(&format!("{name}=\""))
            .map(|i| i + name.len() + 2)
            .unwrap_or(0);
        let rest = &challenge[start..];
        &rest[..rest.find('"').unwrap_or(0)]
    }

    /// What a client sends: `uri` as it signs it.
    fn answer(challenge: &str, uri: &str, nc: u32, password: &str) -> String {
        let nonce = field(challenge, "nonce");
        let ha1 = dahua::dhip::ha1("admin", REALM, password);
        let c = Credentials {
            username: "admin".into(),
            realm: REALM.into(),
            nonce: nonce.into(),
            uri: uri.into(),
            response: String::new(),
            algorithm: sip::digest::Algorithm::Md5,
            qop: Some((format!("{nc:08x}"), "0a4f113b".into())),
            opaque: None,
        };
        format!(
            "Digest username=\"admin\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{}\", qop=auth, nc={nc:08x}, cnonce=\"0a4f113b\", opaque=\"{}\"",
            c.expected("GET", &ha1),
            field(challenge, "opaque")
        )
    }

    #[test]
    fn the_challenge_as_devices_write_it() {
        let gate = Gate::new(REALM, [0xab; 16]);
        let c = gate.challenge([1; 16], false, Mono(0));
        assert!(c.starts_with(&format!("Digest realm=\"{REALM}\",qop=\"auth\",nonce=\"")));
        assert!(field(&c, "nonce").bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(field(&c, "opaque"), "ab".repeat(16));
        assert!(!c.contains("algorithm"));
        assert!(gate
            .challenge([2; 16], true, Mono(0))
            .ends_with(",stale=TRUE"));
    }

    #[test]
    fn nonces_targets_and_schemes() {
        let gate = Gate::new(REALM, [0; 16]);
        let target = "/cgi-bin/eventManager.cgi?action=attach&codes=%5BAll%5D";
        let c = gate.challenge([7; 16], false, Mono(0));
        // Either form of the URI, with a rising nonce count.
        for (nc, uri) in [
            (1, "/cgi-bin/eventManager.cgi?action=attach&codes=[All]"),
            (2, target),
        ] {
            let v = gate.check(Some(&answer(&c, uri, nc, "pw")), target, Mono(10));
            let Verdict::Prove(creds) = v else {
                panic!("{v:?}")
            };
            let ha1 = dahua::dhip::ha1("admin", REALM, "pw");
            assert!(creds.check("GET", &ha1));
            assert!(!creds.check("GET", &dahua::dhip::ha1("admin", REALM, "no")));
        }
        // A replayed count, an expired nonce, one never issued: stale.
        for (auth, now) in [
            (answer(&c, target, 2, "pw"), Mono(20)),
            (
                answer(&c, target, 3, "pw"),
                Mono(sip::nonce::LIFETIME_MS + 1),
            ),
            (
                answer(&c.replace("nonce=\"", "nonce=\"9"), target, 1, "pw"),
                Mono(20),
            ),
        ] {
            let v = gate.check(Some(&auth), target, now);
            assert!(matches!(v, Verdict::Challenge { stale: true }), "{v:?}");
        }
        // Another target, Basic, nothing: a fresh challenge.
        let c = gate.challenge([8; 16], false, Mono(0));
        for auth in [
            Some(answer(&c, "/cgi-bin/magicBox.cgi?action=reboot", 1, "pw")),
            Some("Basic YWRtaW46cHc=".to_string()),
            None,
        ] {
            let v = gate.check(auth.as_deref(), target, Mono(1));
            assert!(matches!(v, Verdict::Challenge { stale: false }), "{v:?}");
        }
    }
}
