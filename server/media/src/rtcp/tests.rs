use super::*;

#[test]
fn ntp_time_of_unix_milliseconds() {
    assert_eq!(ntp(0), 2_208_988_800 << 32);
    // Half a second is half of 2^32.
    assert_eq!(ntp(1_700_000_000_500), 3_908_988_800 << 32 | 0x8000_0000);
    assert_eq!(ntp(1), 2_208_988_800 << 32 | 4_294_967);
    assert_eq!(ntp(-5), ntp(0));
}

#[test]
fn sender_report_bytes() {
    let info = SenderInfo {
        ntp: 0x0102_0304_0506_0708,
        rtp_timestamp: 0x1111_2222,
        packets: 3,
        octets: 480,
    };
    let b = sender_report(0xaabb_ccdd, &info, &[], "vto");
    assert_eq!(
        b,
        [
            // SR: V=2, no blocks, type 200, 7 words.
            0x80, 200, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x11, 0x22, 0x22,
            0, 0, 0, 3, 0, 0, 1, 224,
            // SDES: one chunk, type 202, 4 words: CNAME "vto", end, pad.
            0x81, 202, 0, 3, 0xaa, 0xbb, 0xcc, 0xdd, 1, 3, b'v', b't', b'o', 0, 0, 0,
        ]
    );
}

fn block(ssrc: u32, lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 64,
        cumulative_lost: lost,
        highest_sequence: 0x0001_0005,
        jitter: 37,
        last_sr: 0x0304_0506,
        delay_since_last_sr: 65536,
    }
}

/// Our report reads back whole; the SDES after it is passed over; the
/// 24-bit loss keeps its sign and is clamped to 24 bits.
#[test]
fn sender_report_round_trip() {
    let info = SenderInfo {
        ntp: ntp(1_700_000_000_250),
        rtp_timestamp: 160,
        packets: 1,
        octets: 160,
    };
    let blocks = [block(7, 12), block(8, -3), block(9, 1 << 30)];
    let read = read(&sender_report(5, &info, &blocks, "door@vto"));
    let mut clamped = blocks;
    clamped[2].cumulative_lost = 0x7f_ffff;
    assert_eq!(
        read,
        [Packet::SenderReport {
            ssrc: 5,
            info,
            blocks: clamped.to_vec(),
        }]
    );
}

/// The SDES item list ends with a zero byte even when the CNAME ends on a
/// 32-bit boundary; a CNAME is at most 255 bytes, and an SR holds at most
/// 31 blocks.
#[test]
fn sender_report_limits() {
    let b = sender_report(1, &SenderInfo::default(), &[], "ab");
    assert_eq!(
        b[28..],
        [0x81, 202, 0, 3, 0, 0, 0, 1, 1, 2, b'a', b'b', 0, 0, 0, 0]
    );
    let long = "x".repeat(300);
    let b = sender_report(1, &SenderInfo::default(), &[], &long);
    // 255 bytes of name, the end byte, padded: 296 - 28 bytes of SDES.
    assert_eq!((b.len(), b[37], b[38 + 255]), (296, 255, 0));
    assert_eq!(b[30..32], [0, 66]);
    let many = vec![block(1, 0); 40];
    let b = sender_report(1, &SenderInfo::default(), &many, "vto");
    assert_eq!(b.len(), 28 + 31 * 24 + 16);
    let [Packet::SenderReport { blocks, .. }] = &read(&b)[..] else {
        panic!("one sender report");
    };
    assert_eq!(blocks.len(), 31);
}

#[test]
fn bye_round_trip() {
    assert_eq!(bye(0x1234_5678), [0x81, 203, 0, 1, 0x12, 0x34, 0x56, 0x78]);
    assert_eq!(
        read(&bye(0x1234_5678)),
        [Packet::Bye {
            ssrcs: vec![0x1234_5678],
            reason: None,
        }]
    );
}

