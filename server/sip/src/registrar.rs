//! The registrar: a REGISTER in, a response out (RFC 3261 10.3 with digest
//! authentication, 22). Pure: the accounts are looked up through a
//! closure, time and randomness are parameters, and the bindings it keeps
//! are handed back for the device to store.
//!
//! - Every account authenticates: no Authorization gets a 401 with the
//!   challenges of the algorithms set (RFC 8760), MD5 alone by default:
//!   Dahua devices speak MD5 only, and baresip (libre) gives up on a 401
//!   that offers SHA-256 beside MD5, or two challenges for one realm. A
//!   device of SHA-256 clients may offer SHA-256 alone, or both (clients
//!   that pick one). Credentials of an algorithm not offered fail. Realm
//!   "VDP" by default.
//! - The authenticated user must be the account being registered (the To
//!   user): Dahua devices fail otherwise too, so nothing is lost.
//! - A stale or unknown nonce (expired, a count used before, a restart) is
//!   a new challenge with `stale=true`, not a failure.
//! - A wrong password, an unknown account, a foreign realm or an
//!   Authorization that does not parse is a failure: 5 failures from one
//!   address within 5 minutes block that address for 5 minutes (403,
//!   nothing checked), as the web login does.
//! - Except from a known good address: one that holds a live registration,
//!   or a configured station's (VTO, VTS) or the upstream server's
//!   ([`Registrar::set_trusted`]). A UDP source address is easily forged,
//!   and five forged REGISTERs must not lock a monitor or the VTS out. Its
//!   failures count per account instead: 5 for one account from that
//!   address within 5 minutes throttle that account from that address for
//!   5 minutes (403, nothing checked), but for the REGISTERs of the
//!   account's own registration from that address (its Call-ID, which a
//!   forger off the path does not know): the real device keeps refreshing.

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, SocketAddr},
};

use crate::{
    bindings::{grant, Binding, Bindings, Register, DEFAULT_EXPIRES},
    digest::{Algorithm, Challenge, Credentials},
    header::{CSeq, NameAddr},
    message::{Message, Method, StartLine},
    nonce::{NonceCheck, Nonces},
    time::Mono,
};

pub const DEFAULT_REALM: &str = "VDP";
/// Failures from one address before it is blocked.
pub const MAX_FAILURES: u32 = 5;
/// How long the failures are counted, and how long a block lasts.
pub const BLOCK_MS: i64 = 5 * 60 * 1000;
/// Entries of failures kept before old ones are dropped.
const MAX_ENTRIES: usize = 4096;

/// HA1 of an account for an algorithm: what the device stores.
pub trait Accounts {
    fn ha1(&self, user: &str, algorithm: Algorithm) -> Option<String>;
}

impl<F: Fn(&str, Algorithm) -> Option<String>> Accounts for F {
    fn ha1(&self, user: &str, algorithm: Algorithm) -> Option<String> {
        self(user, algorithm)
    }
}

/// What came of a REGISTER, besides the response.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Challenged (no or stale credentials): nothing happened.
    Challenged,
    /// Registered (or unregistered): `account`'s contacts now.
    Registered {
        account: String,
        contacts: Vec<Binding>,
    },
    /// Refused: a failed authentication (counted), a blocked address, or a
    /// request that is not a usable REGISTER.
    Refused { reason: String },
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    first: Mono,
    blocked_until: Option<Mono>,
}

pub struct Registrar {
    pub realm: String,
    pub server: String,
    bindings: Bindings,
    nonces: Nonces,
    failures: HashMap<IpAddr, Failures>,
    /// Failures of one account from a known good address.
    throttled: HashMap<(String, IpAddr), Failures>,
    /// Addresses never blocked: the configured stations', the upstream
    /// server's.
    trusted: HashSet<IpAddr>,
    /// The challenges offered, in order.
    algorithms: Vec<Algorithm>,
}

