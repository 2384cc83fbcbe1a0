//! The dispatcher on virtual time: real REGISTER clients register, calls
//! go through the proxy, and strangers get nowhere.

use super::*;
use crate::{
    client::{Config, Status},
    digest::ha1,
    message::parse,
};

const DEVICE: &str = "127.0.0.1:5060";
const DOOR: &str = "127.0.0.1:5071";
const MON0: &str = "127.0.0.1:5080";
const STRANGER: &str = "127.0.0.2:5080";
const T0: Mono = Mono(1_800_000_000_000);

fn addr(a: &str) -> SocketAddr {
    a.parse().unwrap_or_else(|e| panic!("{a}: {e}"))
}

fn digests(user: &str) -> (String, (String, String)) {
    (
        user.to_string(),
        (
            ha1(Algorithm::Md5, user, "VDP", "123456"),
            ha1(Algorithm::Sha256, user, "VDP", "123456"),
        ),
    )
}

/// Room 9901 with one monitor, VTO 8001 at 127.0.0.1, VTS 888001, the
/// centre 888888 from 08:00 to 18:00.
fn dispatcher() -> Dispatcher {
    let directory = Directory {
        digests: ["9901#0", "8001", "888001"].map(digests).into(),
        rooms: [("9901".to_string(), vec!["9901#0".to_string()])].into(),
        stations: [
            ("8001".to_string(), (Station::Vto, addr(DOOR).ip())),
            (
                "888001".to_string(),
                (Station::Vts, addr("127.0.0.9:5060").ip()),
            ),
        ]
        .into(),
    };
    let centre = Centre {
        number: "888888".into(),
        from: 8 * 60,
        to: 18 * 60,
    };
    let mut d = Dispatcher::new(directory, centre, Bindings::default(), [3; 16]);
    d.start(Local {
        host: addr(DEVICE).ip(),
        port: 5060,
        all: vec![],
    });
    d
}

/// `user` registers from `from` with the crate's own REGISTER client.
fn register(d: &mut Dispatcher, user: &str, from: &str, now: Mono) -> Output {
    let mut c = Registration::new(
        Config {
            server: addr(DEVICE),
            domain: "VDP".into(),
            user: user.into(),
            password: "123456".into(),
            local: addr(from),
            expires: 60,
            timers: Timers::default(),
        },
        [5; 16],
    );
    let mut to_device = c.start(now);
    let mut last = Output::default();
    for _ in 0..3 {
        let Some(req) = to_device.pop() else { break };
        last = d.handle(&req, addr(from), Transport::Udp, now, 600);
        for (_, to, b) in &last.sends {
            assert_eq!(*to, addr(from));
            let resp = parse(b).unwrap_or_else(|e| panic!("{e}"));
            to_device = c.on_response_from(&resp, addr(DEVICE), now);
        }
    }
    assert!(
        matches!(c.status(), Status::Registered { .. }),
        "{user}: {:?}",
        c.status()
    );
    last
}

fn invite(to: &str, branch: &str, call_id: &str) -> String {
    format!(
        "INVITE sip:{to}@{DEVICE} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {DOOR};branch={branch};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:8001@{DEVICE}>;tag=door\r\n\
         To: <sip:{to}@{DEVICE}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:8001@{DOOR}>\r\nContent-Length: 0\r\n\r\n"
    )
}

