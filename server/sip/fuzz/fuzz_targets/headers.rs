//! Any text as a header value: the typed parsers never panic, and what
//! they print parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    digest::Credentials,
    header::{CSeq, NameAddr, SipUri, Via},
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = SipUri::parse(s) {
        assert_eq!(SipUri::parse(&u.to_string()).ok(), Some(u));
    }
    if let Ok(a) = NameAddr::parse(s) {
        assert_eq!(NameAddr::parse(&a.to_string()).ok(), Some(a));
    }
    if let Ok(v) = Via::parse(s) {
        assert_eq!(Via::parse(&v.to_string()).ok(), Some(v));
    }
    if let Ok(c) = CSeq::parse(s) {
        assert_eq!(CSeq::parse(&c.to_string()).ok(), Some(c));
    }
    let _ = Credentials::parse(s);
});