impl Registrar {
    pub fn new(realm: &str, server: &str, bindings: Bindings) -> Self {
        Self {
            realm: realm.to_string(),
            server: server.to_string(),
            bindings,
            nonces: Nonces::default(),
            failures: HashMap::new(),
            throttled: HashMap::new(),
            trusted: HashSet::new(),
            algorithms: vec![Algorithm::Md5],
        }
    }

    /// The addresses whose failures never block them, besides those of
    /// live registrations: the configured stations' and the upstream
    /// server's.
    pub fn set_trusted(&mut self, ips: impl IntoIterator<Item = IpAddr>) {
        self.trusted = ips.into_iter().map(|ip| ip.to_canonical()).collect();
    }

    /// Whether `ip` is known good now: trusted, or the source of a live
    /// registration.
    pub fn known_good(&self, ip: IpAddr, now: Mono) -> bool {
        let ip = ip.to_canonical();
        self.trusted.contains(&ip)
            || self
                .bindings
                .as_map()
                .values()
                .flatten()
                .any(|b| b.expires_at > now && source_ip(&b.source) == Some(ip))
    }

    /// Whether `account` is throttled from `ip` now.
    pub fn throttled(&self, account: &str, ip: IpAddr, now: Mono) -> bool {
        self.throttled
            .get(&(account.to_string(), ip.to_canonical()))
            .and_then(|f| f.blocked_until)
            .is_some_and(|until| now < until)
    }

    /// Whether a REGISTER with `call_id` from `ip` continues `account`'s
    /// live registration from there.
    fn continues(&self, account: &str, ip: IpAddr, call_id: &str, now: Mono) -> bool {
        self.bindings
            .contacts(account, now)
            .iter()
            .any(|b| b.call_id == call_id && source_ip(&b.source) == Some(ip.to_canonical()))
    }

    /// The challenges to offer from now on (none: MD5).
    pub fn set_algorithms(&mut self, list: &[Algorithm]) {
        self.algorithms = if list.is_empty() {
            vec![Algorithm::Md5]
        } else {
            list.to_vec()
        };
    }

    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    pub fn bindings_mut(&mut self) -> &mut Bindings {
        &mut self.bindings
    }

    /// Whether `ip` is blocked now.
    pub fn blocked(&self, ip: IpAddr, now: Mono) -> bool {
        self.failures
            .get(&ip)
            .and_then(|f| f.blocked_until)
            .is_some_and(|until| now < until)
    }

    /// A failure of `account` from `ip`: counted toward the address's
    /// block, or, from a known good address, toward the account's
    /// throttle there.
    fn fail(&mut self, account: &str, ip: IpAddr, good: bool, now: Mono) {
        if good {
            let key = (account.to_string(), ip.to_canonical());
            count(self.throttled.entry(key).or_default(), now);
            prune(&mut self.throttled, now);
        } else {
            count(self.failures.entry(ip).or_default(), now);
            prune(&mut self.failures, now);
        }
    }

