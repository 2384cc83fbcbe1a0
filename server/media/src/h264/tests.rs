use super::*;
use crate::rtp::{parse, Seed, Sequencer};

/// A NAL unit of `len` bytes with this header; no zero byte in it.
fn nal(header: u8, len: usize) -> Bytes {
    let mut v = vec![header];
    v.extend((1..len).map(|i| (i % 251 + 1) as u8));
    Bytes::from(v)
}

fn sps() -> Bytes {
    nal(0x67, 14)
}

fn pps() -> Bytes {
    nal(0x68, 4)
}

#[test]
fn splits_annex_b_with_both_start_codes() {
    let data = Bytes::from_static(&[
        0xaa, 0xbb, // not a NAL unit: before the first start code
        0, 0, 0, 1, 0x67, 1, 2, // 4-byte start code
        0, 0, 1, 0x68, 3, // 3-byte
        0, 0, 1, // empty unit
        0, 0, 0, 1, 0x65, 4, 0, 5, 0, 0, // trailing_zero_8bits
    ]);
    let nals = split_annex_b(&data);
    assert_eq!(nals, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4, 0, 5]]);
    // Slices of the input, not copies.
    assert_eq!(nals[0].as_ptr(), data[6..].as_ptr());
    assert_eq!(
        split_annex_b(&Bytes::from_static(b"\x67 no start code")),
        Vec::<Bytes>::new()
    );
    assert_eq!(split_annex_b(&Bytes::new()), Vec::<Bytes>::new());
    let joined = join_annex_b(&nals);
    assert_eq!(
        &joined[..],
        [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 0, 5]
    );
    assert_eq!(split_annex_b(&joined), nals);
}

#[test]
fn small_units_go_whole_with_the_marker_on_the_last() {
    let au = [sps(), pps(), nal(0x65, 1200)];
    for mode in [Mode::SingleNal, Mode::NonInterleaved] {
        let p = packetize(&au, mode, MAX_PAYLOAD).unwrap();
        assert_eq!(
            p.iter().map(|p| &p.data).collect::<Vec<_>>(),
            au.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            p.iter().map(|p| p.marker).collect::<Vec<_>>(),
            [false, false, true]
        );
    }
}

/// A 3000-byte IDR unit (NRI 3) at 1200 bytes: 2999 bytes after its
/// header in pieces of 1198, 1198 and 603.
#[test]
fn fu_a_fragments_a_large_unit() {
    let idr = nal(0x65, 3000);
    let p = packetize(std::slice::from_ref(&idr), Mode::NonInterleaved, 1200).unwrap();
    assert_eq!(
        p.iter().map(|p| p.data.len()).collect::<Vec<_>>(),
        [1200, 1200, 605]
    );
    assert_eq!(
        p.iter()
            .map(|p| (p.data[0], p.data[1], p.marker))
            .collect::<Vec<_>>(),
        [(0x7c, 0x85, false), (0x7c, 0x05, false), (0x7c, 0x45, true)]
    );
    let body: Vec<u8> = p.iter().flat_map(|p| p.data[2..].to_vec()).collect();
    assert_eq!(body, idr[1..]);
    // NRI 0 and the F bit are copied into the indicator.
    let p = packetize(&[nal(0x81, 10)], Mode::NonInterleaved, 5).unwrap();
    assert_eq!((p[0].data[0], p[0].data[1]), (0x9c, 0x81));
}

#[test]
fn payload_size_boundary() {
    let p = packetize(&[nal(0x41, 1200)], Mode::NonInterleaved, 1200).unwrap();
    assert_eq!(p.len(), 1);
    let p = packetize(&[nal(0x41, 1201)], Mode::NonInterleaved, 1200).unwrap();
    assert_eq!(
        p.iter().map(|p| p.data.len()).collect::<Vec<_>>(),
        [1200, 4]
    );
    // Below 3 the size is raised to 3: one byte of data a packet.
    let p = packetize(&[nal(0x41, 4)], Mode::NonInterleaved, 0).unwrap();
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|p| p.data.len() == 3));
}

#[test]
fn mode_0_refuses_the_access_unit_with_a_unit_too_large() {
    let au = [sps(), pps(), nal(0x65, 1201)];
    assert_eq!(
        packetize(&au, Mode::SingleNal, 1200),
        Err(Error::NalTooLarge {
            len: 1201,
            max: 1200
        })
    );
    // A larger size (IP fragmentation) sends it whole.
    assert_eq!(packetize(&au, Mode::SingleNal, 1500).unwrap().len(), 3);
    assert_eq!(Mode::from_sdp(0), Some(Mode::SingleNal));
    assert_eq!(Mode::from_sdp(1), Some(Mode::NonInterleaved));
    assert_eq!(Mode::from_sdp(2), None);
}

