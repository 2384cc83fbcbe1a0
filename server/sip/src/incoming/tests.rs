//! A monitor calling the door, on virtual time: what the door sends is
//! read back with the crate's parser.

use super::*;
use crate::message::{parse, StartLine};

const T0: Mono = Mono(1_000_000);
const LOCAL: &str = "127.0.0.1:5060";
const MON: &str = "127.0.0.1:5080";
const STRANGER: &str = "127.0.0.2:5080";
/// Where the monitor's Contact says it is: never sent to.
const CONTACT: &str = "127.0.0.7:5099";
const OFFER: &str = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";

fn peer(a: &str) -> Peer {
    Peer {
        addr: a.parse().expect("address"),
        tcp: false,
    }
}

fn request(method: &str, branch: &str, to_tag: &str, cseq: u32, body: &str) -> Message {
    let to = match to_tag {
        "" => String::new(),
        t => format!(";tag={t}"),
    };
    let text = format!(
        "{method} sip:8001@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {MON};branch={branch}\r\n\
         From: <sip:9901%230@VDP>;tag=mon\r\nTo: <sip:8001@VDP>{to}\r\n\
         Call-ID: watch-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:9901%230@{CONTACT}>\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn invite() -> Message {
    request("INVITE", "z9hG4bKinv", "", 1, OFFER)
}

fn start() -> (Incoming, Vec<Out>) {
    Incoming::new(
        Config::new("8001", LOCAL.parse().expect("address")),
        &invite(),
        &peer(MON),
        [3; 16],
        T0,
    )
}

fn sent(out: &[Out]) -> Vec<(String, Message)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Send(p, b) => Some((p.addr.to_string(), parse(b).expect("parsable"))),
            Out::Event(_) => None,
        })
        .collect()
}

fn lines(out: &[Out]) -> Vec<String> {
    sent(out)
        .iter()
        .map(|(to, m)| match &m.start {
            StartLine::Request { method, .. } => format!("{method} -> {to}"),
            StartLine::Response { code, .. } => format!("{code} -> {to}"),
        })
        .collect()
}

fn events(out: &[Out]) -> Vec<Event> {
    out.iter()
        .filter_map(|o| match o {
            Out::Event(e) => Some(e.clone()),
            Out::Send(..) => None,
        })
        .collect()
}

/// Accepted: the call, the 200 as sent, our tag.
fn accepted() -> (Incoming, Message, String) {
    let (mut call, _) = start();
    let out = call.accept(Bytes::from_static(b"v=0\r\n"), T0 + 10);
    let (_, ok) = sent(&out).remove(0);
    let tag = tag_of(&ok, "To");
    (call, ok, tag)
}

#[test]
fn the_offer_is_announced_after_100_trying() {
    let (call, out) = start();
    assert_eq!(lines(&out), [format!("100 -> {MON}")]);
    assert_eq!(
        events(&out),
        [Event::Offered {
            caller: "9901#0".into(),
            sdp: Bytes::from_static(OFFER.as_bytes()),
        }]
    );
    assert_eq!(call.call_id(), "watch-1");
    assert_eq!(call.deadline(), Some(T0 + DECIDE_MS));
}

#[test]
fn accepted_it_answers_200_with_the_sdp_repeats_it_until_the_ack() {
    let (mut call, ok, tag) = accepted();
    assert_eq!(ok.code(), Some(200));
    assert!(!tag.is_empty());
    assert_eq!(ok.headers.get("Content-Type"), Some("application/sdp"));
    assert_eq!(&ok.body[..], b"v=0\r\n");
    assert!(ok.headers.get("Contact").is_some_and(|c| c.contains(LOCAL)));
    // T1 later, again; then every doubling.
    let out = call.on_timer(T0 + 10 + 500);
    assert_eq!(lines(&out), [format!("200 -> {MON}")]);
    // The repeated INVITE gets the same 200.
    let out = call.on_request(&invite(), &peer(MON), T0 + 600);
    assert_eq!(sent(&out)[0].1.headers.get("To"), ok.headers.get("To"));
    let ack = request("ACK", "z9hG4bKack", &tag, 1, "");
    assert!(call.on_request(&ack, &peer(MON), T0 + 700).is_empty());
    assert!(matches!(call.phase(), Phase::Talking { .. }));
    assert!(lines(&call.on_timer(T0 + 2000)).is_empty());
}

