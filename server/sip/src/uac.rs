//! Requests this device sends on its own, outside any call (Publish
//! Information's MESSAGE to the monitors): each is a client transaction
//! (repeated over UDP, given up after 64*T1), and what comes back is one
//! final outcome per request. Pure, like the rest of the crate: the caller
//! keeps where each request went and sends the bytes there.

use std::{collections::HashMap, net::SocketAddr};

use crate::{
    header::{user_encode, SipUri, Via},
    message::{Message, Method, StartLine},
    time::Mono,
    transaction::{self, Action, Timers},
};

/// Requests in flight at most (a flood of sends must not grow this).
pub const MAX_PENDING: usize = 4_096;

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A final response: its code and reason phrase.
    Answered(u16, String),
    /// No final response within 64*T1.
    NoAnswer,
}

/// A request to send again: its id and bytes.
pub type Repeat = (u64, SocketAddr, Vec<u8>);

/// A text message to send.
pub struct Text<'a> {
    /// This device's user (e.g. the VTO No.) for From.
    pub from: &'a str,
    /// Where it goes: the registered contact of the target.
    pub target: &'a SipUri,
    /// The account it is for (the To header's user, e.g. `9901#0`).
    pub to: &'a str,
    /// The address the bytes are sent to: only it may answer.
    pub addr: SocketAddr,
    /// One line: control characters are dropped.
    pub subject: &'a str,
    pub body: &'a str,
}

pub struct Outgoing {
    local: SocketAddr,
    timers: Timers,
    seed: [u8; 16],
    counter: u64,
    /// Branch -> (the caller's id, where it went, the transaction).
    pending: HashMap<String, (u64, SocketAddr, transaction::Client)>,
}