/// What a monitor might send at the end of a call: RR with one block,
/// SDES, BYE with a reason.
const PEER: [u8; 68] = [
    // RR, one block, 8 words.
    0x81, 201, 0, 7, 0, 0, 0, 0x42, //
    0, 0, 0, 5, 26, 0xff, 0xff, 0xfe, 0, 0, 0x01, 0x00, 0, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0,
    // SDES, one chunk, CNAME "mon", 4 words.
    0x81, 202, 0, 3, 0, 0, 0, 0x42, 1, 3, b'm', b'o', b'n', 0, 0, 0,
    // BYE with the reason "hung up", 5 words.
    0x81, 203, 0, 4, 0, 0, 0, 0x42, 7, b'h', b'u', b'n', b'g', b' ', b'u', b'p', 0, 0, 0, 0,
];

#[test]
fn reads_a_peers_compound_packet() {
    assert_eq!(
        read(&PEER),
        [
            Packet::ReceiverReport {
                ssrc: 0x42,
                blocks: vec![ReportBlock {
                    ssrc: 5,
                    fraction_lost: 26,
                    cumulative_lost: -2,
                    highest_sequence: 256,
                    jitter: 80,
                    last_sr: 0,
                    delay_since_last_sr: 0,
                }],
            },
            Packet::Bye {
                ssrcs: vec![0x42],
                reason: Some("hung up".into()),
            },
        ]
    );
}

/// Lenient: an unknown type, or a report whose count overruns its body, is
/// passed over and the walk goes on; a bad version or a length past the
/// datagram ends it; padding is taken off the last packet.
#[test]
fn passes_over_what_it_cannot_read() {
    let app = [0x80, 204, 0, 2, 0, 0, 0, 1, b'n', b'a', b'm', b'e'];
    // RR saying two blocks with room for none.
    let short_rr = [0x82, 201, 0, 1, 0, 0, 0, 9];
    let rr = [0x80, 201, 0, 1, 0, 0, 0, 3];
    let all = [&app[..], &short_rr, &rr].concat();
    let expected = Packet::ReceiverReport {
        ssrc: 3,
        blocks: vec![],
    };
    assert_eq!(read(&all), std::slice::from_ref(&expected));
    // Version 1 ends the walk.
    let v1 = [&[0x40, 201, 0, 1, 0, 0, 0, 1][..], &rr].concat();
    assert_eq!(read(&v1), []);
    // A length past the end ends it after what was read.
    let long = [&rr[..], &[0x80, 201, 0, 9, 0, 0, 0, 4]].concat();
    assert_eq!(read(&long), std::slice::from_ref(&expected));
    // Padding: an RR of 3 words whose last 4 bytes are padding.
    let padded = [0xa0, 201, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4];
    assert_eq!(read(&padded), [expected]);
    // Padding is not read as a report block.
    let mut padded_block = vec![0xa1, 201, 0, 7, 0, 0, 0, 3];
    padded_block.extend([0; 23]);
    padded_block.push(24);
    assert_eq!(read(&padded_block), []);
    // A BYE whose reason length is 0 has no reason.
    let bye = [0x81, 203, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0];
    assert_eq!(
        read(&bye),
        [Packet::Bye {
            ssrcs: vec![3],
            reason: None
        }]
    );
    assert_eq!(read(b"hello, world"), []);
    assert_eq!(read(&[]), []);
}

/// Every prefix and one-byte change of the fixtures: read, never panic;
/// a prefix never yields more than the whole.
#[test]
fn prefixes_and_mutations_never_panic() {
    let ours = sender_report(5, &SenderInfo::default(), &[block(1, -1)], "vto");
    for fixture in [&PEER[..], &ours] {
        let whole = read(fixture).len();
        for n in 0..fixture.len() {
            assert!(read(&fixture[..n]).len() <= whole);
        }
        for i in 0..fixture.len() {
            for x in [0x01, 0x10, 0x1f, 0x20, 0x40, 0x80, 0xff] {
                let mut m = fixture.to_vec();
                m[i] ^= x;
                let _ = read(&m);
            }
        }
    }
}
