//! The door station's own outgoing call (issue 18): a visitor pressed
//! Call, and this device, as a user agent, rings a room. One INVITE goes
//! to every registered contact of the room at once (one Call-ID, From tag
//! and CSeq; a Via branch each); the first 2xx takes the call. Pure like
//! the rest of the crate: responses, requests and the time go in, what to
//! send where and what happened come out. The SDP is the caller's and is
//! passed through both ways untouched: Dahua answers add m-lines or answer
//! `sendrecv` to a `recvonly` offer, and nothing here refuses an answer
//! for its SDP.
//!
//! Rules of this call:
//! - a response counts only from the address its branch's INVITE went to,
//!   and only for one of our branches (by Via branch): anything else is
//!   dropped, nothing is sent for it;
//! - 180 is Ringing; a provisional response with a body is early media
//!   (so video can flow before the answer);
//! - the first 2xx is ACKed (RFC 3261 13.2.2.4: a new request to its
//!   Contact, sent to the branch's address, never to one the response
//!   names) and takes the call; every other ringing branch gets a CANCEL
//!   with `Reason: SIP;cause=200;text="Call completed elsewhere"` (RFC
//!   3326), one not ringing yet gets it with its first provisional;
//! - a 2xx on another branch, or after the call ended (it crossed our
//!   CANCEL), is ACKed and hung up at once;
//! - a refusal at one monitor leaves the others ringing (someone else at
//!   home may answer). When every branch failed, the call is `Rejected`
//!   if every one refused (486 Busy Here, 600 Busy Everywhere, 603
//!   Decline), else `NotAnswered` (480, 404, no answer, a wrong password:
//!   nobody said no);
//! - no 2xx within the ring timeout (30 s): every branch is cancelled;
//! - a 401 / 407 (calling through another server) is answered once per
//!   branch with the configured password; another one fails the branch;
//! - in the call, BYE and INFO count only from the answered branch's
//!   address with our Call-ID and both tags; anything else gets 481. A
//!   re-INVITE gets 488 (the media stays as agreed), other methods 405;
//! - the talk time is capped (180 s), then BYE.
//!
//! Not handled: reliable provisionals (100rel / PRACK), a challenge to our
//! BYE, session timers, INFO before the answer (481).

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use crate::{
    digest::Offered,
    dispatch::ALLOW,
    header::{user_encode, CSeq, NameAddr, SipUri, Via},
    message::{Message, Method},
    nonce::derived_hex,
    proxy::{ack_for, cancel_for, Peer, Target},
    registrar::response,
    time::Mono,
    transaction::{self, Action, Client, Server, Timers},
};

#[cfg(test)]
mod tests;

pub const RING_TIMEOUT_MS: i64 = 30_000;
pub const MAX_TALK_MS: i64 = 180_000;
/// The Reason of the CANCELs when another monitor answered.
pub const COMPLETED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";
/// The Reason of the BYE to a monitor whose call a browser took over.
pub const TAKEN_OVER: &str = "SIP;cause=200;text=\"Call taken over elsewhere\"";
/// The callee's requests kept to answer their repeats; past it they are
/// answered without (a flood must not grow memory).
const MAX_SERVERS: usize = 32;

/// Who calls and how long it may ring and last. No `Debug` derive: the
/// password must not reach a log.
#[derive(Clone)]
pub struct Config {
    /// Our SIP user (the VTO No., e.g. `8001`): From, Contact, digest.
    pub user: String,
    /// Our address for Via and Contact.
    pub local: SocketAddr,
    /// The host of From and To (e.g. `VDP`); empty or not a plain
    /// host[:port]: our address.
    pub domain: String,
    /// For a 401 / 407 when calling through another server.
    pub password: Option<String>,
    pub ring_timeout: i64,
    pub max_talk: i64,
    pub timers: Timers,
}

