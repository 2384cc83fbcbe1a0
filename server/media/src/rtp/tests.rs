use super::*;

/// V=2 P=1 X=1 CC=2, M=1 PT=96, sequence 0x1234, timestamp 0xdeadbeef,
/// SSRC 0x01020304, CSRCs 5 and 6, a one-word extension (profile 0xbede),
/// payload "abc", 3 bytes of padding.
const FULL: [u8; 34] = [
    0xb2, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, //
    0, 0, 0, 5, 0, 0, 0, 6, //
    0xbe, 0xde, 0x00, 0x01, 0x10, 0x20, 0x30, 0x40, //
    b'a', b'b', b'c', 0, 0, 3,
];

#[test]
fn reads_every_field_and_skips_csrc_extension_and_padding() {
    let p = parse(&FULL).unwrap();
    assert_eq!(
        p.header,
        Header {
            marker: true,
            payload_type: 96,
            sequence: 0x1234,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
        }
    );
    assert_eq!(p.csrcs().collect::<Vec<_>>(), [5, 6]);
    assert_eq!(
        p.extension,
        Some(Extension {
            profile: 0xbede,
            data: &[0x10, 0x20, 0x30, 0x40],
        })
    );
    assert_eq!(p.padding, 3);
    assert_eq!(p.payload, b"abc");
}

#[test]
fn writes_the_plain_header_and_reads_it_back() {
    let h = Header {
        marker: true,
        payload_type: 8,
        sequence: 65535,
        timestamp: 160,
        ssrc: 0xcafe_f00d,
    };
    let bytes = h.write(&[0xd5; 4]);
    assert_eq!(
        bytes,
        [0x80, 0x88, 0xff, 0xff, 0, 0, 0, 160, 0xca, 0xfe, 0xf0, 0x0d, 0xd5, 0xd5, 0xd5, 0xd5]
    );
    let p = parse(&bytes).unwrap();
    assert_eq!(p.header, h);
    assert_eq!((p.csrc, p.extension, p.padding), (&[][..], None, 0));
    assert_eq!(p.payload, [0xd5; 4]);
    // A payload type above 7 bits is masked, never spills into the marker.
    let h = Header {
        marker: false,
        payload_type: 0xff,
        ..h
    };
    assert_eq!(h.write(&[])[1], 0x7f);
}

/// The most CSRCs a header can list: 15.
#[test]
fn fifteen_csrcs() {
    let mut b = vec![0x8f, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    for i in 1..=15u32 {
        b.extend_from_slice(&i.to_be_bytes());
    }
    b.push(b'x');
    let p = parse(&b).unwrap();
    assert_eq!(p.csrcs().collect::<Vec<_>>(), (1..=15).collect::<Vec<_>>());
    assert_eq!(p.payload, b"x");
}

#[test]
fn an_empty_payload_is_a_packet() {
    let p = parse(&[0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]).unwrap();
    assert_eq!((p.header.sequence, p.payload), (1, &[][..]));
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(parse(&[]), Err(Error::Truncated("fixed header")));
    assert_eq!(parse(&FULL[..11]), Err(Error::Truncated("fixed header")));
    let mut v1 = FULL.to_vec();
    v1[0] = 0x72;
    assert_eq!(parse(&v1), Err(Error::Version(1)));
    v1[0] = 0xf2;
    assert_eq!(parse(&v1), Err(Error::Version(3)));
    assert_eq!(parse(&FULL[..19]), Err(Error::Truncated("CSRC list")));
    assert_eq!(
        parse(&FULL[..23]),
        Err(Error::Truncated("header extension"))
    );
    assert_eq!(
        parse(&FULL[..27]),
        Err(Error::Truncated("header extension"))
    );
    // Padding: a count of 0, and one larger than what follows the header.
    let mut p = FULL.to_vec();
    *p.last_mut().unwrap() = 0;
    assert_eq!(parse(&p), Err(Error::Padding(0)));
    *p.last_mut().unwrap() = 7;
    assert_eq!(parse(&p), Err(Error::Padding(7)));
    // Exactly everything after the extension is padding: an empty payload.
    *p.last_mut().unwrap() = 6;
    assert_eq!(parse(&p).unwrap().payload, b"");
    // The P bit with nothing after the header.
    assert_eq!(
        parse(&[0xa0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
        Err(Error::Padding(0))
    );
}

/// Every prefix and every one-byte change of a valid packet: a result or an
/// error, never a panic; a prefix that cuts the header is an error.
#[test]
fn prefixes_and_mutations_never_panic() {
    for n in 0..FULL.len() {
        let r = parse(&FULL[..n]);
        if n < 28 {
            assert!(r.is_err(), "prefix {n}");
        }
        if let Ok(p) = r {
            assert!(p.payload.len() + usize::from(p.padding) <= n - 28);
        }
    }
    for i in 0..FULL.len() {
        for x in [0x00, 0x01, 0x0f, 0x10, 0x20, 0x7f, 0x80, 0xff] {
            let mut m = FULL;
            m[i] ^= x;
            let _ = parse(&m);
        }
    }
}

fn seed() -> Seed {
    Seed::from_bytes([0x11, 0x22, 0x33, 0x44, 0xff, 0xfe, 0xff, 0xff, 0xff, 0x00])
}

#[test]
fn seed_bytes_are_ssrc_sequence_and_timestamp() {
    assert_eq!(
        seed(),
        Seed {
            ssrc: 0x1122_3344,
            sequence: 0xfffe,
            timestamp: 0xffff_ff00,
        }
    );
}

/// Sequence numbers run on from the seed and wrap; timestamps are the
/// seed's plus media time, wrapping; the counts are RTCP's.
#[test]
fn sequencer_numbers_wrap_and_counts_add_up() {
    let mut s = Sequencer::new(seed());
    let mut seen = Vec::new();
    for i in 0..4u32 {
        let bytes = s.packet(0, i == 0, i * 160, &[0xff; 160]);
        let p = parse(&bytes).unwrap();
        assert_eq!((p.header.ssrc, p.header.payload_type), (0x1122_3344, 0));
        assert_eq!(p.header.marker, i == 0);
        seen.push((p.header.sequence, p.header.timestamp));
    }
    assert_eq!(
        seen,
        [
            (0xfffe, 0xffff_ff00),
            (0xffff, 0xffff_ffa0),
            (0, 0x40),
            (1, 0xe0)
        ]
    );
    // A telephone event on the same stream: the next number, its own PT.
    let event = s.packet(101, true, 640, &[1, 0x8a, 0, 160]);
    let p = parse(&event).unwrap();
    assert_eq!((p.header.sequence, p.header.payload_type), (2, 101));
    let info = s.sender_info(0, 800);
    assert_eq!((info.packets, info.octets), (5, 4 * 160 + 4));
    assert_eq!(info.rtp_timestamp, 0xffff_ff00u32.wrapping_add(800));
}