fn sent_to(out: &Output, to: &str) -> Vec<Message> {
    out.sends
        .iter()
        .filter(|(_, a, _)| *a == addr(to))
        .map(|(_, _, b)| parse(b).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn line(m: &Message) -> String {
    match &m.start {
        StartLine::Request { method, uri } => format!("{method} {uri}"),
        StartLine::Response { code, reason } => format!("{code} {reason}"),
    }
}

fn answer(req: &Message, code: u16, reason: &str) -> Vec<u8> {
    let mut r = response(req, code, reason, &[]);
    let to = req.headers.get("To").unwrap_or_default().to_string();
    r.headers.set("To", format!("{to};tag=m0"));
    r.to_bytes()
}

/// The door and the monitor registered; the door calls the room.
fn ringing(d: &mut Dispatcher) -> Message {
    let out = register(d, "9901#0", MON0, T0);
    assert!(matches!(&out.events[..], [Event::Registered { account, .. }] if account == "9901#0"));
    register(d, "8001", DOOR, T0);
    let out = d.handle(
        invite("9901", "z9hG4bKdoor1", "call-1").as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0 + 1_000,
        600,
    );
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "100 Trying");
    assert!(matches!(&out.events[..], [Event::CallStarted { to, .. }] if to == "9901"));
    sent_to(&out, MON0).pop().unwrap_or_else(|| {
        panic!(
            "{:?}",
            out.sends
                .iter()
                .map(|s| (s.1, String::from_utf8_lossy(&s.2).to_string()))
                .collect::<Vec<_>>()
        )
    })
}

#[test]
fn a_call_between_registered_devices_is_routed_and_logged() {
    let mut d = dispatcher();
    let fwd = ringing(&mut d);
    assert_eq!(line(&fwd), "INVITE sip:9901%230@127.0.0.1:5080");
    let out = d.handle(
        &answer(&fwd, 200, "OK"),
        addr(MON0),
        Transport::Udp,
        T0 + 3_000,
        600,
    );
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "200 OK");
    let Some(Event::CallSettled { row, code: 200, .. }) = out.events.first() else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (row.room_no.as_str(), row.centre, &row.end),
        ("9901", false, &CallEnd::Answered)
    );
    let bye = format!(
        "BYE sip:9901%230@{MON0} SIP/2.0\r\nVia: SIP/2.0/UDP {DOOR};branch=z9hG4bKbye\r\n\
         Route: <sip:{DEVICE};lr>\r\nMax-Forwards: 70\r\nFrom: <sip:8001@{DEVICE}>;tag=door\r\n\
         To: <sip:9901@{DEVICE}>;tag=m0\r\nCall-ID: call-1\r\nCSeq: 2 BYE\r\n\r\n"
    );
    let out = d.handle(bye.as_bytes(), addr(DOOR), Transport::Udp, T0 + 13_000, 600);
    assert_eq!(
        line(&sent_to(&out, MON0)[0]),
        format!("BYE sip:9901%230@{MON0}")
    );
    let Some(Event::CallEnded { row, .. }) = out.events.first() else {
        panic!("{:?}", out.events)
    };
    assert_eq!(row.talk_ms, Some(10_000));
}

#[test]
fn a_strangers_response_changes_nothing_and_goes_nowhere() {
    let mut d = dispatcher();
    let fwd = ringing(&mut d);
    // The monitor's branch answered from another address.
    let out = d.handle(
        &answer(&fwd, 200, "OK"),
        addr(STRANGER),
        Transport::Udp,
        T0 + 2_000,
        600,
    );
    assert_eq!(out, Output::default());
    // A response for no transaction, our Via on top, a victim below.
    let forged = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP {DEVICE};branch=z9hG4bK-vto-x-1\r\n\
         Via: SIP/2.0/TCP 127.0.0.3:5099;branch=z9hG4bKv\r\nFrom: <sip:a@b>;tag=1\r\n\
         To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"
    );
    let out = d.handle(
        forged.as_bytes(),
        addr(STRANGER),
        Transport::Udp,
        T0 + 2_000,
        600,
    );
    assert_eq!(out, Output::default());
    // The monitor's own answer still counts.
    let out = d.handle(
        &answer(&fwd, 486, "Busy Here"),
        addr(MON0),
        Transport::Udp,
        T0 + 2_100,
        600,
    );
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "486 Busy Here");
}