#[test]
fn no_ack_means_bye() {
    let (mut call, _, _) = accepted();
    let mut byes = Vec::new();
    let mut now = T0;
    while now < T0 + 64 * 500 + 100 {
        now = now + 100;
        byes.extend(
            sent(&call.on_timer(now))
                .into_iter()
                .filter(|(_, m)| m.method() == Some(&Method::Bye)),
        );
    }
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].0, MON, "sent where the INVITE came from");
    assert_eq!(call.phase(), &Phase::Ended(End::HungUpByUs));
}

#[test]
fn the_callers_bye_and_dtmf_info_count_a_strangers_do_not() {
    let (mut call, _, tag) = accepted();
    let mut info = request(
        "INFO",
        "z9hG4bKinfo",
        &tag,
        2,
        "Signal=5\r\nDuration=160\r\n",
    );
    info.headers.push("Content-Type", "application/dtmf-relay");
    let out = call.on_request(&info, &peer(STRANGER), T0 + 100);
    assert_eq!(lines(&out), [format!("481 -> {STRANGER}")]);
    let out = call.on_request(&info, &peer(MON), T0 + 100);
    assert_eq!(lines(&out), [format!("200 -> {MON}")]);
    assert!(matches!(
        events(&out)[..],
        [Event::Info {
            dtmf: Some(crate::call::Dtmf { digit: '5', .. }),
            ..
        }]
    ));
    // Without our tag: not this dialog.
    let wrong = request("BYE", "z9hG4bKbye0", "other", 3, "");
    assert_eq!(
        lines(&call.on_request(&wrong, &peer(MON), T0 + 200)),
        [format!("481 -> {MON}")]
    );
    let bye = request("BYE", "z9hG4bKbye", &tag, 3, "");
    let out = call.on_request(&bye, &peer(MON), T0 + 200);
    assert_eq!(lines(&out), [format!("200 -> {MON}")]);
    assert_eq!(events(&out), [Event::Ended(End::HungUpByCallee)]);
}

#[test]
fn cancel_before_the_answer_ends_it_with_487() {
    let (mut call, _) = start();
    let cancel = request("CANCEL", "z9hG4bKinv", "", 1, "");
    let out = call.on_request(&cancel, &peer(MON), T0 + 100);
    let l = lines(&out);
    assert!(l.contains(&format!("200 -> {MON}")), "{l:?}");
    assert!(l.contains(&format!("487 -> {MON}")), "{l:?}");
    assert_eq!(events(&out), [Event::Ended(End::Cancelled)]);
    // Accepting afterwards does nothing.
    assert!(call.accept(Bytes::new(), T0 + 200).is_empty());
}

#[test]
fn refused_or_undecided_it_fails_the_invite() {
    let (mut call, _) = start();
    let out = call.refuse(486, "Busy Here", T0 + 10);
    assert_eq!(lines(&out), [format!("486 -> {MON}")]);
    assert_eq!(events(&out), [Event::Ended(End::Rejected)]);
    let (mut call, _) = start();
    let out = call.on_timer(T0 + DECIDE_MS);
    assert_eq!(lines(&out), [format!("480 -> {MON}")]);
    assert_eq!(events(&out), [Event::Ended(End::HungUpByUs)]);
}

#[test]
fn the_talk_time_is_capped_and_our_bye_is_in_the_dialog() {
    let (mut call, _, tag) = accepted();
    let ack = request("ACK", "z9hG4bKack", &tag, 1, "");
    call.on_request(&ack, &peer(MON), T0 + 100);
    let out = call.on_timer(T0 + 10 + crate::call::MAX_TALK_MS);
    let (to, bye) = sent(&out).remove(0);
    assert_eq!(to, MON);
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert!(bye
        .headers
        .get("From")
        .is_some_and(|f| f.contains(&format!("tag={tag}"))));
    assert!(bye.headers.get("To").is_some_and(|t| t.contains("tag=mon")));
    match &bye.start {
        StartLine::Request { uri, .. } => assert!(uri.contains(CONTACT), "{uri}"),
        StartLine::Response { .. } => panic!("a request"),
    }
    assert_eq!(events(&out), [Event::Ended(End::MaxTalkTime)]);
    // Its 200 ends the BYE's transaction.
    let ok = response(&bye, 200, "OK", &[]);
    call.on_response(&ok, &peer(MON), T0 + crate::call::MAX_TALK_MS + 50);
    let mut now = T0 + crate::call::MAX_TALK_MS + 60;
    while !call.is_over() && now < T0 + crate::call::MAX_TALK_MS + 40_000 {
        now = now + 1000;
        call.on_timer(now);
    }
    assert!(call.is_over());
}
