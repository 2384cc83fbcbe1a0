use super::*;

/// Values of the reference code (ITU-T G.191), worked by hand from it.
#[test]
fn known_codes_and_levels() {
    // Zero, the smallest negative, the extremes.
    assert_eq!([ulaw_encode(0), ulaw_encode(-1)], [0xff, 0x7f]);
    assert_eq!([ulaw_decode(0xff), ulaw_decode(0x7f)], [0, 0]);
    assert_eq!([ulaw_encode(i16::MAX), ulaw_encode(i16::MIN)], [0x80, 0x00]);
    assert_eq!([ulaw_decode(0x80), ulaw_decode(0x00)], [32124, -32124]);
    assert_eq!(
        [ulaw_decode(0x01), ulaw_decode(0x7e), ulaw_decode(0xfe)],
        [-31100, -8, 8]
    );
    assert_eq!(
        [ulaw_encode(100), ulaw_encode(-100), ulaw_encode(1000)],
        [242, 115, 206]
    );

    assert_eq!([alaw_encode(0), alaw_encode(-1)], [0xd5, 0x55]);
    // A-law has no zero level.
    assert_eq!([alaw_decode(0xd5), alaw_decode(0x55)], [8, -8]);
    assert_eq!([alaw_encode(i16::MAX), alaw_encode(i16::MIN)], [0xaa, 0x2a]);
    assert_eq!([alaw_decode(0xaa), alaw_decode(0x2a)], [32256, -32256]);
    assert_eq!(
        [alaw_decode(0x80), alaw_decode(0x00), alaw_decode(0xd4)],
        [5504, -5504, 24]
    );
    assert_eq!(
        [alaw_encode(100), alaw_encode(-100), alaw_encode(1000)],
        [211, 83, 250]
    );
}

/// The quantization step around a μ-law code (16-bit units).
fn ulaw_step(code: u8) -> i32 {
    8 << ((!code >> 4) & 7)
}

fn alaw_step(code: u8) -> i32 {
    16 << (((code ^ 0x55) & 0x7f) >> 4).saturating_sub(1)
}

/// Over every i16: a decoded sample is within half a step of the input
/// (beyond the largest level it is that level), and louder never encodes
/// quieter.
#[test]
fn round_trip_error_is_half_a_step_over_the_whole_range() {
    for (law, max, step) in [
        (Law::Ulaw, 32124, ulaw_step as fn(u8) -> i32),
        (Law::Alaw, 32256, alaw_step),
    ] {
        let mut last = i32::MIN;
        for x in i16::MIN..=i16::MAX {
            let code = law.encode(x);
            let y = i32::from(law.decode(code));
            let x = i32::from(x);
            if x.abs() <= max {
                assert!((y - x).abs() <= step(code) / 2, "{law:?} {x} -> {y}");
            } else {
                assert_eq!(y, max * x.signum(), "{law:?} {x}");
            }
            assert!(y >= last, "{law:?} not monotonic at {x}");
            last = y;
        }
    }
}

/// Every code decodes to a level that encodes to it again (μ-law's
/// negative zero, 0x7f, becomes 0xff).
#[test]
fn decode_then_encode_is_the_code() {
    for c in 0..=255u8 {
        let again = ulaw_encode(ulaw_decode(c));
        assert_eq!(again, if c == 0x7f { 0xff } else { c }, "μ {c:#x}");
        assert_eq!(alaw_encode(alaw_decode(c)), c, "A {c:#x}");
    }
}

/// Entries of G.711's Tables 3 and 4 (as the corrected tables in Sun's
/// g711.c give them), the corrected ones among them.
#[test]
fn law_conversion_follows_g711_tables() {
    for (u, a) in [
        (0xff, 0xd5),
        (0x7f, 0x55),
        (0x80, 0xaa),
        (0x00, 0x2a),
        (0xaf, 0x9a),
        (0xb0, 0x9b),
        (0xa0, 0x8a),
        (0x20, 0x0a),
        (0xe1, 0xc3),
        (0xf0, 0xd2),
    ] {
        assert_eq!(ulaw_to_alaw(u), a, "μ {u:#x}");
    }
    for (a, u) in [
        (0xd5, 0xfe),
        (0x55, 0x7e),
        (0xaa, 0x80),
        (0x2a, 0x00),
        (0x80, 0xaa),
        (0x00, 0x2a),
        (0x9a, 0xaf),
        (0x9b, 0xb0),
        (0xc5, 0xe7),
    ] {
        assert_eq!(alaw_to_ulaw(a), u, "A {a:#x}");
    }
    assert_eq!(Law::Ulaw.convert(Law::Alaw, 0xaf), 0x9a);
    assert_eq!(Law::Alaw.convert(Law::Ulaw, 0x9a), 0xaf);
    assert_eq!(Law::Alaw.convert(Law::Alaw, 0x9a), 0x9a);
}

/// Over all 256 codes: a converted code keeps the sign, its level is within
/// one step of the original's, louder never converts quieter, and A to μ
/// to A gives the A code back but where Table 4 merges two A codes.
#[test]
fn law_conversion_keeps_levels() {
    let mut ulaw_by_level: Vec<u8> = (0..=255).collect();
    ulaw_by_level.sort_by_key(|&c| (ulaw_decode(c), c & 0x80));
    let mut last = i16::MIN;
    for &u in &ulaw_by_level {
        let a = ulaw_to_alaw(u);
        let (lu, la) = (ulaw_decode(u), alaw_decode(a));
        assert_eq!(u & 0x80, a & 0x80, "sign of μ {u:#x}");
        assert!(
            (i32::from(la) - i32::from(lu)).abs() <= alaw_step(a),
            "μ {u:#x}"
        );
        assert!(la >= last, "μ {u:#x}");
        last = la;
    }
    let mut alaw_by_level: Vec<u8> = (0..=255).collect();
    alaw_by_level.sort_by_key(|&c| alaw_decode(c));
    let mut last = i16::MIN;
    let mut not_back = 0;
    for &a in &alaw_by_level {
        let u = alaw_to_ulaw(a);
        assert_eq!(u & 0x80, a & 0x80, "sign of A {a:#x}");
        let (la, lu) = (alaw_decode(a), ulaw_decode(u));
        assert!(
            (i32::from(lu) - i32::from(la)).abs() <= ulaw_step(u),
            "A {a:#x}"
        );
        assert!(lu >= last, "A {a:#x}");
        last = lu;
        not_back += usize::from(ulaw_to_alaw(u) != a);
    }
    // Table 4 maps 8 pairs of A codes a sign to one μ code each.
    assert_eq!(not_back, 16);
}

#[test]
fn law_payload_types() {
    assert_eq!([Law::Ulaw.payload_type(), Law::Alaw.payload_type()], [0, 8]);
    assert_eq!(
        Law::Alaw.decode(Law::Alaw.encode(-1000)),
        alaw_decode(alaw_encode(-1000))
    );
}

/// FNV-1a (32 bits) of a table, to compare all of it with one number.
fn fnv(table: impl Iterator<Item = u8>) -> u32 {
    table.fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// All 512 entries at once: the fingerprints were computed from the
/// corrected tables of Sun's g711.c (not from this code).
#[test]
fn law_conversion_tables_are_g711s_whole() {
    assert_eq!(fnv((0..=255).map(ulaw_to_alaw)), 0xc511_2055);
    assert_eq!(fnv((0..=255).map(alaw_to_ulaw)), 0x8a0b_0e61);
}