    /// Handles one REGISTER from `source` over `transport`. `random` gives
    /// 16 fresh random bytes for a nonce.
    pub fn register(
        &mut self,
        req: &Message,
        source: SocketAddr,
        transport: &str,
        accounts: &dyn Accounts,
        mut random: impl FnMut() -> [u8; 16],
        now: Mono,
    ) -> (Message, Outcome) {
        let refuse = |code, reason: &str, why: String| {
            (
                response(req, code, reason, &[]),
                Outcome::Refused { reason: why },
            )
        };
        if req.method() != Some(&Method::Register) {
            return refuse(405, "Method Not Allowed", "not a REGISTER".into());
        }
        let ip = source.ip();
        let good = self.known_good(ip, now);
        if !good && self.blocked(ip, now) {
            return refuse(403, "Forbidden", format!("{ip} is blocked"));
        }
        let to = match req.headers.get("To").map(NameAddr::parse) {
            Some(Ok(to)) => to,
            _ => return refuse(400, "Bad Request", "no usable To".into()),
        };
        let Some(account) = to.uri.user.clone() else {
            return refuse(400, "Bad Request", "To has no user".into());
        };
        let Some(Ok(cseq)) = req.headers.get("CSeq").map(CSeq::parse) else {
            return refuse(400, "Bad Request", "no usable CSeq".into());
        };
        let Some(call_id) = req.headers.get("Call-ID").filter(|c| !c.is_empty()) else {
            return refuse(400, "Bad Request", "no Call-ID".into());
        };
        if good && self.throttled(&account, ip, now) && !self.continues(&account, ip, call_id, now)
        {
            return refuse(
                403,
                "Forbidden",
                format!("{account} from {ip} is throttled"),
            );
        }
        let challenge = |me: &mut Self, stale: bool, random: &mut dyn FnMut() -> [u8; 16]| {
            let mut headers = Vec::new();
            for algorithm in me.algorithms.clone() {
                let nonce = me.nonces.issue_text(bound_nonce(random(), ip), now);
                headers.push((
                    "WWW-Authenticate",
                    Challenge {
                        realm: me.realm.clone(),
                        nonce,
                        algorithm,
                        stale,
                        opaque: None,
                    }
                    .to_string(),
                ));
            }
            response(req, 401, "Unauthorized", &headers)
        };
        let Some(auth) = req.headers.get("Authorization") else {
            return (challenge(self, false, &mut random), Outcome::Challenged);
        };
        let creds = match Credentials::parse(auth) {
            Ok(c) => c,
            Err(e) => {
                // Garbage proves nothing and guesses nothing: from a known
                // good address (whose source a forger may write) it is not
                // counted at all.
                if !good {
                    self.fail(&account, ip, good, now);
                }
                return refuse(400, "Bad Request", format!("bad Authorization: {e}"));
            }
        };
        // A nonce answers only from the address it was issued to: a forger
        // who cannot receive there has none (not a failure: a challenge).
        let check = if nonce_is_for(&creds.nonce, ip) {
            self.nonces.check(
                &creds.nonce,
                creds.qop.as_ref().map(|(nc, _)| nc.as_str()),
                now,
            )
        } else {
            NonceCheck::Unknown
        };
        match check {
            NonceCheck::Good => {}
            NonceCheck::Stale | NonceCheck::Unknown => {
                return (challenge(self, true, &mut random), Outcome::Challenged);
            }
        }
        // Some clients (baresip) send the user name as the URI has it
        // (`9901%230`), others as it is (`9901#0`, Dahua).
        let user = crate::header::percent_decode(&creds.username);
        let ha1 = (creds.realm == self.realm
            && user == account
            && self.algorithms.contains(&creds.algorithm))
        .then(|| accounts.ha1(&account, creds.algorithm))
        .flatten();
        let authentic = ha1.is_some_and(|h| creds.check("REGISTER", &h));
        if !authentic {
            self.fail(&account, ip, good, now);
            return (
                challenge(self, false, &mut random),
                Outcome::Refused {
                    reason: format!("authentication failed for {}", creds.username),
                },
            );
        }
        // Authenticated: the contacts.
        let mut wildcard = false;
        let mut contacts = Vec::new();
        for value in req.headers.get_all("Contact") {
            if value.trim() == "*" {
                wildcard = true;
                continue;
            }
            match NameAddr::parse(value) {
                Ok(c) => contacts.push((
                    c.uri.to_string(),
                    c.params.get("expires").and_then(|e| e.parse().ok()),
                )),
                Err(e) => return refuse(400, "Bad Request", format!("bad Contact: {e}")),
            }
        }
        let expires = match req.headers.get("Expires") {
            None => None,
            Some(e) => match e.trim().parse::<u32>() {
                Ok(e) => Some(e),
                Err(_) => return refuse(400, "Bad Request", "bad Expires".into()),
            },
        };
        let register = Register {
            contacts,
            wildcard,
            expires,
            call_id: call_id.to_string(),
            cseq: cseq.seq,
            source: source.to_string(),
            transport: transport.to_string(),
            user_agent: req
                .headers
                .get("User-Agent")
                .unwrap_or_default()
                .to_string(),
        };
        let bound = match self.bindings.register(&account, &register, now) {
            Ok(b) => b,
            Err(e) => return refuse(400, "Bad Request", e.to_string()),
        };
        // A success clears the address's count (the block, if any, has
        // passed); an account's throttle runs out by itself (a forger's
        // guesses are not renewed by the device's refreshes).
        self.failures.remove(&ip);
        let mut headers: Vec<(&str, String)> = bound
            .iter()
            .map(|b| {
                let left = (b.expires_at - now).max(0) / 1000;
                ("Contact", format!("<{}>;expires={left}", b.contact))
            })
            .collect();
        headers.push((
            "Expires",
            grant(expires.unwrap_or(DEFAULT_EXPIRES)).to_string(),
        ));
        (
            response(req, 200, "OK", &headers),
            Outcome::Registered {
                account,
                contacts: bound,
            },
        )
    }
}

