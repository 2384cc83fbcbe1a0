//! Any bytes, fed in chunks of a size the input picks: the decoder never
//! panics, every frame it returns re-encodes to the bytes it was read from
//! (the two reserved header words zeroed), frames are bounded, and a
//! frame's body parses as a request or not without panicking.
#![no_main]

use dahua::dhip::{Decoder, Frame, Request, HEADER_LEN, MAX_BODY};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut d = Decoder::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut failed = false;
    'feed: for piece in input.chunks(chunk) {
        d.push(piece);
        loop {
            match d.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    let mut at = 0;
    for f in &frames {
        assert!(f.body.len() <= MAX_BODY);
        let bytes = f.encode();
        let mut read = input[at..at + bytes.len()].to_vec();
        read[20..24].fill(0);
        read[28..32].fill(0);
        assert_eq!(bytes, read);
        at += bytes.len();
        assert!(bytes.len() >= HEADER_LEN);
        if let Ok(r) = Request::parse(&f.body) {
            let _ = (
                r.login(),
                r.codes(),
                r.config_name(),
                r.keep_alive_timeout(),
            );
        }
    }
    if !failed {
        assert_eq!(at + d.pending(), input.len());
    }
});
