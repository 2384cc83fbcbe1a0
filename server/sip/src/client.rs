//! The user agent's side of REGISTER (RFC 3261 10.2, digest auth RFC
//! 7616 / RFC 8760): how the door station registers to another SIP server
//! (another door station, Kamailio, Asterisk) and keeps that registration
//! alive. A pure state machine like the rest of the crate: responses and
//! the time go in, bytes to send to the server come out; randomness comes
//! from the seed given to [`Registration::new`].
//!
//! Rules of this client:
//! - one Call-ID for the life of the registration, CSeq one higher on each
//!   request, a new branch each time; repeats over UDP come from
//!   [`transaction::Client`];
//! - a 401 / 407 is answered with the strongest digest offered (SHA-256
//!   over MD5); a refresh re-uses the last nonce with the next nonce count,
//!   which saves a round trip where the server allows it;
//! - a new challenge right after credentials that answered one, without
//!   `stale=true`, is a wrong password: no more tries until the backoff;
//! - the expiry is what the server granted (Dahua grants 60 s whatever is
//!   asked), refreshed half-way or 30 s early, whichever is sooner;
//! - failures are retried after 5, 10, 20, 40 s, then every minute;
//! - `stop` un-registers (Expires 0) without waiting for the answer; a
//!   challenge to that is answered once so the binding really goes.
//!
//! The local address is written into Via and Contact as given: behind a
//! NAT the server relies on `rport` and its own view of the source.

use std::net::{IpAddr, SocketAddr};

use crate::{
    digest,
    header::{user_encode, NameAddr, SipUri, Via},
    message::{Message, Method, StartLine},
    time::Mono,
    transaction::{self, Action, Timers},
};

/// Waits after the 1st, 2nd ... failure in a row; then [`RETRY_MAX_MS`].
const BACKOFF_MS: [i64; 4] = [5_000, 10_000, 20_000, 40_000];
const RETRY_MAX_MS: i64 = 60_000;
/// Refresh this long before the expiry at most (half the expiry when that
/// is shorter).
const REFRESH_MARGIN_MS: i64 = 30_000;
/// A 423's Min-Expires is followed up to this (one day).
const MAX_EXPIRES: u32 = 86_400;
/// Challenges answered for one registration attempt: a server that keeps
/// sending stale nonces must not keep us busy for ever.
const MAX_CHALLENGES: u32 = 3;
/// What the device answers (as in the device's OPTIONS answer).
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, NOTIFY, SUBSCRIBE, REGISTER";