/// One more failure in `f`'s window (a new window once the last is over);
/// the fifth blocks.
fn count(f: &mut Failures, now: Mono) {
    if now - f.first > BLOCK_MS {
        *f = Failures {
            count: 0,
            first: now,
            blocked_until: None,
        };
    }
    f.count += 1;
    if f.count >= MAX_FAILURES {
        f.blocked_until = Some(now + BLOCK_MS);
    }
}

/// Old entries go: memory stays bounded by recent attackers.
fn prune<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Failures>, now: Mono) {
    if map.len() > MAX_ENTRIES {
        map.retain(|_, f| f.blocked_until.is_some_and(|u| now < u) || now - f.first <= BLOCK_MS);
    }
}

/// A nonce for a challenge to `ip`: 16 random bytes, then a tag of them
/// and the address (the set of issued nonces is the authority: a nonce
/// with another address's tag was never issued).
fn bound_nonce(random: [u8; 16], ip: IpAddr) -> String {
    let head: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let tag = nonce_tag(&head, ip);
    head + &tag
}

fn nonce_tag(head: &str, ip: IpAddr) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(head.as_bytes());
    h.update(ip.to_canonical().to_string().as_bytes());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `nonce` was made for a challenge to `ip`.
fn nonce_is_for(nonce: &str, ip: IpAddr) -> bool {
    match (nonce.get(..32), nonce.get(32..)) {
        (Some(head), Some(tag)) => nonce.len() == 48 && nonce_tag(head, ip) == tag,
        _ => false,
    }
}

