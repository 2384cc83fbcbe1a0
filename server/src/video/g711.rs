//! G.711 (ITU-T G.711) for the audio path: the hub carries μ-law (PCMU, 8
//! kHz mono), which every browser and SIP phone takes. A-law from a camera
//! is turned into μ-law sample by sample (no codec, a table's worth of
//! arithmetic); the test camera's tone is encoded here.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// 16-bit linear PCM -> μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let top = ((s >> 7) & 0xFF) as u32;
    let exponent = if top == 0 {
        0
    } else {
        31 - top.leading_zeros()
    };
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | ((exponent as i32) << 4) | mantissa) as u8
}

/// μ-law -> 16-bit linear PCM (only the tests decode μ-law so far).
#[cfg(test)]
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 7;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// A-law -> 16-bit linear PCM.
pub fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let segment = (a & 0x70) >> 4;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= segment - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

pub fn alaw_to_ulaw(a: u8) -> u8 {
    linear_to_ulaw(alaw_to_linear(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_the_extremes() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        // A-law's smallest steps around zero.
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
    }

    #[test]
    fn mu_law_round_trips_within_its_step() {
        for x in (-32000i32..32000).step_by(37) {
            let x = x as i16;
            let back = i32::from(ulaw_to_linear(linear_to_ulaw(x)));
            let err = (back - i32::from(x)).abs();
            // The step grows with the level: 1/16 of the segment.
            assert!(err <= 4 + i32::from(x).abs() / 16, "{x} -> {back}");
        }
        for u in 0..=255u8 {
            // Every code decodes and encodes back to itself (but the
            // negative zero, 0x7F, which is zero).
            if u != 0x7F {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(u)), u);
            }
        }
    }

    #[test]
    fn a_law_becomes_the_same_level_in_mu_law() {
        for a in 0..=255u8 {
            let want = i32::from(alaw_to_linear(a));
            let got = i32::from(ulaw_to_linear(alaw_to_ulaw(a)));
            assert!(
                (got - want).abs() <= 8 + want.abs() / 16,
                "{a:#x}: {want} vs {got}"
            );
        }
    }
}