impl Config {
    /// No domain, no password, 30 s ringing, 180 s talk.
    pub fn new(user: &str, local: SocketAddr) -> Self {
        Self {
            user: user.to_string(),
            local,
            domain: String::new(),
            password: None,
            ring_timeout: RING_TIMEOUT_MS,
            max_talk: MAX_TALK_MS,
            timers: Timers::default(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("user", &self.user)
            .field("local", &self.local)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// The dialog the answer made (RFC 3261 12.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// The 2xx's Contact: the Request-URI of our in-dialog requests (which
    /// still go to the branch's address).
    pub remote_target: String,
    /// The 2xx's Record-Route, reversed: our Route headers.
    pub route: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every monitor refused (busy, decline).
    Rejected,
    /// Nobody answered in time, or the branches failed otherwise.
    NotAnswered,
    /// We hung up before the answer.
    Cancelled,
    /// We hung up after it.
    HungUpByUs,
    HungUpByCallee,
    MaxTalkTime,
}

/// A key pressed at the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtmf {
    pub digit: char,
    pub duration_ms: Option<u32>,
}

/// What happened; `branch` is the index of its target in `start`'s list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Ringing {
        branch: usize,
    },
    EarlyMedia {
        branch: usize,
        sdp: Bytes,
    },
    Answered {
        branch: usize,
        sdp: Bytes,
        dialog: Dialog,
    },
    /// A monitor calls the door (an incoming call): its SIP user and its
    /// SDP offer, to accept or refuse.
    Offered {
        caller: String,
        sdp: Bytes,
    },
    /// An INFO from the callee, and its key if it is DTMF.
    Info {
        content_type: String,
        body: Bytes,
        dtmf: Option<Dtmf>,
    },
    Ended(End),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Out {
    Send(Peer, Vec<u8>),
    Event(Event),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Ringing {
        until: Mono,
    },
    Talking {
        branch: usize,
        dialog: Dialog,
        until: Mono,
    },
    /// Answered on the device itself (a browser): every monitor was
    /// cancelled; no SIP dialog.
    Local {
        until: Mono,
    },
    Ended(End),
}

/// One INVITE of the fork.
struct Branch {
    target: Target,
    /// The INVITE as last sent (with credentials after a challenge).
    req: Message,
    /// Its Via branch.
    id: String,
    cseq: u32,
    client: Client,
    provisional: bool,
    /// The final response's code (408: none in time).
    fin: Option<u16>,
    /// To be cancelled with its first provisional response.
    cancel_pending: bool,
    cancel: Option<Client>,
    challenged: bool,
    /// The ACK of its 2xx, sent again for each repeat of the 2xx.
    ack: Option<Vec<u8>>,
}

/// A BYE of ours: its Via branch, where it went.
struct Bye {
    id: String,
    peer: Peer,
    client: Client,
}

/// A dialog's own transactions, whichever side made it: our BYEs and the
/// other side's requests (kept to answer their repeats).
#[derive(Default)]
pub(crate) struct InDialog {
    byes: Vec<Bye>,
    servers: Vec<(String, Peer, Server)>,
}

impl InDialog {
    /// A response to one of our BYEs (by Via branch and source), if it is.
    pub(crate) fn on_response(
        &mut self,
        resp: &Message,
        id: &str,
        from: &Peer,
        now: Mono,
    ) -> Vec<Out> {
        match self
            .byes
            .iter_mut()
            .find(|b| b.id == id && b.peer.addr == from.addr)
        {
            Some(b) => sends(&b.peer, b.client.on_response(resp, Message::clone, now)),
            None => Vec::new(),
        }
    }

    /// A repeat of a request already answered (or the ACK of a failure
    /// response): what its transaction sends again.
    pub(crate) fn repeat(
        &mut self,
        req: &Message,
        key: &str,
        from: &Peer,
        now: Mono,
    ) -> Option<Vec<Out>> {
        self.servers
            .iter_mut()
            .find(|(k, p, _)| k == key && p.addr == from.addr)
            .map(|(_, peer, s)| sends(peer, s.on_request(req, now)))
    }

