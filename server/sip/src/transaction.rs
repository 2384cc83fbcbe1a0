//! Transactions (RFC 3261 17, with RFC 6026's Accepted state): what makes
//! SIP over UDP reliable. Each is a state machine fed requests, responses
//! and the time, answering with actions; the socket loop sends what it is
//! told and wakes the machine at `deadline()`.
//!
//! Server side: a retransmitted request gets the last response again; a
//! failure response to an INVITE is repeated until the ACK comes.
//! Client side: a request is repeated until a response comes, and given up
//! (Timeout) after 64*T1. Over TCP nothing is repeated and the waits that
//! absorb retransmissions are zero.

use crate::{
    header::{CSeq, Via},
    message::{Message, Method},
    time::Mono,
};

/// RFC 3261's timer values (T1 the round-trip estimate).
#[derive(Clone, Copy, Debug)]
pub struct Timers {
    pub t1: i64,
    pub t2: i64,
    pub t4: i64,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: 500,
            t2: 4000,
            t4: 5000,
        }
    }
}

/// What the transport or the transaction user must do.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Send these bytes to the peer.
    Send(Vec<u8>),
    /// Hand this response to the transaction user (client side).
    Deliver(Message),
    /// No response came in time (client side): the user sees a 408.
    Timeout,
}