#[test]
fn only_the_caller_cancels_and_no_route_leads_outside() {
    let mut d = dispatcher();
    let fwd = ringing(&mut d);
    d.handle(
        &answer(&fwd, 180, "Ringing"),
        addr(MON0),
        Transport::Udp,
        T0 + 1_100,
        600,
    );
    let cancel = invite("9901", "z9hG4bKdoor1", "call-1")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("1 INVITE", "1 CANCEL");
    // The monitor (registered, but not the caller) cannot cancel.
    let out = d.handle(
        cancel.as_bytes(),
        addr(MON0),
        Transport::Udp,
        T0 + 1_200,
        600,
    );
    assert_eq!(
        line(&sent_to(&out, MON0)[0]),
        "481 Call/Transaction Does Not Exist"
    );
    let out = d.handle(
        cancel.as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0 + 1_300,
        600,
    );
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "200 OK");
    assert_eq!(
        line(&sent_to(&out, MON0)[0]),
        format!("CANCEL sip:9901%230@{MON0}")
    );
    // A Route to an address nobody registered or configured: 404.
    let routed = invite("9901", "z9hG4bKdoor2", "call-2").replace(
        "Max-Forwards",
        "Route: <sip:127.0.0.3:5099;lr;transport=tcp>\r\nMax-Forwards",
    );
    let out = d.handle(
        routed.as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0 + 2_000,
        600,
    );
    assert!(sent_to(&out, "127.0.0.3:5099").is_empty());
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "404 Not Found");
    // A Route to the configured VTS's address is a destination.
    let routed = invite("9901", "z9hG4bKdoor3", "call-3").replace(
        "Max-Forwards",
        "Route: <sip:127.0.0.9:5060;lr>\r\nMax-Forwards",
    );
    let out = d.handle(
        routed.as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0 + 2_000,
        600,
    );
    assert_eq!(sent_to(&out, "127.0.0.9:5060").len(), 1);
}

#[test]
fn strangers_are_refused_and_options_to_the_device_lists_allow() {
    let mut d = dispatcher();
    let out = d.handle(
        invite("9901", "z9hG4bKs", "call-s").as_bytes(),
        addr(STRANGER),
        Transport::Tcp,
        T0,
        600,
    );
    assert_eq!(out.sends[0].0, Transport::Tcp, "back over what it came on");
    assert_eq!(
        line(&sent_to(&out, STRANGER)[0]),
        "403 Forbidden (register first)"
    );
    let options = format!(
        "OPTIONS sip:{DEVICE} SIP/2.0\r\nVia: SIP/2.0/UDP {STRANGER};branch=z9hG4bKo\r\n\
         From: <sip:x@y>;tag=1\r\nTo: <sip:{DEVICE}>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\r\n"
    );
    let out = d.handle(options.as_bytes(), addr(STRANGER), Transport::Udp, T0, 600);
    let ok = &sent_to(&out, STRANGER)[0];
    assert_eq!(line(ok), "200 OK");
    let allow: Vec<&str> = ok.headers.get_all("Allow").collect();
    assert_eq!(allow.join(", "), ALLOW);
    // Garbage and requests without the basic headers.
    // (counted as dropped by the server)
    assert_eq!(
        d.handle(b"\x00garbage", addr(STRANGER), Transport::Udp, T0, 600),
        Output {
            malformed: true,
            ..Output::default()
        }
    );
    let out = d.handle(
        b"OPTIONS sip:x SIP/2.0\r\n\r\n",
        addr(STRANGER),
        Transport::Udp,
        T0,
        600,
    );
    assert_eq!(line(&sent_to(&out, STRANGER)[0]), "400 Bad Request");
}

#[test]
fn a_station_registers_only_from_its_address_and_the_centre_keeps_its_hours() {
    let mut d = dispatcher();
    let mut c = Registration::new(
        Config {
            server: addr(DEVICE),
            domain: "VDP".into(),
            user: "8001".into(),
            password: "123456".into(),
            local: addr(STRANGER),
            expires: 60,
            timers: Timers::default(),
        },
        [5; 16],
    );
    let req = c.start(T0).pop().expect("a REGISTER");
    let out = d.handle(&req, addr(STRANGER), Transport::Udp, T0, 600);
    assert_eq!(
        line(&sent_to(&out, STRANGER)[0]),
        "403 Forbidden (not the VTO's IP Address)"
    );
    assert!(matches!(&out.events[..], [Event::StationElsewhere { .. }]));
    // The centre at 20:00: outside its hours.
    register(&mut d, "8001", DOOR, T0);
    let out = d.handle(
        invite("888888", "z9hG4bKc", "call-c").as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0,
        20 * 60,
    );
    assert_eq!(
        line(&sent_to(&out, DOOR)[0]),
        "480 Outside Call Centre Time"
    );
    let Some(Event::CallSettled { row, .. }) = out.events.get(1) else {
        panic!("{:?}", out.events)
    };
    assert!(row.centre);
}

