//! The device's whole SIP routing fed any sequence of messages from a few
//! peers (registered devices, a station, strangers) over UDP or TCP at any
//! times: it never panics, everything it sends parses, and its state is
//! bounded and drains. Messages are separated by a NUL byte; the byte
//! before each says who sent it, over what, and how far the clock moves
//! (and whether the door accepts a monitor's call to it, the VTO No.).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    bindings::Bindings,
    digest::{ha1, Algorithm},
    call,
    dispatch::{Centre, Directory, Dispatcher, Event, Local, Station, Transport},
    message,
};

const PEERS: [&str; 4] = [
    "127.0.0.1:5071",
    "127.0.0.1:5080",
    "[::1]:5081",
    "127.0.0.9:5099",
];

fuzz_target!(|data: &[u8]| {
    let digest = |u: &str| {
        (
            u.to_string(),
            (
                ha1(Algorithm::Md5, u, "VDP", "123456"),
                ha1(Algorithm::Sha256, u, "VDP", "123456"),
            ),
        )
    };
    let directory = Directory {
        digests: ["9901#0", "9901#1", "8001"].map(digest).into(),
        rooms: [(
            "9901".to_string(),
            vec!["9901#0".to_string(), "9901#1".to_string()],
        )]
        .into(),
        stations: [(
            "8001".to_string(),
            (Station::Vto, "127.0.0.1".parse().expect("ip")),
        )]
        .into(),
    };
    let centre = Centre {
        number: "888888".into(),
        from: 0,
        to: 1439,
    };
    let mut d = Dispatcher::new(directory, centre, Bindings::default(), [2; 16]);
    d.start(Local {
        host: "127.0.0.1".parse().expect("ip"),
        port: 5060,
        all: vec!["::1".parse().expect("ip")],
    });
    d.set_vto_no("8009");
    let mut now = sip::time::Mono(1_800_000_000_000);
    for chunk in data.split(|b| *b == 0) {
        let Some((&head, bytes)) = chunk.split_first() else {
            continue;
        };
        now = now + i64::from(head >> 3) * 700;
        let source = PEERS[usize::from(head & 3)].parse().expect("address");
        let transport = if head & 4 == 0 {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        let mut out = d.handle(bytes, source, transport, now, 600);
        for e in std::mem::take(&mut out.events) {
            if let Event::Door {
                call_id,
                event: call::Event::Offered { .. },
            } = e
            {
                let decided = if head & 0x80 == 0 {
                    d.door_accept(&call_id, "v=0\r\n".into(), now)
                        .unwrap_or_default()
                } else {
                    d.door_refuse(&call_id, 486, "Busy Here", now)
                };
                out.sends.extend(decided.sends);
            }
        }
        assert!(d.door_calls() <= 256);
        let timed = d.tick(now);
        for (_, _, b) in out.sends.iter().chain(timed.sends.iter()) {
            if let Err(e) = message::parse(b) {
                panic!("{e}\n{}", String::from_utf8_lossy(b));
            }
        }
    }
    // Everything ends in the end: nothing more to send after an hour.
    d.tick(now + 30 * 60_000);
    d.tick(now + 60 * 60_000);
    assert!(d.tick(now + 61 * 60_000).sends.is_empty());
});