/// No `Debug` derive: the password must not reach a log.
#[derive(Clone)]
pub struct Config {
    /// Where the REGISTERs go (UDP).
    pub server: SocketAddr,
    /// The SIP domain (e.g. "VDP"); empty: the server's address.
    pub domain: String,
    /// The account, e.g. "8002" or "9901#0" (`%23` in URIs, a literal `#`
    /// in the digest username).
    pub user: String,
    pub password: String,
    /// Our address for Via and Contact.
    pub local: SocketAddr,
    /// The expiry asked for, in seconds.
    pub expires: u32,
    pub timers: Timers,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("domain", &self.domain)
            .field("user", &self.user)
            .field("local", &self.local)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Where the registration stands (what the web page shows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Stopped,
    /// Asking (first time, or again after a failure or a lapse).
    Registering,
    /// Bound on the server until `expires_at` (a refresh may be under way).
    Registered {
        expires_at: Mono,
    },
    /// The last attempt failed; the next one is at `retry_at`.
    Failed {
        reason: String,
        retry_at: Mono,
    },
}

/// The last challenge of a kind (401 or 407): re-used on later requests.
type Auth = digest::Offered;

/// The REGISTER in flight.
#[derive(Debug)]
struct Pending {
    tx: transaction::Client,
    branch: String,
    expires: u32,
    unregister: bool,
    /// The kind of challenge (407: true) this request's credentials
    /// answered just now; `None` when they were re-used or absent.
    answered: Option<bool>,
    /// Challenges answered in this attempt so far.
    rounds: u32,
}

pub struct Registration {
    config: Config,
    seed: [u8; 16],
    counter: u64,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The expiry asked for (raised by a 423).
    expires: u32,
    status: Status,
    pending: Option<Pending>,
    refresh_at: Option<Mono>,
    /// Failures in a row, for the backoff.
    failures: u32,
    www: Option<Auth>,
    proxy: Option<Auth>,
    /// Until when the server may still hold our binding (for `stop`).
    bound_until: Option<Mono>,
}

impl Registration {
    pub fn new(config: Config, seed: [u8; 16]) -> Self {
        let expires = config.expires.min(MAX_EXPIRES);
        let mut r = Self {
            config,
            seed,
            counter: 0,
            call_id: String::new(),
            from_tag: String::new(),
            cseq: 0,
            expires,
            status: Status::Stopped,
            pending: None,
            refresh_at: None,
            failures: 0,
            www: None,
            proxy: None,
            bound_until: None,
        };
        r.call_id = r.random("call-id", 16);
        r.from_tag = r.random("tag", 8);
        r
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Registers now, unless already registered or registering. Returns
    /// the bytes to send to the server.
    pub fn start(&mut self, now: Mono) -> Vec<Vec<u8>> {
        match self.status {
            Status::Registering | Status::Registered { .. } => return Vec::new(),
            Status::Stopped => self.failures = 0,
            Status::Failed { .. } => {}
        }
        self.status = Status::Registering;
        self.refresh_at = None;
        self.send(self.expires, false, None, 0, now)
    }

    /// Un-registers (Expires 0) if the server may hold a binding, and
    /// stops at once: the answer is not awaited.
    pub fn stop(&mut self, now: Mono) -> Vec<Vec<u8>> {
        let bound = match self.status {
            Status::Stopped => return Vec::new(),
            Status::Registering | Status::Registered { .. } => true,
            Status::Failed { .. } => self.bound_until.is_some_and(|t| now < t),
        };
        self.status = Status::Stopped;
        self.refresh_at = None;
        self.pending = None;
        self.failures = 0;
        self.bound_until = None;
        if bound {
            self.send(0, true, None, 0, now)
        } else {
            Vec::new()
        }
    }

    /// Whether `resp` belongs to this registration (its Call-ID), so the
    /// device hands it here.
    pub fn owns(&self, resp: &Message) -> bool {
        resp.code().is_some()
            && resp
                .headers
                .get("Call-ID")
                .is_some_and(|c| c.trim() == self.call_id)
    }

    /// A response that came from `from`: only the server's own address
    /// may answer (anyone can copy a Call-ID and a branch off the wire).
    pub fn on_response_from(
        &mut self,
        resp: &Message,
        from: SocketAddr,
        now: Mono,
    ) -> Vec<Vec<u8>> {
        if from != self.config.server {
            return Vec::new();
        }
        self.on_response(resp, now)
    }

    /// A response from the server. Anything but a response to the current
    /// request is ignored.
    pub fn on_response(&mut self, resp: &Message, now: Mono) -> Vec<Vec<u8>> {
        if !self.owns(resp) {
            return Vec::new();
        }
        let Some(p) = &mut self.pending else {
            return Vec::new();
        };
        let branch = resp
            .headers
            .get("Via")
            .and_then(|v| Via::parse(v).ok())
            .and_then(|v| v.branch().map(str::to_string));
        if branch.as_deref() != Some(p.branch.as_str()) {
            return Vec::new();
        }
        let actions = p.tx.on_response(resp, Message::clone, now);
        self.run(actions, now)
    }

    /// When `on_timer` should run next.
    pub fn deadline(&self) -> Option<Mono> {
        let mut times = Vec::new();
        match &self.pending {
            Some(p) => times.push(p.tx.deadline()),
            None => {
                times.push(self.refresh_at);
                if let Status::Failed { retry_at, .. } = self.status {
                    times.push(Some(retry_at));
                }
            }
        }
        if let Status::Registered { expires_at } = self.status {
            times.push(Some(expires_at));
        }
        times.into_iter().flatten().min()
    }

    pub fn on_timer(&mut self, now: Mono) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(p) = &mut self.pending {
            let actions = p.tx.on_timer(now);
            out = self.run(actions, now);
        }
        if let Status::Registered { expires_at } = self.status {
            if now >= expires_at {
                // The refresh is still trying: the binding has lapsed.
                self.status = Status::Registering;
            }
        }
        if self.pending.is_none() {
            if self.refresh_at.is_some_and(|t| now >= t) {
                self.refresh_at = None;
                out.extend(self.send(self.expires, false, None, 0, now));
            } else if let Status::Failed { retry_at, .. } = self.status {
                if now >= retry_at {
                    self.status = Status::Registering;
                    out.extend(self.send(self.expires, false, None, 0, now));
                }
            }
        }
        out
    }

    /// What the transaction says: bytes to send, a final response, or
    /// that the server never answered.
    fn run(&mut self, actions: Vec<Action>, now: Mono) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for action in actions {
            match action {
                Action::Send(bytes) => out.push(bytes),
                // 1xx only stop the repeats, which the transaction did.
                Action::Deliver(resp) if resp.code().is_some_and(|c| c >= 200) => {
                    if let Some(p) = self.pending.take() {
                        out.extend(self.on_final(p, &resp, now));
                    }
                }
                Action::Deliver(_) => {}
                Action::Timeout => {
                    if let Some(p) = self.pending.take() {
                        if !p.unregister {
                            self.fail("no answer from the server".into(), now);
                        }
                    }
                }
            }
        }
        out
    }

    fn on_final(&mut self, p: Pending, resp: &Message, now: Mono) -> Vec<Vec<u8>> {
        let code = resp.code().unwrap_or_default();
        let reason = match &resp.start {
            StartLine::Response { reason, .. } => reason.as_str(),
            StartLine::Request { .. } => "",
        };
        if p.unregister {
            // Answered once so the server really removes the binding; the
            // rest is not our business any more.
            if matches!(code, 401 | 407) && p.rounds == 0 {
                if let Ok(proxy) = self.challenge(&p, resp, code, reason) {
                    return self.send(0, true, Some(proxy), 1, now);
                }
            }
            return Vec::new();
        }
        match code {
            200..=299 => {
                self.registered(resp, p.expires, code, reason, now);
                Vec::new()
            }
            401 | 407 => match self.challenge(&p, resp, code, reason) {
                Ok(proxy) => self.send(p.expires, false, Some(proxy), p.rounds + 1, now),
                Err(why) => {
                    self.fail(why, now);
                    Vec::new()
                }
            },
            423 => {
                let min = resp
                    .headers
                    .get("Min-Expires")
                    .and_then(|m| m.trim().parse::<u32>().ok())
                    .map(|m| m.min(MAX_EXPIRES));
                match min.filter(|m| *m > p.expires) {
                    Some(m) => {
                        self.expires = m;
                        self.send(m, false, None, p.rounds, now)
                    }
                    None => {
                        self.fail(format!("{code} {reason}"), now);
                        Vec::new()
                    }
                }
            }
            _ => {
                self.fail(format!("{code} {reason}"), now);
                Vec::new()
            }
        }
    }