#[test]
fn registrations_expire_and_a_client_device_is_not_the_server() {
    let mut d = dispatcher();
    register(&mut d, "9901#0", MON0, T0);
    assert!(d.tick(T0 + 59_000).events.is_empty());
    let out = d.tick(T0 + 61_000);
    assert_eq!(out.events, vec![Event::Expired(vec!["9901#0".into()])]);
    // Registering to another server: requests get 480, REGISTER 403, and
    // only the server's address answers the client.
    let server = "127.0.0.4:5060";
    let out = d.set_upstream(
        Some(Config {
            server: addr(server),
            domain: "VDP".into(),
            user: "8001".into(),
            password: "123456".into(),
            local: addr(DEVICE),
            expires: 60,
            timers: Timers::default(),
        }),
        T0,
    );
    assert!(d.is_client());
    let req = sent_to(&out, server).pop().expect("a REGISTER upstream");
    let ok = response(
        &req,
        200,
        "OK",
        &[("Contact", format!("<sip:8001@{DEVICE}>;expires=60"))],
    );
    let out = d.handle(&ok.to_bytes(), addr(STRANGER), Transport::Udp, T0 + 10, 600);
    assert!(out.events.is_empty());
    assert_eq!(d.upstream_status(), Some(&Status::Registering));
    let out = d.handle(&ok.to_bytes(), addr(server), Transport::Udp, T0 + 10, 600);
    assert!(matches!(
        &out.events[..],
        [Event::Upstream(Status::Registered { .. })]
    ));
    let out = d.handle(
        invite("9901", "z9hG4bKu", "call-u").as_bytes(),
        addr(DOOR),
        Transport::Udp,
        T0,
        600,
    );
    assert_eq!(line(&sent_to(&out, DOOR)[0]), "480 Temporarily Unavailable");
}

#[test]
fn a_message_is_answered_only_by_its_target() {
    let mut d = dispatcher();
    let target = SipUri::parse(&format!("sip:9901%230@{MON0}")).expect("uri");
    let text = uac::Text {
        from: "8001",
        target: &target,
        to: "9901#0",
        addr: addr(MON0),
        subject: "Notice",
        body: "Water off",
    };
    let (t, to, bytes) = d.message(7, &text, Transport::Udp, T0).expect("sent");
    assert_eq!((t, to), (Transport::Udp, addr(MON0)));
    let req = parse(&bytes).expect("parses");
    let ok = response(&req, 200, "OK", &[]).to_bytes();
    assert!(d
        .handle(&ok, addr(STRANGER), Transport::Udp, T0 + 5, 600)
        .events
        .is_empty());
    let out = d.handle(&ok, addr(MON0), Transport::Udp, T0 + 5, 600);
    assert_eq!(
        out.events,
        vec![Event::MessageOutcome {
            id: 7,
            outcome: uac::Outcome::Answered(200, "OK".into())
        }]
    );
}

const MON1: &str = "127.0.0.1:5082";

fn door_call(callee: &str) -> DoorCall {
    DoorCall {
        callee: callee.into(),
        user: "8001".into(),
        offer: Bytes::from_static(b"v=0\r\n"),
        ring_timeout: 30_000,
        max_talk: 180_000,
    }
}

