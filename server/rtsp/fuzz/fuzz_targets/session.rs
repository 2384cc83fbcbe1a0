//! Any conversation a client may have with the session, at any times: the
//! session never panics, every answer echoes its request's CSeq, and the
//! state stays consistent (tracks only while set up, each once, on
//! interleaved channels of their own). The first byte picks what the
//! device offers; a SETUP is committed with UDP ports or not by its CSeq.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtsp::message::{Incoming, Reader};
use rtsp::session::{Config, Outcome, Session, State, TIMEOUT_SECS};
use rtsp::transport::Chosen;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else {
        return;
    };
    let config = Config {
        audio: flags & 1 != 0,
        backchannel: flags & 2 != 0,
        udp: flags & 4 != 0,
    };
    let mut s = Session::new("6BC3A1D2E4F5", config, 0);
    let mut reader = Reader::new();
    reader.push(input);
    let mut now = 0u64;
    while let Ok(Some(unit)) = reader.next() {
        now += 7_919;
        let req = match unit {
            Incoming::Interleaved { channel, .. } => {
                if let Some(c) = s.interleaved(channel, now) {
                    assert!(s.tracks().iter().any(|t| t.track == c.track));
                    assert!(!s.expired(now));
                }
                continue;
            }
            Incoming::Request(r) => r,
        };
        let response = match s.handle(&req, now) {
            Outcome::Reply(r) | Outcome::Pause(r) | Outcome::Teardown(r) => r,
            Outcome::Describe(d) => d.reply("v=0\r\n"),
            Outcome::Setup(setup) => {
                let ports = (req.cseq % 3 != 0).then_some((6970, 6971));
                s.setup(setup, ports, Some(req.cseq))
            }
            Outcome::Play(p) => {
                assert_eq!(s.state(), State::Playing);
                p.reply(&[(0, 1, 2), (1, 3, 4), (2, 5, 6)])
            }
        };
        assert_eq!(response.header("CSeq"), Some(req.cseq.to_string().as_str()));
        let bytes = response.to_bytes();
        assert!(bytes.starts_with(b"RTSP/1.0 "));
        let tracks = s.tracks();
        assert_eq!(tracks.is_empty(), s.state() == State::Init);
        assert_eq!(s.stream().is_some(), s.state() != State::Init);
        let mut channels = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            assert!(t.track <= 2);
            assert!(tracks[i + 1..].iter().all(|o| o.track != t.track));
            if let Chosen::Tcp {
                interleaved: (a, b),
            } = t.transport
            {
                assert!(a != b);
                channels.extend([a, b]);
            }
        }
        let n = channels.len();
        channels.sort_unstable();
        channels.dedup();
        assert_eq!(channels.len(), n);
        // A request answered 200 kept the session alive.
        if response.status == 200 {
            assert!(!s.expired(now + TIMEOUT_SECS * 1000));
        }
    }
});
