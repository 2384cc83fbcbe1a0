//! A call to the door (issue 18, "Monitor"): a registered indoor monitor
//! dials the VTO No. to watch the door, and the device answers as a user
//! agent server. Pure like the rest of the crate: requests, responses and
//! the time go in, what to send and what happened come out.
//!
//! Rules of this call:
//! - everything is sent to the address the INVITE came from (a monitor of
//!   ours), never to one its Contact or Via names;
//! - the INVITE is announced with its offer ([`Event::Offered`]); the
//!   device then accepts it with its SDP answer or refuses it with a
//!   code. Not decided within 5 s: 480;
//! - the 200 repeats (T1 doubling up to T2) until its ACK; no ACK within
//!   64*T1: BYE (RFC 3261 13.3.1.4);
//! - a CANCEL before the answer: 200 to it, 487 to the INVITE;
//! - in the call, BYE and INFO count only from the caller's address with
//!   our Call-ID and both tags; anything else gets 481. A re-INVITE gets
//!   488, other methods 405;
//! - the talk time is capped (the Max Talk Time), then BYE.

use bytes::Bytes;

use crate::{
    call::{no_such_call, sends, tag_of, top_branch, Config, End, Event, InDialog, Out},
    header::{user_encode, CSeq, NameAddr},
    message::{Message, Method},
    nonce::derived_hex,
    proxy::Peer,
    registrar::response,
    time::Mono,
    transaction::{self, Server},
};

/// How long the device may take to accept or refuse.
pub const DECIDE_MS: i64 = 5_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Announced; the device's answer is awaited until `until`.
    Offered {
        until: Mono,
    },
    /// 200 sent, its ACK awaited; the 200 repeats at `repeat`.
    Answering {
        repeat: (Mono, i64),
        give_up: Mono,
        until: Mono,
    },
    Talking {
        until: Mono,
    },
    Ended(End),
}

pub struct Incoming {
    cfg: Config,
    seed: [u8; 16],
    counter: u64,
    call_id: String,
    invite: Message,
    /// Where the INVITE came from: every message of the call goes there.
    caller: Peer,
    /// The INVITE's transaction (its 100, a failure's repeats).
    server: Server,
    /// Our To (with our tag) and the caller's From (with theirs).
    local: String,
    remote: String,
    tag: String,
    remote_tag: String,
    /// The INVITE's Contact: the Request-URI of our BYE.
    remote_target: String,
    /// The INVITE's Record-Route, in order (RFC 3261 12.1.1).
    route: Vec<String>,
    cseq: u32,
    /// The 200 as sent, repeated until the ACK.
    ok: Option<Vec<u8>>,
    phase: Phase,
    dialog: InDialog,
}

impl Incoming {
    /// A new INVITE from `caller` (no To tag; the dispatcher checked who
    /// may call): announced with its offer, 100 Trying sent.
    pub fn new(
        cfg: Config,
        invite: &Message,
        caller: &Peer,
        seed: [u8; 16],
        now: Mono,
    ) -> (Self, Vec<Out>) {
        let header = |name| invite.headers.get(name).unwrap_or_default().to_string();
        let remote_target = invite
            .headers
            .get("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|c| c.uri.to_string())
            .unwrap_or_else(|| match &invite.start {
                crate::message::StartLine::Request { uri, .. } => uri.clone(),
                crate::message::StartLine::Response { .. } => String::new(),
            });
        let (server, first) = Server::new(invite, caller.tcp, cfg.timers);
        let mut call = Self {
            cfg,
            seed,
            counter: 0,
            call_id: header("Call-ID").trim().to_string(),
            invite: invite.clone(),
            caller: caller.clone(),
            server,
            local: String::new(),
            remote: header("From"),
            tag: String::new(),
            remote_tag: tag_of(invite, "From"),
            remote_target,
            route: invite
                .headers
                .get_all("Record-Route")
                .map(str::to_string)
                .collect(),
            cseq: 0,
            ok: None,
            phase: Phase::Offered {
                until: now + DECIDE_MS,
            },
            dialog: InDialog::default(),
        };
        call.tag = call.random("tag");
        call.local = format!("{};tag={}", header("To"), call.tag);
        let mut out = sends(caller, first);
        out.push(Out::Event(Event::Offered {
            caller: caller_of(invite),
            sdp: invite.body.clone(),
        }));
        (call, out)
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Where the call's messages come from and go to.
    pub fn caller(&self) -> &Peer {
        &self.caller
    }

    /// Ended, and nothing left to repeat or absorb.
    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Ended(_)) && self.deadline().is_none()
    }

