//! The REGISTER client fed any responses, from its server or from a
//! stranger, at any times: it never panics and everything it sends
//! parses. The byte before each response says who sent it, whether the
//! timers run and how far the clock moves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    client::{Config, Registration},
    message,
    transaction::Timers,
};

fuzz_target!(|data: &[u8]| {
    let server = "127.0.0.1:5060".parse().expect("address");
    let stranger = "127.0.0.2:5060".parse().expect("address");
    let mut c = Registration::new(
        Config {
            server,
            domain: "VDP".into(),
            user: "9901#0".into(),
            password: "123456".into(),
            local: "127.0.0.1:5090".parse().expect("address"),
            expires: 60,
            timers: Timers::default(),
        },
        [9; 16],
    );
    let mut now = sip::time::Mono(1_800_000_000_000);
    let mut sent = c.start(now);
    for chunk in data.split(|b| *b == 0) {
        let Some((&head, bytes)) = chunk.split_first() else {
            continue;
        };
        for b in &sent {
            if let Err(e) = message::parse(b) {
                panic!("{e}\n{}", String::from_utf8_lossy(b));
            }
        }
        now = now + i64::from(head >> 2) * 500;
        sent = match message::parse(bytes) {
            // The fuzzer writes responses; the last REGISTER's Call-ID and
            // branch are what a real server would copy, so it may learn them
            // from the seeds.
            Ok(m) => c.on_response_from(&m, if head & 1 == 0 { server } else { stranger }, now),
            Err(_) => Vec::new(),
        };
        if head & 2 != 0 {
            sent.extend(c.on_timer(now));
        }
    }
    for b in c.stop(now) {
        assert!(message::parse(&b).is_ok());
    }
});