    /// A 2xx: the expiry granted to our contact, else the Expires header,
    /// else what was asked.
    fn registered(&mut self, resp: &Message, asked: u32, code: u16, reason: &str, now: Mono) {
        let ours = resp
            .headers
            .get_all("Contact")
            .filter_map(|c| NameAddr::parse(c).ok())
            .find(|c| self.is_our_contact(&c.uri))
            .and_then(|c| c.params.get("expires").and_then(|e| e.parse::<u32>().ok()));
        let header = resp
            .headers
            .get("Expires")
            .and_then(|e| e.trim().parse::<u32>().ok());
        let granted = ours.or(header).unwrap_or(asked);
        if granted == 0 {
            self.fail(format!("{code} {reason} with no time granted"), now);
            return;
        }
        let life = i64::from(granted) * 1000;
        let expires_at = now + life;
        self.status = Status::Registered { expires_at };
        self.refresh_at = Some(expires_at - (life / 2).min(REFRESH_MARGIN_MS));
        self.bound_until = Some(expires_at);
        self.failures = 0;
    }

    fn is_our_contact(&self, uri: &SipUri) -> bool {
        uri.user.as_deref() == Some(self.config.user.as_str())
            && uri.host.parse::<IpAddr>().ok() == Some(self.config.local.ip())
            && uri.port.unwrap_or(5060) == self.config.local.port()
    }