    /// The other side's new request in the dialog, answered (see
    /// [`in_dialog_answer`]); true for a BYE (the call is over).
    pub(crate) fn request(
        &mut self,
        req: &Message,
        key: String,
        from: &Peer,
        timers: Timers,
        now: Mono,
    ) -> (Vec<Out>, bool) {
        let method = req.method().cloned();
        let (resp, event) = match &method {
            Some(m) => in_dialog_answer(req, m),
            None => return (Vec::new(), false),
        };
        let mut out = self.answer(req, key, from, &resp, timers, now);
        out.extend(event.map(Out::Event));
        (out, method == Some(Method::Bye))
    }

    /// Answers a new request with `resp` in a transaction of its own.
    pub(crate) fn answer(
        &mut self,
        req: &Message,
        key: String,
        from: &Peer,
        resp: &Message,
        timers: Timers,
        now: Mono,
    ) -> Vec<Out> {
        if self.servers.len() >= MAX_SERVERS {
            return vec![Out::Send(from.clone(), resp.to_bytes())];
        }
        let (mut s, first) = Server::new(req, from.tcp, timers);
        let mut out = sends(from, first);
        out.extend(sends(from, s.respond(resp, now)));
        self.servers.push((key, from.clone(), s));
        out
    }

    /// Sends our BYE `req` (Via branch `id`) to `peer`.
    pub(crate) fn bye(
        &mut self,
        req: &Message,
        id: String,
        peer: &Peer,
        timers: Timers,
        now: Mono,
    ) -> Vec<Out> {
        let (client, actions) = Client::new(req, peer.tcp, timers, now);
        self.byes.push(Bye {
            id,
            peer: peer.clone(),
            client,
        });
        sends(peer, actions)
    }

    pub(crate) fn deadline(&self) -> Option<Mono> {
        let byes = self.byes.iter().map(|b| b.client.deadline());
        let servers = self.servers.iter().map(|(_, _, s)| s.deadline());
        byes.chain(servers).flatten().min()
    }

    pub(crate) fn on_timer(&mut self, now: Mono) -> Vec<Out> {
        let mut out = Vec::new();
        for b in &mut self.byes {
            out.extend(sends(&b.peer, b.client.on_timer(now)));
        }
        self.byes.retain(|b| !b.client.is_terminated());
        for (_, peer, s) in &mut self.servers {
            out.extend(sends(peer, s.on_timer(now)));
        }
        self.servers.retain(|(_, _, s)| !s.is_terminated());
        out
    }

