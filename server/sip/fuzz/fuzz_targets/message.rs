//! Any bytes: parsing never panics, and what parses prints to bytes that
//! parse to the same message (Content-Length aside, which printing sets).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sip::message::frame_len(data);
    if let Ok(m) = sip::message::parse(data) {
        let printed = m.to_bytes();
        let again = sip::message::parse(&printed).expect("printed messages parse");
        let mut a = again.clone();
        let mut b = m.clone();
        a.headers.remove_all("Content-Length");
        b.headers.remove_all("Content-Length");
        assert_eq!(a, b);
        assert_eq!(sip::message::parse(&again.to_bytes()).ok(), Some(again));
    }
});
