//! Any bytes as an RTP packet: reading never panics, the payload and
//! padding fit in the packet, and the header written again with the
//! payload reads to the same header and payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::rtp;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = rtp::parse(data) else {
        return;
    };
    assert!(
        rtp::HEADER_LEN + p.csrc.len() + p.payload.len() + usize::from(p.padding) <= data.len()
    );
    let again = p.header.write(p.payload);
    let q = rtp::parse(&again).expect("a written packet reads");
    assert_eq!((q.header, q.payload), (p.header, p.payload));
});