    /// The device takes the call with its SDP `answer`.
    pub fn accept(&mut self, answer: Bytes, now: Mono) -> Vec<Out> {
        if !matches!(self.phase, Phase::Offered { .. }) {
            return Vec::new();
        }
        let mut ok = self.response(200, "OK");
        let user = user_encode(&self.cfg.user);
        let transport = if self.caller.tcp {
            ";transport=tcp"
        } else {
            ""
        };
        let h = &mut ok.headers;
        for r in &self.route {
            h.push("Record-Route", r.clone());
        }
        h.push(
            "Contact",
            format!("<sip:{user}@{}{transport}>", self.cfg.local),
        );
        h.push("Allow", crate::dispatch::ALLOW);
        h.push("User-Agent", "vto");
        h.push("Content-Type", "application/sdp");
        ok.body = answer;
        let bytes = ok.to_bytes();
        let out = sends(&self.caller, self.server.respond(&ok, now));
        let t1 = self.cfg.timers.t1;
        if self.caller.tcp {
            // Nothing repeats over TCP: the call is up.
            self.phase = Phase::Talking {
                until: now + self.cfg.max_talk,
            };
        } else {
            self.phase = Phase::Answering {
                repeat: (now + t1, t1),
                give_up: now + 64 * t1,
                until: now + self.cfg.max_talk,
            };
        }
        self.ok = Some(bytes);
        out
    }

    /// The device refuses the call (486 busy, 488 no usable media, ...).
    pub fn refuse(&mut self, code: u16, reason: &str, now: Mono) -> Vec<Out> {
        if !matches!(self.phase, Phase::Offered { .. }) {
            return Vec::new();
        }
        let mut out = self.fail(code, reason, now);
        out.extend(self.end(End::Rejected));
        out
    }

    /// A failure response to the INVITE (repeated until its ACK).
    fn fail(&mut self, code: u16, reason: &str, now: Mono) -> Vec<Out> {
        let resp = self.response(code, reason);
        sends(&self.caller, self.server.respond(&resp, now))
    }

    /// The device hangs up: a refusal before the answer, BYE after it.
    pub fn hangup(&mut self, now: Mono) -> Vec<Out> {
        match self.phase {
            Phase::Offered { .. } => {
                let mut out = self.fail(480, "Temporarily Unavailable", now);
                out.extend(self.end(End::HungUpByUs));
                out
            }
            Phase::Answering { .. } | Phase::Talking { .. } => {
                let mut out = self.bye(now);
                out.extend(self.end(End::HungUpByUs));
                out
            }
            Phase::Ended(_) => Vec::new(),
        }
    }

    /// A request of this call (its Call-ID) from `from`.
    pub fn on_request(&mut self, req: &Message, from: &Peer, now: Mono) -> Vec<Out> {
        let (Some(method), Some(key)) = (req.method().cloned(), transaction::key(req)) else {
            return Vec::new();
        };
        if from.addr != self.caller.addr {
            // Only the caller speaks in its call.
            if method == Method::Ack {
                return Vec::new();
            }
            return no_such_call(req, from);
        }
        let same_branch = transaction::key(&self.invite).is_some_and(|k| {
            let ours = k.split('|').collect::<Vec<_>>();
            let theirs = key.split('|').collect::<Vec<_>>();
            ours.first() == theirs.first() && ours.get(2) == theirs.get(2)
        });
        match method {
            Method::Invite if same_branch => {
                // A repeat of the INVITE: its 100, its failure or the 200.
                if let Some(ok) = &self.ok {
                    return vec![Out::Send(self.caller.clone(), ok.clone())];
                }
                return sends(&self.caller, self.server.on_request(req, now));
            }
            Method::Ack if same_branch => {
                // The ACK of a failure response: the transaction's.
                return sends(&self.caller, self.server.on_request(req, now));
            }
            Method::Ack => {
                let invite_cseq = CSeq::of(&self.invite).map(|c| c.seq);
                if CSeq::of(req).map(|c| c.seq) == invite_cseq {
                    if let Phase::Answering { until, .. } = self.phase {
                        self.phase = Phase::Talking { until };
                    }
                }
                return Vec::new();
            }
            Method::Cancel if same_branch => return self.cancelled(req, &key, now),
            _ => {}
        }
        if let Some(out) = self.dialog.repeat(req, &key, from, now) {
            return out;
        }
        let talking = matches!(self.phase, Phase::Answering { .. } | Phase::Talking { .. });
        let in_dialog = tag_of(req, "From") == self.remote_tag && tag_of(req, "To") == self.tag;
        if !talking || !in_dialog {
            return no_such_call(req, from);
        }
        let (mut out, bye) = self.dialog.request(req, key, from, self.cfg.timers, now);
        if bye {
            out.extend(self.end(End::HungUpByCallee));
        }
        out
    }