#[test]
fn unspecified_and_empty_units_are_not_sent() {
    let au = [
        Bytes::new(),
        nal(0x00, 5),
        nal(0x78, 5),
        nal(0x7c, 5),
        nal(0x41, 5),
    ];
    let p = packetize(&au, Mode::NonInterleaved, 1200).unwrap();
    assert_eq!(
        p,
        [Payload {
            data: nal(0x41, 5),
            marker: true
        }]
    );
    assert_eq!(packetize(&[], Mode::NonInterleaved, 1200).unwrap(), []);
}

#[test]
fn key_frames_and_their_parameter_sets() {
    let aud = nal(0x09, 2);
    let idr = nal(0x65, 100);
    let p_slice = nal(0x41, 100);
    assert!(is_key_frame(&[sps(), pps(), idr.clone()]));
    assert!(!is_key_frame(std::slice::from_ref(&p_slice)));

    let mut stored = ParameterSets::default();
    let mut bare = vec![aud.clone(), idr.clone()];
    assert_eq!(stored.complete(&mut bare), Err(Error::NoParameterSets));
    assert_eq!(bare, [aud.clone(), idr.clone()]);

    stored.learn(&[sps(), pps(), idr.clone()]);
    assert_eq!((stored.sps(), stored.pps()), (Some(&sps()), Some(&pps())));
    stored.complete(&mut bare).unwrap();
    assert_eq!(bare, [aud.clone(), sps(), pps(), idr.clone()]);

    // Only the PPS missing: after the unit's own SPS.
    let sps2 = nal(0x67, 20);
    let mut half = vec![sps2.clone(), idr.clone()];
    stored.complete(&mut half).unwrap();
    assert_eq!(half, [sps2.clone(), pps(), idr.clone()]);

    // Complete ones and non-key frames are left alone.
    let mut whole = vec![sps2.clone(), pps(), idr.clone()];
    stored.complete(&mut whole).unwrap();
    assert_eq!(whole.len(), 3);
    let mut p = vec![p_slice.clone()];
    ParameterSets::default().complete(&mut p).unwrap();
    assert_eq!(p, [p_slice]);

    // The newest are kept.
    stored.learn(std::slice::from_ref(&sps2));
    assert_eq!(stored, ParameterSets::new(sps2, pps()));
}

/// Access units through packetize, RTP and the depacketizer.
fn packets(aus: &[Vec<Bytes>], mode: Mode, max: usize) -> Vec<Vec<u8>> {
    let mut seq = Sequencer::new(Seed {
        ssrc: 1,
        sequence: 65530,
        timestamp: 0,
    });
    let mut out = Vec::new();
    for (i, au) in aus.iter().enumerate() {
        for p in packetize(au, mode, max).unwrap() {
            out.push(seq.packet(96, p.marker, i as u32 * 3000, &p.data));
        }
    }
    out
}

fn receive(packets: &[Vec<u8>]) -> (Vec<AccessUnit>, Vec<Error>) {
    let mut d = Depacketizer::new();
    let (mut units, mut errors) = (Vec::new(), Vec::new());
    for p in packets {
        if let Err(e) = d.push(&parse(p).unwrap()) {
            errors.push(e);
        }
        while let Some(u) = d.pop() {
            units.push(u);
        }
    }
    (units, errors)
}

fn stream() -> Vec<Vec<Bytes>> {
    vec![
        vec![nal(0x09, 2), sps(), pps(), nal(0x65, 5000)],
        vec![nal(0x41, 300)],
        vec![nal(0x41, 2500), nal(0x41, 900)],
        vec![nal(0x41, 10)],
    ]
}

#[test]
fn depacketizer_round_trip_across_sequence_wrap() {
    for (mode, max) in [
        (Mode::NonInterleaved, 1200),
        (Mode::NonInterleaved, 3),
        (Mode::SingleNal, 5000),
    ] {
        let (units, errors) = receive(&packets(&stream(), mode, max));
        assert_eq!(errors, []);
        let expected: Vec<AccessUnit> = stream()
            .into_iter()
            .enumerate()
            .map(|(i, nals)| AccessUnit {
                timestamp: i as u32 * 3000,
                nals,
                lost: false,
            })
            .collect();
        assert_eq!(units, expected, "{mode:?} {max}");
        assert!(units[0].is_key_frame() && !units[1].is_key_frame());
    }
}

/// One RTP packet of stream 1, PT 96.
fn rtp(sequence: u16, timestamp: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let ssrc = 1;
    let payload_type = 96;
    crate::rtp::Header {
        marker,
        payload_type,
        sequence,
        timestamp,
        ssrc,
    }
    .write(payload)
}