/// The IP address of a binding's source (`ip:port`).
fn source_ip(source: &str) -> Option<IpAddr> {
    source
        .parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// A response to `req` (RFC 3261 8.2.6): its Vias, From, To (with a tag),
/// Call-ID and CSeq, plus `extra`.
pub fn response(req: &Message, code: u16, reason: &str, extra: &[(&str, String)]) -> Message {
    let mut m = Message {
        start: StartLine::Response {
            code,
            reason: reason.to_string(),
        },
        headers: Default::default(),
        body: Default::default(),
    };
    for via in req.headers.get_all("Via") {
        m.headers.push("Via", via);
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        if let Some(v) = req.headers.get(name) {
            let v = if name == "To" && code > 100 && !v.contains(";tag=") {
                // A stable tag per request: the same retransmission gets
                // the same answer.
                format!("{v};tag={}", tag_for(req))
            } else {
                v.to_string()
            };
            m.headers.push(name, v);
        }
    }
    for (name, value) in extra {
        m.headers.push(name, value.clone());
    }
    m
}

/// A To tag derived from the request (Call-ID, CSeq, top Via branch).
fn tag_for(req: &Message) -> String {
    let key = format!(
        "{}|{}|{}",
        req.headers.get("Call-ID").unwrap_or_default(),
        req.headers.get("CSeq").unwrap_or_default(),
        req.headers.get("Via").unwrap_or_default()
    );
    // FNV-1a: a tag only needs to be stable and distinct.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{digest::ha1, message::parse};

    const T0: Mono = Mono(1_800_000_000_000);

    fn accounts(user: &str, algorithm: Algorithm) -> Option<String> {
        (user == "9901#0").then(|| ha1(algorithm, "9901#0", "VDP", "123456"))
    }

    fn src() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 5090))
    }

    /// The recorded baresip REGISTER, its Authorization replaced by one
    /// computed like baresip does for `nonce` (and `password`).
    fn register_with(nonce: Option<&str>, password: &str, nc: &str, cseq: u32) -> Message {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/sip/baresip-register.txt"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut m = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        m.headers.set("CSeq", format!("{cseq} REGISTER"));
        if let Some(nonce) = nonce {
            let h = ha1(Algorithm::Md5, "9901#0", "VDP", password);
            let mut c = Credentials {
                username: "9901#0".into(),
                realm: "VDP".into(),
                nonce: nonce.into(),
                uri: "sip:127.0.0.1:5098".into(),
                response: String::new(),
                algorithm: Algorithm::Md5,
                qop: Some((nc.into(), "f3cee732790de364".into())),
                opaque: None,
            };
            c.response = c.expected("REGISTER", &h);
            m.headers.push(
                "Authorization",
                format!(
                    "Digest username=\"9901#0\", realm=\"VDP\", nonce=\"{nonce}\", uri=\"{}\", \
                     response=\"{}\", cnonce=\"f3cee732790de364\", qop=auth, nc={nc}",
                    c.uri, c.response
                ),
            );
        }
        m
    }

    /// A REGISTER with credentials of `algorithm`, its user name written
    /// as `username` (`9901#0`, or `9901%230` as baresip does).
    fn register_as(nonce: &str, algorithm: Algorithm, username: &str) -> Message {
        let mut m = register_with(None, "", "", 2);
        let mut c = Credentials {
            username: username.into(),
            realm: "VDP".into(),
            nonce: nonce.into(),
            uri: "sip:127.0.0.1:5098".into(),
            response: String::new(),
            algorithm,
            qop: None,
            opaque: None,
        };
        c.response = c.expected("REGISTER", &ha1(algorithm, "9901#0", "VDP", "123456"));
        m.headers.push(
            "Authorization",
            format!(
                "Digest username=\"{username}\", realm=\"VDP\", nonce=\"{nonce}\", uri=\"{}\", \
                 response=\"{}\", algorithm={}",
                c.uri,
                c.response,
                algorithm.name()
            ),
        );
        m
    }

    #[test]
    fn the_challenges_offered_are_the_ones_set_and_the_only_ones_taken() {
        let mut rnd = counter();
        let nonce_of = |resp: &Message| {
            let v = resp.headers.get("WWW-Authenticate").unwrap_or_default();
            crate::digest::params(v)
                .and_then(|p| p.into_iter().find(|(k, _)| k == "nonce").map(|(_, v)| v))
                .unwrap_or_default()
        };
        // SHA-256 alone: one challenge; MD5 credentials fail, SHA-256 pass.
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        r.set_algorithms(&[Algorithm::Sha256]);
        let (resp, _) = r.register(
            &register_with(None, "", "", 1),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        let all: Vec<&str> = resp.headers.get_all("WWW-Authenticate").collect();
        assert_eq!(all.len(), 1);
        assert!(all[0].contains("algorithm=SHA-256"), "{}", all[0]);
        let nonce = nonce_of(&resp);
        let (resp, out) = r.register(
            &register_as(&nonce, Algorithm::Md5, "9901#0"),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(401), "{out:?}");
        assert!(matches!(out, Outcome::Refused { .. }));
        let nonce = nonce_of(&resp);
        let (resp, out) = r.register(
            &register_as(&nonce, Algorithm::Sha256, "9901#0"),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(200), "{out:?}");
        // The default, MD5: the user name escaped as in the URI is the
        // same user (baresip writes it so).
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let (resp, _) = r.register(
            &register_with(None, "", "", 1),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        let nonce = nonce_of(&resp);
        let (resp, out) = r.register(
            &register_as(&nonce, Algorithm::Md5, "9901%230"),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(200), "{out:?}");
    }

    fn md5_nonce(challenge: &Message) -> String {
        let value = challenge
            .headers
            .get_all("WWW-Authenticate")
            .find(|v| v.contains("algorithm=MD5"))
            .unwrap_or_else(|| panic!("no MD5 challenge"));
        crate::digest::params(value)
            .and_then(|p| p.into_iter().find(|(k, _)| k == "nonce"))
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    fn counter() -> impl FnMut() -> [u8; 16] {
        let mut n = 0u8;
        move || {
            n = n.wrapping_add(1);
            [n; 16]
        }
    }

    #[test]
    fn challenge_then_register_then_refresh_with_the_old_nonce() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        let (resp, out) = r.register(
            &register_with(None, "", "", 1),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!((resp.code(), out), (Some(401), Outcome::Challenged));
        let challenges: Vec<&str> = resp.headers.get_all("WWW-Authenticate").collect();
        assert_eq!(challenges.len(), 1, "one challenge: baresip fails on two");
        assert!(challenges[0].contains("MD5"));
        assert!(resp.headers.get("To").unwrap_or_default().contains(";tag="));
        let nonce = md5_nonce(&resp);

        let (resp, out) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", 2),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(200));
        let Outcome::Registered { account, contacts } = out else {
            panic!("{out:?}")
        };
        assert_eq!(account, "9901#0");
        assert_eq!(
            contacts[0].contact,
            "sip:9901%230-0x560fa670b410@127.0.0.1:5090"
        );
        assert_eq!(contacts[0].source, "127.0.0.1:5090");
        assert_eq!(
            resp.headers.get("Contact"),
            Some("<sip:9901%230-0x560fa670b410@127.0.0.1:5090>;expires=60")
        );

        // A Dahua-style refresh: the same nonce, nc=1 again: stale, no failure.
        let (resp, out) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", 3),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0 + 30_000,
        );
        assert_eq!((resp.code(), out), (Some(401), Outcome::Challenged));
        assert!(resp
            .headers
            .get("WWW-Authenticate")
            .unwrap_or_default()
            .contains("stale=true"));
        let fresh = md5_nonce(&resp);
        let (resp, _) = r.register(
            &register_with(Some(&fresh), "123456", "00000001", 4),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0 + 30_000,
        );
        assert_eq!(resp.code(), Some(200));
        assert!(!r.blocked(src().ip(), T0 + 30_000));
    }

    #[test]
    fn five_wrong_passwords_block_the_address_for_five_minutes() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        for i in 0..MAX_FAILURES {
            let (c, _) = r.register(
                &register_with(None, "", "", 1),
                src(),
                "UDP",
                &accounts,
                &mut rnd,
                T0,
            );
            let nonce = md5_nonce(&c);
            let (resp, out) = r.register(
                &register_with(Some(&nonce), "wrong", "00000001", 2),
                src(),
                "UDP",
                &accounts,
                &mut rnd,
                T0,
            );
            assert_eq!(resp.code(), Some(401), "try {i}");
            assert!(matches!(out, Outcome::Refused { .. }));
        }
        assert!(r.blocked(src().ip(), T0));
        // Even the right password is not looked at now.
        let (resp, _) = r.register(
            &register_with(None, "", "", 9),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            T0 + 1000,
        );
        assert_eq!(resp.code(), Some(403));
        // Another address is not blocked.
        let other = SocketAddr::from(([127, 0, 0, 2], 5090));
        let (resp, _) = r.register(
            &register_with(None, "", "", 9),
            other,
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(401));
        // Five minutes later it may try again.
        let later = T0 + BLOCK_MS;
        let (c, _) = r.register(
            &register_with(None, "", "", 10),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            later,
        );
        let nonce = md5_nonce(&c);
        let (resp, _) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", 11),
            src(),
            "UDP",
            &accounts,
            &mut rnd,
            later,
        );
        assert_eq!(resp.code(), Some(200));
    }

    #[test]
    fn unknown_accounts_foreign_realms_and_bad_requests_are_refused() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        let nobody = |_: &str, _: Algorithm| None;
        let (c, _) = r.register(
            &register_with(None, "", "", 1),
            src(),
            "UDP",
            &nobody,
            &mut rnd,
            T0,
        );
        let nonce = md5_nonce(&c);
        let (resp, out) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", 2),
            src(),
            "UDP",
            &nobody,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(401));
        assert!(matches!(out, Outcome::Refused { .. }));

        let mut bad = register_with(None, "", "", 3);
        bad.headers.remove_all("To");
        assert_eq!(
            r.register(&bad, src(), "UDP", &accounts, &mut rnd, T0)
                .0
                .code(),
            Some(400)
        );
        let mut bad = register_with(None, "", "", 3);
        bad.headers.set("CSeq", "x REGISTER");
        assert_eq!(
            r.register(&bad, src(), "UDP", &accounts, &mut rnd, T0)
                .0
                .code(),
            Some(400)
        );
        let mut invite = register_with(None, "", "", 3);
        invite.start = StartLine::Request {
            method: Method::Invite,
            uri: "sip:x".into(),
        };
        assert_eq!(
            r.register(&invite, src(), "UDP", &accounts, &mut rnd, T0)
                .0
                .code(),
            Some(405)
        );
        let mut garbage = register_with(None, "", "", 3);
        garbage.headers.push("Authorization", "Digest garbage");
        assert_eq!(
            r.register(&garbage, src(), "UDP", &accounts, &mut rnd, T0)
                .0
                .code(),
            Some(400)
        );
    }

    /// Registers 9901#0 from `src()` (the fixture's Call-ID) at `now`.
    fn registered(r: &mut Registrar, rnd: &mut impl FnMut() -> [u8; 16], cseq: u32, now: Mono) {
        let (c, _) = r.register(
            &register_with(None, "", "", cseq),
            src(),
            "UDP",
            &accounts,
            &mut *rnd,
            now,
        );
        let nonce = md5_nonce(&c);
        let (resp, out) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", cseq + 1),
            src(),
            "UDP",
            &accounts,
            rnd,
            now,
        );
        assert_eq!(resp.code(), Some(200), "{out:?}");
    }

    /// A REGISTER for 9901#0 that is not the monitor's (another Call-ID),
    /// with `password` for a nonce from a challenge to `from`.
    fn stranger(
        r: &mut Registrar,
        rnd: &mut impl FnMut() -> [u8; 16],
        from: SocketAddr,
        password: &str,
        now: Mono,
    ) -> u16 {
        let mut m = register_with(None, "", "", 1);
        m.headers.set("Call-ID", "another-call-id");
        let (c, _) = r.register(&m, from, "UDP", &accounts, &mut *rnd, now);
        if c.code() != Some(401) {
            return c.code().unwrap_or_default();
        }
        let nonce = md5_nonce(&c);
        let mut m = register_with(Some(&nonce), password, "00000001", 2);
        m.headers.set("Call-ID", "another-call-id");
        r.register(&m, from, "UDP", &accounts, rnd, now)
            .0
            .code()
            .unwrap_or_default()
    }

    fn garbage(r: &mut Registrar, from: SocketAddr, now: Mono) -> u16 {
        let mut m = register_with(None, "", "", 5);
        m.headers.set("Call-ID", "forged");
        m.headers.push("Authorization", "Digest garbage");
        r.register(&m, from, "UDP", &accounts, counter(), now)
            .0
            .code()
            .unwrap_or_default()
    }

    #[test]
    fn failures_from_a_registered_address_throttle_the_account_not_the_address() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        registered(&mut r, &mut rnd, 1, T0);
        let ip = src().ip();
        assert!(r.known_good(ip, T0));
        // Forged garbage "from" the monitor's address: never counted.
        let forger = SocketAddr::new(ip, 40000);
        for _ in 0..20 {
            assert_eq!(garbage(&mut r, forger, T0), 400);
        }
        assert!(!r.blocked(ip, T0));
        assert!(!r.throttled("9901#0", ip, T0));
        // Wrong passwords with a nonce issued there: the account is
        // throttled from that address after 5, the address is not blocked.
        for i in 0..MAX_FAILURES {
            assert_eq!(stranger(&mut r, &mut rnd, forger, "wrong", T0), 401, "{i}");
        }
        assert!(r.throttled("9901#0", ip, T0));
        assert!(!r.blocked(ip, T0));
        // Throttled: even the right password is not looked at, but for
        // the monitor's own registration.
        assert_eq!(stranger(&mut r, &mut rnd, forger, "123456", T0), 403);
        registered(&mut r, &mut rnd, 10, T0 + 30_000);
        // Another account from the same address is not throttled.
        let mut other = register_with(None, "", "", 1);
        other.headers.set("To", "<sip:9901%231@127.0.0.1>");
        other.headers.set("Call-ID", "other");
        let (resp, _) = r.register(&other, src(), "UDP", &accounts, &mut rnd, T0);
        assert_eq!(resp.code(), Some(401));
        // The throttle runs out.
        let later = T0 + BLOCK_MS;
        assert!(!r.throttled("9901#0", ip, later));
        registered(&mut r, &mut rnd, 20, later);
        assert_eq!(stranger(&mut r, &mut rnd, forger, "123456", later), 200);
    }

    #[test]
    fn a_nonce_answers_only_from_the_address_it_was_issued_to() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        let (c, _) = r.register(
            &register_with(None, "", "", 1),
            SocketAddr::from(([127, 0, 0, 9], 5060)),
            "UDP",
            &accounts,
            &mut rnd,
            T0,
        );
        let nonce = md5_nonce(&c);
        // Used from another address, even wrong, it is only a new challenge.
        for cseq in 2..12 {
            let (resp, out) = r.register(
                &register_with(Some(&nonce), "wrong", "00000001", cseq),
                src(),
                "UDP",
                &accounts,
                &mut rnd,
                T0,
            );
            assert_eq!((resp.code(), out), (Some(401), Outcome::Challenged));
        }
        assert!(!r.blocked(src().ip(), T0));
        // From its own address (another port: UDP then TCP) it is good.
        let (resp, _) = r.register(
            &register_with(Some(&nonce), "123456", "00000001", 12),
            SocketAddr::from(([127, 0, 0, 9], 6000)),
            "TCP",
            &accounts,
            &mut rnd,
            T0,
        );
        assert_eq!(resp.code(), Some(200));
    }

    #[test]
    fn garbage_from_an_unknown_address_still_blocks_it() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        registered(&mut r, &mut rnd, 1, T0);
        let stranger_ip = SocketAddr::from(([127, 0, 0, 3], 5060));
        for _ in 0..MAX_FAILURES {
            assert_eq!(garbage(&mut r, stranger_ip, T0), 400);
        }
        assert!(r.blocked(stranger_ip.ip(), T0));
        assert_eq!(garbage(&mut r, stranger_ip, T0), 403);
        // Once the monitor's registration has expired its address is
        // an unknown one again.
        let expired = T0 + 3_600_000;
        assert!(!r.known_good(src().ip(), expired));
        for _ in 0..MAX_FAILURES {
            garbage(&mut r, src(), expired);
        }
        assert!(r.blocked(src().ip(), expired));
    }

    #[test]
    fn a_trusted_station_address_is_never_blocked() {
        let mut r = Registrar::new(DEFAULT_REALM, "vto", Bindings::default());
        let mut rnd = counter();
        r.set_trusted([src().ip()]);
        assert!(r.known_good(src().ip(), T0));
        for _ in 0..3 * MAX_FAILURES {
            garbage(&mut r, src(), T0);
            stranger(&mut r, &mut rnd, src(), "wrong", T0);
        }
        assert!(!r.blocked(src().ip(), T0));
        assert!(r.throttled("9901#0", src().ip(), T0));
        // An IPv4-mapped IPv6 source is the same address.
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped());
        assert!(r.known_good(mapped, T0));
        r.set_trusted([]);
        assert!(!r.known_good(src().ip(), T0));
    }
}