    #[cfg(test)]
    pub(crate) fn requests_kept(&self) -> usize {
        self.servers.len()
    }
}

/// The answer to the other side's new request in an established dialog,
/// and the event it makes: BYE 200 (the caller then ends the call), INFO
/// 200 with its key if it is DTMF, a re-INVITE 488 (the media stays as
/// agreed), anything else 405.
pub(crate) fn in_dialog_answer(req: &Message, method: &Method) -> (Message, Option<Event>) {
    match method {
        Method::Bye => (response(req, 200, "OK", &[]), None),
        Method::Info => {
            let content_type = req.headers.get("Content-Type").unwrap_or_default();
            let event = Event::Info {
                content_type: content_type.to_string(),
                body: req.body.clone(),
                dtmf: dtmf(content_type, &req.body),
            };
            (response(req, 200, "OK", &[]), Some(event))
        }
        Method::Invite => (response(req, 488, "Not Acceptable Here", &[]), None),
        _ => (
            response(req, 405, "Method Not Allowed", &[("Allow", ALLOW.into())]),
            None,
        ),
    }
}

pub struct Call {
    cfg: Config,
    seed: [u8; 16],
    counter: u64,
    call_id: String,
    tag: String,
    /// Our From (with our tag) and the room's To (without a tag).
    from: String,
    to: String,
    /// The highest CSeq used.
    cseq: u32,
    offer: Bytes,
    phase: Phase,
    branches: Vec<Branch>,
    /// The Reason of the CANCELs still to send.
    reason: Option<&'static str>,
    /// Our BYEs and the callee's requests.
    dialog: InDialog,
}

impl Call {
    /// Calls `room` at every one of `targets` with the SDP `offer`.
    pub fn start(
        cfg: Config,
        room: &str,
        targets: Vec<Target>,
        offer: Bytes,
        seed: [u8; 16],
        now: Mono,
    ) -> (Self, Vec<Out>) {
        let until = now + cfg.ring_timeout;
        let mut call = Self {
            cfg,
            seed,
            counter: 0,
            call_id: String::new(),
            tag: String::new(),
            from: String::new(),
            to: String::new(),
            cseq: 1,
            offer,
            phase: Phase::Ringing { until },
            branches: Vec::new(),
            reason: None,
            dialog: InDialog::default(),
        };
        call.call_id = format!("{}@vto", call.random("call-id"));
        call.tag = call.random("tag");
        let host = call.host();
        let user = user_encode(&call.cfg.user);
        call.from = format!("<sip:{user}@{host}>;tag={}", call.tag);
        call.to = format!("<sip:{}@{host}>", user_encode(room));
        let mut out = Vec::new();
        for target in targets {
            let (branch, sent) = call.send_invite(target, 1, None, now);
            call.branches.push(branch);
            out.extend(sent);
        }
        if call.branches.is_empty() {
            out.extend(call.end(End::NotAnswered));
        }
        (call, out)
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Where branch `branch` rings.
    pub fn target(&self, branch: usize) -> Option<&Target> {
        self.branches.get(branch).map(|b| &b.target)
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Whether `msg` belongs to this call (its Call-ID), so the device
    /// hands it here.
    pub fn owns(&self, msg: &Message) -> bool {
        msg.headers
            .get("Call-ID")
            .is_some_and(|c| c.trim() == self.call_id)
    }

    /// Ended, and nothing left to repeat or absorb: the device may drop
    /// it. (A cancelled branch whose 487 never came waits on no timer.)
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Ended(_)) && self.deadline().is_none()
    }

    /// A response that came from `from`.
    pub fn on_response(&mut self, resp: &Message, from: &Peer, now: Mono) -> Vec<Out> {
        let Some(id) = top_branch(resp) else {
            return Vec::new();
        };
        let to_cancel = CSeq::of(resp).is_some_and(|c| c.method == Method::Cancel);
        let ours = |peer: &Peer, bid: &str| bid == id && peer.addr == from.addr;
        if let Some(i) = self
            .branches
            .iter()
            .position(|b| ours(&b.target.peer, &b.id))
        {
            let b = &mut self.branches[i];
            if to_cancel {
                let actions = b
                    .cancel
                    .as_mut()
                    .map(|c| c.on_response(resp, Message::clone, now));
                return sends(&b.target.peer, actions.unwrap_or_default());
            }
            let req = b.req.clone();
            let actions = b.client.on_response(resp, |r| ack_for(&req, r), now);
            return self.run_branch(i, actions, now);
        }
        self.dialog.on_response(resp, &id, from, now)
    }

    /// A request that came from `from`: the callee's, in the call.
    pub fn on_request(&mut self, req: &Message, from: &Peer, now: Mono) -> Vec<Out> {
        let (Some(method), Some(key)) = (req.method().cloned(), transaction::key(req)) else {
            return Vec::new();
        };
        // A repeat (or the ACK of our 488): the transaction answers it.
        if let Some(out) = self.dialog.repeat(req, &key, from, now) {
            return out;
        }
        if method == Method::Ack {
            return Vec::new();
        }
        if !self.is_callees(req, from) {
            return no_such_call(req, from);
        }
        let (mut out, bye) = self.dialog.request(req, key, from, self.cfg.timers, now);
        if bye {
            out.extend(self.end(End::HungUpByCallee));
        }
        out
    }

