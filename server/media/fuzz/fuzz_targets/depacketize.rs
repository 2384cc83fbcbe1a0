//! Any bytes as a stream of H.264 RTP packets through one depacketizer:
//! each record is a flags byte (bit 0 marker, bit 1 next timestamp, bits
//! 2-3 the step of the sequence number: +1, +2, 0, -1), a length byte and
//! that many payload bytes. Nothing panics, every access unit popped is
//! within MAX_ACCESS_UNIT and holds no empty NAL unit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::{
    h264::{Depacketizer, MAX_ACCESS_UNIT},
    rtp::{self, Header},
};

fuzz_target!(|data: &[u8]| {
    let mut d = Depacketizer::new();
    let mut header = Header {
        marker: false,
        payload_type: 96,
        sequence: 65500,
        timestamp: 0,
        ssrc: 1,
    };
    let mut rest = data;
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        header.marker = flags & 1 != 0;
        if flags & 2 != 0 {
            header.timestamp = header.timestamp.wrapping_add(3000);
        }
        header.sequence = header
            .sequence
            .wrapping_add([1, 2, 0, u16::MAX][usize::from(flags >> 2 & 3)]);
        let bytes = header.write(payload);
        let _ = d.push(&rtp::parse(&bytes).expect("a written packet reads"));
        while let Some(unit) = d.pop() {
            assert!(unit.nals.iter().map(|n| n.len()).sum::<usize>() <= MAX_ACCESS_UNIT);
            assert!(unit.nals.iter().all(|n| !n.is_empty()));
        }
    }
});
