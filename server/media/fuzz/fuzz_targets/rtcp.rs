//! Any bytes as a compound RTCP packet: reading never panics, reads no
//! more packets than 4-byte headers fit, and every sender report read
//! writes to one that reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::rtcp::{self, Packet};

fuzz_target!(|data: &[u8]| {
    let packets = rtcp::read(data);
    assert!(packets.len() <= data.len() / 4);
    for p in packets {
        if let Packet::SenderReport { ssrc, info, blocks } = &p {
            let again = rtcp::read(&rtcp::sender_report(*ssrc, info, blocks, "fuzz"));
            assert_eq!(again, [p]);
        }
    }
});