    /// The call is answered on the device itself (a browser): every
    /// monitor still ringing gets CANCEL with the Reason "Call completed
    /// elsewhere"; a 2xx that crosses it is ACKed and hung up. With
    /// `over` (Take over), a call a monitor answered is taken from it too:
    /// the monitor gets BYE with the Reason "Call taken over elsewhere",
    /// and the talk time runs on. False (and nothing sent) when the call
    /// is not in a phase that may be taken.
    pub fn take(&mut self, now: Mono, over: bool) -> (bool, Vec<Out>) {
        match self.phase.clone() {
            Phase::Ringing { .. } => {
                self.phase = Phase::Local {
                    until: now + self.cfg.max_talk,
                };
                (true, self.cancel_all(Some(COMPLETED_ELSEWHERE), now))
            }
            Phase::Talking {
                branch,
                dialog,
                until,
            } if over => {
                let peer = self.branches[branch].target.peer.clone();
                self.cseq += 1;
                let (mut req, id) = self.in_dialog(Method::Bye, &dialog, self.cseq, peer.tcp);
                req.headers.push("Reason", TAKEN_OVER);
                self.phase = Phase::Local { until };
                (true, self.dialog.bye(&req, id, &peer, self.cfg.timers, now))
            }
            _ => (false, Vec::new()),
        }
    }

    /// The device hangs up: CANCEL before the answer, BYE after it.
    pub fn hangup(&mut self, now: Mono) -> Vec<Out> {
        match self.phase.clone() {
            Phase::Local { .. } => self.end(End::HungUpByUs),
            Phase::Ringing { .. } => {
                let mut out = self.cancel_all(None, now);
                out.extend(self.end(End::Cancelled));
                out
            }
            Phase::Talking { branch, dialog, .. } => {
                let peer = self.branches[branch].target.peer.clone();
                let mut out = self.bye(&dialog, &peer, now);
                out.extend(self.end(End::HungUpByUs));
                out
            }
            Phase::Ended(_) => Vec::new(),
        }
    }

    /// When `on_timer` should run next.
    pub fn deadline(&self) -> Option<Mono> {
        let phase = match &self.phase {
            Phase::Ringing { until } | Phase::Talking { until, .. } | Phase::Local { until } => {
                Some(*until)
            }
            Phase::Ended(_) => None,
        };
        let branches = self.branches.iter().flat_map(|b| {
            [
                b.client.deadline(),
                b.cancel.as_ref().and_then(Client::deadline),
            ]
        });
        branches
            .chain([self.dialog.deadline(), phase])
            .flatten()
            .min()
    }

    /// Repeats, give-ups, the ring timeout and the talk time.
    pub fn on_timer(&mut self, now: Mono) -> Vec<Out> {
        let mut out = Vec::new();
        for i in 0..self.branches.len() {
            let b = &mut self.branches[i];
            if let Some(c) = &mut b.cancel {
                out.extend(sends(&b.target.peer, c.on_timer(now)));
            }
            let actions = b.client.on_timer(now);
            out.extend(self.run_branch(i, actions, now));
        }
        out.extend(self.dialog.on_timer(now));
        match self.phase.clone() {
            Phase::Ringing { until } if now >= until => {
                out.extend(self.cancel_all(None, now));
                out.extend(self.end(End::NotAnswered));
            }
            Phase::Talking {
                branch,
                dialog,
                until,
            } if now >= until => {
                let peer = self.branches[branch].target.peer.clone();
                out.extend(self.bye(&dialog, &peer, now));
                out.extend(self.end(End::MaxTalkTime));
            }
            Phase::Local { until } if now >= until => {
                out.extend(self.end(End::MaxTalkTime));
            }
            _ => {}
        }
        out
    }

    /// What branch `i`'s INVITE transaction says.
    fn run_branch(&mut self, i: usize, actions: Vec<Action>, now: Mono) -> Vec<Out> {
        let mut out = Vec::new();
        for action in actions {
            match action {
                Action::Send(b) => out.push(Out::Send(self.branches[i].target.peer.clone(), b)),
                Action::Deliver(r) => out.extend(self.on_branch_response(i, &r, now)),
                Action::Timeout => out.extend(self.failed(i, 408)),
            }
        }
        out
    }

