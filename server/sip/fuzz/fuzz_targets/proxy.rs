//! Any sequence of messages, from any of a few peers, at any times: the
//! proxy never panics, everything it sends parses, and its memory stays
//! bounded. Messages are separated by a NUL byte; the byte before each
//! says who sent it (one of three registered devices, or a stranger) and
//! how far the clock moves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    header::SipUri,
    message,
    proxy::{Config, Locator, Out, Peer, Proxy, Target, MAX_TRANSACTIONS},
    transaction::Timers,
};

const PEERS: [&str; 4] = [
    "127.0.0.1:5071",
    "127.0.0.1:5080",
    "[::1]:5081",
    "127.0.0.9:5099",
];

fn peer(i: usize) -> Peer {
    Peer {
        addr: PEERS[i % PEERS.len()].parse().expect("address"),
        tcp: i % 5 == 4,
    }
}

struct Devices;

impl Locator for Devices {
    fn trusted(&self, source: &Peer) -> bool {
        PEERS[..3].iter().any(|p| p.parse().ok() == Some(source.addr))
    }
    fn locate(&self, user: &str) -> Result<Vec<Target>, (u16, String)> {
        match user {
            "9901" => Ok(vec![
                Target { uri: "sip:9901@127.0.0.1:5080".into(), peer: peer(1) },
                Target { uri: "sip:9901%231@[::1]:5081".into(), peer: peer(2) },
            ]),
            "8001" => Ok(vec![Target { uri: "sip:8001@127.0.0.1:5071".into(), peer: peer(0) }]),
            "9902" => Err((480, "Temporarily Unavailable".into())),
            _ => Err((404, "Not Found".into())),
        }
    }
    fn contact(&self, uri: &SipUri) -> Option<Peer> {
        let port = uri.port.unwrap_or(5060);
        PEERS[..3]
            .iter()
            .position(|p| p.ends_with(&format!(":{port}")))
            .map(peer)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut proxy = Proxy::new(
        Config {
            host: "127.0.0.1".parse().expect("ip"),
            port: 5060,
            local: vec!["::1".parse().expect("ip")],
            ring_timeout: 30_000,
            timers: Timers::default(),
        },
        [1; 16],
    );
    let mut now = sip::time::Mono(1_800_000_000_000);
    for chunk in data.split(|b| *b == 0) {
        let Some((&head, bytes)) = chunk.split_first() else {
            continue;
        };
        now = now + i64::from(head >> 3) * 700;
        let out = match message::parse(bytes) {
            Ok(m) if m.method().is_some() => {
                proxy.on_request(m, peer(usize::from(head & 7)), now, &Devices)
            }
            Ok(m) => proxy.on_response(m, &peer(usize::from(head & 7)), now),
            Err(_) => Vec::new(),
        };
        let timed = proxy.on_timer(now);
        for o in out.iter().chain(timed.iter()) {
            if let Out::Send(_, b) = o {
                if let Err(e) = message::parse(b) {
                    panic!("{e}\n{}", String::from_utf8_lossy(b));
                }
            }
        }
        assert!(proxy.len() <= MAX_TRANSACTIONS);
    }
    // Everything ends in the end.
    proxy.on_timer(now + 10 * 60_000);
    proxy.on_timer(now + 20 * 60_000);
    assert!(proxy.is_empty(), "{} transactions left", proxy.len());
});
