//! Any WHEP offer (`POST /api/whep/<source>`, and the pages' live view):
//! webrtc-rs's SDP parser, which reads it in the device, never panics, and
//! what it parses it writes out again as SDP it parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sdp::description::session::SessionDescription;

fuzz_target!(|data: &[u8]| {
    // The device takes the offer as UTF-8 text of at most 64 KiB.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut reader = std::io::Cursor::new(text.as_bytes());
    if let Ok(offer) = SessionDescription::unmarshal(&mut reader) {
        let again = offer.marshal();
        let mut reader = std::io::Cursor::new(again.as_bytes());
        assert!(SessionDescription::unmarshal(&mut reader).is_ok(), "{again}");
    }
});
