//! The door call on virtual time: what it sends is read back with the
//! crate's parser, the monitors' answers are built from it.

use super::*;
use crate::{
    digest::{ha1, Algorithm, Credentials},
    message::{parse, StartLine},
};

const T0: Mono = Mono(1_000_000);
const LOCAL: &str = "127.0.0.1:5060";
const MON_A: &str = "127.0.0.1:5080";
const MON_B: &str = "127.0.0.1:5081";
const STRANGER: &str = "127.0.0.2:5080";
/// Where monitor A's 2xx says it is: never sent to.
const A_CONTACT: &str = "127.0.0.7:5099";
const OFFER: &[u8] = b"v=0\r\nm=video 40000 RTP/AVP 96\r\na=recvonly\r\n";
/// A Dahua answer: an m-line more, and sendrecv to a recvonly offer.
const ANSWER: &[u8] =
    b"v=0\r\nm=audio 20000 RTP/AVP 8\r\nm=video 20002 RTP/AVP 96\r\na=sendrecv\r\n";

fn peer(a: &str) -> Peer {
    Peer {
        addr: a.parse().expect("address"),
        tcp: false,
    }
}

fn target(uri: &str, addr: &str) -> Target {
    Target {
        uri: uri.into(),
        peer: peer(addr),
    }
}

/// Room 9901's main monitor and its extension `9901#1`.
fn monitors() -> Vec<Target> {
    vec![
        target(&format!("sip:9901@{MON_A}"), MON_A),
        target(&format!("sip:9901%231@{MON_B}"), MON_B),
    ]
}

fn config() -> Config {
    Config {
        domain: "VDP".into(),
        ..Config::new("8001", LOCAL.parse().expect("address"))
    }
}

fn start(cfg: Config, targets: Vec<Target>) -> (Call, Vec<Out>) {
    Call::start(cfg, "9901", targets, Bytes::from_static(OFFER), [9; 16], T0)
}

/// What was sent to `to`, parsed.
fn sent_to(out: &[Out], to: &str) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            Out::Send(p, b) if p.addr == peer(to).addr => {
                Some(parse(b).expect("we print parsable"))
            }
            _ => None,
        })
        .collect()
}

fn one_to(out: &[Out], to: &str) -> Message {
    let mut sent = sent_to(out, to);
    assert_eq!(sent.len(), 1, "one message to {to}: {out:?}");
    sent.remove(0)
}

fn events(out: &[Out]) -> Vec<Event> {
    out.iter()
        .filter_map(|o| match o {
            Out::Event(e) => Some(e.clone()),
            Out::Send(..) => None,
        })
        .collect()
}

fn line(m: &Message) -> String {
    match &m.start {
        StartLine::Request { method, uri } => format!("{method} {uri}"),
        StartLine::Response { code, reason } => format!("{code} {reason}"),
    }
}

fn branch(m: &Message) -> String {
    let via = Via::parse(m.headers.get("Via").unwrap_or_default()).expect("a Via");
    via.branch().unwrap_or_default().to_string()
}

/// A monitor's response to `req`, with its To tag; a 2xx with a Contact
/// elsewhere and the answer SDP.
fn answer(req: &Message, code: u16, tag: &str) -> Message {
    let mut r = response(req, code, "Reason", &[]);
    if code > 100 {
        let to = req.headers.get("To").unwrap_or_default();
        r.headers.set("To", format!("{to};tag={tag}"));
    }
    if (200..300).contains(&code) && req.method() == Some(&Method::Invite) {
        r.headers.push("Contact", format!("<sip:9901@{A_CONTACT}>"));
        r.body = Bytes::from_static(ANSWER);
    }
    r
}