fn unit(timestamp: u32, nals: &[&'static [u8]], lost: bool) -> AccessUnit {
    let nals = nals.iter().map(|n| Bytes::from_static(n)).collect();
    AccessUnit {
        timestamp,
        nals,
        lost,
    }
}

#[test]
fn reads_stap_a() {
    let mut stap = vec![STAP_A | 0x60];
    for n in [sps(), pps()] {
        stap.extend_from_slice(&(n.len() as u16).to_be_bytes());
        stap.extend_from_slice(&n);
    }
    let idr = nal(0x65, 50);
    let (units, errors) = receive(&[rtp(7, 9, false, &stap), rtp(8, 9, true, &idr)]);
    assert_eq!(errors, []);
    let nals = vec![sps(), pps(), idr];
    assert_eq!(
        units,
        [AccessUnit {
            timestamp: 9,
            nals,
            lost: false
        }]
    );
}

/// Bad payloads: an error each, and the unit they were in is marked lost
/// (none of a bad STAP-A is taken).
#[test]
fn unreadable_payloads_mark_the_unit_lost() {
    let sizes = [0x78, 0, 2, 0x67, 1, 0, 9, 0x68];
    let past_end = Error::H264("STAP-A unit size 0 or past the end");
    for (payload, error) in [
        (&[][..], Error::Truncated("H.264 payload")),
        (&[0x78, 0], Error::H264("STAP-A ends inside a size")),
        (&sizes, past_end.clone()),
        (&[0x78, 0, 0], past_end),
        (&[0x78], Error::H264("empty STAP-A")),
        (&[0x7c], Error::Truncated("FU header")),
        (&[0x79, 1], Error::Unsupported(25)),
        (&[0x7a, 1], Error::Unsupported(26)),
        (&[0x7b, 1], Error::Unsupported(27)),
        (&[0x7d, 1, 2], Error::Unsupported(29)),
        (&[0x60], Error::Unsupported(0)),
        (&[0x7f], Error::Unsupported(31)),
    ] {
        let (units, errors) = receive(&[rtp(1, 0, true, payload)]);
        assert_eq!(errors, std::slice::from_ref(&error), "{payload:?}");
        assert_eq!(units, [unit(0, &[], true)], "{error}");
    }
}

/// A lost FU-A fragment: its unit comes without that NAL unit, marked
/// lost, and the units after it whole. A gap between two units marks the
/// next one (the gap could have been its start).
#[test]
fn a_lost_fragment_marks_its_unit_and_the_next() {
    let lost = |units: &[AccessUnit]| units.iter().map(|u| u.lost).collect::<Vec<_>>();
    let mut p = packets(&stream(), Mode::NonInterleaved, 1200);
    // Packets: AUD, SPS, PPS, 5 IDR fragments | P | 3 + 1 | 1.
    assert_eq!(p.len(), 14);
    p.remove(5);
    let (units, errors) = receive(&p);
    assert_eq!(errors, []);
    assert_eq!(units[0].nals, stream()[0][..3]);
    assert_eq!(lost(&units), [true, false, false, false]);

    // The first packet of unit 2 lost: unit 1 (complete) is not marked,
    // unit 2 is.
    let mut p = packets(&stream(), Mode::NonInterleaved, 1200);
    p.remove(9);
    let (units, _) = receive(&p);
    assert_eq!(lost(&units), [false, false, true, false]);
    assert_eq!(units[2].nals, [nal(0x41, 900)]);
}

/// The marker packet lost: the next timestamp ends the unit, marked lost.
/// A sender that never sets the marker: each unit ends at the next
/// timestamp, whole.
#[test]
fn the_next_timestamp_ends_a_unit() {
    let mut p = packets(&stream(), Mode::NonInterleaved, 1200);
    p.remove(7);
    let (units, _) = receive(&p);
    assert_eq!(units.len(), 4);
    assert!(units[0].lost && units[1].lost);
    assert_eq!(units[0].nals, stream()[0][..3]);

    let mut p = packets(&stream(), Mode::NonInterleaved, 1200);
    for packet in &mut p {
        packet[1] &= 0x7f;
    }
    let (units, _) = receive(&p);
    // The last one waits for a timestamp that does not come.
    assert_eq!(units.len(), 3);
    assert!(units.iter().all(|u| !u.lost));
    assert_eq!(units[2].nals, stream()[2]);
}

/// Repeated and late packets are dropped; a jump back farther than the
/// reorder window is a restarted stream.
#[test]
fn repeated_late_and_restarted() {
    let p = packets(&stream(), Mode::NonInterleaved, 1200);
    let mut twice: Vec<Vec<u8>> = p.iter().flat_map(|x| [x.clone(), x.clone()]).collect();
    // Unit 1's packet also comes after unit 2's first.
    twice.insert(20, p[8].clone());
    let (units, errors) = receive(&twice);
    assert_eq!(errors, []);
    let whole: Vec<_> = stream().into_iter().map(|nals| (nals, false)).collect();
    assert_eq!(
        units
            .into_iter()
            .map(|u| (u.nals, u.lost))
            .collect::<Vec<_>>(),
        whole
    );

    let (units, _) = receive(&[
        rtp(1000, 0, true, &[0x41, 1]),
        rtp(100, 1, true, &[0x41, 2]),
    ]);
    assert_eq!(
        units,
        [unit(0, &[&[0x41, 1]], false), unit(1, &[&[0x41, 2]], true)]
    );
}

/// FU-A out of shape: a middle without a start, a start while another is
/// open, both bits set (taken whole), an open one interrupted by a single
/// NAL unit.
#[test]
fn fu_a_out_of_shape() {
    let (units, errors) = receive(&[
        rtp(1, 0, false, &[0x7c, 0x05, 1, 2]),
        rtp(2, 0, true, &[0x7c, 0x45, 3]),
    ]);
    assert_eq!(errors, []);
    assert_eq!(units, [unit(0, &[], true)]);

    let (units, _) = receive(&[
        rtp(1, 0, false, &[0x7c, 0x85, 1]),
        rtp(2, 0, false, &[0x7c, 0x85, 2]),
        rtp(3, 0, true, &[0x7c, 0x45, 3]),
    ]);
    assert_eq!(units, [unit(0, &[&[0x65, 2, 3]], true)]);

    let (units, _) = receive(&[rtp(1, 0, true, &[0x7c, 0xc5, 9])]);
    assert_eq!(units, [unit(0, &[&[0x65, 9]], false)]);

    // The end after the interruption has lost its start.
    let (units, _) = receive(&[
        rtp(1, 0, false, &[0x7c, 0x85, 1]),
        rtp(2, 0, false, &[0x41, 7]),
        rtp(3, 0, true, &[0x7c, 0x45, 3]),
    ]);
    assert_eq!(units, [unit(0, &[&[0x41, 7]], true)]);
}

/// A peer sending one endless unit, fragmented or not: cut at
/// MAX_ACCESS_UNIT; the next unit is read whole.
#[test]
fn access_units_are_bounded() {
    let n = (MAX_ACCESS_UNIT / 1400 + 10) as u16;
    for fragmented in [true, false] {
        let mut d = Depacketizer::new();
        let mut errors = 0;
        for i in 0..n {
            let mut payload = match (fragmented, i) {
                (true, 0) => vec![0x7c, 0x85],
                (true, _) => vec![0x7c, 0x05],
                (false, _) => vec![0x41],
            };
            payload.resize(1400, 7);
            errors += usize::from(
                d.push(&parse(&rtp(i, 0, false, &payload)).unwrap())
                    .is_err(),
            );
        }
        // Unfragmented, each unit after the limit is refused.
        assert_eq!(errors, if fragmented { 1 } else { 10 });
        assert_eq!(d.fu, None);
        let next = nal(0x41, 2000);
        d.push(&parse(&rtp(n, 1, true, &next)).unwrap()).unwrap();
        assert!(d.pop().is_some_and(|u| u.lost));
        let whole = AccessUnit {
            timestamp: 1,
            nals: vec![next],
            lost: false,
        };
        assert_eq!(d.pop(), Some(whole));
    }
}

/// A caller that never pops keeps only the newest units.
#[test]
fn ready_units_are_bounded() {
    let mut d = Depacketizer::new();
    for i in 0..20u16 {
        d.push(&parse(&rtp(i, u32::from(i), true, &[0x41, 1])).unwrap())
            .unwrap();
    }
    assert_eq!(d.ready.len(), READY);
    assert_eq!(d.pop().map(|u| u.timestamp), Some(12));
}

/// Every prefix and one-byte changes of every packet of a stream, through
/// one depacketizer: errors at most, never a panic.
#[test]
fn prefixes_and_mutations_never_panic() {
    let p = packets(&stream(), Mode::NonInterleaved, 40);
    let mut d = Depacketizer::new();
    for packet in &p {
        for n in 0..packet.len().min(60) {
            if let Ok(rtp) = parse(&packet[..n]) {
                let _ = d.push(&rtp);
            }
        }
        for i in 12..packet.len().min(20) {
            for x in [0x01, 0x1f, 0x40, 0x80, 0xff] {
                let mut m = packet.clone();
                m[i] ^= x;
                let _ = d.push(&parse(&m).unwrap());
            }
        }
        while d.pop().is_some() {}
    }
}
