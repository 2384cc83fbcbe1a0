//! The proxy (RFC 3261 16): transaction-stateful and forking. A request
//! for a number goes to every registered contact behind it at once (a
//! room's monitors `9901`, `9901#1` ...); the first 2xx wins and the other
//! branches are cancelled; when all fail, the caller gets the most telling
//! failure (busy before "no answer"). In-dialog requests follow the Route
//! set, or go straight to the registered contact in the Request-URI.
//!
//! Pure like the rest of the crate: requests, responses and the time go
//! in, what to send where (and what happened to each call) comes out. The
//! device decides who is who through [`Locator`].
//!
//! Rules of this device:
//! - only devices registered here may send requests through it (anything
//!   else gets 403): it is no open relay;
//! - Max-Forwards 0 gets 483 (loops end); a missing one becomes 70;
//! - dialog-creating requests (INVITE, SUBSCRIBE) are record-routed, so
//!   the BYE comes through here and the call log sees the end;
//! - a call nobody answers within `ring_timeout` is cancelled and the
//!   caller gets 480 "No Answer";
//! - a transaction that only waits to absorb repeats is kept as a small
//!   [`spent`] record, so the limit on transactions counts work in
//!   progress, not the last 32 s of traffic.

mod spent;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
};

use crate::{
    header::{CSeq, NameAddr, SipUri, Via},
    message::{self, split_list, Message, Method, StartLine},
    registrar::response,
    time::Mono,
    transaction::{self, Action, Client, Server, State, Timers},
};

/// Transactions in flight at once; past it new requests get 503.
pub const MAX_TRANSACTIONS: usize = 20_000;

/// Where a message goes: an address and whether over TCP.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub tcp: bool,
}

/// One place a request is forked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The Request-URI of that branch (the registered contact).
    pub uri: String,
    pub peer: Peer,
}

/// What the device knows about its numbers and devices.
pub trait Locator {
    /// Whether `source` may send requests through the proxy (a device
    /// registered from there).
    fn trusted(&self, source: &Peer) -> bool;
    /// The registered contacts behind `user` (a Request-URI's user part),
    /// or the refusal: 404 for a number nobody has, 480 for one that is
    /// offline or not reachable now.
    fn locate(&self, user: &str) -> Result<Vec<Target>, (u16, String)>;
    /// The device `uri` names, if the proxy may send to it: a registered
    /// contact (in-dialog requests go to it over the connection it
    /// registered on), a configured station, the centre or the upstream
    /// server. Never just any address a caller wrote.
    fn contact(&self, uri: &SipUri) -> Option<Peer>;
}

/// How a call ended, for the call log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEnd {
    Answered,
    /// Nobody answered (ring timeout, offline, unreachable).
    Missed,
    /// The callee refused (busy, decline).
    Rejected,
    /// The caller gave up (CANCEL).
    Cancelled,
}

/// Calls as the proxy sees them (the call log is built from these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEvent {
    /// A new INVITE (no To tag) from `from` to `to`.
    Started {
        call_id: String,
        from: String,
        to: String,
        at: Mono,
    },
    /// The INVITE got its final answer.
    Settled {
        call_id: String,
        end: CallEnd,
        code: u16,
        at: Mono,
    },
    /// A BYE passed: an answered call ended.
    HungUp { call_id: String, at: Mono },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Out {
    Send(Peer, Vec<u8>),
    Call(CallEvent),
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The address written in our Via and Record-Route.
    pub host: IpAddr,
    pub port: u16,
    /// Every address of this device (to recognise our own Route entries).
    pub local: Vec<IpAddr>,
    pub ring_timeout: i64,
    pub timers: Timers,
}

struct Branch {
    id: String,
    peer: Peer,
    req: Message,
    client: Client,
    provisional: bool,
    done: bool,
    /// The caller cancelled before this branch answered anything: CANCEL
    /// goes out with its first provisional response.
    cancel_pending: bool,
    cancel: Option<Client>,
    /// The ACK sent for this INVITE branch's failure (a repeated failure
    /// gets it again after the transaction is spent).
    ack: Option<Vec<u8>>,
}

struct Tx {
    source: Peer,
    req: Message,
    server: Server,
    branches: Vec<Branch>,
    best: Option<Message>,
    /// A final response went to the caller.
    answered: bool,
    cancelled: bool,
    timed_out: bool,
    ring_until: Option<Mono>,
    /// A new call (INVITE without To tag): its end goes to the call log.
    call: Option<String>,
}

impl Tx {
    /// Whether all that is left is absorbing repeats: the caller has its
    /// final answer (an INVITE's failure was ACKed), every branch has its
    /// own, and no CANCEL is still being repeated.
    fn spent(&self) -> bool {
        let invite = self.req.method() == Some(&Method::Invite);
        let server = match self.server.state() {
            State::Accepted | State::Confirmed | State::Terminated => true,
            // An INVITE's failure is repeated until the ACK comes.
            State::Completed => !invite,
            _ => false,
        };
        server
            && self.answered
            && self.branches.iter().all(|b| {
                b.done
                    && matches!(
                        b.client.state(),
                        State::Accepted | State::Completed | State::Terminated
                    )
                    && b.cancel
                        .as_ref()
                        .is_none_or(|c| matches!(c.state(), State::Completed | State::Terminated))
            })
    }

    /// The last of its timers: when nothing more can come.
    fn last_deadline(&self) -> Option<Mono> {
        self.branches
            .iter()
            .flat_map(|b| {
                [
                    b.client.deadline(),
                    b.cancel.as_ref().and_then(Client::deadline),
                ]
            })
            .chain([self.server.deadline()])
            .flatten()
            .max()
    }

    /// Whether a timer of this transaction has run out, or it is over.
    fn due(&self, now: Mono) -> bool {
        let at = |d: Option<Mono>| d.is_some_and(|d| now >= d);
        at(self.server.deadline())
            || self.server.is_terminated()
            || at(self.ring_until.filter(|_| !self.answered))
            || self.branches.iter().any(|b| {
                at(b.client.deadline())
                    || b.client.is_terminated()
                    || b.cancel
                        .as_ref()
                        .is_some_and(|c| at(c.deadline()) || c.is_terminated())
            })
    }
}

pub struct Proxy {
    cfg: Config,
    txs: HashMap<String, Tx>,
    /// Our branch id -> the key of its transaction.
    branches: HashMap<String, String>,
    /// Transactions that only absorb repeats.
    spent: spent::Store,
    seq: u64,
    salt: String,
}

fn uri_of(msg: &Message) -> Option<&str> {
    match &msg.start {
        StartLine::Request { uri, .. } => Some(uri),
        StartLine::Response { .. } => None,
    }
}

fn set_uri(msg: &mut Message, new: &str) {
    if let StartLine::Request { uri, .. } = &mut msg.start {
        *uri = new.to_string();
    }
}

/// Every Via value, comma-separated ones split.
fn vias(msg: &Message) -> Vec<String> {
    msg.headers
        .get_all("Via")
        .flat_map(split_list)
        .map(str::to_string)
        .collect()
}

fn set_vias(msg: &mut Message, list: &[String]) {
    msg.headers.remove_all("Via");
    // Vias first, in order.
    for v in list.iter().rev() {
        msg.headers.push_front("Via", v.clone());
    }
}