    fn on_branch_response(&mut self, i: usize, resp: &Message, now: Mono) -> Vec<Out> {
        let ringing = matches!(self.phase, Phase::Ringing { .. });
        match resp.code().unwrap_or_default() {
            100 => Vec::new(),
            code @ 101..=199 => {
                let mut out = Vec::new();
                let b = &mut self.branches[i];
                b.provisional = true;
                if std::mem::take(&mut b.cancel_pending) {
                    out.extend(self.send_cancel(i, now));
                }
                if ringing && !resp.body.is_empty() {
                    let sdp = resp.body.clone();
                    out.push(Out::Event(Event::EarlyMedia { branch: i, sdp }));
                } else if ringing && code == 180 {
                    out.push(Out::Event(Event::Ringing { branch: i }));
                }
                out
            }
            200..=299 => self.answered(i, resp, now),
            code @ (401 | 407) => self.challenged(i, resp, code, now),
            code => self.failed(i, code),
        }
    }

    /// A 2xx on branch `i`: the answer, a repeat of it, or one too many.
    fn answered(&mut self, i: usize, resp: &Message, now: Mono) -> Vec<Out> {
        let peer = self.branches[i].target.peer.clone();
        if let Some(ack) = &self.branches[i].ack {
            return vec![Out::Send(peer, ack.clone())];
        }
        let dialog = self.dialog_of(i, resp);
        let (mut ack, _) = self.in_dialog(Method::Ack, &dialog, self.branches[i].cseq, peer.tcp);
        // RFC 3261 13.2.2.4: the ACK carries the INVITE's credentials.
        for name in ["Authorization", "Proxy-Authorization"] {
            for v in self.branches[i].req.headers.get_all(name) {
                ack.headers.push(name, v);
            }
        }
        let ack = ack.to_bytes();
        let b = &mut self.branches[i];
        b.ack = Some(ack.clone());
        b.fin = resp.code();
        let mut out = vec![Out::Send(peer.clone(), ack)];
        if let Phase::Ringing { .. } = self.phase {
            self.phase = Phase::Talking {
                branch: i,
                dialog: dialog.clone(),
                until: now + self.cfg.max_talk,
            };
            out.push(Out::Event(Event::Answered {
                branch: i,
                sdp: resp.body.clone(),
                dialog,
            }));
            out.extend(self.cancel_all(Some(COMPLETED_ELSEWHERE), now));
        } else {
            // Another monitor has the call, or it is over: not this one.
            out.extend(self.bye(&dialog, &peer, now));
        }
        out
    }

    /// A 401 / 407: the INVITE again with credentials, once.
    fn challenged(&mut self, i: usize, resp: &Message, code: u16, now: Mono) -> Vec<Out> {
        let (name, answer_name) = if code == 407 {
            ("Proxy-Authenticate", "Proxy-Authorization")
        } else {
            ("WWW-Authenticate", "Authorization")
        };
        let ringing = matches!(self.phase, Phase::Ringing { .. });
        let password = self
            .cfg
            .password
            .clone()
            .filter(|_| ringing && !self.branches[i].challenged);
        let offered = Offered::choose(resp.headers.get_all(name)).ok();
        let (Some(password), Some(mut offered)) = (password, offered) else {
            return self.failed(i, code);
        };
        let target = self.branches[i].target.clone();
        let cnonce = self.random("cnonce");
        let credentials = offered.answer(&self.cfg.user, &password, "INVITE", &target.uri, &cnonce);
        self.cseq += 1;
        let (mut b, out) =
            self.send_invite(target, self.cseq, Some((answer_name, credentials)), now);
        b.challenged = true;
        self.branches[i] = b;
        out
    }

    /// Branch `i` failed with `code`; the call ends when every one has.
    fn failed(&mut self, i: usize, code: u16) -> Vec<Out> {
        self.branches[i].fin = Some(code);
        let ringing = matches!(self.phase, Phase::Ringing { .. });
        if !ringing || self.branches.iter().any(|b| b.fin.is_none()) {
            return Vec::new();
        }
        let refused = |b: &Branch| matches!(b.fin, Some(486 | 600 | 603));
        if self.branches.iter().all(refused) {
            self.end(End::Rejected)
        } else {
            self.end(End::NotAnswered)
        }
    }

