//! G.711 (ITU-T G.711): μ-law (PCMU, RTP payload type 0) and A-law (PCMA,
//! 8), one byte a sample at 8000 Hz.
//!
//! Encoding and decoding follow the ITU-T's own reference code (G.191's
//! `ulaw_compress`/`alaw_compress`): samples are 16-bit, negatives are
//! quantized through their one's complement so both signs fall into the
//! same intervals, and a decoded sample is the middle of its interval.
//! μ-law then reaches ±32124, A-law ±32256, and A-law has no zero level
//! (its smallest are ±8).
//!
//! Converting one law to the other goes straight from code to code by
//! G.711's Tables 3 and 4 (with their published corrections), so bridging
//! a browser on one law and a monitor on the other costs a table look-up
//! per byte and adds no second rounding through 16-bit levels.

/// μ-law's bias (33 on its 14-bit scale): shifts every interval so that
/// segment boundaries fall on powers of two.
const ULAW_BIAS: i32 = 33;

/// One sample to μ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let positive = sample >= 0;
    // One's complement for negatives: -1 and 0 share the smallest interval.
    let magnitude = if positive { sample } else { !sample };
    let biased = (i32::from(magnitude) >> 2) + ULAW_BIAS;
    let biased = biased.min(0x1fff);
    // The segment, 1 to 8: 1 below 64, one more at each doubling.
    let segment = (32 - (biased >> 6).leading_zeros()) as i32 + 1;
    let mantissa = (biased >> segment) & 0x0f;
    let code = ((8 - segment) << 4 | (0x0f - mantissa)) as u8;
    if positive {
        code | 0x80
    } else {
        code
    }
}

/// One μ-law byte to a sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let inverted = !code;
    let exponent = i32::from((inverted >> 4) & 0x07);
    let mantissa = i32::from(inverted & 0x0f);
    let step = 4 << (exponent + 1);
    let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * ULAW_BIAS;
    // At most 32124: always fits.
    with_sign(code, magnitude as i16)
}

/// Bit 7 of both laws' codes is the sign, 1 for positive.
fn with_sign(code: u8, magnitude: i16) -> i16 {
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// One sample to A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let positive = sample >= 0;
    let magnitude = if positive { sample } else { !sample };
    // 12 bits of magnitude.
    let mut ix = i32::from(magnitude) >> 4;
    if ix > 15 {
        // The segment is the position of the leading one above bit 4; the
        // mantissa is the 4 bits below it.
        let mut exponent = 1;
        while ix > 31 {
            ix >>= 1;
            exponent += 1;
        }
        ix = (ix - 16) + (exponent << 4);
    }
    let code = ix as u8 | if positive { 0x80 } else { 0 };
    // A-law inverts every even bit on the line.
    code ^ 0x55
}

/// One A-law byte to a sample.
pub fn alaw_decode(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7f;
    let exponent = ix >> 4;
    let mut mantissa = i32::from(ix & 0x0f);
    if exponent > 0 {
        mantissa += 16;
    }
    let mut magnitude = (mantissa << 4) + 8;
    if exponent > 1 {
        magnitude <<= exponent - 1;
    }
    // At most 32256: always fits.
    with_sign(code, magnitude as i16)
}

/// The A-law magnitude index (0 the smallest level, 127 the largest) that
/// G.711's Table 3 gives a μ-law one. μ-law is finer near zero and steps
/// differently around its segment ends, so some μ codes share an A code.
const fn ulaw_to_alaw_magnitude(i: u8) -> u8 {
    match i {
        0..=15 => i / 2,
        16..=31 => i - 8,
        32..=35 => 24 + 2 * (i - 32),
        36..=47 => i - 4,
        48..=49 => 45 + 2 * (i - 48),
        50..=63 => i - 2,
        64..=80 => i - 1,
        _ => i,
    }
}

/// The μ-law magnitude index G.711's Table 4 gives an A-law one.
const fn alaw_to_ulaw_magnitude(i: u8) -> u8 {
    match i {
        0..=7 => 2 * i + 1,
        8..=23 => i + 8,
        24..=31 => 32 + (i - 24) / 2,
        32..=43 => i + 4,
        44..=47 => 48 + (i - 44) / 2,
        48..=61 => i + 2,
        62..=63 => 64,
        64..=79 => i + 1,
        _ => i,
    }
}

// Codes from magnitude indexes: μ-law sends them inverted (0xff the
// smallest positive level, 0x7f the smallest negative); A-law as the
// segment and mantissa with the even bits inverted and bit 7 the sign.
const fn ulaw_code(index: u8, positive: bool) -> u8 {
    (if positive { 0xff } else { 0x7f }) ^ index
}
const fn ulaw_index(code: u8) -> u8 {
    !code & 0x7f
}
const fn alaw_code(index: u8, positive: bool) -> u8 {
    (if positive { 0xd5 } else { 0x55 }) ^ index
}
const fn alaw_index(code: u8) -> u8 {
    (code ^ 0x55) & 0x7f
}

/// Both conversion tables, indexed by code: μ to A, A to μ.
const TABLES: ([u8; 256], [u8; 256]) = {
    let (mut u2a, mut a2u) = ([0; 256], [0; 256]);
    let mut c = 0;
    while c < 256 {
        let code = c as u8;
        let positive = code & 0x80 != 0;
        u2a[c] = alaw_code(ulaw_to_alaw_magnitude(ulaw_index(code)), positive);
        a2u[c] = ulaw_code(alaw_to_ulaw_magnitude(alaw_index(code)), positive);
        c += 1;
    }
    (u2a, a2u)
};

/// The law of a G.711 stream, as SDP agreed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    /// PCMU.
    Ulaw,
    /// PCMA.
    Alaw,
}

impl Law {
    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Self::Ulaw => 0,
            Self::Alaw => 8,
        }
    }

    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::Ulaw => ulaw_encode(sample),
            Self::Alaw => alaw_encode(sample),
        }
    }

    pub fn decode(self, code: u8) -> i16 {
        match self {
            Self::Ulaw => ulaw_decode(code),
            Self::Alaw => alaw_decode(code),
        }
    }

    /// `code` of this law as a code of `to`: itself for the same law,
    /// else G.711's table.
    pub fn convert(self, to: Law, code: u8) -> u8 {
        match (self, to) {
            (Self::Ulaw, Self::Alaw) => ulaw_to_alaw(code),
            (Self::Alaw, Self::Ulaw) => alaw_to_ulaw(code),
            _ => code,
        }
    }
}

/// A μ-law byte as the A-law byte G.711 converts it to.
pub fn ulaw_to_alaw(code: u8) -> u8 {
    TABLES.0[usize::from(code)]
}

/// An A-law byte as the μ-law byte G.711 converts it to.
pub fn alaw_to_ulaw(code: u8) -> u8 {
    TABLES.1[usize::from(code)]
}

#[cfg(test)]
mod tests;
