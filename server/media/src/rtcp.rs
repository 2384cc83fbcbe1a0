//! RTCP (RFC 3550 6): the sender report the door sends for its streams,
//! BYE at the end of a call, and a lenient reader of what peers send.
//!
//! Reading takes what it can: a compound packet is walked packet by
//! packet; one whose type is not read here (SDES, APP, feedback) or whose
//! body is too short for its counts is passed over, and the walk stops at
//! the first header that is not RTCP version 2 or whose length runs past
//! the datagram. Peers' reports only inform (loss, jitter), so a guess
//! costs nothing, and garbage yields nothing.

use crate::rtp::be32;

/// Seconds from 1900 (NTP's era 0) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
/// SDES item type of the canonical name.
const CNAME: u8 = 1;
/// Report blocks (and BYE's sources) a 5-bit count can say.
pub const MAX_COUNT: usize = 31;

/// NTP time (RFC 5905: seconds since 1900 in the high 32 bits, the
/// fraction in the low 32) of a wall-clock time in Unix milliseconds.
/// Times before 1970 count as 1970.
pub fn ntp(unix_ms: i64) -> u64 {
    let ms = u64::try_from(unix_ms).unwrap_or(0);
    let secs = ms / 1000 + NTP_UNIX_OFFSET;
    let frac = ((ms % 1000) << 32) / 1000;
    secs << 32 | frac
}

/// A sender report's sender information (RFC 3550 6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    pub ntp: u64,
    /// The stream's RTP timestamp at the same instant as `ntp`.
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// Reception statistics about one source (RFC 3550 6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Lost since the last report, in 256ths.
    pub fraction_lost: u8,
    /// Packets lost since the start (24 bits, signed: duplicates can make
    /// it negative).
    pub cumulative_lost: i32,
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    pub last_sr: u32,
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.push(self.fraction_lost);
        // 24-bit two's complement, clamped to what it can hold.
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff);
        out.extend_from_slice(&lost.to_be_bytes()[1..]);
        for n in [
            self.highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        ] {
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// From exactly 24 bytes.
    fn read(b: &[u8]) -> Self {
        // Sign-extend the 24-bit count through the top byte.
        let lost = i32::from_be_bytes([b[5], b[5], b[6], b[7]]) << 8 >> 8;
        Self {
            ssrc: be32(&b[0..4]),
            fraction_lost: b[4],
            cumulative_lost: lost,
            highest_sequence: be32(&b[8..12]),
            jitter: be32(&b[12..16]),
            last_sr: be32(&b[16..20]),
            delay_since_last_sr: be32(&b[20..24]),
        }
    }
}

/// What is read from a compound packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        blocks: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        blocks: Vec<ReportBlock>,
    },
    Bye {
        ssrcs: Vec<u32>,
        /// Lossy UTF-8.
        reason: Option<String>,
    },
}

/// Starts a packet: its header with the length filled by [`finish`].
fn begin(out: &mut Vec<u8>, count: usize, packet_type: u8) -> usize {
    let start = out.len();
    out.push(2 << 6 | (count.min(MAX_COUNT) as u8));
    out.push(packet_type);
    out.extend_from_slice(&[0, 0]);
    start
}

/// Pads to 32 bits and writes the length (in words, minus one).
fn finish(out: &mut Vec<u8>, start: usize) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

/// A compound packet as RFC 3550 6.1 wants every one: the sender report
/// (with up to 31 report blocks about what the door receives) and an SDES
/// with the CNAME (at most 255 bytes of it).
pub fn sender_report(ssrc: u32, info: &SenderInfo, blocks: &[ReportBlock], cname: &str) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(MAX_COUNT)];
    let mut out = Vec::with_capacity(28 + 24 * blocks.len() + 12 + cname.len());
    let start = begin(&mut out, blocks.len(), SR);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&info.ntp.to_be_bytes());
    for n in [info.rtp_timestamp, info.packets, info.octets] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    for b in blocks {
        b.write(&mut out);
    }
    finish(&mut out, start);
    let start = begin(&mut out, 1, SDES);
    out.extend_from_slice(&ssrc.to_be_bytes());
    let name = &cname.as_bytes()[..cname.len().min(255)];
    out.extend_from_slice(&[CNAME, name.len() as u8]);
    out.extend_from_slice(name);
    // The item list ends with a zero byte, then pads to 32 bits.
    out.push(0);
    finish(&mut out, start);
    out
}

/// BYE for one source, without a reason.
pub fn bye(ssrc: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    let start = begin(&mut out, 1, BYE);
    out.extend_from_slice(&ssrc.to_be_bytes());
    finish(&mut out, start);
    out
}

/// The sender and receiver reports and BYEs in a compound packet, in
/// order; see the module's notes on what is passed over.
pub fn read(mut b: &[u8]) -> Vec<Packet> {
    let mut packets = Vec::new();
    while b.len() >= 4 && b[0] >> 6 == 2 {
        let len = 4 * (usize::from(u16::from_be_bytes([b[2], b[3]])) + 1);
        let Some(whole) = b.get(..len) else {
            break;
        };
        b = &b[len..];
        let mut body = &whole[4..];
        if whole[0] & 0x20 != 0 {
            // Padding (only the last packet should have it): its count is
            // the last byte.
            let pad = usize::from(whole[len - 1]);
            body = &body[..body.len().saturating_sub(pad)];
        }
        let count = usize::from(whole[0] & 0x1f);
        if let Some(p) = read_one(whole[1], count, body) {
            packets.push(p);
        }
    }
    packets
}

fn read_one(packet_type: u8, count: usize, body: &[u8]) -> Option<Packet> {
    let blocks = |b: &[u8]| -> Option<Vec<ReportBlock>> {
        let b = b.get(..24 * count)?;
        Some(b.chunks_exact(24).map(ReportBlock::read).collect())
    };
    match packet_type {
        SR => {
            let fixed = body.get(..24)?;
            Some(Packet::SenderReport {
                ssrc: be32(&fixed[0..4]),
                info: SenderInfo {
                    ntp: u64::from(be32(&fixed[4..8])) << 32 | u64::from(be32(&fixed[8..12])),
                    rtp_timestamp: be32(&fixed[12..16]),
                    packets: be32(&fixed[16..20]),
                    octets: be32(&fixed[20..24]),
                },
                blocks: blocks(&body[24..])?,
            })
        }
        RR => Some(Packet::ReceiverReport {
            ssrc: be32(body.get(..4)?),
            blocks: blocks(&body[4..])?,
        }),
        BYE => {
            let ssrcs = body.get(..4 * count)?;
            let rest = &body[4 * count..];
            // A length byte of 0 is the padding of a BYE without a reason.
            let reason = rest.first().filter(|&&n| n > 0).map(|&n| {
                let text = rest.get(1..1 + usize::from(n)).unwrap_or(&rest[1..]);
                String::from_utf8_lossy(text).into_owned()
            });
            Some(Packet::Bye {
                ssrcs: ssrcs.chunks_exact(4).map(be32).collect(),
                reason,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