    fn end(&mut self, end: End) -> Vec<Out> {
        self.phase = Phase::Ended(end);
        vec![Out::Event(Event::Ended(end))]
    }

    /// Cancels every branch still ringing; one not ringing yet is
    /// cancelled with its first provisional response (RFC 3261 9.1).
    fn cancel_all(&mut self, reason: Option<&'static str>, now: Mono) -> Vec<Out> {
        self.reason = reason;
        let mut out = Vec::new();
        for i in 0..self.branches.len() {
            let b = &mut self.branches[i];
            if b.fin.is_some() || b.cancel.is_some() {
                continue;
            }
            if b.provisional {
                out.extend(self.send_cancel(i, now));
            } else {
                b.cancel_pending = true;
            }
        }
        out
    }

    fn send_cancel(&mut self, i: usize, now: Mono) -> Vec<Out> {
        let b = &mut self.branches[i];
        let mut cancel = cancel_for(&b.req);
        if let Some(reason) = self.reason {
            cancel.headers.push("Reason", reason);
        }
        let (client, actions) = Client::new(&cancel, b.target.peer.tcp, self.cfg.timers, now);
        b.cancel = Some(client);
        sends(&b.target.peer, actions)
    }

    fn bye(&mut self, dialog: &Dialog, peer: &Peer, now: Mono) -> Vec<Out> {
        self.cseq += 1;
        let (req, id) = self.in_dialog(Method::Bye, dialog, self.cseq, peer.tcp);
        self.dialog.bye(&req, id, peer, self.cfg.timers, now)
    }

