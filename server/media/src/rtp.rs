//! RTP packets (RFC 3550 5.1): the fixed header, CSRCs, the header
//! extension and padding. Reading takes any bytes and returns the payload
//! slice or an error; writing makes the plain header the door sends (no
//! CSRC, extension or padding).

use crate::{rtcp::SenderInfo, Error};

pub const VERSION: u8 = 2;
/// The fixed header's length.
pub const HEADER_LEN: usize = 12;

/// The header fields a sender sets and a receiver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    /// 7 bits; written masked to them.
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

impl Header {
    /// The packet: this header (version 2, no padding, extension or CSRC)
    /// followed by `payload`.
    pub fn write(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.push(VERSION << 6);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }
}

/// A header extension (RFC 3550 5.3.1): kept for whoever wants it; nothing
/// here reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    pub profile: u16,
    pub data: &'a [u8],
}

/// A packet as read: borrowed from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub header: Header,
    /// Contributing sources, 4 bytes each (see [`Packet::csrcs`]).
    pub csrc: &'a [u8],
    pub extension: Option<Extension<'a>>,
    /// Bytes of padding removed from the end (0 without the P bit).
    pub padding: u8,
    pub payload: &'a [u8],
}

impl Packet<'_> {
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + '_ {
        self.csrc.chunks_exact(4).map(be32)
    }
}

/// Reads one RTP packet. Errors for anything shorter than its header, CSRC
/// list or extension say, a version other than 2, or padding longer than
/// the payload.
pub fn parse(b: &[u8]) -> Result<Packet<'_>, Error> {
    if b.len() < HEADER_LEN {
        return Err(Error::Truncated("fixed header"));
    }
    let version = b[0] >> 6;
    if version != VERSION {
        return Err(Error::Version(version));
    }
    let header = Header {
        marker: b[1] & 0x80 != 0,
        payload_type: b[1] & 0x7f,
        sequence: u16::from_be_bytes([b[2], b[3]]),
        timestamp: be32(&b[4..8]),
        ssrc: be32(&b[8..12]),
    };
    let csrc_end = HEADER_LEN + 4 * usize::from(b[0] & 0x0f);
    let csrc = b
        .get(HEADER_LEN..csrc_end)
        .ok_or(Error::Truncated("CSRC list"))?;
    let mut rest = &b[csrc_end..];
    let mut extension = None;
    if b[0] & 0x10 != 0 {
        let head = rest.get(..4).ok_or(Error::Truncated("header extension"))?;
        // The length counts 32-bit words after the extension's own 4 bytes.
        let end = 4 + 4 * usize::from(u16::from_be_bytes([head[2], head[3]]));
        let data = rest
            .get(4..end)
            .ok_or(Error::Truncated("header extension"))?;
        extension = Some(Extension {
            profile: u16::from_be_bytes([head[0], head[1]]),
            data,
        });
        rest = &rest[end..];
    }
    let mut padding = 0;
    if b[0] & 0x20 != 0 {
        // The last byte counts the padding, itself included.
        padding = *rest.last().ok_or(Error::Padding(0))?;
        if padding == 0 || usize::from(padding) > rest.len() {
            return Err(Error::Padding(padding));
        }
        rest = &rest[..rest.len() - usize::from(padding)];
    }
    Ok(Packet {
        header,
        csrc,
        extension,
        padding,
        payload: rest,
    })
}

pub(crate) fn be32(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0, |n, &x| n << 8 | u32::from(x))
}

/// Random initial values of an outgoing stream (RFC 3550 5.1: a random
/// first sequence number and timestamp make known-plaintext attacks on
/// encrypted media harder; a random SSRC makes collisions unlikely).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
}

impl Seed {
    /// From 10 random bytes (the device takes them from the OS).
    pub fn from_bytes(b: [u8; 10]) -> Self {
        Self {
            ssrc: be32(&b[0..4]),
            sequence: u16::from_be_bytes([b[4], b[5]]),
            timestamp: be32(&b[6..10]),
        }
    }
}

/// One outgoing stream: one SSRC and one sequence space, shared by the
/// payload types sent on it (G.711 and its telephone events, RFC 4733 2.1).
#[derive(Clone, Debug)]
pub struct Sequencer {
    seed: Seed,
    next: u16,
    packets: u32,
    octets: u32,
}

impl Sequencer {
    pub fn new(seed: Seed) -> Self {
        Self {
            seed,
            next: seed.sequence,
            packets: 0,
            octets: 0,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.seed.ssrc
    }

    /// The RTP timestamp of `media_time`, counted in the payload's clock
    /// (8000 Hz for G.711, 90000 Hz for H.264) from any start the caller
    /// keeps; wraps as RTP timestamps do.
    pub fn timestamp(&self, media_time: u32) -> u32 {
        self.seed.timestamp.wrapping_add(media_time)
    }

    /// The next packet, numbered and counted.
    pub fn packet(
        &mut self,
        payload_type: u8,
        marker: bool,
        media_time: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let header = Header {
            marker,
            payload_type,
            sequence: self.next,
            timestamp: self.timestamp(media_time),
            ssrc: self.seed.ssrc,
        };
        self.next = self.next.wrapping_add(1);
        // RFC 3550 6.4.1: both counts wrap.
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload.len() as u32);
        header.write(payload)
    }

    /// What a sender report says now: `unix_ms` is wall time, `media_time`
    /// the stream's clock at that same instant.
    pub fn sender_info(&self, unix_ms: i64, media_time: u32) -> SenderInfo {
        SenderInfo {
            ntp: crate::rtcp::ntp(unix_ms),
            rtp_timestamp: self.timestamp(media_time),
            packets: self.packets,
            octets: self.octets,
        }
    }
}

#[cfg(test)]
mod tests;
