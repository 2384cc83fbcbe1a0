//! Any sequence of REGISTERs from a few addresses at any times: the
//! registrar never panics, every answer parses, and no account holds more
//! contacts than allowed. Messages are separated by a NUL byte; the byte
//! before each says who sent it, over what, and how far the clock moves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    bindings::{Bindings, MAX_CONTACTS},
    digest::{ha1, Algorithm},
    message,
    registrar::Registrar,
};

const SOURCES: [&str; 3] = ["127.0.0.1:5080", "127.0.0.2:5090", "[::1]:5070"];

fuzz_target!(|data: &[u8]| {
    let mut r = Registrar::new("VDP", "vto", Bindings::default());
    r.set_algorithms(&[Algorithm::Md5, Algorithm::Sha256]);
    let accounts = |user: &str, algorithm: Algorithm| {
        ["9901#0", "8001"]
            .contains(&user)
            .then(|| ha1(algorithm, user, "VDP", "123456"))
    };
    let mut now = sip::time::Mono(1_800_000_000_000);
    let mut n = 0u8;
    for chunk in data.split(|b| *b == 0) {
        let Some((&head, bytes)) = chunk.split_first() else {
            continue;
        };
        now = now + i64::from(head >> 3) * 1_000;
        let source = SOURCES[usize::from(head & 3) % SOURCES.len()]
            .parse()
            .expect("address");
        let transport = if head & 4 == 0 { "UDP" } else { "TCP" };
        let Ok(req) = message::parse(bytes) else {
            continue;
        };
        let random = || {
            n = n.wrapping_add(1);
            [n; 16]
        };
        let (resp, _) = r.register(&req, source, transport, &accounts, random, now);
        let printed = resp.to_bytes();
        if let Err(e) = message::parse(&printed) {
            panic!("{e}\n{}", String::from_utf8_lossy(&printed));
        }
        for list in r.bindings().as_map().values() {
            assert!(list.len() <= MAX_CONTACTS);
        }
    }
});