    /// A response (to our BYE) from `from`.
    pub fn on_response(&mut self, resp: &Message, from: &Peer, now: Mono) -> Vec<Out> {
        let Some(id) = top_branch(resp) else {
            return Vec::new();
        };
        self.dialog.on_response(resp, &id, from, now)
    }

    pub fn deadline(&self) -> Option<Mono> {
        let phase = match &self.phase {
            Phase::Offered { until } | Phase::Talking { until } => Some(*until),
            Phase::Answering {
                repeat,
                give_up,
                until,
            } => Some(repeat.0.min(*give_up).min(*until)),
            Phase::Ended(_) => None,
        };
        [phase, self.server.deadline(), self.dialog.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The 200's repeats, the decision's and the ACK's waits, the talk
    /// time.
    pub fn on_timer(&mut self, now: Mono) -> Vec<Out> {
        let mut out = sends(&self.caller, self.server.on_timer(now));
        out.extend(self.dialog.on_timer(now));
        match self.phase.clone() {
            Phase::Offered { until } if now >= until => {
                out.extend(self.hangup(now));
            }
            Phase::Answering { give_up, until, .. } if now >= give_up || now >= until => {
                // No ACK came (or the talk time is over): BYE.
                out.extend(self.bye(now));
                out.extend(self.end(if now >= until {
                    End::MaxTalkTime
                } else {
                    End::HungUpByUs
                }));
            }
            Phase::Answering {
                repeat: (at, interval),
                give_up,
                until,
            } if now >= at => {
                if let Some(ok) = &self.ok {
                    out.push(Out::Send(self.caller.clone(), ok.clone()));
                }
                let next = (interval * 2).min(self.cfg.timers.t2);
                self.phase = Phase::Answering {
                    repeat: (now + next, next),
                    give_up,
                    until,
                };
            }
            Phase::Talking { until } if now >= until => {
                out.extend(self.bye(now));
                out.extend(self.end(End::MaxTalkTime));
            }
            _ => {}
        }
        out
    }

    /// CANCEL of the INVITE: 200 to it; before the answer, 487 to the
    /// INVITE and the call is over.
    fn cancelled(&mut self, cancel: &Message, key: &str, now: Mono) -> Vec<Out> {
        if let Some(out) = self.dialog.repeat(cancel, key, &self.caller, now) {
            return out;
        }
        let ok = response(cancel, 200, "OK", &[]);
        let caller = self.caller.clone();
        let mut out =
            self.dialog
                .answer(cancel, key.to_string(), &caller, &ok, self.cfg.timers, now);
        if let Phase::Offered { .. } = self.phase {
            out.extend(self.fail(487, "Request Terminated", now));
            out.extend(self.end(End::Cancelled));
        }
        out
    }

    /// A response to the INVITE, with our To tag.
    fn response(&self, code: u16, reason: &str) -> Message {
        let mut resp = response(&self.invite, code, reason, &[]);
        resp.headers.set("To", self.local.clone());
        resp
    }

    fn bye(&mut self, now: Mono) -> Vec<Out> {
        self.ok = None;
        self.cseq += 1;
        let id = format!("z9hG4bK-vto-i-{}", self.random("branch"));
        let mut m = Message::request(Method::Bye, self.remote_target.clone());
        let transport = if self.caller.tcp { "TCP" } else { "UDP" };
        let h = &mut m.headers;
        h.push(
            "Via",
            format!("SIP/2.0/{transport} {};branch={id};rport", self.cfg.local),
        );
        h.push("Max-Forwards", "70");
        for r in &self.route {
            h.push("Route", r.clone());
        }
        h.push("From", self.local.clone());
        h.push("To", self.remote.clone());
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{} BYE", self.cseq));
        let caller = self.caller.clone();
        self.dialog.bye(&m, id, &caller, self.cfg.timers, now)
    }

    fn end(&mut self, end: End) -> Vec<Out> {
        self.ok = None;
        self.phase = Phase::Ended(end);
        vec![Out::Event(Event::Ended(end))]
    }

    fn random(&mut self, what: &str) -> String {
        self.counter += 1;
        derived_hex(&self.seed, what, self.counter, 10)
    }
}

/// Who calls: the user of the INVITE's From (`9901%230` -> `9901#0`).
fn caller_of(invite: &Message) -> String {
    invite
        .headers
        .get("From")
        .and_then(|f| NameAddr::parse(f).ok())
        .and_then(|n| n.uri.user.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
