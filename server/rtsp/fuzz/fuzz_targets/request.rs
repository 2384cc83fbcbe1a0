//! Any bytes on the RTSP connection, fed in chunks of a size the input
//! picks: the reader never panics, reads the same units (or stops at the
//! same error) as when fed everything at once, keeps its bounds; what it
//! reads goes through the URL and Transport parsers, and what a URL names
//! its Content-Base and track URLs name again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtsp::message::{Incoming, Reader, MAX_BODY, MAX_FRAME};
use rtsp::target::{self, Target};
use rtsp::transport;

type Read = (Vec<Incoming>, Option<rtsp::Error>, usize);

fn read(input: &[u8], chunk: usize) -> Read {
    let mut r = Reader::new();
    let mut units = Vec::new();
    for piece in input.chunks(chunk) {
        r.push(piece);
        loop {
            match r.next() {
                Ok(Some(u)) => units.push(u),
                Ok(None) => break,
                Err(e) => return (units, Some(e), r.pending()),
            }
        }
    }
    (units, None, r.pending())
}

fn url(u: &str) {
    let _ = target::bare_track(u);
    let base = target::content_base(u);
    assert!(base.ends_with('/'));
    if let Ok(t) = Target::parse(u) {
        assert_eq!(
            Target::parse(&base).map(|b| b.stream),
            Ok(t.stream),
            "{u:?}"
        );
        for n in [0, 2] {
            let track = Target::parse(&target::track_url(&base, n));
            assert_eq!(
                track,
                Ok(Target {
                    stream: t.stream,
                    track: Some(n)
                }),
                "{u:?}"
            );
        }
    }
}

fn transport_header(h: &str) {
    for t in transport::alternatives(h).flatten() {
        // What is chosen is one of the alternatives.
        assert!(transport::choose(h, true).is_ok());
        if t.is_tcp() {
            assert!(transport::choose(h, false).is_ok());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let chunked = read(input, chunk);
    assert_eq!(read(input, input.len().max(1)), chunked);
    let (units, err, _) = chunked;
    for u in &units {
        match u {
            Incoming::Interleaved { payload, .. } => assert!(payload.len() <= MAX_FRAME),
            Incoming::Request(req) => {
                assert!(req.body.len() <= MAX_BODY);
                url(&req.url);
                for h in req.headers.get_all("Transport") {
                    transport_header(h);
                }
                let _ = (req.session_id(), req.requires().count());
            }
        }
    }
    if let Some(e) = err {
        assert!(e.response().to_bytes().starts_with(b"RTSP/1.0 4"));
    }
    // The parsers on their own, on any text.
    if let Ok(text) = std::str::from_utf8(input) {
        url(text);
        transport_header(text);
    }
});