/// A request of monitor A in the call, its tags and Call-ID given.
fn from_a(method: &str, call_id: &str, from_tag: &str, to_tag: &str, extra: &str) -> Message {
    let text = format!(
        "{method} sip:8001@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {MON_A};branch=z9hG4bK{method}\r\n\
         From: <sip:9901@VDP>;tag={from_tag}\r\nTo: <sip:8001@VDP>;tag={to_tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: 7 {method}\r\n{extra}\r\n"
    );
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Both monitors ring from T0 + 100 ms; the INVITEs to A and B.
fn ringing() -> (Call, Message, Message) {
    let (mut call, out) = start(config(), monitors());
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    call.on_response(&answer(&a, 180, "a"), &peer(MON_A), T0 + 100);
    call.on_response(&answer(&b, 180, "b"), &peer(MON_B), T0 + 100);
    (call, a, b)
}

/// Both ring; A answers at T0 + 1 s. The INVITEs and what the answer sent.
fn talking() -> (Call, Message, Message, Vec<Out>) {
    let (mut call, a, b) = ringing();
    let out = call.on_response(&answer(&a, 200, "a"), &peer(MON_A), T0 + 1_000);
    (call, a, b, out)
}

/// Runs every timer up to `until`; what they sent.
fn run_until(call: &mut Call, until: Mono) -> Vec<Out> {
    let mut out = Vec::new();
    while let Some(at) = call.deadline().filter(|at| *at <= until) {
        out.extend(call.on_timer(at));
    }
    out
}

#[test]
fn one_invite_goes_to_each_monitor_with_one_call_id_from_tag_and_cseq() {
    let (call, out) = start(config(), monitors());
    assert_eq!(out.len(), 2);
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    assert_eq!(line(&a), "INVITE sip:9901@127.0.0.1:5080");
    assert_eq!(line(&b), "INVITE sip:9901%231@127.0.0.1:5081");
    for name in ["Call-ID", "From", "To", "CSeq", "Contact"] {
        assert_eq!(a.headers.get(name), b.headers.get(name), "{name}");
    }
    assert_eq!(a.headers.get("Call-ID"), Some(call.call_id()));
    assert_eq!(
        a.headers.get("To"),
        Some("<sip:9901@VDP>"),
        "To is the room"
    );
    assert_eq!(
        a.headers.get("From"),
        Some(format!("<sip:8001@VDP>;tag={}", call.tag).as_str())
    );
    assert_eq!(a.headers.get("CSeq"), Some("1 INVITE"));
    assert_eq!(a.headers.get("Contact"), Some("<sip:8001@127.0.0.1:5060>"));
    assert_eq!(a.headers.get("Content-Type"), Some("application/sdp"));
    assert_eq!(
        a.headers.get_all("Allow").collect::<Vec<_>>().join(", "),
        ALLOW
    );
    assert_eq!(&a.body[..], OFFER);
    assert!(a
        .headers
        .get("Via")
        .unwrap_or_default()
        .starts_with("SIP/2.0/UDP 127.0.0.1:5060;"));
    assert!(branch(&a).starts_with("z9hG4bK"));
    assert_ne!(branch(&a), branch(&b));
    assert!(call.owns(&a));
    assert!(events(&out).is_empty());
}

#[test]
fn the_first_answer_takes_the_call_is_acked_and_the_other_monitor_cancelled() {
    let (mut call, out) = start(config(), monitors());
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    let out = call.on_response(&answer(&a, 180, "a"), &peer(MON_A), T0 + 100);
    assert_eq!(out, vec![Out::Event(Event::Ringing { branch: 0 })]);
    let out = call.on_response(&answer(&b, 180, "b"), &peer(MON_B), T0 + 100);
    assert_eq!(out, vec![Out::Event(Event::Ringing { branch: 1 })]);

    let mut ok = answer(&a, 200, "a");
    ok.headers.push("Record-Route", "<sip:10.0.0.1;lr>");
    ok.headers.push("Record-Route", "<sip:10.0.0.2;lr>");
    let out = call.on_response(&ok, &peer(MON_A), T0 + 1_000);
    assert!(
        sent_to(&out, A_CONTACT).is_empty(),
        "never where the 2xx says"
    );
    let ack = one_to(&out, MON_A);
    assert_eq!(line(&ack), format!("ACK sip:9901@{A_CONTACT}"));
    assert_eq!(ack.headers.get("CSeq"), Some("1 ACK"));
    assert_eq!(ack.headers.get("To"), Some("<sip:9901@VDP>;tag=a"));
    assert_eq!(ack.headers.get("From"), a.headers.get("From"));
    assert_eq!(ack.headers.get("Call-ID"), a.headers.get("Call-ID"));
    assert_ne!(branch(&ack), branch(&a), "a new transaction");
    let route: Vec<&str> = ack.headers.get_all("Route").collect();
    assert_eq!(route, ["<sip:10.0.0.2;lr>", "<sip:10.0.0.1;lr>"]);
    assert!(ack.body.is_empty());
    let cancel = one_to(&out, MON_B);
    assert_eq!(line(&cancel), "CANCEL sip:9901%231@127.0.0.1:5081");
    assert_eq!(
        cancel.headers.get("Reason"),
        Some("SIP;cause=200;text=\"Call completed elsewhere\"")
    );
    assert_eq!(cancel.headers.get("CSeq"), Some("1 CANCEL"));
    assert_eq!(cancel.headers.get("Via"), b.headers.get("Via"));
    let dialog = Dialog {
        call_id: call.call_id().to_string(),
        local_tag: call.tag.clone(),
        remote_tag: "a".into(),
        remote_target: format!("sip:9901@{A_CONTACT}"),
        route: vec!["<sip:10.0.0.2;lr>".into(), "<sip:10.0.0.1;lr>".into()],
    };
    assert_eq!(
        events(&out),
        vec![Event::Answered {
            branch: 0,
            sdp: Bytes::from_static(ANSWER),
            dialog
        }]
    );

    // A repeats its 200: the same ACK again, nothing else.
    let again = call.on_response(&ok, &peer(MON_A), T0 + 1_500);
    assert_eq!(again, vec![Out::Send(peer(MON_A), ack.to_bytes())]);
    // B answers the CANCEL, then its INVITE with 487: that is ACKed.
    let cancelled = response(&cancel, 200, "OK", &[]);
    assert!(call
        .on_response(&cancelled, &peer(MON_B), T0 + 1_100)
        .is_empty());
    let out = call.on_response(&answer(&b, 487, "b"), &peer(MON_B), T0 + 1_200);
    let ack_b = one_to(&out, MON_B);
    assert_eq!(line(&ack_b), "ACK sip:9901%231@127.0.0.1:5081");
    assert_eq!(ack_b.headers.get("CSeq"), Some("1 ACK"));
    assert_eq!(branch(&ack_b), branch(&b), "the INVITE's transaction");
    assert!(events(&out).is_empty());
    // The CANCEL was answered: it is not repeated.
    assert!(sent_to(&run_until(&mut call, T0 + 20_000), MON_B).is_empty());
}

#[test]
fn a_monitor_not_ringing_yet_is_cancelled_with_its_first_provisional() {
    let (mut call, out) = start(config(), monitors());
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    let out = call.on_response(&answer(&a, 200, "a"), &peer(MON_A), T0 + 500);
    assert!(
        sent_to(&out, MON_B).is_empty(),
        "no CANCEL before a provisional"
    );
    let out = call.on_response(&answer(&b, 180, "b"), &peer(MON_B), T0 + 600);
    let cancel = one_to(&out, MON_B);
    assert_eq!(line(&cancel), "CANCEL sip:9901%231@127.0.0.1:5081");
    assert_eq!(cancel.headers.get("Reason"), Some(COMPLETED_ELSEWHERE));
    assert!(events(&out).is_empty(), "no Ringing once answered");
}

#[test]
fn a_late_answer_elsewhere_is_acked_then_hung_up() {
    let (mut call, _, b, _) = talking();
    let out = call.on_response(&answer(&b, 200, "b"), &peer(MON_B), T0 + 1_050);
    let sent = sent_to(&out, MON_B);
    assert_eq!(sent.len(), 2, "{out:?}");
    assert_eq!(line(&sent[0]), format!("ACK sip:9901@{A_CONTACT}"));
    assert_eq!(sent[0].headers.get("To"), Some("<sip:9901@VDP>;tag=b"));
    assert_eq!(line(&sent[1]), format!("BYE sip:9901@{A_CONTACT}"));
    assert_eq!(sent[1].headers.get("To"), Some("<sip:9901@VDP>;tag=b"));
    assert_eq!(sent[1].headers.get("CSeq"), Some("2 BYE"));
    assert!(sent_to(&out, MON_A).is_empty());
    assert!(events(&out).is_empty());
    assert!(matches!(call.phase(), Phase::Talking { branch: 0, .. }));
    // The BYE's 200 ends that; A's call goes on.
    let ok = response(&sent[1], 200, "OK", &[]);
    assert!(call.on_response(&ok, &peer(MON_B), T0 + 1_100).is_empty());
    assert!(matches!(call.phase(), Phase::Talking { branch: 0, .. }));
}

#[test]
fn every_monitor_refusing_is_rejected() {
    let (mut call, out) = start(config(), monitors());
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    let out = call.on_response(&answer(&a, 486, "a"), &peer(MON_A), T0 + 100);
    assert_eq!(line(&one_to(&out, MON_A)), "ACK sip:9901@127.0.0.1:5080");
    assert!(events(&out).is_empty(), "B may still answer");
    let out = call.on_response(&answer(&b, 603, "b"), &peer(MON_B), T0 + 200);
    assert_eq!(
        line(&one_to(&out, MON_B)),
        "ACK sip:9901%231@127.0.0.1:5081"
    );
    assert_eq!(events(&out), vec![Event::Ended(End::Rejected)]);
}

#[test]
fn a_busy_and_a_silent_monitor_are_not_answered_when_the_silent_one_times_out() {
    let cfg = Config {
        ring_timeout: 60_000,
        ..config()
    };
    let (mut call, out) = start(cfg, monitors());
    let a = one_to(&out, MON_A);
    call.on_response(&answer(&a, 486, "a"), &peer(MON_A), T0 + 100);
    assert!(events(&run_until(&mut call, T0 + 31_999)).is_empty());
    // Timer B: 64*T1 without a word from B.
    let out = run_until(&mut call, T0 + 32_000);
    assert_eq!(events(&out), vec![Event::Ended(End::NotAnswered)]);
}

#[test]
fn nobody_answering_within_the_ring_timeout_cancels_every_branch() {
    let (mut call, a, b) = ringing();
    assert_eq!(call.deadline(), Some(T0 + 30_000));
    assert!(call.on_timer(T0 + 29_999).is_empty());
    let out = call.on_timer(T0 + 30_000);
    for (to, uri) in [(MON_A, &a), (MON_B, &b)] {
        let cancel = one_to(&out, to);
        assert_eq!(line(&cancel), line(uri).replace("INVITE", "CANCEL"));
        assert_eq!(cancel.headers.get("Reason"), None);
    }
    assert_eq!(events(&out), vec![Event::Ended(End::NotAnswered)]);
    // A's 487 is ACKed; B answered as the CANCEL crossed: ACK and BYE.
    let out = call.on_response(&answer(&a, 487, "a"), &peer(MON_A), T0 + 30_100);
    assert_eq!(line(&one_to(&out, MON_A)), "ACK sip:9901@127.0.0.1:5080");
    let out = call.on_response(&answer(&b, 200, "b"), &peer(MON_B), T0 + 30_100);
    let sent: Vec<String> = sent_to(&out, MON_B).iter().map(line).collect();
    assert_eq!(
        sent,
        [
            format!("ACK sip:9901@{A_CONTACT}"),
            format!("BYE sip:9901@{A_CONTACT}")
        ]
    );
    assert!(events(&out).is_empty());
    // Every transaction runs out; then the call may be dropped.
    assert!(!call.is_over());
    run_until(&mut call, T0 + 120_000);
    assert!(call.is_over());
}

#[test]
fn responses_from_elsewhere_or_for_other_branches_are_ignored() {
    let (mut call, out) = start(config(), monitors());
    let a = one_to(&out, MON_A);
    // A's 200 from a stranger, and from the other monitor: nothing.
    for from in [STRANGER, MON_B] {
        let out = call.on_response(&answer(&a, 200, "x"), &peer(from), T0 + 100);
        assert!(out.is_empty(), "{out:?}");
    }
    // From A's address, for a branch we never made.
    let mut other = answer(&a, 200, "a");
    other
        .headers
        .set("Via", format!("SIP/2.0/UDP {LOCAL};branch=z9hG4bK-nobody"));
    assert!(call.on_response(&other, &peer(MON_A), T0 + 100).is_empty());
    assert!(matches!(call.phase(), Phase::Ringing { .. }));
    // The real one still takes the call.
    let out = call.on_response(&answer(&a, 200, "a"), &peer(MON_A), T0 + 200);
    assert!(matches!(
        events(&out)[..],
        [Event::Answered { branch: 0, .. }]
    ));
}

#[test]
fn a_183_with_sdp_is_early_media() {
    let (mut call, out) = start(config(), monitors());
    let b = one_to(&out, MON_B);
    let trying = answer(&b, 100, "b");
    assert!(call.on_response(&trying, &peer(MON_B), T0 + 50).is_empty());
    let mut progress = answer(&b, 183, "b");
    progress.body = Bytes::from_static(ANSWER);
    let out = call.on_response(&progress, &peer(MON_B), T0 + 100);
    assert_eq!(
        out,
        vec![Out::Event(Event::EarlyMedia {
            branch: 1,
            sdp: Bytes::from_static(ANSWER)
        })]
    );
}

#[test]
fn the_callee_hanging_up_is_answered_and_ends_the_call() {
    let (mut call, _, _, _) = talking();
    let tag = call.tag.clone();
    let bye = from_a("BYE", &call.call_id.clone(), "a", &tag, "");
    let out = call.on_request(&bye, &peer(MON_A), T0 + 5_000);
    assert_eq!(line(&one_to(&out, MON_A)), "200 OK");
    assert_eq!(events(&out), vec![Event::Ended(End::HungUpByCallee)]);
    assert_eq!(call.phase(), &Phase::Ended(End::HungUpByCallee));
    // Its repeat (our 200 lost) gets the same 200, and ends nothing again.
    let out = call.on_request(&bye, &peer(MON_A), T0 + 5_500);
    assert_eq!(line(&one_to(&out, MON_A)), "200 OK");
    assert!(events(&out).is_empty());
}

#[test]
fn strangers_and_wrong_dialogs_get_481_and_the_call_goes_on() {
    let (mut call, _, _, _) = talking();
    let (id, tag) = (call.call_id.clone(), call.tag.clone());
    for (from, req) in [
        (STRANGER, from_a("BYE", &id, "a", &tag, "")),
        (MON_B, from_a("BYE", &id, "a", &tag, "")),
        (MON_A, from_a("BYE", &id, "b", &tag, "")),
        (MON_A, from_a("BYE", &id, "a", "not-ours", "")),
        (MON_A, from_a("INFO", "other@x", "a", &tag, "")),
    ] {
        let out = call.on_request(&req, &peer(from), T0 + 2_000);
        assert_eq!(out.len(), 1, "only the answer: {out:?}");
        assert_eq!(
            line(&one_to(&out, from)),
            "481 Call/Transaction Does Not Exist"
        );
    }
    assert!(matches!(call.phase(), Phase::Talking { .. }));
}

#[test]
fn a_reinvite_gets_488_and_other_methods_405() {
    let (mut call, _, _, _) = talking();
    let (id, tag) = (call.call_id.clone(), call.tag.clone());
    let out = call.on_request(
        &from_a("INVITE", &id, "a", &tag, ""),
        &peer(MON_A),
        T0 + 2_000,
    );
    let sent: Vec<String> = sent_to(&out, MON_A).iter().map(line).collect();
    assert_eq!(sent, ["100 Trying", "488 Not Acceptable Here"]);
    let ack = from_a("ACK", &id, "a", &tag, "");
    assert!(call.on_request(&ack, &peer(MON_A), T0 + 2_100).is_empty());
    let out = call.on_request(
        &from_a("UPDATE", &id, "a", &tag, ""),
        &peer(MON_A),
        T0 + 2_200,
    );
    let refused = one_to(&out, MON_A);
    assert_eq!(line(&refused), "405 Method Not Allowed");
    assert!(refused.headers.get("Allow").is_some());
    assert!(matches!(call.phase(), Phase::Talking { .. }));
}

#[test]
fn a_dtmf_info_is_answered_and_its_key_passed_out() {
    let (mut call, _, _, _) = talking();
    let (id, tag) = (call.call_id.clone(), call.tag.clone());
    let body = "Signal=5\r\nDuration=160\r\n";
    let info = from_a(
        "INFO",
        &id,
        "a",
        &tag,
        &format!(
            "Content-Type: application/dtmf-relay\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let out = call.on_request(&info, &peer(MON_A), T0 + 3_000);
    assert_eq!(line(&one_to(&out, MON_A)), "200 OK");
    assert_eq!(
        events(&out),
        vec![Event::Info {
            content_type: "application/dtmf-relay".into(),
            body: Bytes::from(body),
            dtmf: Some(Dtmf {
                digit: '5',
                duration_ms: Some(160)
            }),
        }]
    );
}

#[test]
fn dtmf_bodies_are_read_and_anything_else_is_no_key() {
    let key = |digit| {
        Some(Dtmf {
            digit,
            duration_ms: None,
        })
    };
    assert_eq!(dtmf("application/dtmf", b"#\r\n"), key('#'));
    assert_eq!(dtmf("Application/DTMF-Relay", b"signal= *\n"), key('*'));
    assert_eq!(dtmf("application/dtmf-relay", b"Signal=d"), key('D'));
    for (kind, body) in [
        ("application/dtmf-relay", &b"Duration=100"[..]),
        ("application/dtmf-relay", b"Signal=12"),
        ("application/dtmf", b"x"),
        ("text/plain", b"5"),
        ("application/dtmf", b"\xff"),
    ] {
        assert_eq!(dtmf(kind, body), None, "{kind} {body:?}");
    }
}

#[test]
fn the_talk_time_runs_out_with_a_bye() {
    let (mut call, _, _, _) = talking();
    let until = T0 + 1_000 + MAX_TALK_MS;
    assert!(events(&run_until(&mut call, until - 1)).is_empty());
    let out = call.on_timer(until);
    let bye = one_to(&out, MON_A);
    assert_eq!(line(&bye), format!("BYE sip:9901@{A_CONTACT}"));
    assert_eq!(bye.headers.get("To"), Some("<sip:9901@VDP>;tag=a"));
    assert_eq!(bye.headers.get("CSeq"), Some("2 BYE"));
    assert_eq!(events(&out), vec![Event::Ended(End::MaxTalkTime)]);
}

#[test]
fn hanging_up_cancels_before_the_answer_and_says_bye_after_it() {
    let (mut call, out) = start(config(), monitors());
    let (a, b) = (one_to(&out, MON_A), one_to(&out, MON_B));
    call.on_response(&answer(&a, 180, "a"), &peer(MON_A), T0 + 100);
    let out = call.hangup(T0 + 200);
    let cancel = one_to(&out, MON_A);
    assert_eq!(line(&cancel), "CANCEL sip:9901@127.0.0.1:5080");
    assert_eq!(cancel.headers.get("Reason"), None);
    assert!(sent_to(&out, MON_B).is_empty(), "B has not rung yet");
    assert_eq!(events(&out), vec![Event::Ended(End::Cancelled)]);
    let out = call.on_response(&answer(&b, 180, "b"), &peer(MON_B), T0 + 300);
    assert_eq!(
        line(&one_to(&out, MON_B)),
        "CANCEL sip:9901%231@127.0.0.1:5081"
    );

    let (mut call, _, _, _) = talking();
    let out = call.hangup(T0 + 4_000);
    let bye = one_to(&out, MON_A);
    assert_eq!(line(&bye), format!("BYE sip:9901@{A_CONTACT}"));
    assert_eq!(events(&out), vec![Event::Ended(End::HungUpByUs)]);
    assert!(call.hangup(T0 + 4_100).is_empty());
    // The BYE is repeated over UDP until answered.
    assert_eq!(one_to(&call.on_timer(T0 + 4_500), MON_A), bye);
    call.on_response(&response(&bye, 200, "OK", &[]), &peer(MON_A), T0 + 4_600);
    assert!(sent_to(&run_until(&mut call, T0 + 10_000), MON_A).is_empty());
}

/// The 401 of a server to `req`, with a digest challenge.
fn challenge(req: &Message, nonce: &str) -> Message {
    let mut r = answer(req, 401, "s");
    let offer = format!("Digest realm=\"VDP\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"");
    r.headers.push("WWW-Authenticate", offer);
    r
}

#[test]
fn a_challenge_is_answered_once_with_the_password() {
    const SERVER: &str = "127.0.0.1:5070";
    let server = || vec![target(&format!("sip:9901@{SERVER}"), SERVER)];
    let cfg = Config {
        password: Some("123456".into()),
        ..config()
    };
    let (mut call, out) = start(cfg.clone(), server());
    let first = one_to(&out, SERVER);
    let out = call.on_response(&challenge(&first, "n1"), &peer(SERVER), T0 + 100);
    let sent = sent_to(&out, SERVER);
    assert_eq!(sent.len(), 2, "{out:?}");
    assert_eq!(line(&sent[0]), "ACK sip:9901@127.0.0.1:5070");
    let again = &sent[1];
    assert_eq!(line(again), "INVITE sip:9901@127.0.0.1:5070");
    assert_eq!(again.headers.get("CSeq"), Some("2 INVITE"));
    assert_ne!(branch(again), branch(&first));
    for name in ["Call-ID", "From", "To"] {
        assert_eq!(again.headers.get(name), first.headers.get(name), "{name}");
    }
    assert_eq!(&again.body[..], OFFER);
    let credentials = again.headers.get("Authorization").unwrap_or_default();
    let c = Credentials::parse(credentials).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.username, "8001");
    assert_eq!(c.uri, "sip:9901@127.0.0.1:5070");
    assert!(c.check("INVITE", &ha1(Algorithm::Md5, "8001", "VDP", "123456")));
    assert!(!c.check("INVITE", &ha1(Algorithm::Md5, "8001", "VDP", "654321")));
    // Answered: the ACK has the INVITE's CSeq and credentials.
    let out = call.on_response(&answer(again, 200, "s"), &peer(SERVER), T0 + 200);
    let ack = one_to(&out, SERVER);
    assert_eq!(ack.headers.get("CSeq"), Some("2 ACK"));
    assert_eq!(ack.headers.get("Authorization"), Some(credentials));

    // Challenged again: a wrong password; the branch, so the call, failed.
    let (mut call, out) = start(cfg, server());
    let out = call.on_response(&challenge(&one_to(&out, SERVER), "n1"), &peer(SERVER), T0);
    let again = sent_to(&out, SERVER).pop().expect("the INVITE again");
    let out = call.on_response(&challenge(&again, "n2"), &peer(SERVER), T0 + 100);
    assert_eq!(line(&one_to(&out, SERVER)), "ACK sip:9901@127.0.0.1:5070");
    assert_eq!(events(&out), vec![Event::Ended(End::NotAnswered)]);

    // Without a password there is nothing to answer with.
    let (mut call, out) = start(config(), server());
    let out = call.on_response(&challenge(&one_to(&out, SERVER), "n1"), &peer(SERVER), T0);
    assert_eq!(line(&one_to(&out, SERVER)), "ACK sip:9901@127.0.0.1:5070");
    assert_eq!(events(&out), vec![Event::Ended(End::NotAnswered)]);
}

#[test]
fn an_invite_over_udp_is_repeated_until_a_provisional_answer() {
    let (mut call, out) = start(config(), vec![monitors().remove(0)]);
    let first = one_to(&out, MON_A);
    // Timer A: at 0.5 s, then 1.5 s.
    assert_eq!(call.deadline(), Some(T0 + 500));
    assert_eq!(one_to(&call.on_timer(T0 + 500), MON_A), first);
    assert_eq!(call.deadline(), Some(T0 + 1_500));
    assert_eq!(one_to(&call.on_timer(T0 + 1_500), MON_A), first);
    call.on_response(&answer(&first, 180, "a"), &peer(MON_A), T0 + 1_600);
    assert_eq!(call.deadline(), Some(T0 + 30_000), "only the ring timeout");
    assert!(sent_to(&run_until(&mut call, T0 + 29_999), MON_A).is_empty());
    // Over TCP nothing is repeated.
    let mut tcp = monitors().remove(0);
    tcp.peer.tcp = true;
    let (call, out) = start(config(), vec![tcp]);
    let invite = one_to(&out, MON_A);
    let via = invite.headers.get("Via").unwrap_or_default();
    assert!(via.starts_with("SIP/2.0/TCP"), "{via}");
    assert_eq!(
        invite.headers.get("Contact"),
        Some("<sip:8001@127.0.0.1:5060;transport=tcp>")
    );
    assert_eq!(call.deadline(), Some(T0 + 30_000));
}

#[test]
fn a_call_to_nobody_ends_at_once() {
    let (call, out) = start(config(), vec![]);
    assert_eq!(out, vec![Out::Event(Event::Ended(End::NotAnswered))]);
    assert!(call.is_over());
}

#[test]
fn a_domain_that_is_no_plain_host_gives_way_to_our_address() {
    for domain in ["", "VDP>\r\nX-Evil: 1", "VDP;lr", "a b"] {
        let cfg = Config {
            domain: domain.into(),
            ..config()
        };
        let (_, out) = start(cfg, monitors());
        let to = one_to(&out, MON_A).headers.get("To").map(str::to_string);
        assert_eq!(to.as_deref(), Some("<sip:9901@127.0.0.1>"), "{domain:?}");
    }
}

#[test]
fn the_callees_requests_kept_for_their_repeats_are_bounded() {
    let (mut call, _, _, _) = talking();
    let (id, tag) = (call.call_id.clone(), call.tag.clone());
    for n in 0..MAX_SERVERS + 8 {
        let mut info = from_a("INFO", &id, "a", &tag, "");
        info.headers
            .set("Via", format!("SIP/2.0/UDP {MON_A};branch=z9hG4bKinfo{n}"));
        let out = call.on_request(&info, &peer(MON_A), T0 + 2_000);
        assert_eq!(line(&one_to(&out, MON_A)), "200 OK");
    }
    assert_eq!(call.dialog.requests_kept(), MAX_SERVERS);
}

#[test]
fn answered_on_the_device_every_monitor_is_cancelled_elsewhere_and_a_late_answer_hung_up() {
    let (mut call, a, b) = ringing();
    let (taken, out) = call.take(T0 + 500, false);
    assert!(taken);
    for (m, to) in [(&a, MON_A), (&b, MON_B)] {
        let cancel = one_to(&out, to);
        assert_eq!(cancel.method(), Some(&Method::Cancel));
        assert_eq!(branch(&cancel), branch(m));
        assert_eq!(cancel.headers.get("Reason"), Some(COMPLETED_ELSEWHERE));
    }
    assert!(matches!(call.phase(), Phase::Local { .. }));
    // Taken once only.
    assert!(!call.take(T0 + 600, true).0);
    // A 200 that crossed the CANCEL: ACKed and hung up.
    let out = call.on_response(&answer(&a, 200, "a"), &peer(MON_A), T0 + 700);
    let sent: Vec<String> = sent_to(&out, MON_A).iter().map(line).collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[0].starts_with("ACK ") && sent[1].starts_with("BYE "),
        "{sent:?}"
    );
    assert!(events(&out).is_empty(), "the call stays the device's");
    // B's 487 changes nothing.
    let out = call.on_response(&answer(&b, 487, "b"), &peer(MON_B), T0 + 800);
    assert!(events(&out).is_empty());
    assert_eq!(
        events(&call.hangup(T0 + 5_000)),
        [Event::Ended(End::HungUpByUs)]
    );
}

#[test]
fn answered_on_the_device_the_talk_time_still_ends_it() {
    let (mut call, _, _) = ringing();
    call.take(T0 + 500, false);
    let out = run_until(&mut call, T0 + 500 + MAX_TALK_MS);
    assert!(events(&out).contains(&Event::Ended(End::MaxTalkTime)));
}

#[test]
fn taken_over_from_the_answering_monitor_it_gets_bye_with_the_reason() {
    let (mut call, _, _, _) = talking();
    let id = call.call_id().to_string();
    // Answering on the device does not take a call a monitor answered.
    assert_eq!(call.take(T0 + 2_000, false), (false, Vec::new()));
    let (taken, out) = call.take(T0 + 2_000, true);
    assert!(taken);
    let bye = one_to(&out, MON_A);
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert_eq!(bye.headers.get("Reason"), Some(TAKEN_OVER));
    assert_eq!(bye.headers.get("Call-ID"), Some(id.as_str()));
    assert!(events(&out).is_empty(), "the call goes on, on the device");
    assert!(matches!(call.phase(), Phase::Local { .. }));
    // The talk time counts from the monitor's answer, not from the take.
    let out = run_until(&mut call, T0 + 1_000 + MAX_TALK_MS);
    assert!(events(&out).contains(&Event::Ended(End::MaxTalkTime)));
}