fn user_of(header: Option<&str>) -> String {
    header
        .and_then(|h| NameAddr::parse(h).ok())
        .and_then(|n| n.uri.user)
        .unwrap_or_default()
}

/// Which failure the caller hears when every branch failed (RFC 3261
/// 16.7: the most telling one). Lower is better.
fn rank(code: u16) -> u8 {
    match code {
        600..=699 => 0,
        486 => 1,
        300..=399 => 3,
        480 => 4,
        487 => 5,
        408 => 6,
        500..=599 => 7,
        _ => 2,
    }
}

impl Proxy {
    pub fn new(cfg: Config, random: [u8; 16]) -> Self {
        let salt: String = random[..6].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            cfg,
            txs: HashMap::new(),
            branches: HashMap::new(),
            spent: spent::Store::new(spent::BUDGET),
            seq: 0,
            salt,
        }
    }

    pub fn len(&self) -> usize {
        self.txs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Spent transactions kept to absorb repeats, and an estimate of the
    /// heap bytes they hold.
    pub fn spent(&self) -> (usize, usize) {
        (self.spent.len(), self.spent.bytes())
    }

    fn host_port(&self) -> String {
        match self.cfg.host {
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.cfg.port),
            IpAddr::V4(ip) => format!("{ip}:{}", self.cfg.port),
        }
    }

    fn is_us(&self, uri: &SipUri) -> bool {
        let Ok(ip) = uri.host.trim_matches(['[', ']']).parse::<IpAddr>() else {
            return false;
        };
        uri.port.unwrap_or(5060) == self.cfg.port
            && (ip == self.cfg.host || self.cfg.local.contains(&ip))
    }

    fn new_branch(&mut self) -> String {
        self.seq += 1;
        format!("z9hG4bK-vto-{}-{}", self.salt, self.seq)
    }

    fn our_via(&self, branch: &str, tcp: bool) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            if tcp { "TCP" } else { "UDP" },
            self.host_port()
        )
    }

    /// A request that is not REGISTER (the registrar's) nor addressed to
    /// this device itself.
    pub fn on_request(
        &mut self,
        mut req: Message,
        source: Peer,
        now: Mono,
        loc: &dyn Locator,
    ) -> Vec<Out> {
        let Some(method) = req.method().cloned() else {
            return Vec::new();
        };
        // RFC 3581: where the request really came from.
        if let Some(top) = vias(&req).first() {
            if let Ok(mut via) = Via::parse(top) {
                via.params
                    .set("received", Some(&source.addr.ip().to_string()));
                if via.params.has("rport") {
                    via.params
                        .set("rport", Some(&source.addr.port().to_string()));
                }
                let mut list = vias(&req);
                list[0] = via.to_string();
                set_vias(&mut req, &list);
            }
        }
        let Some(key) = transaction::key(&req) else {
            return self.reply(&req, &source, 400, "Bad Request");
        };
        // Forwarded, it gets our Via, a Record-Route and a Max-Forwards, and
        // each Via of a list on a line of its own: past the parser's limit
        // nobody could read it (found by the proxy fuzz target).
        let via_lines = req.headers.get_all("Via").count();
        let forwarded = req.headers.len() - via_lines + vias(&req).len() + 3;
        if forwarded > message::MAX_HEADERS {
            if method == Method::Ack {
                return Vec::new();
            }
            return self.reply(&req, &source, 513, "Message Too Large");
        }
        match method {
            Method::Ack => {
                if let Some(tx) = self.txs.get_mut(&key) {
                    // The ACK of a failure we sent: the transaction's own.
                    tx.server.on_request(&req, now);
                    self.settle(&key, now);
                    return Vec::new();
                }
                if self.spent.get(&key).is_some() {
                    // A repeat of that ACK.
                    return Vec::new();
                }
                // The ACK of a 2xx: a request of its own, no answer.
                if !loc.trusted(&source) {
                    return Vec::new();
                }
                return match self.route(&mut req, loc) {
                    Ok(targets) => targets
                        .into_iter()
                        .take(1)
                        .map(|t| {
                            let mut fwd = req.clone();
                            set_uri(&mut fwd, &t.uri);
                            let branch = self.new_branch();
                            fwd.headers
                                .push_front("Via", self.our_via(&branch, t.peer.tcp));
                            Out::Send(t.peer, fwd.to_bytes())
                        })
                        .collect(),
                    Err(_) => Vec::new(),
                };
            }
            Method::Cancel => {
                let invite_key = key.replacen("|CANCEL|", "|INVITE|", 1);
                // Only the caller may cancel its call: a stranger who copied
                // the branch learns nothing and cancels nothing.
                let from_caller = self
                    .txs
                    .get(&invite_key)
                    .map(|tx| &tx.source)
                    .or_else(|| self.spent.get(&invite_key).map(|s| &s.source))
                    .is_some_and(|caller| caller.addr == source.addr);
                let mut out = if from_caller {
                    self.reply(&req, &source, 200, "OK")
                } else {
                    return self.reply(&req, &source, 481, "Call/Transaction Does Not Exist");
                };
                out.extend(self.cancel_tx(&invite_key, now, true));
                return out;
            }
            _ => {}
        }
        if let Some(tx) = self.txs.get_mut(&key) {
            // A repeat: the last answer again.
            return sends(tx.server.on_request(&req, now), &tx.source);
        }
        if let Some(s) = self.spent.get(&key) {
            // A repeat of a finished request: its final answer again.
            return s
                .reply
                .iter()
                .map(|r| Out::Send(s.source.clone(), r.to_vec()))
                .collect();
        }
        if self.txs.len() >= MAX_TRANSACTIONS {
            return self.reply(&req, &source, 503, "Service Unavailable");
        }
        let hops = match req.headers.get("Max-Forwards") {
            None => 70,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) => n,
                Err(_) => return self.reply(&req, &source, 400, "Bad Max-Forwards"),
            },
        };
        if hops == 0 {
            return self.reply(&req, &source, 483, "Too Many Hops");
        }
        if !loc.trusted(&source) {
            return self.reply(&req, &source, 403, "Forbidden (register first)");
        }
        req.headers
            .set("Max-Forwards", (hops.min(255) - 1).to_string());
        let targets = match self.route(&mut req, loc) {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => return self.reply(&req, &source, 480, "Temporarily Unavailable"),
            Err((code, reason)) => {
                let mut out = self.reply(&req, &source, code, &reason);
                if let Some(ev) = self.new_call(&req, now) {
                    out.push(Out::Call(ev));
                    out.push(Out::Call(CallEvent::Settled {
                        call_id: req.headers.get("Call-ID").unwrap_or_default().to_string(),
                        end: if code == 404 {
                            CallEnd::Rejected
                        } else {
                            CallEnd::Missed
                        },
                        code,
                        at: now,
                    }));
                }
                return out;
            }
        };
        let invite = method == Method::Invite;
        let (server, first) = Server::new(&req, source.tcp, self.cfg.timers);
        let mut out = sends(first, &source);
        let call = self.new_call(&req, now).map(|ev| {
            out.push(Out::Call(ev));
            req.headers.get("Call-ID").unwrap_or_default().to_string()
        });
        if call.is_some() || method == Method::Subscribe {
            req.headers
                .push_front("Record-Route", format!("<sip:{};lr>", self.host_port()));
        }
        if method == Method::Bye {
            out.push(Out::Call(CallEvent::HungUp {
                call_id: req.headers.get("Call-ID").unwrap_or_default().to_string(),
                at: now,
            }));
        }
        let mut tx = Tx {
            source,
            req: req.clone(),
            server,
            branches: Vec::new(),
            best: None,
            answered: false,
            cancelled: false,
            timed_out: false,
            ring_until: invite.then_some(now + self.cfg.ring_timeout),
            call,
        };
        for t in targets {
            let id = self.new_branch();
            let mut fwd = req.clone();
            set_uri(&mut fwd, &t.uri);
            fwd.headers.push_front("Via", self.our_via(&id, t.peer.tcp));
            let (client, first) = Client::new(&fwd, t.peer.tcp, self.cfg.timers, now);
            out.extend(sends(first, &t.peer));
            self.branches.insert(id.clone(), key.clone());
            tx.branches.push(Branch {
                id,
                peer: t.peer,
                req: fwd,
                client,
                provisional: false,
                done: false,
                cancel_pending: false,
                cancel: None,
                ack: None,
            });
        }
        self.txs.insert(key, tx);
        out
    }

    fn new_call(&self, req: &Message, now: Mono) -> Option<CallEvent> {
        let to = req.headers.get("To")?;
        let initial = req.method() == Some(&Method::Invite)
            && NameAddr::parse(to).ok().is_some_and(|n| n.tag().is_none());
        initial.then(|| CallEvent::Started {
            call_id: req.headers.get("Call-ID").unwrap_or_default().to_string(),
            from: user_of(req.headers.get("From")),
            to: user_of(Some(to)),
            at: now,
        })
    }

    /// Where a request goes: its Route set (ours removed), a registered
    /// contact, or the number's registered devices.
    fn route(&self, req: &mut Message, loc: &dyn Locator) -> Result<Vec<Target>, (u16, String)> {
        let mut routes: Vec<String> = req
            .headers
            .get_all("Route")
            .flat_map(split_list)
            .map(str::to_string)
            .collect();
        while let Some(first) = routes.first() {
            match NameAddr::parse(first) {
                Ok(n) if self.is_us(&n.uri) => {
                    routes.remove(0);
                }
                _ => break,
            }
        }
        req.headers.remove_all("Route");
        for r in &routes {
            req.headers.push("Route", r.clone());
        }
        let ruri = uri_of(req).unwrap_or_default().to_string();
        if let Some(next) = routes.first() {
            let n = NameAddr::parse(next).map_err(|_| (400, "Bad Route".to_string()))?;
            // Only to a device the Locator knows: an address a caller
            // wrote in a Route is no destination of its own (no relay).
            let peer = loc.contact(&n.uri).ok_or((404, "Not Found".to_string()))?;
            return Ok(vec![Target { uri: ruri, peer }]);
        }
        let uri = SipUri::parse(&ruri).map_err(|_| (416, "Unsupported URI Scheme".to_string()))?;
        // A Request-URI at this device names a number, never a device.
        if let Some(peer) = (!self.is_us(&uri)).then(|| loc.contact(&uri)).flatten() {
            return Ok(vec![Target { uri: ruri, peer }]);
        }
        match &uri.user {
            Some(user) => loc.locate(user),
            None => Err((404, "Not Found".to_string())),
        }
    }

    /// A stateless answer to `req`, straight back to where it came from.
    fn reply(&self, req: &Message, source: &Peer, code: u16, reason: &str) -> Vec<Out> {
        vec![Out::Send(
            source.clone(),
            response(req, code, reason, &[]).to_bytes(),
        )]
    }

    /// Cancels every branch still ringing.
    fn cancel_tx(&mut self, key: &str, now: Mono, by_caller: bool) -> Vec<Out> {
        let Some(tx) = self.txs.get_mut(key) else {
            return Vec::new();
        };
        if by_caller {
            tx.cancelled = true;
        }
        let mut out = Vec::new();
        for b in tx
            .branches
            .iter_mut()
            .filter(|b| !b.done && b.cancel.is_none())
        {
            if b.provisional {
                out.extend(send_cancel(b, self.cfg.timers, now));
            } else {
                b.cancel_pending = true;
            }
        }
        out
    }

    /// A response from `source`. Only a branch of ours, answered from the
    /// address that branch was sent to, is heard: anything else is dropped,
    /// never relayed along its Via (a stranger's datagram must not make the
    /// device send anywhere).
    pub fn on_response(&mut self, mut resp: Message, source: &Peer, now: Mono) -> Vec<Out> {
        let Some(code) = resp.code() else {
            return Vec::new();
        };
        let mut list = vias(&resp);
        let Some(top) = list.first().and_then(|v| Via::parse(v).ok()) else {
            return Vec::new();
        };
        let ours = top.port.unwrap_or(5060) == self.cfg.port
            && top
                .host
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip == self.cfg.host || self.cfg.local.contains(&ip));
        if !ours {
            return Vec::new();
        }
        let branch = top.branch().unwrap_or_default().to_string();
        list.remove(0);
        // A 2xx repeated after its transaction ended (64*T1 in Accepted,
        // RFC 6026) is dropped too: the caller's own timers cover it.
        let cancel_response = CSeq::of(&resp).is_some_and(|c| c.method == Method::Cancel);
        let Some(key) = self.branches.get(&branch).cloned() else {
            if cancel_response {
                return Vec::new();
            }
            set_vias(&mut resp, &list);
            return self.spent_response(resp, code, &branch, source);
        };
        let timers = self.cfg.timers;
        let Some(tx) = self.txs.get_mut(&key) else {
            return Vec::new();
        };
        let Some(idx) = tx
            .branches
            .iter()
            .position(|b| b.id == branch && b.peer.addr == source.addr)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let b = &mut tx.branches[idx];
        if cancel_response {
            if let Some(c) = &mut b.cancel {
                out.extend(sends(c.on_response(&resp, |r| r.clone(), now), &b.peer));
            }
            return out;
        }
        let req = b.req.clone();
        let mut delivered = Vec::new();
        for a in b.client.on_response(&resp, |r| ack_for(&req, r), now) {
            match a {
                Action::Send(bytes) => {
                    // What a client sends on a response is an ACK.
                    b.ack = Some(bytes.clone());
                    out.push(Out::Send(b.peer.clone(), bytes));
                }
                Action::Deliver(_) => delivered.push(code),
                Action::Timeout => {}
            }
        }
        if delivered.is_empty() {
            return out;
        }
        set_vias(&mut resp, &list);
        out.extend(self.deliver(&key, idx, resp, timers, now));
        self.settle(&key, now);
        out
    }

    /// A response for a branch of a spent transaction (`resp` without our
    /// Via): a repeated 2xx still goes to the caller, a repeated failure
    /// gets its ACK again, anything else is dropped.
    fn spent_response(&self, resp: Message, code: u16, branch: &str, source: &Peer) -> Vec<Out> {
        let Some((s, b)) = self
            .spent
            .by_branch(branch)
            .filter(|(_, b)| b.peer.addr == source.addr)
        else {
            return Vec::new();
        };
        match (code, &b.ack) {
            (200..=299, _) if b.accepted => vec![Out::Send(s.source.clone(), resp.to_bytes())],
            (300.., Some(ack)) => vec![Out::Send(b.peer.clone(), ack.to_vec())],
            _ => Vec::new(),
        }
    }

    /// Moves a transaction that only absorbs repeats into the spent store
    /// (or drops it when nothing more can come).
    fn settle(&mut self, key: &str, now: Mono) {
        if !self.txs.get(key).is_some_and(Tx::spent) {
            return;
        }
        let Some(tx) = self.txs.remove(key) else {
            return;
        };
        for b in &tx.branches {
            self.branches.remove(&b.id);
        }
        let Some(until) = tx.last_deadline().filter(|u| *u > now) else {
            return;
        };
        let reply = (tx.req.method() != Some(&Method::Invite)
            && tx.server.state() == State::Completed)
            .then(|| tx.server.last().map(Box::from))
            .flatten();
        let branches = tx
            .branches
            .into_iter()
            .filter_map(|b| {
                let accepted = b.client.state() == State::Accepted;
                let ack = b
                    .ack
                    .filter(|_| b.client.state() == State::Completed)
                    .map(Vec::into_boxed_slice);
                (accepted || ack.is_some()).then_some(spent::Branch {
                    id: self.spent.digest(&b.id),
                    peer: b.peer,
                    ack,
                    accepted,
                })
            })
            .collect();
        self.spent.insert(
            key,
            spent::Spent {
                source: tx.source,
                reply,
                branches,
                until,
            },
        );
    }

    /// A branch's response, for the caller.
    fn deliver(
        &mut self,
        key: &str,
        idx: usize,
        resp: Message,
        timers: Timers,
        now: Mono,
    ) -> Vec<Out> {
        let Some(code) = resp.code() else {
            return Vec::new();
        };
        let Some(tx) = self.txs.get_mut(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let invite = tx.req.method() == Some(&Method::Invite);
        match code {
            100 => {}
            101..=199 => {
                let b = &mut tx.branches[idx];
                b.provisional = true;
                if b.cancel_pending {
                    b.cancel_pending = false;
                    out.extend(send_cancel(b, timers, now));
                }
                if !tx.answered {
                    out.extend(sends(tx.server.respond(&resp, now), &tx.source));
                }
            }
            200..=299 => {
                tx.branches[idx].done = true;
                if invite || !tx.answered {
                    // Every 2xx of an INVITE goes up (RFC 3261 16.7 step 5).
                    out.extend(sends(tx.server.respond(&resp, now), &tx.source));
                }
                if !tx.answered {
                    tx.answered = true;
                    if let Some(call_id) = tx.call.clone() {
                        out.push(Out::Call(CallEvent::Settled {
                            call_id,
                            end: CallEnd::Answered,
                            code,
                            at: now,
                        }));
                    }
                    if invite {
                        out.extend(self.cancel_tx(key, now, false));
                    }
                }
            }
            _ => {
                tx.branches[idx].done = true;
                if tx.best.as_ref().and_then(Message::code).map(rank) > Some(rank(code))
                    || tx.best.is_none()
                {
                    tx.best = Some(resp);
                }
                if code >= 600 && invite {
                    out.extend(self.cancel_tx(key, now, false));
                }
                out.extend(self.settle_if_done(key, now));
            }
        }
        out
    }

    /// Every branch failed: the best failure goes to the caller.
    fn settle_if_done(&mut self, key: &str, now: Mono) -> Vec<Out> {
        let Some(tx) = self.txs.get_mut(key) else {
            return Vec::new();
        };
        if tx.answered || !tx.branches.iter().all(|b| b.done) {
            return Vec::new();
        }
        tx.answered = true;
        let resp = if tx.timed_out && !tx.cancelled {
            response(&tx.req, 480, "No Answer", &[])
        } else if tx.cancelled {
            response(&tx.req, 487, "Request Terminated", &[])
        } else {
            tx.best
                .clone()
                .unwrap_or_else(|| response(&tx.req, 408, "Request Timeout", &[]))
        };
        let code = resp.code().unwrap_or(500);
        let mut out = sends(tx.server.respond(&resp, now), &tx.source);
        if let Some(call_id) = tx.call.clone() {
            let end = if tx.cancelled {
                CallEnd::Cancelled
            } else if matches!(code, 408 | 480 | 500..=599) {
                CallEnd::Missed
            } else {
                CallEnd::Rejected
            };
            out.push(Out::Call(CallEvent::Settled {
                call_id,
                end,
                code,
                at: now,
            }));
        }
        out
    }

    /// The timers: repeats, give-ups, the ring timeout, the end of
    /// finished transactions.
    pub fn on_timer(&mut self, now: Mono) -> Vec<Out> {
        let mut out = Vec::new();
        self.spent.expire(now);
        // Only the transactions with something due (thousands may wait).
        let keys: Vec<String> = self
            .txs
            .iter()
            .filter(|(_, tx)| tx.due(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let mut timeouts = Vec::new();
            let ring_over;
            {
                let Some(tx) = self.txs.get_mut(&key) else {
                    continue;
                };
                out.extend(sends(tx.server.on_timer(now), &tx.source));
                for (i, b) in tx.branches.iter_mut().enumerate() {
                    for a in b.client.on_timer(now) {
                        match a {
                            Action::Send(bytes) => out.push(Out::Send(b.peer.clone(), bytes)),
                            Action::Timeout if !b.done => timeouts.push(i),
                            _ => {}
                        }
                    }
                    if let Some(c) = &mut b.cancel {
                        out.extend(sends(c.on_timer(now), &b.peer));
                    }
                }
                ring_over = !tx.answered && tx.ring_until.is_some_and(|t| now >= t);
                if ring_over {
                    tx.ring_until = None;
                    tx.timed_out = true;
                }
            }
            for i in timeouts {
                // No answer at all from that device: it counts as a 408.
                if let Some(tx) = self.txs.get_mut(&key) {
                    tx.branches[i].done = true;
                    if tx.best.is_none() {
                        tx.best = Some(response(&tx.req, 408, "Request Timeout", &[]));
                    }
                }
                out.extend(self.settle_if_done(&key, now));
            }
            if ring_over {
                out.extend(self.cancel_tx(&key, now, false));
            }
            let finished = self.txs.get(&key).is_some_and(|tx| {
                tx.server.is_terminated()
                    && tx.branches.iter().all(|b| {
                        b.client.is_terminated()
                            && b.cancel.as_ref().is_none_or(Client::is_terminated)
                    })
            });
            if finished {
                if let Some(tx) = self.txs.remove(&key) {
                    for b in tx.branches {
                        self.branches.remove(&b.id);
                    }
                }
            } else {
                self.settle(&key, now);
            }
        }
        out
    }
}

fn send_cancel(b: &mut Branch, timers: Timers, now: Mono) -> Vec<Out> {
    let (client, first) = Client::new(&cancel_for(&b.req), b.peer.tcp, timers, now);
    b.cancel = Some(client);
    sends(first, &b.peer)
}

/// The CANCEL of a request (RFC 3261 9.1): same Request-URI, Call-ID, From,
/// To, CSeq number and top Via as the request it cancels.
pub(crate) fn cancel_for(req: &Message) -> Message {
    let mut c = Message::request(Method::Cancel, uri_of(req).unwrap_or_default());
    if let Some(v) = vias(req).first() {
        c.headers.push("Via", v.clone());
    }
    for name in ["Route", "From", "To", "Call-ID"] {
        for v in req.headers.get_all(name) {
            c.headers.push(name, v);
        }
    }
    c.headers
        .push("CSeq", format!("{} CANCEL", cseq_number(req)));
    c.headers.push("Max-Forwards", "70");
    c
}

/// The ACK of a failed INVITE branch (RFC 3261 17.1.1.3).
pub(crate) fn ack_for(req: &Message, resp: &Message) -> Message {
    let mut a = Message::request(Method::Ack, uri_of(req).unwrap_or_default());
    if let Some(v) = vias(req).first() {
        a.headers.push("Via", v.clone());
    }
    for name in ["Route", "From", "Call-ID"] {
        for v in req.headers.get_all(name) {
            a.headers.push(name, v);
        }
    }
    if let Some(to) = resp.headers.get("To") {
        a.headers.push("To", to);
    }
    a.headers.push("CSeq", format!("{} ACK", cseq_number(req)));
    a.headers.push("Max-Forwards", "70");
    a
}

fn cseq_number(req: &Message) -> u32 {
    CSeq::of(req).map(|s| s.seq).unwrap_or(1)
}

fn sends(actions: Vec<Action>, to: &Peer) -> Vec<Out> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(Out::Send(to.clone(), b)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse;

    const CALLER: &str = "127.0.0.1:5071";
    const MON0: &str = "127.0.0.1:5080";
    const MON1: &str = "127.0.0.1:5081";

    fn peer(a: &str) -> Peer {
        Peer {
            addr: a.parse().expect("address"),
            tcp: false,
        }
    }

    /// The device's numbers: 8001 (the caller, registered from CALLER),
    /// room 9901 with two monitors, room 9902 registered by nobody.
    struct Numbers;

    impl Locator for Numbers {
        fn trusted(&self, source: &Peer) -> bool {
            [CALLER, MON0, MON1].iter().any(|a| peer(a) == *source)
        }
        fn locate(&self, user: &str) -> Result<Vec<Target>, (u16, String)> {
            match user {
                "9901" => Ok(vec![
                    Target {
                        uri: format!("sip:9901@{MON0}"),
                        peer: peer(MON0),
                    },
                    Target {
                        uri: format!("sip:9901%231@{MON1}"),
                        peer: peer(MON1),
                    },
                ]),
                "9902" => Err((480, "Temporarily Unavailable".into())),
                "9903" => Ok(vec![Target {
                    uri: format!("sip:9903@{MON0}"),
                    peer: peer(MON0),
                }]),
                _ => Err((404, "Not Found".into())),
            }
        }
        fn contact(&self, uri: &SipUri) -> Option<Peer> {
            let a = format!("{}:{}", uri.host, uri.port.unwrap_or(5060));
            [CALLER, MON0, MON1]
                .iter()
                .find(|p| **p == a)
                .map(|p| peer(p))
        }
    }

    fn proxy() -> Proxy {
        Proxy::new(
            Config {
                host: "127.0.0.1".parse().expect("ip"),
                port: 5060,
                local: vec![],
                ring_timeout: 30_000,
                timers: Timers::default(),
            },
            [7; 16],
        )
    }

    fn invite(to: &str) -> Message {
        msg(&format!(
            "INVITE sip:{to}@127.0.0.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP {CALLER};branch=z9hG4bKcaller1;rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:8001@127.0.0.1>;tag=door\r\n\
             To: <sip:{to}@127.0.0.1>\r\n\
             Call-ID: call-1\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:8001@{CALLER}>\r\n\
             Content-Type: application/sdp\r\n\r\nv=0\r\n"
        ))
    }

    fn msg(text: &str) -> Message {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// What was sent to `to`, parsed.
    fn sent_to(out: &[Out], to: &str) -> Vec<Message> {
        out.iter()
            .filter_map(|o| match o {
                Out::Send(p, b) if *p == peer(to) => Some(parse(b).expect("we print parsable")),
                _ => None,
            })
            .collect()
    }

    fn events(out: &[Out]) -> Vec<CallEvent> {
        out.iter()
            .filter_map(|o| match o {
                Out::Call(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    fn line(m: &Message) -> String {
        match &m.start {
            StartLine::Request { method, uri } => format!("{method} {uri}"),
            StartLine::Response { code, reason } => format!("{code} {reason}"),
        }
    }

    /// A response of a monitor to what it was sent.
    fn answer(req: &Message, code: u16, reason: &str, tag: &str) -> Message {
        let mut r = response(req, code, reason, &[]);
        if code > 100 {
            let to = req.headers.get("To").unwrap_or_default();
            r.headers.set("To", format!("{to};tag={tag}"));
        }
        r
    }

    /// An INVITE to room 9901 forked to its two monitors.
    fn forked(p: &mut Proxy) -> (Vec<Out>, Message, Message) {
        let out = p.on_request(invite("9901"), peer(CALLER), Mono(0), &Numbers);
        let a = sent_to(&out, MON0)
            .pop()
            .expect("a branch to the main monitor");
        let b = sent_to(&out, MON1)
            .pop()
            .expect("a branch to the extension");
        (out, a, b)
    }

    #[test]
    fn an_invite_to_a_room_forks_to_every_monitor_and_the_first_answer_wins() {
        let mut p = proxy();
        let (out, a, b) = forked(&mut p);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "100 Trying");
        assert_eq!(line(&a), "INVITE sip:9901@127.0.0.1:5080");
        assert_eq!(line(&b), "INVITE sip:9901%231@127.0.0.1:5081");
        for m in [&a, &b] {
            let v = vias(m);
            assert_eq!(v.len(), 2, "ours on top of the caller's");
            assert!(v[0].starts_with("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-vto-"));
            assert!(v[1].contains("received=127.0.0.1") && v[1].contains("rport=5071"));
            assert_eq!(
                m.headers.get("Record-Route"),
                Some("<sip:127.0.0.1:5060;lr>")
            );
            assert_eq!(m.headers.get("Max-Forwards"), Some("69"));
            assert_eq!(
                m.headers.get("To"),
                Some("<sip:9901@127.0.0.1>"),
                "To stays the room"
            );
        }
        assert_ne!(vias(&a)[0], vias(&b)[0], "one branch id each");
        assert_eq!(
            events(&out),
            vec![CallEvent::Started {
                call_id: "call-1".into(),
                from: "8001".into(),
                to: "9901".into(),
                at: Mono(0)
            }]
        );

        // Both ring; the caller hears it, without our Via.
        let out = p.on_response(answer(&a, 180, "Ringing", "m0"), &peer(MON0), Mono(100));
        let up = sent_to(&out, CALLER);
        assert_eq!(line(&up[0]), "180 Ringing");
        assert_eq!(vias(&up[0]).len(), 1);
        p.on_response(answer(&b, 180, "Ringing", "m1"), &peer(MON1), Mono(100));

        // The extension answers: 200 up, the main monitor is cancelled.
        let out = p.on_response(answer(&b, 200, "OK", "m1"), &peer(MON1), Mono(2_000));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        let cancel = sent_to(&out, MON0);
        assert_eq!(line(&cancel[0]), "CANCEL sip:9901@127.0.0.1:5080");
        assert_eq!(
            vias(&cancel[0]),
            vec![vias(&a)[0].clone()],
            "the branch's Via"
        );
        assert_eq!(cancel[0].headers.get("CSeq"), Some("1 CANCEL"));
        assert!(sent_to(&out, MON1).is_empty());
        assert!(matches!(
            events(&out)[..],
            [CallEvent::Settled {
                end: CallEnd::Answered,
                code: 200,
                at: Mono(2_000),
                ..
            }]
        ));

        // The cancelled monitor's 487 is ACKed there and goes no further.
        let out = p.on_response(
            answer(&a, 487, "Request Terminated", "m0"),
            &peer(MON0),
            Mono(2_100),
        );
        assert!(sent_to(&out, CALLER).is_empty());
        assert_eq!(line(&sent_to(&out, MON0)[0]), "ACK sip:9901@127.0.0.1:5080");
        assert!(events(&out).is_empty());
    }

    #[test]
    fn when_every_monitor_fails_the_caller_hears_busy_over_unavailable() {
        let mut p = proxy();
        let (_, a, b) = forked(&mut p);
        let out = p.on_response(answer(&a, 486, "Busy Here", "m0"), &peer(MON0), Mono(100));
        assert!(
            sent_to(&out, CALLER).is_empty(),
            "the other may still answer"
        );
        assert_eq!(line(&sent_to(&out, MON0)[0]), "ACK sip:9901@127.0.0.1:5080");
        let out = p.on_response(
            answer(&b, 480, "Temporarily Unavailable", "m1"),
            &peer(MON1),
            Mono(200),
        );
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "486 Busy Here");
        assert!(matches!(
            events(&out)[..],
            [CallEvent::Settled {
                end: CallEnd::Rejected,
                code: 486,
                ..
            }]
        ));
        // The caller's ACK ends it there.
        let ack = msg(&format!(
            "ACK sip:9901@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bKcaller1\r\n\
             From: <sip:8001@127.0.0.1>;tag=door\r\nTo: <sip:9901@127.0.0.1>;tag=m0\r\n\
             Call-ID: call-1\r\nCSeq: 1 ACK\r\n\r\n"
        ));
        assert!(p
            .on_request(ack, peer(CALLER), Mono(300), &Numbers)
            .is_empty());
    }

    #[test]
    fn a_caller_who_gives_up_cancels_every_branch() {
        let mut p = proxy();
        let (_, a, b) = forked(&mut p);
        p.on_response(answer(&a, 180, "Ringing", "m0"), &peer(MON0), Mono(100));
        let mut cancel = invite("9901");
        cancel.start = StartLine::Request {
            method: Method::Cancel,
            uri: "sip:9901@127.0.0.1:5060".into(),
        };
        cancel.headers.set("CSeq", "1 CANCEL");
        cancel.body = Default::default();
        let out = p.on_request(cancel.clone(), peer(CALLER), Mono(1_000), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        assert_eq!(
            line(&sent_to(&out, MON0)[0]),
            "CANCEL sip:9901@127.0.0.1:5080"
        );
        assert!(
            sent_to(&out, MON1).is_empty(),
            "not before it answers anything"
        );
        // The extension rings late: now it is cancelled too.
        let out = p.on_response(answer(&b, 180, "Ringing", "m1"), &peer(MON1), Mono(1_100));
        assert_eq!(
            line(&sent_to(&out, MON1)[0]),
            "CANCEL sip:9901%231@127.0.0.1:5081"
        );
        p.on_response(
            answer(&a, 487, "Request Terminated", "m0"),
            &peer(MON0),
            Mono(1_200),
        );
        let out = p.on_response(
            answer(&b, 487, "Request Terminated", "m1"),
            &peer(MON1),
            Mono(1_300),
        );
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "487 Request Terminated");
        assert!(matches!(
            events(&out)[..],
            [CallEvent::Settled {
                end: CallEnd::Cancelled,
                ..
            }]
        ));
        // A CANCEL for nothing.
        let mut stray = cancel;
        stray
            .headers
            .set("Via", format!("SIP/2.0/UDP {CALLER};branch=z9hG4bKother"));
        let out = p.on_request(stray, peer(CALLER), Mono(1_400), &Numbers);
        assert_eq!(
            line(&sent_to(&out, CALLER)[0]),
            "481 Call/Transaction Does Not Exist"
        );
    }

    #[test]
    fn a_call_nobody_answers_is_cancelled_at_the_ring_timeout() {
        let mut p = proxy();
        let (_, a, b) = forked(&mut p);
        p.on_response(answer(&a, 180, "Ringing", "m0"), &peer(MON0), Mono(100));
        p.on_response(answer(&b, 180, "Ringing", "m1"), &peer(MON1), Mono(100));
        assert!(sent_to(&p.on_timer(Mono(29_000)), MON0).is_empty());
        let out = p.on_timer(Mono(30_000));
        assert_eq!(
            line(&sent_to(&out, MON0)[0]),
            "CANCEL sip:9901@127.0.0.1:5080"
        );
        assert_eq!(
            line(&sent_to(&out, MON1)[0]),
            "CANCEL sip:9901%231@127.0.0.1:5081"
        );
        p.on_response(
            answer(&a, 487, "Request Terminated", "m0"),
            &peer(MON0),
            Mono(30_100),
        );
        let out = p.on_response(
            answer(&b, 487, "Request Terminated", "m1"),
            &peer(MON1),
            Mono(30_200),
        );
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "480 No Answer");
        assert!(matches!(
            events(&out)[..],
            [CallEvent::Settled {
                end: CallEnd::Missed,
                code: 480,
                ..
            }]
        ));
        // Everything ends, nothing is left behind.
        p.on_timer(Mono(30_000 + 64 * 500 + 1));
        p.on_timer(Mono(30_000 + 2 * 64 * 500));
        assert!(p.is_empty());
        assert!(p.branches.is_empty());
    }

    #[test]
    fn strangers_loops_unknown_and_offline_numbers_are_refused() {
        let mut p = proxy();
        let out = p.on_request(invite("9901"), peer("127.0.0.9:5071"), Mono(0), &Numbers);
        assert_eq!(
            line(&sent_to(&out, "127.0.0.9:5071")[0]),
            "403 Forbidden (register first)"
        );
        let mut looped = invite("9901");
        looped.headers.set("Max-Forwards", "0");
        let out = p.on_request(looped, peer(CALLER), Mono(0), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "483 Too Many Hops");
        let out = p.on_request(invite("7777"), peer(CALLER), Mono(0), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "404 Not Found");
        // A request that, forwarded, would have more headers than anyone
        // reads.
        let mut huge = invite("9901");
        while huge.headers.len() < message::MAX_HEADERS - 1 {
            huge.headers.push("X-Pad", "1");
        }
        let out = p.on_request(huge, peer(CALLER), Mono(0), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "513 Message Too Large");
        let mut offline = invite("9902");
        offline.headers.set("Call-ID", "call-2");
        let out = p.on_request(offline, peer(CALLER), Mono(0), &Numbers);
        assert_eq!(
            line(&sent_to(&out, CALLER)[0]),
            "480 Temporarily Unavailable"
        );
        assert!(matches!(
            events(&out)[..],
            [
                CallEvent::Started { .. },
                CallEvent::Settled {
                    end: CallEnd::Missed,
                    code: 480,
                    ..
                }
            ]
        ));
        assert!(p.is_empty(), "refusals keep no state");
    }

    #[test]
    fn an_in_dialog_bye_follows_the_route_to_the_registered_contact() {
        let mut p = proxy();
        let bye = msg(&format!(
            "BYE sip:9901@{MON0} SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bKbye\r\n\
             Route: <sip:127.0.0.1:5060;lr>\r\nMax-Forwards: 70\r\n\
             From: <sip:8001@127.0.0.1>;tag=door\r\nTo: <sip:9901@127.0.0.1>;tag=m0\r\n\
             Call-ID: call-1\r\nCSeq: 2 BYE\r\n\r\n"
        ));
        let out = p.on_request(bye.clone(), peer(CALLER), Mono(5_000), &Numbers);
        let fwd = sent_to(&out, MON0);
        assert_eq!(line(&fwd[0]), "BYE sip:9901@127.0.0.1:5080");
        assert_eq!(fwd[0].headers.get("Route"), None, "our own Route is gone");
        assert_eq!(fwd[0].headers.get("Record-Route"), None);
        assert_eq!(
            events(&out),
            vec![CallEvent::HungUp {
                call_id: "call-1".into(),
                at: Mono(5_000)
            }]
        );
        let out = p.on_response(answer(&fwd[0], 200, "OK", "m0"), &peer(MON0), Mono(5_050));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        // The caller repeats its BYE: the same 200 again, nothing forwarded.
        let out = p.on_request(bye, peer(CALLER), Mono(5_100), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        assert!(sent_to(&out, MON0).is_empty());
    }

    #[test]
    fn a_message_reaches_every_monitor_and_a_silent_one_is_repeated_then_dropped() {
        let mut p = proxy();
        let mut m = invite("9901");
        m.start = StartLine::Request {
            method: Method::Message,
            uri: "sip:9901@127.0.0.1:5060".into(),
        };
        m.headers.set("CSeq", "1 MESSAGE");
        let out = p.on_request(m, peer(CALLER), Mono(0), &Numbers);
        assert!(sent_to(&out, CALLER).is_empty(), "no 100 for a MESSAGE");
        let fwd = sent_to(&out, MON0).pop().expect("forwarded");
        assert_eq!(fwd.headers.get("Record-Route"), None);
        // The extension takes it; the main monitor is silent.
        let b = sent_to(&out, MON1).pop().expect("forwarded");
        let out = p.on_response(answer(&b, 200, "OK", "m1"), &peer(MON1), Mono(100));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        let mut resent = 0;
        let mut t = 0;
        while t <= 64 * 500 {
            t += 250;
            resent += sent_to(&p.on_timer(Mono(t)), MON0).len();
        }
        assert!(resent >= 5, "repeated over UDP: {resent}");
        assert!(p.on_timer(Mono(t + 10_000)).is_empty());
        assert!(p.is_empty());
    }

    #[test]
    fn a_response_counts_only_from_where_its_branch_went() {
        let mut p = proxy();
        let (_, a, _) = forked(&mut p);
        // The 200 of MON0's branch, sent by someone else: nothing happens.
        let stranger = peer("127.0.0.2:5080");
        let out = p.on_response(answer(&a, 200, "OK", "x"), &stranger, Mono(100));
        assert!(out.is_empty(), "{out:?}");
        // The real one still settles the call.
        let out = p.on_response(answer(&a, 200, "OK", "m0"), &peer(MON0), Mono(200));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
    }

    #[test]
    fn an_unknown_response_is_dropped_not_relayed_along_its_via() {
        let mut p = proxy();
        let victim = "127.0.0.3:9999";
        for via in [
            // Our address on top with a branch we never made.
            format!("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-vto-000000000000-1\r\nVia: SIP/2.0/UDP {victim};branch=z9hG4bKx"),
            format!("SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-nobody\r\nVia: SIP/2.0/TCP {victim};branch=z9hG4bKx"),
            format!("SIP/2.0/UDP {victim};branch=z9hG4bKx"),
        ] {
            let r = msg(&format!(
                "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: <sip:a@x>;tag=1\r\n\
                 To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
            ));
            assert!(p.on_response(r, &peer("127.0.0.2:5060"), Mono(0)).is_empty());
        }
    }

    #[test]
    fn a_route_or_request_uri_naming_an_address_is_no_destination() {
        let mut p = proxy();
        // A registered caller names an outside host in a Route: refused,
        // nothing sent there.
        let mut routed = invite("9901");
        routed
            .headers
            .push("Route", "<sip:127.0.0.3:5099;lr;transport=tcp>");
        let out = p.on_request(routed, peer(CALLER), Mono(0), &Numbers);
        assert!(out
            .iter()
            .all(|o| !matches!(o, Out::Send(p, _) if p.addr.port() == 5099)));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "404 Not Found");
        // A Request-URI at another host reaches the number's devices only.
        let mut elsewhere = invite("9901");
        elsewhere.start = StartLine::Request {
            method: Method::Invite,
            uri: "sip:9901@127.0.0.3:5099;transport=tcp".into(),
        };
        elsewhere.headers.set("Call-ID", "call-2");
        let out = p.on_request(elsewhere, peer(CALLER), Mono(0), &Numbers);
        assert!(out
            .iter()
            .all(|o| !matches!(o, Out::Send(p, _) if p.addr.port() == 5099)));
        assert_eq!(sent_to(&out, MON0).len(), 1);
        // No user: nothing to locate.
        let mut bare = invite("9901");
        bare.start = StartLine::Request {
            method: Method::Options,
            uri: "sip:127.0.0.3:5099".into(),
        };
        bare.headers.set("CSeq", "1 OPTIONS");
        bare.headers.set("Call-ID", "call-3");
        let out = p.on_request(bare, peer(CALLER), Mono(0), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "404 Not Found");
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn only_the_caller_may_cancel_its_call() {
        let mut p = proxy();
        let (_, a, _) = forked(&mut p);
        p.on_response(answer(&a, 180, "Ringing", "m0"), &peer(MON0), Mono(100));
        let mut cancel = invite("9901");
        cancel.start = StartLine::Request {
            method: Method::Cancel,
            uri: "sip:9901@127.0.0.1:5060".into(),
        };
        cancel.headers.set("CSeq", "1 CANCEL");
        cancel.body = Default::default();
        // The same branch and Via, from a registered monitor that is not
        // the caller: 481, nothing cancelled.
        let out = p.on_request(cancel.clone(), peer(MON1), Mono(500), &Numbers);
        assert_eq!(
            line(&sent_to(&out, MON1)[0]),
            "481 Call/Transaction Does Not Exist"
        );
        assert!(sent_to(&out, MON0).is_empty());
        let out = p.on_request(cancel, peer(CALLER), Mono(600), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        assert_eq!(
            line(&sent_to(&out, MON0)[0]),
            "CANCEL sip:9901@127.0.0.1:5080"
        );
    }

    /// A MESSAGE to room 9901 (branch `branch`), forwarded to both monitors.
    fn message(p: &mut Proxy, branch: &str, now: i64) -> (Vec<Out>, Message, Message) {
        let mut m = invite("9901");
        m.start = StartLine::Request {
            method: Method::Message,
            uri: "sip:9901@127.0.0.1:5060".into(),
        };
        m.headers.set("CSeq", "1 MESSAGE");
        m.headers.set(
            "Via",
            format!("SIP/2.0/UDP {CALLER};branch=z9hG4bK{branch};rport"),
        );
        let out = p.on_request(m, peer(CALLER), Mono(now), &Numbers);
        let a = sent_to(&out, MON0).pop().expect("to the main monitor");
        let b = sent_to(&out, MON1).pop().expect("to the extension");
        (out, a, b)
    }

    #[test]
    fn a_finished_request_is_kept_small_and_its_repeat_gets_the_same_answer() {
        let mut p = proxy();
        let (first, a, b) = message(&mut p, "m1", 0);
        p.on_response(answer(&a, 200, "OK", "m0"), &peer(MON0), Mono(10));
        let out = p.on_response(answer(&b, 200, "OK", "m1"), &peer(MON1), Mono(20));
        let answered = sent_to(&out, CALLER);
        assert!(answered.is_empty(), "the first 200 went up already");
        assert_eq!(p.len(), 0, "no longer a transaction in progress");
        assert_eq!(p.spent().0, 1);
        assert!(p.spent().1 < 2_000, "a small record: {} bytes", p.spent().1);

        // The caller repeats its request: the 200 again, nothing forwarded.
        let again = parse(&first_request(&first)).expect("parsable");
        let repeat = p.on_request(again, peer(CALLER), Mono(1_000), &Numbers);
        assert_eq!(repeat.len(), 1, "{repeat:?}");
        assert_eq!(line(&sent_to(&repeat, CALLER)[0]), "200 OK");

        // Timer J: after 64*T1 it is gone.
        p.on_timer(Mono(20 + 64 * 500));
        assert_eq!(p.spent(), (0, 0));
    }

    /// The request as the caller sent it, from the proxy's first output (the
    /// branch to MON0 carries it under our Via).
    fn first_request(out: &[Out]) -> Vec<u8> {
        let mut m = sent_to(out, MON0).pop().expect("forwarded");
        let mut list = vias(&m);
        list.remove(0);
        set_vias(&mut m, &list);
        m.to_bytes()
    }

    #[test]
    fn an_answered_call_and_its_bye_cost_about_a_kilobyte_once_spent() {
        let mut p = proxy();
        let out = p.on_request(invite("9903"), peer(CALLER), Mono(0), &Numbers);
        let fwd = sent_to(&out, MON0).pop().expect("forwarded");
        let ok = answer(&fwd, 200, "OK", "m0");
        p.on_response(ok, &peer(MON0), Mono(10));
        let mut bye = invite("9903");
        bye.start = StartLine::Request {
            method: Method::Bye,
            uri: format!("sip:9903@{MON0}"),
        };
        bye.headers.set("CSeq", "2 BYE");
        bye.headers.set("To", "<sip:9903@127.0.0.1>;tag=m0");
        bye.headers.set(
            "Via",
            format!("SIP/2.0/UDP {CALLER};branch=z9hG4bKbye1;rport"),
        );
        let out = p.on_request(bye, peer(CALLER), Mono(20), &Numbers);
        let fwd = sent_to(&out, MON0).pop().expect("forwarded");
        p.on_response(answer(&fwd, 200, "OK", "m0"), &peer(MON0), Mono(30));
        let (records, bytes) = p.spent();
        assert_eq!((p.len(), records), (0, 2));
        // README "SIP": what the store holds per call at the held rate.
        println!("one answered call and its BYE, spent: {bytes} bytes");
        assert!((500..1_500).contains(&bytes), "{bytes}");
    }

    #[test]
    fn only_work_in_progress_counts_toward_the_limit() {
        let mut p = proxy();
        // More finished requests in a few seconds than the limit on
        // transactions: each had its answer, so none is refused.
        for i in 0..MAX_TRANSACTIONS + 10 {
            let now = i as i64 / 8;
            let (_, a, b) = message(&mut p, &format!("n{i}"), now);
            p.on_response(answer(&a, 200, "OK", "m0"), &peer(MON0), Mono(now));
            p.on_response(answer(&b, 200, "OK", "m1"), &peer(MON1), Mono(now));
        }
        assert_eq!(p.len(), 0);
        assert_eq!(p.spent().0, MAX_TRANSACTIONS + 10);
    }

    #[test]
    fn a_repeated_failure_is_acked_again_and_a_repeated_2xx_still_reaches_the_caller() {
        let mut p = proxy();
        let (_, a, b) = forked(&mut p);
        let busy = answer(&a, 486, "Busy Here", "m0");
        let out = p.on_response(busy.clone(), &peer(MON0), Mono(100));
        let ack = sent_to(&out, MON0);
        assert_eq!(line(&ack[0]), "ACK sip:9901@127.0.0.1:5080");
        let ok = answer(&b, 200, "OK", "m1");
        let out = p.on_response(ok.clone(), &peer(MON1), Mono(200));
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        assert_eq!((p.len(), p.spent().0), (0, 1), "spent once all answered");

        // MON0 did not hear the ACK: its repeated 486 gets it again.
        let out = p.on_response(busy, &peer(MON0), Mono(700));
        assert_eq!(sent_to(&out, MON0), ack);
        // MON1 did not hear the caller's ACK: its 200 still goes up,
        // without our Via.
        let out = p.on_response(ok.clone(), &peer(MON1), Mono(700));
        let up = sent_to(&out, CALLER);
        assert_eq!(line(&up[0]), "200 OK");
        assert_eq!(vias(&up[0]).len(), 1);
        // The same 200 from anywhere else goes nowhere.
        assert!(p
            .on_response(ok, &peer("127.0.0.2:5081"), Mono(700))
            .is_empty());
        // A repeat of the INVITE is absorbed, not a new call.
        let out = p.on_request(invite("9901"), peer(CALLER), Mono(800), &Numbers);
        assert!(out.is_empty(), "{out:?}");
        // A late CANCEL of the caller is answered and changes nothing; a
        // stranger's is refused.
        let mut cancel = cancel_for(&invite("9901"));
        cancel.headers.set(
            "Via",
            format!("SIP/2.0/UDP {CALLER};branch=z9hG4bKcaller1;rport"),
        );
        let out = p.on_request(cancel.clone(), peer(CALLER), Mono(900), &Numbers);
        assert_eq!(line(&sent_to(&out, CALLER)[0]), "200 OK");
        assert_eq!(out.len(), 1);
        let out = p.on_request(cancel, peer(MON1), Mono(900), &Numbers);
        assert_eq!(
            line(&sent_to(&out, MON1)[0]),
            "481 Call/Transaction Does Not Exist"
        );
    }
}