impl Outgoing {
    /// Requests from `local` (written in Via and From).
    pub fn new(local: SocketAddr, timers: Timers, seed: [u8; 16]) -> Self {
        Self {
            local,
            timers,
            seed,
            counter: 0,
            pending: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn random(&mut self, what: &str) -> String {
        self.counter += 1;
        crate::nonce::derived_hex(&self.seed, what, self.counter, 10)
    }

    fn host_port(&self) -> String {
        match self.local {
            SocketAddr::V4(a) => a.to_string(),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        }
    }

    /// A MESSAGE (RFC 3428, text/plain) known as `id`: the bytes to send,
    /// or `None` when too many are in flight.
    pub fn message(&mut self, id: u64, text: &Text, reliable: bool, now: Mono) -> Option<Vec<u8>> {
        if self.pending.len() >= MAX_PENDING {
            return None;
        }
        let branch = format!("z9hG4bK-vto-m-{}", self.random("branch"));
        let host = self.host_port();
        let transport = if reliable { "TCP" } else { "UDP" };
        let mut req = Message::request(Method::Message, text.target.to_string());
        req.headers.push(
            "Via",
            format!("SIP/2.0/{transport} {host};branch={branch};rport"),
        );
        req.headers.push("Max-Forwards", "70");
        req.headers.push(
            "From",
            format!(
                "<sip:{}@{host}>;tag={}",
                user_encode(text.from),
                self.random("tag")
            ),
        );
        req.headers
            .push("To", format!("<sip:{}@{host}>", user_encode(text.to)));
        req.headers
            .push("Call-ID", format!("{}@vto", self.random("call-id")));
        req.headers.push("CSeq", "1 MESSAGE");
        let subject: String = text.subject.chars().filter(|c| !c.is_control()).collect();
        if !subject.is_empty() {
            req.headers.push("Subject", subject);
        }
        req.headers.push("Content-Type", "text/plain;charset=UTF-8");
        req.body = text.body.as_bytes().to_vec().into();
        let (tx, actions) = transaction::Client::new(&req, reliable, self.timers, now);
        self.pending.insert(branch, (id, text.addr, tx));
        actions.into_iter().find_map(|a| match a {
            Action::Send(b) => Some(b),
            _ => None,
        })
    }

    /// A response: `None` if it is not for one of these requests, else its
    /// request's id and, if final, the outcome.
    /// Only the address the request went to may answer it.
    pub fn on_response(
        &mut self,
        resp: &Message,
        from: SocketAddr,
        now: Mono,
    ) -> Option<(u64, Option<Outcome>)> {
        let branch = Via::parse(resp.headers.get("Via")?)
            .ok()?
            .branch()?
            .to_string();
        let (id, to, tx) = self.pending.get_mut(&branch)?;
        if *to != from {
            return None;
        }
        let id = *id;
        let mut outcome = None;
        for action in tx.on_response(resp, Message::clone, now) {
            if let Action::Deliver(r) = action {
                if let (Some(code), StartLine::Response { reason, .. }) = (r.code(), &r.start) {
                    if code >= 200 {
                        outcome = Some(Outcome::Answered(code, reason.clone()));
                    }
                }
            }
        }
        if outcome.is_some() {
            // Its repeats absorbed or not, the caller has its answer; a
            // late repeat of the response is then simply not ours.
            self.pending.remove(&branch);
        }
        Some((id, outcome))
    }

    /// Repeats (id, where to, bytes) and requests given up.
    pub fn on_timer(&mut self, now: Mono) -> (Vec<Repeat>, Vec<(u64, Outcome)>) {
        let mut repeats = Vec::new();
        let mut ended = Vec::new();
        self.pending.retain(|_, (id, to, tx)| {
            if tx.deadline().is_some_and(|d| d <= now) {
                for action in tx.on_timer(now) {
                    match action {
                        Action::Send(b) => repeats.push((*id, *to, b)),
                        Action::Timeout => ended.push((*id, Outcome::NoAnswer)),
                        Action::Deliver(_) => {}
                    }
                }
            }
            !tx.is_terminated()
        });
        (repeats, ended)
    }

    pub fn deadline(&self) -> Option<Mono> {
        self.pending
            .values()
            .filter_map(|(_, _, tx)| tx.deadline())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{message, registrar};

    fn outgoing() -> Outgoing {
        Outgoing::new(
            "127.0.0.1:5060".parse().unwrap(),
            Timers::default(),
            [7; 16],
        )
    }

    const PEER: &str = "127.0.0.1:5070";

    fn from() -> SocketAddr {
        PEER.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn target() -> SipUri {
        SipUri::parse("sip:9901%230@127.0.0.1:5070").unwrap_or_else(|e| panic!("{e}"))
    }

    fn text<'a>(t: &'a SipUri, subject: &'a str) -> Text<'a> {
        Text {
            from: "8001",
            target: t,
            to: "9901#0",
            addr: PEER.parse().unwrap_or_else(|e| panic!("{e}")),
            subject,
            body: "Water off 9-12.\nThanks.",
        }
    }

    #[test]
    fn a_message_is_answered_and_its_outcome_is_the_final_response() {
        let mut o = outgoing();
        let t = target();
        let bytes = o
            .message(1, &text(&t, "Notice\r\nVia: x"), false, Mono(0))
            .unwrap_or_else(|| panic!("sent"));
        let req = message::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.method(), Some(&Method::Message));
        assert_eq!(req.headers.get("Subject"), Some("NoticeVia: x"));
        assert_eq!(req.headers.get_all("Via").count(), 1, "no header injected");
        assert_eq!(&req.body[..], b"Water off 9-12.\nThanks.");
        assert!(req
            .headers
            .get("To")
            .unwrap_or_default()
            .contains("9901%230"));
        // A provisional answer is not the end; the final one is.
        let trying = registrar::response(&req, 100, "Trying", &[]);
        // The same response from another address is not an answer.
        let elsewhere = "127.0.0.2:5070".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.on_response(&trying, elsewhere, Mono(10)), None);
        assert_eq!(o.on_response(&trying, from(), Mono(10)), Some((1, None)));
        let ok = registrar::response(&req, 202, "Accepted", &[]);
        assert_eq!(
            o.on_response(&ok, from(), Mono(20)),
            Some((1, Some(Outcome::Answered(202, "Accepted".into()))))
        );
        assert!(o.is_empty());
        // Someone else's response.
        let mut other = ok.clone();
        other
            .headers
            .set("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKother");
        assert_eq!(o.on_response(&other, from(), Mono(30)), None);
    }

    #[test]
    fn a_silent_peer_gets_repeats_then_no_answer() {
        let mut o = outgoing();
        let t = target();
        let first = o
            .message(9, &text(&t, "x"), false, Mono(0))
            .unwrap_or_default();
        let mut now = Mono(0);
        let mut repeats = 0;
        let mut ended = Vec::new();
        while ended.is_empty() && now < Mono(60_000) {
            now = o.deadline().unwrap_or(now + 1);
            let (r, e) = o.on_timer(now);
            assert!(r.iter().all(|(id, _, b)| *id == 9 && *b == first));
            repeats += r.len();
            ended = e;
        }
        assert_eq!(ended, [(9, Outcome::NoAnswer)]);
        assert_eq!(now, Mono(32_000), "64*T1");
        assert!(repeats >= 7, "{repeats}");
        assert!(o.is_empty());
        // Over TCP nothing is repeated.
        o.message(10, &text(&t, "x"), true, Mono(0));
        let (r, e) = o.on_timer(Mono(32_000));
        assert!(r.is_empty());
        assert_eq!(e, [(10, Outcome::NoAnswer)]);
    }

    #[test]
    fn a_refusal_is_the_outcome_and_in_flight_requests_are_bounded() {
        let mut o = outgoing();
        let t = target();
        let bytes = o
            .message(3, &text(&t, ""), false, Mono(0))
            .unwrap_or_default();
        let req = message::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.headers.get("Subject"), None);
        let busy = registrar::response(&req, 486, "Busy Here", &[]);
        assert_eq!(
            o.on_response(&busy, from(), Mono(5)),
            Some((3, Some(Outcome::Answered(486, "Busy Here".into()))))
        );
        for i in 0..MAX_PENDING as u64 {
            assert!(o.message(i, &text(&t, "x"), false, Mono(0)).is_some());
        }
        assert!(o.message(99_999, &text(&t, "x"), false, Mono(0)).is_none());
    }
}