    /// The dialog of branch `i`'s 2xx.
    fn dialog_of(&self, i: usize, resp: &Message) -> Dialog {
        let remote_target = resp
            .headers
            .get("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|c| c.uri.to_string())
            .unwrap_or_else(|| self.branches[i].target.uri.clone());
        let mut route: Vec<String> = resp
            .headers
            .get_all("Record-Route")
            .map(str::to_string)
            .collect();
        route.reverse();
        Dialog {
            call_id: self.call_id.clone(),
            local_tag: self.tag.clone(),
            remote_tag: tag_of(resp, "To"),
            remote_target,
            route,
        }
    }

    /// Whether `req` is the answering callee's, in its dialog.
    fn is_callees(&self, req: &Message, from: &Peer) -> bool {
        let Phase::Talking { branch, dialog, .. } = &self.phase else {
            return false;
        };
        from.addr == self.branches[*branch].target.peer.addr
            && self.owns(req)
            && tag_of(req, "From") == dialog.remote_tag
            && tag_of(req, "To") == self.tag
    }

    /// A new INVITE transaction to `target`.
    fn send_invite(
        &mut self,
        target: Target,
        cseq: u32,
        credentials: Option<(&str, String)>,
        now: Mono,
    ) -> (Branch, Vec<Out>) {
        let id = self.branch_id();
        let tcp = target.peer.tcp;
        let mut req = Message::request(Method::Invite, target.uri.clone());
        let h = &mut req.headers;
        h.push("Via", self.via(&id, tcp));
        h.push("Max-Forwards", "70");
        h.push("From", self.from.clone());
        h.push("To", self.to.clone());
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{cseq} INVITE"));
        let transport = if tcp { ";transport=tcp" } else { "" };
        let user = user_encode(&self.cfg.user);
        h.push(
            "Contact",
            format!("<sip:{user}@{}{transport}>", self.cfg.local),
        );
        if let Some((name, value)) = credentials {
            h.push(name, value);
        }
        h.push("Allow", ALLOW);
        h.push("User-Agent", "vto");
        h.push("Content-Type", "application/sdp");
        req.body = self.offer.clone();
        let (client, actions) = Client::new(&req, tcp, self.cfg.timers, now);
        let out = sends(&target.peer, actions);
        let branch = Branch {
            target,
            req,
            id,
            cseq,
            client,
            provisional: false,
            fin: None,
            cancel_pending: false,
            cancel: None,
            challenged: false,
            ack: None,
        };
        (branch, out)
    }

    /// A request in `dialog` (ACK of a 2xx, BYE) and its Via branch.
    fn in_dialog(
        &mut self,
        method: Method,
        dialog: &Dialog,
        cseq: u32,
        tcp: bool,
    ) -> (Message, String) {
        let id = self.branch_id();
        let mut m = Message::request(method.clone(), dialog.remote_target.clone());
        let h = &mut m.headers;
        h.push("Via", self.via(&id, tcp));
        h.push("Max-Forwards", "70");
        for r in &dialog.route {
            h.push("Route", r.clone());
        }
        h.push("From", self.from.clone());
        let to = match dialog.remote_tag.as_str() {
            "" => self.to.clone(),
            tag => format!("{};tag={tag}", self.to),
        };
        h.push("To", to);
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{cseq} {method}"));
        (m, id)
    }

    fn via(&self, branch: &str, tcp: bool) -> String {
        let transport = if tcp { "TCP" } else { "UDP" };
        format!(
            "SIP/2.0/{transport} {};branch={branch};rport",
            self.cfg.local
        )
    }

    /// The configured domain if it is a plain host[:port] (nothing that
    /// could end a URI or a header), else our address.
    fn host(&self) -> String {
        let domain = self.cfg.domain.trim();
        let plain = SipUri::parse(&format!("sip:{domain}"))
            .is_ok_and(|u| u.host_port().eq_ignore_ascii_case(domain));
        match self.cfg.local.ip() {
            _ if plain => domain.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        }
    }

    fn branch_id(&mut self) -> String {
        format!("z9hG4bK-vto-c-{}", self.random("branch"))
    }

    fn random(&mut self, what: &str) -> String {
        self.counter += 1;
        derived_hex(&self.seed, what, self.counter, 10)
    }
}

/// 481: a request for no call (or a stranger's in ours).
pub(crate) fn no_such_call(req: &Message, from: &Peer) -> Vec<Out> {
    let resp = response(req, 481, "Call/Transaction Does Not Exist", &[]);
    vec![Out::Send(from.clone(), resp.to_bytes())]
}

/// The branch of the top Via (which transaction a response is for).
pub(crate) fn top_branch(msg: &Message) -> Option<String> {
    let via = Via::parse(msg.headers.get("Via")?).ok()?;
    via.branch().map(str::to_string)
}

/// The tag of header `name` (From or To); empty without one.
pub(crate) fn tag_of(msg: &Message, name: &str) -> String {
    msg.headers
        .get(name)
        .and_then(|v| NameAddr::parse(v).ok())
        .and_then(|n| n.tag().map(str::to_string))
        .unwrap_or_default()
}

/// The bytes a transaction says to send, for `peer`.
pub(crate) fn sends(peer: &Peer, actions: Vec<Action>) -> Vec<Out> {
    let bytes = actions.into_iter().filter_map(|a| match a {
        Action::Send(b) => Some(b),
        _ => None,
    });
    bytes.map(|b| Out::Send(peer.clone(), b)).collect()
}

/// The key of a DTMF INFO: `application/dtmf-relay` (`Signal=5`,
/// `Duration=160`) or `application/dtmf` (the key alone).
pub fn dtmf(content_type: &str, body: &[u8]) -> Option<Dtmf> {
    let kind = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let text = std::str::from_utf8(body).ok()?;
    let key = |s: &str| {
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_digit() || "*#ABCDabcd".contains(c) => {
                Some(c.to_ascii_uppercase())
            }
            _ => None,
        }
    };
    match kind.as_str() {
        "application/dtmf-relay" => {
            let (mut digit, mut duration_ms) = (None, None);
            for (name, value) in text.lines().filter_map(|l| l.split_once('=')) {
                match name.trim().to_ascii_lowercase().as_str() {
                    "signal" => digit = key(value),
                    "duration" => duration_ms = value.trim().parse().ok(),
                    _ => {}
                }
            }
            Some(Dtmf {
                digit: digit?,
                duration_ms,
            })
        }
        "application/dtmf" => Some(Dtmf {
            digit: key(text)?,
            duration_ms: None,
        }),
        _ => None,
    }
}