    /// Reads a 401 / 407: which kind it was (407: true), or why it cannot
    /// be answered.
    fn challenge(
        &mut self,
        p: &Pending,
        resp: &Message,
        code: u16,
        reason: &str,
    ) -> Result<bool, String> {
        let proxy = code == 407;
        let name = if proxy {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        let auth =
            Auth::choose(resp.headers.get_all(name)).map_err(|unsupported| match unsupported {
                Some(what) => format!("{code} unsupported {what}"),
                None => format!("{code} {reason} without a usable challenge"),
            })?;
        if p.answered == Some(proxy) && !auth.stale {
            return Err(format!("{code} wrong user name or password"));
        }
        if p.rounds >= MAX_CHALLENGES {
            return Err(format!(
                "{code} {reason}: challenged {} times",
                p.rounds + 1
            ));
        }
        if proxy {
            self.proxy = Some(auth);
        } else {
            self.www = Some(auth);
        }
        Ok(proxy)
    }

    /// Sends a new REGISTER (a new transaction) asking for `expires`.
    fn send(
        &mut self,
        expires: u32,
        unregister: bool,
        answered: Option<bool>,
        rounds: u32,
        now: Mono,
    ) -> Vec<Vec<u8>> {
        let (req, branch) = match self.build(expires) {
            Ok(built) => built,
            Err(why) => {
                if !unregister {
                    self.fail(why, now);
                }
                return Vec::new();
            }
        };
        let (tx, actions) = transaction::Client::new(&req, false, self.config.timers, now);
        self.pending = Some(Pending {
            tx,
            branch,
            expires,
            unregister,
            answered,
            rounds,
        });
        actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Send(bytes) => Some(bytes),
                _ => None,
            })
            .collect()
    }

    /// The REGISTER and its branch (RFC 3261 10.2).
    fn build(&mut self, expires: u32) -> Result<(Message, String), String> {
        let c = &self.config;
        if c.user.is_empty() {
            return Err("no SIP user name".into());
        }
        // The domain as written (case kept: some registrars compare it as
        // text), an IPv6 address bracketed.
        let domain = c.domain.trim();
        let host = match (domain.is_empty(), c.server.ip()) {
            (true, IpAddr::V6(ip)) => format!("[{ip}]"),
            (true, IpAddr::V4(ip)) => ip.to_string(),
            (false, _) if domain.parse::<std::net::Ipv6Addr>().is_ok() => format!("[{domain}]"),
            (false, _) => domain.to_string(),
        };
        // Without a domain the server's address, its port included.
        let uri = if domain.is_empty() {
            format!("sip:{}", c.server)
        } else {
            format!("sip:{host}")
        };
        // Only a host[:port]: nothing that could end the URI or a header.
        let plain = domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b));
        if !plain || SipUri::parse(&uri).is_err() {
            return Err(format!("bad SIP domain {domain:?}"));
        }
        let user = user_encode(&c.user);
        let contact = SipUri {
            sips: false,
            user: Some(c.user.clone()),
            host: c.local.ip().to_string(),
            port: Some(c.local.port()),
            params: Default::default(),
        };
        let local = c.local;
        let branch = format!("z9hG4bK{}", self.random("branch", 8));
        self.cseq += 1;
        let mut m = Message::request(Method::Register, uri.clone());
        let h = &mut m.headers;
        h.push("Via", format!("SIP/2.0/UDP {local};rport;branch={branch}"));
        h.push("Max-Forwards", "70");
        h.push("From", format!("<sip:{user}@{host}>;tag={}", self.from_tag));
        h.push("To", format!("<sip:{user}@{host}>"));
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{} REGISTER", self.cseq));
        if expires == 0 {
            // RFC 3261 10.2.2: this contact, expiring now.
            h.push("Contact", format!("<{contact}>;expires=0"));
        } else {
            h.push("Contact", format!("<{contact}>"));
        }
        h.push("Expires", expires.to_string());
        for proxy in [false, true] {
            if let Some(value) = self.credentials(proxy, &uri) {
                let name = if proxy {
                    "Proxy-Authorization"
                } else {
                    "Authorization"
                };
                m.headers.push(name, value);
            }
        }
        m.headers.push("User-Agent", "vto");
        m.headers.push("Allow", ALLOW);
        Ok((m, branch))
    }

    /// `Digest ...` for the last challenge of a kind, with the next nonce
    /// count.
    fn credentials(&mut self, proxy: bool, uri: &str) -> Option<String> {
        let cnonce = self.random("cnonce", 8);
        let auth = if proxy {
            self.proxy.as_mut()?
        } else {
            self.www.as_mut()?
        };
        Some(auth.answer(
            &self.config.user,
            &self.config.password,
            "REGISTER",
            uri,
            &cnonce,
        ))
    }

    fn fail(&mut self, reason: String, now: Mono) {
        self.failures = self.failures.saturating_add(1);
        let wait = usize::try_from(self.failures - 1)
            .ok()
            .and_then(|i| BACKOFF_MS.get(i))
            .copied()
            .unwrap_or(RETRY_MAX_MS);
        self.status = Status::Failed {
            reason,
            retry_at: now + wait,
        };
        self.pending = None;
        self.refresh_at = None;
        // A new attempt starts from a fresh challenge.
        self.www = None;
        self.proxy = None;
    }

    /// `2 * bytes` hex digits from the seed and a counter.
    fn random(&mut self, what: &str, bytes: usize) -> String {
        self.counter += 1;
        crate::nonce::derived_hex(&self.seed, what, self.counter, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bindings::Bindings,
        digest::{ha1, Algorithm, Credentials},
        message::parse,
        nonce::LIFETIME_MS,
        registrar::{response, Outcome, Registrar},
    };

    const T0: Mono = Mono(1_800_000_000_000);
    const LOCAL: &str = "127.0.0.1:5090";

    fn config(user: &str, password: &str, expires: u32) -> Config {
        Config {
            server: "127.0.0.1:5060".parse().expect("address"),
            domain: "VDP".into(),
            user: user.into(),
            password: password.into(),
            local: LOCAL.parse().expect("address"),
            expires,
            timers: Timers::default(),
        }
    }

    fn client(user: &str, password: &str, expires: u32) -> Registration {
        Registration::new(config(user, password, expires), [7; 16])
    }

    /// What was sent: exactly one message, which parses.
    fn one(out: &[Vec<u8>]) -> Message {
        assert_eq!(out.len(), 1, "one message sent");
        parse(&out[0]).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out[0])))
    }

    fn line(m: &Message) -> String {
        match &m.start {
            StartLine::Request { method, uri } => format!("{method} {uri}"),
            StartLine::Response { code, reason } => format!("{code} {reason}"),
        }
    }

    fn branch(m: &Message) -> String {
        Via::parse(m.headers.get("Via").unwrap_or_default())
            .ok()
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_else(|| panic!("no branch"))
    }

    fn creds(m: &Message, name: &str) -> Credentials {
        let value = m.headers.get(name).unwrap_or_else(|| panic!("no {name}"));
        Credentials::parse(value).unwrap_or_else(|e| panic!("{e}: {value}"))
    }

    fn nc(c: &Credentials) -> &str {
        c.qop
            .as_ref()
            .map(|(nc, _)| nc.as_str())
            .unwrap_or_default()
    }

    fn accounts(user: &str, algorithm: Algorithm) -> Option<String> {
        ["9901#0", "8002"]
            .contains(&user)
            .then(|| ha1(algorithm, user, "VDP", "123456"))
    }

    /// The crate's own registrar (real digest checks), realm VDP, accounts
    /// 9901#0 and 8002 with password 123456.
    struct Server {
        registrar: Registrar,
        n: u8,
    }

    impl Server {
        fn new() -> Self {
            Self {
                registrar: {
                    // Both offered: the client must pick SHA-256.
                    let mut r = Registrar::new("VDP", "vto", Bindings::default());
                    r.set_algorithms(&[Algorithm::Md5, Algorithm::Sha256]);
                    r
                },
                n: 0,
            }
        }

        fn answer(&mut self, req: &Message, now: Mono) -> (Message, Outcome) {
            let n = &mut self.n;
            self.registrar.register(
                req,
                LOCAL.parse().expect("address"),
                "UDP",
                &accounts,
                || {
                    *n = n.wrapping_add(1);
                    [*n; 16]
                },
                now,
            )
        }
    }

    /// Runs the timers until the registration fails: when it did.
    fn until_failed(c: &mut Registration) -> Mono {
        while let Some(at) = c.deadline() {
            for bytes in c.on_timer(at) {
                one(&[bytes]);
            }
            if matches!(c.status(), Status::Failed { .. }) {
                return at;
            }
        }
        panic!("no failure: {:?}", c.status())
    }

    fn retry_at(c: &Registration) -> Mono {
        match c.status() {
            Status::Failed { retry_at, .. } => *retry_at,
            other => panic!("not failed: {other:?}"),
        }
    }

    #[test]
    fn sha256_is_chosen_the_registrar_accepts_it_and_a_refresh_reuses_the_nonce() {
        let mut c = client("9901#0", "123456", 60);
        let mut s = Server::new();
        assert_eq!(c.status(), &Status::Stopped);
        let first = one(&c.start(T0));
        assert_eq!(c.status(), &Status::Registering);
        assert!(c.start(T0).is_empty(), "already registering");
        assert_eq!(line(&first), "REGISTER sip:VDP");
        let h = &first.headers;
        assert!(h
            .get("Via")
            .unwrap_or_default()
            .starts_with("SIP/2.0/UDP 127.0.0.1:5090;rport;branch=z9hG4bK"));
        assert_eq!(h.get("Max-Forwards"), Some("70"));
        assert_eq!(h.get("To"), Some("<sip:9901%230@VDP>"));
        assert!(h
            .get("From")
            .unwrap_or_default()
            .starts_with("<sip:9901%230@VDP>;tag="));
        assert_eq!(h.get("Call-ID"), Some(c.call_id()));
        assert_eq!(h.get("CSeq"), Some("1 REGISTER"));
        assert_eq!(h.get("Contact"), Some("<sip:9901%230@127.0.0.1:5090>"));
        assert_eq!(h.get("Expires"), Some("60"));
        assert_eq!(h.get("User-Agent"), Some("vto"));
        assert!(h.get("Allow").is_some());
        assert_eq!(h.get("Authorization"), None);

        // MD5 and SHA-256 offered: SHA-256 answered.
        let (challenge, out) = s.answer(&first, T0);
        assert_eq!(out, Outcome::Challenged);
        let second = one(&c.on_response(&challenge, T0 + 10));
        assert_eq!(second.headers.get("CSeq"), Some("2 REGISTER"));
        assert_eq!(second.headers.get("Call-ID"), Some(c.call_id()));
        assert_eq!(second.headers.get("From"), first.headers.get("From"));
        assert_ne!(branch(&second), branch(&first));
        let cr = creds(&second, "Authorization");
        assert_eq!(cr.username, "9901#0");
        assert_eq!(cr.realm, "VDP");
        assert_eq!(cr.uri, "sip:VDP");
        assert_eq!(cr.algorithm, Algorithm::Sha256);
        assert_eq!(nc(&cr), "00000001");
        let (ok, out) = s.answer(&second, T0 + 10);
        assert_eq!(ok.code(), Some(200), "{out:?}");
        let Outcome::Registered { contacts, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(contacts[0].contact, "sip:9901%230@127.0.0.1:5090");
        assert!(c.on_response(&ok, T0 + 20).is_empty());
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: T0 + 20 + 60_000
            }
        );
        // The same 200 again changes nothing.
        assert!(c.on_response(&ok, T0 + 25).is_empty());

        // Refreshed half-way, with the same nonce and the next count.
        assert_eq!(c.deadline(), Some(T0 + 20 + 30_000));
        assert!(c.on_timer(T0 + 20 + 29_999).is_empty());
        let refresh = one(&c.on_timer(T0 + 20 + 30_000));
        assert_eq!(refresh.headers.get("CSeq"), Some("3 REGISTER"));
        let again = creds(&refresh, "Authorization");
        assert_eq!(
            (again.nonce.as_str(), nc(&again)),
            (cr.nonce.as_str(), "00000002")
        );
        let (ok, _) = s.answer(&refresh, T0 + 30_100);
        assert_eq!(ok.code(), Some(200));
        assert!(c.on_response(&ok, T0 + 30_100).is_empty());
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: T0 + 30_100 + 60_000
            }
        );
    }

    #[test]
    fn only_the_server_address_may_answer() {
        let mut c = client("9901#0", "123456", 60);
        let mut s = Server::new();
        let first = one(&c.start(T0));
        let (challenge, _) = s.answer(&first, T0);
        let stranger = "127.0.0.2:5060".parse().expect("address");
        assert!(c.on_response_from(&challenge, stranger, T0 + 10).is_empty());
        assert_eq!(c.status(), &Status::Registering);
        let server = "127.0.0.1:5060".parse().expect("address");
        let second = one(&c.on_response_from(&challenge, server, T0 + 10));
        assert_eq!(second.headers.get("CSeq"), Some("2 REGISTER"));
    }

    #[test]
    fn md5_is_answered_when_it_is_all_that_is_offered() {
        let mut c = client("8002", "123456", 60);
        let mut s = Server::new();
        let first = one(&c.start(T0));
        let (mut challenge, _) = s.answer(&first, T0);
        let md5 = challenge
            .headers
            .get_all("WWW-Authenticate")
            .find(|v| v.contains("MD5"))
            .unwrap_or_default()
            .to_string();
        challenge.headers.set("WWW-Authenticate", md5);
        let second = one(&c.on_response(&challenge, T0));
        let cr = creds(&second, "Authorization");
        assert_eq!(
            (cr.algorithm, cr.username.as_str()),
            (Algorithm::Md5, "8002")
        );
        assert!(cr.check("REGISTER", &ha1(Algorithm::Md5, "8002", "VDP", "123456")));
        let (ok, _) = s.answer(&second, T0);
        assert_eq!(ok.code(), Some(200));
        c.on_response(&ok, T0);
        assert!(matches!(c.status(), Status::Registered { .. }));
    }

    #[test]
    fn a_stale_nonce_is_answered_again_and_is_no_failure() {
        let mut c = client("9901#0", "123456", 600);
        let mut s = Server::new();
        let first = one(&c.start(T0));
        let (challenge, _) = s.answer(&first, T0);
        let second = one(&c.on_response(&challenge, T0));
        // The registrar sees the answer after the nonce expired.
        let late = T0 + LIFETIME_MS + 1;
        let (stale, out) = s.answer(&second, late);
        assert_eq!(out, Outcome::Challenged);
        assert!(stale
            .headers
            .get("WWW-Authenticate")
            .unwrap_or_default()
            .contains("stale=true"));
        let third = one(&c.on_response(&stale, late));
        assert_eq!(c.status(), &Status::Registering);
        let cr = creds(&third, "Authorization");
        assert_ne!(cr.nonce, creds(&second, "Authorization").nonce);
        assert_eq!(nc(&cr), "00000001");
        let (ok, _) = s.answer(&third, late);
        c.on_response(&ok, late);
        let expires_at = late + 600_000;
        assert_eq!(c.status(), &Status::Registered { expires_at });

        // 600 s granted: refreshed at 570 s, when the nonce is stale.
        assert_eq!(c.deadline(), Some(expires_at - 30_000));
        let t = expires_at - 30_000;
        let refresh = one(&c.on_timer(t));
        assert_eq!(nc(&creds(&refresh, "Authorization")), "00000002");
        let (stale, _) = s.answer(&refresh, t);
        assert_eq!(stale.code(), Some(401));
        let retry = one(&c.on_response(&stale, t));
        assert!(matches!(c.status(), Status::Registered { .. }));
        let (ok, _) = s.answer(&retry, t);
        c.on_response(&ok, t);
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: t + 600_000
            }
        );
    }

    #[test]
    fn a_wrong_password_fails_and_is_retried_after_5_then_10_seconds() {
        let mut c = client("9901#0", "wrong", 60);
        let mut s = Server::new();
        let first = one(&c.start(T0));
        let (challenge, _) = s.answer(&first, T0);
        let second = one(&c.on_response(&challenge, T0));
        let (refused, out) = s.answer(&second, T0);
        assert!(matches!(out, Outcome::Refused { .. }));
        assert!(c.on_response(&refused, T0 + 5).is_empty(), "no second try");
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "401 wrong user name or password".into(),
                retry_at: T0 + 5 + 5_000
            }
        );
        assert_eq!(c.deadline(), Some(T0 + 5_005));
        assert!(c.on_timer(T0 + 5_004).is_empty());
        let retry = one(&c.on_timer(T0 + 5_005));
        assert_eq!(c.status(), &Status::Registering);
        assert_eq!(retry.headers.get("Authorization"), None, "a fresh start");
        assert_eq!(retry.headers.get("CSeq"), Some("3 REGISTER"));
        let (challenge, _) = s.answer(&retry, T0 + 5_005);
        let answer = one(&c.on_response(&challenge, T0 + 5_005));
        let (refused, _) = s.answer(&answer, T0 + 5_005);
        c.on_response(&refused, T0 + 5_010);
        assert_eq!(retry_at(&c), T0 + 5_010 + 10_000);
    }

    #[test]
    fn a_proxy_challenge_gets_proxy_authorization_with_the_opaque_echoed() {
        let mut c = client("8002", "123456", 3600);
        let first = one(&c.start(T0));
        let challenge = response(
            &first,
            407,
            "Proxy Authentication Required",
            &[(
                "Proxy-Authenticate",
                "Digest realm=\"kamailio\", nonce=\"abc\", qop=\"auth,auth-int\", opaque=\"xyz\""
                    .into(),
            )],
        );
        let second = one(&c.on_response(&challenge, T0));
        assert_eq!(second.headers.get("Authorization"), None);
        let cr = creds(&second, "Proxy-Authorization");
        assert_eq!(cr.opaque.as_deref(), Some("xyz"));
        assert_eq!(
            (cr.realm.as_str(), cr.algorithm),
            ("kamailio", Algorithm::Md5)
        );
        assert_eq!(nc(&cr), "00000001");
        assert!(cr.check(
            "REGISTER",
            &ha1(Algorithm::Md5, "8002", "kamailio", "123456")
        ));
        // Only an Expires header: that is the expiry.
        let ok = response(&second, 200, "OK", &[("Expires", "3600".into())]);
        c.on_response(&ok, T0);
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: T0 + 3_600_000
            }
        );
        assert_eq!(c.deadline(), Some(T0 + 3_570_000));

        // The refresh re-uses the nonce; a new challenge to that is
        // answered, a second one right after is a wrong password.
        let t = T0 + 3_570_000;
        let refresh = one(&c.on_timer(t));
        assert_eq!(nc(&creds(&refresh, "Proxy-Authorization")), "00000002");
        let fresh = response(
            &refresh,
            407,
            "Proxy Authentication Required",
            &[(
                "Proxy-Authenticate",
                "Digest realm=\"kamailio\", nonce=\"def\", qop=\"auth\"".into(),
            )],
        );
        let answer = one(&c.on_response(&fresh, t));
        assert_eq!(creds(&answer, "Proxy-Authorization").nonce, "def");
        let again = response(
            &answer,
            407,
            "Proxy Authentication Required",
            &[(
                "Proxy-Authenticate",
                "Digest realm=\"kamailio\", nonce=\"ghi\", qop=\"auth\"".into(),
            )],
        );
        assert!(c.on_response(&again, t).is_empty());
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "407 wrong user name or password".into(),
                retry_at: t + 5_000
            }
        );
    }

    #[test]
    fn dahua_grants_60_seconds_whatever_is_asked_and_that_is_refreshed_at_30() {
        let mut c = client("8002", "123456", 600);
        let first = one(&c.start(T0));
        // Our contact's expires counts, not another's nor the header.
        let ok = response(
            &first,
            200,
            "OK",
            &[
                ("Contact", "<sip:8002@10.0.0.9:5060>;expires=3600".into()),
                ("Contact", "<sip:8002@127.0.0.1:5090>;expires=60".into()),
                ("Expires", "600".into()),
            ],
        );
        assert!(c.on_response(&ok, T0).is_empty());
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: T0 + 60_000
            }
        );
        assert_eq!(c.deadline(), Some(T0 + 30_000));
        assert!(c.on_timer(T0 + 29_999).is_empty());
        let refresh = one(&c.on_timer(T0 + 30_000));
        assert_eq!(refresh.headers.get("Expires"), Some("600"), "still asks");
        assert_eq!(refresh.headers.get("CSeq"), Some("2 REGISTER"));

        // Refreshed half-way, or 30 s early.
        for (granted, refresh_after) in [(4, 2_000), (60, 30_000), (3600, 3_570_000)] {
            let mut c = client("8002", "123456", 600);
            let first = one(&c.start(T0));
            let ok = response(&first, 200, "OK", &[("Expires", granted.to_string())]);
            c.on_response(&ok, T0);
            assert_eq!(c.deadline(), Some(T0 + refresh_after), "{granted}");
        }
    }

    #[test]
    fn interval_too_brief_asks_again_with_min_expires_up_to_a_day() {
        let mut c = client("8002", "123456", 60);
        let first = one(&c.start(T0));
        let brief = |req: &Message, min: &str| {
            response(
                req,
                423,
                "Interval Too Brief",
                &[("Min-Expires", min.to_string())],
            )
        };
        let second = one(&c.on_response(&brief(&first, "1800"), T0));
        assert_eq!(second.headers.get("Expires"), Some("1800"));
        assert_eq!(second.headers.get("CSeq"), Some("2 REGISTER"));
        let third = one(&c.on_response(&brief(&second, "999999"), T0));
        assert_eq!(third.headers.get("Expires"), Some("86400"));
        // Asking more is not possible: a failure.
        assert!(c.on_response(&brief(&third, "999999"), T0).is_empty());
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "423 Interval Too Brief".into(),
                retry_at: T0 + 5_000
            }
        );
        let retry = one(&c.on_timer(T0 + 5_000));
        assert_eq!(retry.headers.get("Expires"), Some("86400"));
    }

    #[test]
    fn no_answer_is_repeated_over_udp_then_fails_and_retries_with_backoff() {
        let mut c = client("8002", "123456", 60);
        let first = one(&c.start(T0));
        let mut repeats = Vec::new();
        let failed = loop {
            let at = c.deadline().unwrap_or_else(|| panic!("no deadline"));
            let out = c.on_timer(at);
            if matches!(c.status(), Status::Failed { .. }) {
                assert!(out.is_empty());
                break at;
            }
            let again = one(&out);
            assert_eq!(again, first, "the same request");
            repeats.push(at - T0);
        };
        assert_eq!(
            repeats,
            [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
        assert_eq!(failed, T0 + 32_000);
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "no answer from the server".into(),
                retry_at: T0 + 37_000
            }
        );

        // 5, 10, 20, 40 s, then every minute.
        let mut waits = vec![retry_at(&c) - failed];
        let mut last = first;
        for _ in 0..5 {
            let at = retry_at(&c);
            assert!(c.on_timer(at - 1).is_empty());
            let retry = one(&c.on_timer(at));
            assert_ne!(branch(&retry), branch(&last));
            assert_eq!(retry.headers.get("Call-ID"), last.headers.get("Call-ID"));
            last = retry;
            let failed = until_failed(&mut c);
            waits.push(retry_at(&c) - failed);
        }
        assert_eq!(waits, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);

        // A success resets it; a failed refresh fails the registration.
        let t = retry_at(&c);
        let retry = one(&c.on_timer(t));
        c.on_response(&response(&retry, 200, "OK", &[]), t);
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: t + 60_000
            }
        );
        let refresh = one(&c.on_timer(t + 30_000));
        c.on_response(&response(&refresh, 403, "Forbidden", &[]), t + 30_100);
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "403 Forbidden".into(),
                retry_at: t + 30_100 + 5_000
            }
        );
    }

    #[test]
    fn foreign_call_ids_old_transactions_and_provisional_answers_are_ignored() {
        let mut c = client("8002", "123456", 60);
        let first = one(&c.start(T0));
        let mut foreign = response(&first, 200, "OK", &[]);
        foreign.headers.set("Call-ID", "someone-else");
        assert!(!c.owns(&foreign));
        assert!(c.on_response(&foreign, T0).is_empty());
        assert_eq!(c.status(), &Status::Registering);
        assert!(!c.owns(&first), "a request is not a response");

        let challenge = response(
            &first,
            401,
            "Unauthorized",
            &[(
                "WWW-Authenticate",
                "Digest realm=\"VDP\", nonce=\"n1\"".into(),
            )],
        );
        assert!(c.owns(&challenge));
        let second = one(&c.on_response(&challenge, T0 + 10));
        // Without qop: the RFC 2069 form.
        let cr = creds(&second, "Authorization");
        assert_eq!(cr.qop, None);
        assert!(cr.check("REGISTER", &ha1(Algorithm::Md5, "8002", "VDP", "123456")));
        // Answers to the first request, late: another transaction.
        assert!(c.on_response(&challenge, T0 + 20).is_empty());
        assert!(c
            .on_response(&response(&first, 200, "OK", &[]), T0 + 20)
            .is_empty());
        assert_eq!(c.status(), &Status::Registering);
        // 100 Trying: no repeats until T2.
        assert!(c
            .on_response(&response(&second, 100, "Trying", &[]), T0 + 30)
            .is_empty());
        assert_eq!(c.deadline(), Some(T0 + 30 + 4_000));
        c.on_response(&response(&second, 200, "OK", &[]), T0 + 40);
        assert!(matches!(c.status(), Status::Registered { .. }));
    }

    #[test]
    fn stop_unregisters_with_expires_0_and_answers_one_challenge() {
        let mut c = client("9901#0", "123456", 60);
        let mut s = Server::new();
        let first = one(&c.start(T0));
        let (challenge, _) = s.answer(&first, T0);
        let second = one(&c.on_response(&challenge, T0));
        let (ok, _) = s.answer(&second, T0);
        c.on_response(&ok, T0);
        assert_eq!(s.registrar.bindings().contacts("9901#0", T0).len(), 1);

        let bye = one(&c.stop(T0 + 1_000));
        assert_eq!(c.status(), &Status::Stopped);
        assert_eq!(bye.headers.get("Expires"), Some("0"));
        assert_eq!(
            bye.headers.get("Contact"),
            Some("<sip:9901%230@127.0.0.1:5090>;expires=0")
        );
        assert_eq!(bye.headers.get("CSeq"), Some("3 REGISTER"));
        // Repeated over UDP like any request.
        assert_eq!(c.deadline(), Some(T0 + 1_500));
        let (ok, _) = s.answer(&bye, T0 + 1_000);
        assert_eq!(ok.code(), Some(200));
        assert!(s.registrar.bindings().contacts("9901#0", T0).is_empty());
        assert!(c.on_response(&ok, T0 + 1_000).is_empty());
        assert_eq!((c.status(), c.deadline()), (&Status::Stopped, None));
        assert!(c.stop(T0 + 2_000).is_empty(), "already stopped");

        // Challenged: answered once, then left alone.
        let again = one(&c.start(T0 + 3_000));
        let ok = response(&again, 200, "OK", &[("Expires", "60".into())]);
        c.on_response(&ok, T0 + 3_000);
        let bye = one(&c.stop(T0 + 4_000));
        let challenge = |req: &Message, nonce: &str| {
            response(
                req,
                401,
                "Unauthorized",
                &[(
                    "WWW-Authenticate",
                    format!("Digest realm=\"VDP\", nonce=\"{nonce}\", algorithm=SHA-256"),
                )],
            )
        };
        let answer = one(&c.on_response(&challenge(&bye, "n9"), T0 + 4_000));
        assert_eq!(answer.headers.get("Expires"), Some("0"));
        assert_eq!(creds(&answer, "Authorization").nonce, "n9");
        assert!(c
            .on_response(&challenge(&answer, "n10"), T0 + 4_000)
            .is_empty());
        assert_eq!((c.status(), c.deadline()), (&Status::Stopped, None));

        // Never registered: nothing to undo.
        let mut idle = client("8002", "123456", 60);
        assert!(idle.stop(T0).is_empty());
    }

    #[test]
    fn unsupported_challenges_and_refusals_fail_with_their_reason() {
        let challenged = |header: &str| {
            let mut c = client("8002", "123456", 60);
            let first = one(&c.start(T0));
            let resp = response(
                &first,
                401,
                "Unauthorized",
                &[("WWW-Authenticate", header.to_string())],
            );
            let out = c.on_response(&resp, T0);
            (c, out)
        };
        let (c, out) = challenged("Digest realm=\"VDP\", nonce=\"n\", algorithm=SHA-512-256");
        assert!(out.is_empty());
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "401 unsupported digest algorithm SHA-512-256".into(),
                retry_at: T0 + 5_000
            }
        );
        let (c, out) = challenged("Basic realm=\"VDP\"");
        assert!(out.is_empty());
        assert!(
            matches!(c.status(), Status::Failed { reason, .. } if reason.contains("Basic")),
            "{:?}",
            c.status()
        );
        let (_, out) = challenged("Digest realm=\"VDP\", nonce=\"n\", qop=\"auth-int\"");
        assert!(out.is_empty());

        let mut c = client("8002", "123456", 60);
        let first = one(&c.start(T0));
        c.on_response(&response(&first, 404, "Not Found", &[]), T0);
        assert_eq!(
            c.status(),
            &Status::Failed {
                reason: "404 Not Found".into(),
                retry_at: T0 + 5_000
            }
        );

        let mut bad = config("8002", "123456", 60);
        for domain in ["no such\r\nX: y", "VDP?\r\nX: y", "a@b"] {
            bad.domain = domain.into();
            let mut c = Registration::new(bad.clone(), [1; 16]);
            assert!(c.start(T0).is_empty(), "{domain}");
            assert!(
                matches!(c.status(), Status::Failed { reason, .. } if reason.starts_with("bad SIP domain")),
                "{domain}: {:?}",
                c.status()
            );
        }
    }

    #[test]
    fn without_a_domain_the_server_address_is_used_ipv6_bracketed() {
        let mut cfg = config("8002", "123456", 60);
        cfg.server = "[fd00::1]:5070".parse().expect("address");
        cfg.local = "[fd00::2]:5090".parse().expect("address");
        cfg.domain = String::new();
        let mut c = Registration::new(cfg, [2; 16]);
        let first = one(&c.start(T0));
        assert_eq!(line(&first), "REGISTER sip:[fd00::1]:5070");
        assert_eq!(first.headers.get("To"), Some("<sip:8002@[fd00::1]>"));
        assert_eq!(
            first.headers.get("Contact"),
            Some("<sip:8002@[fd00::2]:5090>")
        );
        let via = Via::parse(first.headers.get("Via").unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((via.host.as_str(), via.port), ("fd00::2", Some(5090)));
        // The same address written longer is still our contact.
        let ok = response(
            &first,
            200,
            "OK",
            &[
                (
                    "Contact",
                    "<sip:8002@[fd00:0:0::2]:5090>;expires=120".into(),
                ),
                ("Expires", "3600".into()),
            ],
        );
        c.on_response(&ok, T0);
        assert_eq!(
            c.status(),
            &Status::Registered {
                expires_at: T0 + 120_000
            }
        );
        // Another seed, another Call-ID.
        assert_ne!(c.call_id(), client("8002", "123456", 60).call_id());
    }
}