/// `branch|method|sent-by` of the top Via: which transaction a message
/// belongs to (RFC 3261 17.2.3; ACK and CANCEL match their INVITE's
/// branch, so the method is INVITE for an ACK).
pub fn key(msg: &Message) -> Option<String> {
    let via = Via::parse(msg.headers.get("Via")?).ok()?;
    let branch = via.branch()?;
    let method = match msg.method() {
        Some(Method::Ack) => Method::Invite,
        Some(m) => m.clone(),
        None => CSeq::of(msg)?.method,
    };
    Some(format!(
        "{branch}|{method}|{}:{}",
        via.host,
        via.port.unwrap_or(5060)
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Trying,
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Confirmed,
    Terminated,
}

/// A server transaction.
#[derive(Debug)]
pub struct Server {
    invite: bool,
    reliable: bool,
    timers: Timers,
    state: State,
    last: Option<Vec<u8>>,
    /// Timer G (repeat the response) and its interval.
    repeat: Option<(Mono, i64)>,
    /// Timer H / I / J / L: the end.
    end: Option<Mono>,
}

impl Server {
    /// For a new request. An INVITE answers 100 Trying at once (RFC 3261
    /// 17.2.1 allows it and it stops the caller's repeats early).
    pub fn new(req: &Message, reliable: bool, timers: Timers) -> (Self, Vec<Action>) {
        let invite = req.method() == Some(&Method::Invite);
        let mut s = Self {
            invite,
            reliable,
            timers,
            state: if invite {
                State::Proceeding
            } else {
                State::Trying
            },
            last: None,
            repeat: None,
            end: None,
        };
        let mut actions = Vec::new();
        if invite {
            let trying = crate::registrar::response(req, 100, "Trying", &[]).to_bytes();
            s.last = Some(trying.clone());
            actions.push(Action::Send(trying));
        }
        (s, actions)
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The same request again (or the ACK of a failed INVITE).
    pub fn on_request(&mut self, req: &Message, now: Mono) -> Vec<Action> {
        if req.method() == Some(&Method::Ack) {
            if self.invite && self.state == State::Completed {
                self.state = State::Confirmed;
                self.repeat = None;
                self.end = Some(now + if self.reliable { 0 } else { self.timers.t4 });
            }
            return Vec::new();
        }
        match (self.state, &self.last) {
            (State::Proceeding | State::Completed, Some(last)) => vec![Action::Send(last.clone())],
            _ => Vec::new(),
        }
    }

    /// The transaction user's response.
    pub fn respond(&mut self, resp: &Message, now: Mono) -> Vec<Action> {
        let Some(code) = resp.code() else {
            return Vec::new();
        };
        if matches!(
            self.state,
            State::Completed | State::Confirmed | State::Terminated
        ) || (self.state == State::Accepted && !(200..300).contains(&code))
        {
            return Vec::new();
        }
        let bytes = resp.to_bytes();
        self.last = Some(bytes.clone());
        if self.state == State::Accepted {
            // The 2xx again (for a repeated INVITE): Timer L keeps running.
            return vec![Action::Send(bytes)];
        }
        let t1 = self.timers.t1;
        match code {
            100..=199 => self.state = State::Proceeding,
            200..=299 if self.invite => {
                // RFC 6026: stay to absorb INVITE repeats (which the
                // transaction user answers with the same 2xx).
                self.state = State::Accepted;
                self.end = Some(now + 64 * t1);
            }
            _ => {
                self.state = State::Completed;
                if self.invite {
                    if !self.reliable {
                        self.repeat = Some((now + t1, t1));
                    }
                    self.end = Some(now + 64 * t1);
                } else {
                    self.end = Some(now + if self.reliable { 0 } else { 64 * t1 });
                }
            }
        }
        vec![Action::Send(bytes)]
    }

    /// When `on_timer` should run next.
    pub fn deadline(&self) -> Option<Mono> {
        [self.repeat.map(|(at, _)| at), self.end]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn on_timer(&mut self, now: Mono) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.end.is_some_and(|end| now >= end) {
            self.state = State::Terminated;
            self.repeat = None;
            self.end = None;
            return actions;
        }
        if let Some((at, interval)) = self.repeat {
            if now >= at {
                if let Some(last) = &self.last {
                    actions.push(Action::Send(last.clone()));
                }
                let next = (interval * 2).min(self.timers.t2);
                self.repeat = Some((now + next, next));
            }
        }
        actions
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// The last response sent (what a repeated request gets).
    pub fn last(&self) -> Option<&[u8]> {
        self.last.as_deref()
    }
}

/// A client transaction.
#[derive(Debug)]
pub struct Client {
    invite: bool,
    reliable: bool,
    timers: Timers,
    state: State,
    request: Vec<u8>,
    /// Timer A / E and its interval.
    repeat: Option<(Mono, i64)>,
    /// Timer B / F: give up.
    give_up: Option<Mono>,
    /// Timer D / K: the end after a final response.
    end: Option<Mono>,
}

impl Client {
    /// Sends `req` and starts the timers.
    pub fn new(req: &Message, reliable: bool, timers: Timers, now: Mono) -> (Self, Vec<Action>) {
        let invite = req.method() == Some(&Method::Invite);
        let bytes = req.to_bytes();
        let c = Self {
            invite,
            reliable,
            timers,
            state: if invite {
                State::Calling
            } else {
                State::Trying
            },
            request: bytes.clone(),
            repeat: (!reliable).then_some((now + timers.t1, timers.t1)),
            give_up: Some(now + 64 * timers.t1),
            end: None,
        };
        (c, vec![Action::Send(bytes)])
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// A response from the peer. For a failed INVITE, `ack` builds the ACK
    /// (RFC 3261 17.1.1.3) that this transaction sends and repeats.
    pub fn on_response(
        &mut self,
        resp: &Message,
        ack: impl FnOnce(&Message) -> Message,
        now: Mono,
    ) -> Vec<Action> {
        let Some(code) = resp.code() else {
            return Vec::new();
        };
        match self.state {
            State::Calling | State::Trying | State::Proceeding => {}
            State::Completed if self.invite && code >= 300 => {
                // A repeated failure: ACK again, tell nobody.
                return vec![Action::Send(ack(resp).to_bytes())];
            }
            State::Accepted if (200..300).contains(&code) => {
                return vec![Action::Deliver(resp.clone())];
            }
            _ => return Vec::new(),
        }
        let mut actions = Vec::new();
        if code < 200 {
            if self.state == State::Trying && !self.reliable {
                // Timer E goes on at T2 while proceeding.
                self.repeat = Some((now + self.timers.t2, self.timers.t2));
            }
            if self.invite {
                // Timers A and B run in Calling only: a ringing callee may
                // take its time.
                self.repeat = None;
                self.give_up = None;
            }
            self.state = State::Proceeding;
            actions.push(Action::Deliver(resp.clone()));
            return actions;
        }
        self.repeat = None;
        self.give_up = None;
        if self.invite && code < 300 {
            self.state = State::Accepted;
            self.end = Some(now + 64 * self.timers.t1);
        } else {
            self.state = State::Completed;
            if self.invite {
                actions.push(Action::Send(ack(resp).to_bytes()));
                self.end = Some(now + if self.reliable { 0 } else { 32_000 });
            } else {
                self.end = Some(now + if self.reliable { 0 } else { self.timers.t4 });
            }
        }
        actions.push(Action::Deliver(resp.clone()));
        actions
    }

    pub fn deadline(&self) -> Option<Mono> {
        [self.repeat.map(|(at, _)| at), self.give_up, self.end]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn on_timer(&mut self, now: Mono) -> Vec<Action> {
        if self.give_up.is_some_and(|t| now >= t) {
            self.state = State::Terminated;
            self.repeat = None;
            self.give_up = None;
            return vec![Action::Timeout];
        }
        if self.end.is_some_and(|t| now >= t) {
            self.state = State::Terminated;
            self.end = None;
            return Vec::new();
        }
        let mut actions = Vec::new();
        if let Some((at, interval)) = self.repeat {
            if now >= at {
                actions.push(Action::Send(self.request.clone()));
                let next = if self.invite {
                    interval * 2
                } else {
                    (interval * 2).min(self.timers.t2)
                };
                self.repeat = Some((now + next, next));
            }
        }
        actions
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{message::parse, registrar::response};

    const T0: Mono = Mono(1_000_000);

    fn request(method: &str) -> Message {
        parse(
            format!(
                "{method} sip:9901@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n\
                 From: <sip:8001@v>;tag=1\r\nTo: <sip:9901@v>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn sends(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Send(_)))
            .count()
    }

    /// Runs the timers of `deadline`/`on_timer` until `until`; counts sends.
    fn run_server(s: &mut Server, until: Mono) -> usize {
        let mut n = 0;
        while let Some(at) = s.deadline().filter(|at| *at <= until) {
            n += sends(&s.on_timer(at));
        }
        n
    }

    #[test]
    fn keys_match_acks_to_their_invite() {
        let invite = request("INVITE");
        let mut ack = request("ACK");
        assert_eq!(key(&invite), key(&ack));
        assert_eq!(
            key(&invite).as_deref(),
            Some("z9hG4bKx|INVITE|10.0.0.1:5060")
        );
        assert_ne!(key(&invite), key(&request("BYE")));
        ack.headers.remove_all("Via");
        assert_eq!(key(&ack), None);
        let resp = response(&invite, 180, "Ringing", &[]);
        assert_eq!(key(&resp), key(&invite));
    }

    #[test]
    fn a_failed_invite_is_answered_until_acked() {
        let invite = request("INVITE");
        let (mut s, first) = Server::new(&invite, false, Timers::default());
        assert_eq!(sends(&first), 1, "100 Trying");
        assert_eq!(
            sends(&s.on_request(&invite, T0)),
            1,
            "repeat gets the 100 again"
        );
        let busy = response(&invite, 486, "Busy Here", &[]);
        assert_eq!(s.respond(&busy, T0), vec![Action::Send(busy.to_bytes())]);
        assert_eq!(s.state(), State::Completed);
        // Timer G: 500, 1000, 2000, 4000, 4000 ms ... until the ACK.
        assert_eq!(run_server(&mut s, T0 + 7_500), 4);
        assert_eq!(s.on_request(&request("ACK"), T0 + 8_000), vec![]);
        assert_eq!(s.state(), State::Confirmed);
        assert_eq!(run_server(&mut s, T0 + 8_000 + 5_000), 0);
        assert!(s.is_terminated());
    }

    #[test]
    fn an_unacked_failure_ends_after_64_t1() {
        let invite = request("INVITE");
        let (mut s, _) = Server::new(&invite, false, Timers::default());
        s.respond(&response(&invite, 603, "Decline", &[]), T0);
        let repeats = run_server(&mut s, T0 + 64 * 500);
        assert!(s.is_terminated());
        // 500+1000+2000+4000*7 = 31.5 s: 10 repeats before Timer H.
        assert_eq!(repeats, 10);
    }

    #[test]
    fn non_invite_server_absorbs_repeats_then_ends() {
        let bye = request("BYE");
        let (mut s, first) = Server::new(&bye, false, Timers::default());
        assert!(first.is_empty());
        assert!(s.on_request(&bye, T0).is_empty(), "nothing to repeat yet");
        let ok = response(&bye, 200, "OK", &[]);
        s.respond(&ok, T0);
        assert_eq!(
            s.on_request(&bye, T0 + 100),
            vec![Action::Send(ok.to_bytes())]
        );
        assert_eq!(s.deadline(), Some(T0 + 32_000));
        assert_eq!(run_server(&mut s, T0 + 32_000), 0);
        assert!(s.is_terminated());
        // Over TCP it ends at once.
        let (mut tcp, _) = Server::new(&bye, true, Timers::default());
        tcp.respond(&ok, T0);
        assert_eq!(tcp.deadline(), Some(T0));
        tcp.on_timer(T0);
        assert!(tcp.is_terminated());
    }

    #[test]
    fn a_2xx_to_invite_waits_in_accepted() {
        let invite = request("INVITE");
        let (mut s, _) = Server::new(&invite, false, Timers::default());
        let ok = response(&invite, 200, "OK", &[]);
        s.respond(&ok, T0);
        assert_eq!(s.state(), State::Accepted);
        // A later failure cannot replace it; the same 2xx may be re-sent.
        assert!(s
            .respond(&response(&invite, 500, "Oops", &[]), T0)
            .is_empty());
        assert_eq!(sends(&s.respond(&ok, T0 + 10)), 1);
        assert_eq!(run_server(&mut s, T0 + 32_000), 0);
        assert!(s.is_terminated());
    }

    #[test]
    fn a_client_repeats_until_answered_and_gives_up_at_64_t1() {
        let options = request("OPTIONS");
        let (mut c, first) = Client::new(&options, false, Timers::default(), T0);
        assert_eq!(sends(&first), 1);
        let mut repeats = 0;
        let mut timed_out = false;
        while let Some(at) = c.deadline() {
            for a in c.on_timer(at) {
                match a {
                    Action::Send(_) => repeats += 1,
                    Action::Timeout => timed_out = true,
                    Action::Deliver(_) => {}
                }
            }
        }
        assert!(timed_out && c.is_terminated());
        // Timer E: 0.5, 1.5, 3.5, 7.5, then every 4 s until 32 s.
        assert_eq!(repeats, 10);
    }

    #[test]
    fn a_client_invite_acks_a_failure_and_delivers_it_once() {
        let invite = request("INVITE");
        let (mut c, _) = Client::new(&invite, false, Timers::default(), T0);
        let ack = |r: &Message| {
            let mut a = request("ACK");
            a.headers.set("To", r.headers.get("To").unwrap_or_default());
            a
        };
        let ringing = response(&invite, 180, "Ringing", &[]);
        let out = c.on_response(&ringing, ack, T0 + 100);
        assert_eq!(out, vec![Action::Deliver(ringing.clone())]);
        assert_eq!(c.state(), State::Proceeding);
        // No more INVITE repeats while proceeding.
        assert!(c.on_timer(T0 + 600).is_empty());
        let busy = response(&invite, 486, "Busy Here", &[]);
        let out = c.on_response(&busy, ack, T0 + 200);
        assert_eq!(sends(&out), 1, "the ACK");
        assert!(out.contains(&Action::Deliver(busy.clone())));
        // The same failure again: ACKed again, not delivered again.
        let again = c.on_response(&busy, ack, T0 + 300);
        assert_eq!(again.len(), 1);
        assert_eq!(sends(&again), 1);
        c.on_timer(T0 + 200 + 32_000);
        assert!(c.is_terminated());
    }

    #[test]
    fn a_client_over_tcp_does_not_repeat() {
        let (mut c, _) = Client::new(&request("MESSAGE"), true, Timers::default(), T0);
        assert_eq!(c.deadline(), Some(T0 + 32_000));
        assert_eq!(c.on_timer(T0 + 32_000), vec![Action::Timeout]);
    }
}