fn door_events(out: &Output) -> Vec<call::Event> {
    out.events
        .iter()
        .filter_map(|e| match e {
            Event::Door { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_door_rings_every_monitor_of_the_room_and_the_first_answer_takes_it() {
    let mut d = dispatcher();
    // Two monitors of 9901: the room gets a second one.
    let mut dir = d.directory().clone();
    dir.digests.extend([digests("9901#1")]);
    dir.rooms
        .insert("9901".into(), vec!["9901#0".into(), "9901#1".into()]);
    d.set_directory(dir);
    register(&mut d, "9901#0", MON0, T0);
    register(&mut d, "9901#1", MON1, T0);
    let (call_id, out) = d
        .door_call(door_call("9901"), T0 + 1_000, 600)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (i0, i1) = (sent_to(&out, MON0), sent_to(&out, MON1));
    assert_eq!(line(&i0[0]), "INVITE sip:9901%230@127.0.0.1:5080");
    assert_eq!(line(&i1[0]), "INVITE sip:9901%231@127.0.0.1:5082");
    for i in [&i0[0], &i1[0]] {
        assert_eq!(i.headers.get("Call-ID"), Some(call_id.as_str()));
        assert!(i.headers.get("To").is_some_and(|t| t.contains("sip:9901@")));
    }
    assert_eq!(d.door_calls(), 1);
    let out = d.handle(
        &answer(&i0[0], 180, "Ringing"),
        addr(MON0),
        Transport::Udp,
        T0 + 1_500,
        600,
    );
    assert_eq!(door_events(&out), [call::Event::Ringing { branch: 0 }]);
    // The second monitor answers: ACK to it, CANCEL to the first.
    let out = d.handle(
        &answer(&i1[0], 200, "OK"),
        addr(MON1),
        Transport::Udp,
        T0 + 2_000,
        600,
    );
    assert_eq!(
        line(&sent_to(&out, MON1)[0]),
        "ACK sip:9901%231@127.0.0.1:5082"
    );
    let cancel = &sent_to(&out, MON0)[0];
    assert_eq!(line(cancel), "CANCEL sip:9901%230@127.0.0.1:5080");
    assert_eq!(
        cancel.headers.get("Reason"),
        Some(call::COMPLETED_ELSEWHERE)
    );
    assert!(matches!(
        &door_events(&out)[..],
        [call::Event::Answered { branch: 1, .. }]
    ));
    assert_eq!(d.door_callee(&call_id, 1).as_deref(), Some("9901#1"));
    assert_eq!(d.door_media_ip(&call_id, 1), Some(addr(MON1).ip()));
    // A stranger's BYE with the Call-ID is refused, the monitor's ends it.
    let dialog = match &door_events(&out)[0] {
        call::Event::Answered { dialog, .. } => dialog.clone(),
        e => panic!("{e:?}"),
    };
    let bye = format!(
        "BYE sip:8001@{DEVICE} SIP/2.0\r\nVia: SIP/2.0/UDP {MON1};branch=z9hG4bKbye\r\n\
         From: <sip:9901%231@{DEVICE}>;tag={}\r\nTo: <sip:8001@{DEVICE}>;tag={}\r\n\
         Call-ID: {call_id}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
        dialog.remote_tag, dialog.local_tag
    );
    let out = d.handle(
        bye.as_bytes(),
        addr(STRANGER),
        Transport::Udp,
        T0 + 3_000,
        600,
    );
    assert_eq!(
        line(&sent_to(&out, STRANGER)[0]),
        "481 Call/Transaction Does Not Exist"
    );
    assert!(door_events(&out).is_empty());
    let out = d.handle(bye.as_bytes(), addr(MON1), Transport::Udp, T0 + 4_000, 600);
    assert_eq!(line(&sent_to(&out, MON1)[0]), "200 OK");
    assert_eq!(
        door_events(&out),
        [call::Event::Ended(call::End::HungUpByCallee)]
    );
    // Once its transactions are over the call is forgotten.
    d.tick(T0 + 40_000);
    assert_eq!(d.door_calls(), 0);
}

#[test]
fn a_door_call_to_nobody_is_refused_and_the_ring_time_ends_one() {
    let mut d = dispatcher();
    assert_eq!(
        d.door_call(door_call("9902"), T0, 600).err(),
        Some((404, "Not Found".into()))
    );
    assert_eq!(
        d.door_call(door_call("9901"), T0, 600).err(),
        Some((480, "Temporarily Unavailable".into()))
    );
    assert_eq!(
        d.door_call(door_call("888888"), T0, 7 * 60).err(),
        Some((480, "Outside Call Centre Time".into()))
    );
    register(&mut d, "9901#0", MON0, T0);
    let (call_id, out) = d
        .door_call(door_call("9901"), T0, 600)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let invite = &sent_to(&out, MON0)[0];
    d.handle(
        &answer(invite, 180, "Ringing"),
        addr(MON0),
        Transport::Udp,
        T0 + 100,
        600,
    );
    let out = d.tick(T0 + 30_000);
    let sent: Vec<String> = sent_to(&out, MON0).iter().map(line).collect();
    assert!(
        sent.contains(&"CANCEL sip:9901%230@127.0.0.1:5080".to_string()),
        "{sent:?}"
    );
    assert!(out.events.iter().any(|e| matches!(e, Event::Door { call_id: c, event: call::Event::Ended(call::End::NotAnswered) } if *c == call_id)));
    // The device hangs up a call it no longer has: nothing.
    assert_eq!(d.door_hang_up(&call_id, T0 + 31_000), Output::default());
    // Four calls at once at most; the ended one (still waiting for its
    // 487) does not count.
    assert_eq!(d.door_calls(), 1);
    for _ in 0..MAX_DOOR_CALLS {
        assert!(d.door_call(door_call("9901"), T0 + 31_000, 600).is_ok());
    }
    assert_eq!(
        d.door_call(door_call("9901"), T0 + 31_000, 600)
            .err()
            .map(|e| e.0),
        Some(486)
    );
}

#[test]
fn registered_to_another_server_the_door_calls_through_it() {
    let mut d = dispatcher();
    let server = addr("127.0.0.5:5060");
    d.set_upstream(
        Some(Config {
            server,
            domain: "VDP".into(),
            user: "8001".into(),
            password: "123456".into(),
            local: addr(DEVICE),
            expires: 60,
            timers: Timers::default(),
        }),
        T0,
    );
    let (call_id, out) = d
        .door_call(door_call("9901"), T0, 600)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let invite = &sent_to(&out, "127.0.0.5:5060")[0];
    assert_eq!(line(invite), "INVITE sip:9901@VDP");
    // Through a server the media comes from the monitor, not from it.
    assert_eq!(d.door_media_ip(&call_id, 0), None);
    // The server's challenge is answered with the account's password.
    let mut challenge = response(invite, 407, "Proxy Authentication Required", &[]);
    challenge.headers.push(
        "Proxy-Authenticate",
        "Digest realm=\"VDP\", nonce=\"abc\", algorithm=MD5",
    );
    let out = d.handle(&challenge.to_bytes(), server, Transport::Udp, T0 + 100, 600);
    let again = sent_to(&out, "127.0.0.5:5060");
    assert_eq!(line(&again[0]), "ACK sip:9901@VDP");
    assert_eq!(line(&again[1]), "INVITE sip:9901@VDP");
    assert!(again[1]
        .headers
        .get("Proxy-Authorization")
        .is_some_and(|a| a.contains("username=\"8001\"") && a.contains("realm=\"VDP\"")));
    assert_eq!(again[1].headers.get("Call-ID"), Some(call_id.as_str()));
}

/// An INVITE from `from` (as 9901#0) to the device's own number.
fn watch(from: &str, branch: &str, call_id: &str) -> String {
    format!(
        "INVITE sip:8009@{DEVICE} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch={branch};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:9901%230@{DEVICE}>;tag=mon\r\n\
         To: <sip:8009@{DEVICE}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:9901%230@{from}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: 5\r\n\r\nv=0\r\n"
    )
}

#[test]
fn a_monitor_calling_the_vto_no_is_answered_by_the_door_a_stranger_is_not() {
    let mut d = dispatcher();
    d.set_vto_no("8009");
    register(&mut d, "9901#0", MON0, T0);
    // A stranger's INVITE goes to the proxy, which refuses it.
    let out = d.handle(
        watch(STRANGER, "z9hG4bKs", "w-0").as_bytes(),
        addr(STRANGER),
        Transport::Udp,
        T0 + 500,
        600,
    );
    assert!(door_events(&out).is_empty());
    assert_eq!(
        line(&sent_to(&out, STRANGER)[0]),
        "403 Forbidden (register first)"
    );
    let out = d.handle(
        watch(MON0, "z9hG4bKw", "w-1").as_bytes(),
        addr(MON0),
        Transport::Udp,
        T0 + 1_000,
        600,
    );
    assert_eq!(line(&sent_to(&out, MON0)[0]), "100 Trying");
    assert_eq!(
        door_events(&out),
        [call::Event::Offered {
            caller: "9901#0".into(),
            sdp: Bytes::from_static(b"v=0\r\n"),
        }]
    );
    assert_eq!(d.door_media_ip("w-1", 0), Some(addr(MON0).ip()));
    let out = d
        .door_accept("w-1", Bytes::from_static(b"v=0 answer"), T0 + 1_010)
        .unwrap_or_else(|| panic!("the call waits for its answer"));
    assert!(d.door_accept("w-1", Bytes::new(), T0 + 1_020).is_none());
    let ok = sent_to(&out, MON0).remove(0);
    assert_eq!(line(&ok), "200 OK");
    assert_eq!(&ok.body[..], b"v=0 answer");
    let tag = ok
        .headers
        .get("To")
        .and_then(|t| NameAddr::parse(t).ok())
        .and_then(|t| t.tag().map(str::to_string))
        .unwrap_or_default();
    let bye = format!(
        "BYE sip:8009@{DEVICE} SIP/2.0\r\nVia: SIP/2.0/UDP {MON0};branch=z9hG4bKbye\r\n\
         From: <sip:9901%230@{DEVICE}>;tag=mon\r\nTo: <sip:8009@{DEVICE}>;tag={tag}\r\n\
         Call-ID: w-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    let out = d.handle(bye.as_bytes(), addr(MON0), Transport::Udp, T0 + 5_000, 600);
    assert_eq!(line(&sent_to(&out, MON0)[0]), "200 OK");
    assert_eq!(
        door_events(&out),
        [call::Event::Ended(call::End::HungUpByCallee)]
    );
    // Busy: a monitor's fifth call at once is refused.
    for n in 0..MAX_DOOR_CALLS {
        let id = format!("w-busy-{n}");
        d.handle(
            watch(MON0, &format!("z9hG4bKb{n}"), &id).as_bytes(),
            addr(MON0),
            Transport::Udp,
            T0 + 6_000,
            600,
        );
    }
    let out = d.handle(
        watch(MON0, "z9hG4bKbusy", "w-busy").as_bytes(),
        addr(MON0),
        Transport::Udp,
        T0 + 6_000,
        600,
    );
    assert_eq!(line(&sent_to(&out, MON0)[0]), "486 Busy Here");
    assert!(door_events(&out).is_empty());
}

/// A REGISTER for `user` from `from` with an Authorization that does not
/// parse.
fn garbage_register(user: &str, from: &str, n: u32) -> String {
    format!(
        "REGISTER sip:{DEVICE} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bKg{n};rport\r\n\
         From: <sip:{user}@{DEVICE}>;tag=g\r\nTo: <sip:{user}@{DEVICE}>\r\n\
         Call-ID: garbage-{n}\r\nCSeq: {n} REGISTER\r\nContact: <sip:{user}@{from}>\r\n\
         Authorization: Digest garbage\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn forged_garbage_from_a_station_or_upstream_address_never_blocks_it() {
    let mut d = dispatcher();
    let vts = "127.0.0.9:5060";
    for n in 0..20 {
        let out = d.handle(
            garbage_register("888001", vts, n).as_bytes(),
            addr(vts),
            Transport::Udp,
            T0,
            600,
        );
        assert_eq!(line(&sent_to(&out, vts)[0]), "400 Bad Request");
    }
    // The VTS registers all the same (a new Call-ID: it just started).
    register(&mut d, "888001", vts, T0);
    // A stranger's address is blocked by the same.
    for n in 0..5 {
        d.handle(
            garbage_register("9901%230", STRANGER, n).as_bytes(),
            addr(STRANGER),
            Transport::Udp,
            T0,
            600,
        );
    }
    let out = d.handle(
        garbage_register("9901%230", STRANGER, 9).as_bytes(),
        addr(STRANGER),
        Transport::Udp,
        T0,
        600,
    );
    assert_eq!(line(&sent_to(&out, STRANGER)[0]), "403 Forbidden");
    // The server this VTO registers to is trusted while it is so.
    let upstream = addr("127.0.0.7:5060");
    d.set_upstream(
        Some(Config {
            server: upstream,
            domain: "VDP".into(),
            user: "8001".into(),
            password: "123456".into(),
            local: addr(DEVICE),
            expires: 60,
            timers: Timers::default(),
        }),
        T0,
    );
    assert!(d.registrar.known_good(upstream.ip(), T0));
    d.set_upstream(None, T0);
    assert!(!d.registrar.known_good(upstream.ip(), T0));
}
