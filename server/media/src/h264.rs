//! H.264 over RTP (RFC 6184): access units as the camera gives them
//! (Annex B: NAL units behind 3- or 4-byte start codes) to RTP payloads
//! and back.
//!
//! Sending: packetization mode 1 sends a NAL unit that fits the payload
//! size whole (a single NAL unit packet) and fragments a larger one into
//! FU-A packets; mode 0, which Dahua monitors mean when they answer H.264
//! without fmtp (RFC 6184 8.1), has only single NAL unit packets. A NAL
//! unit larger than the payload size cannot be sent in mode 0: the whole
//! access unit is refused with [`Error::NalTooLarge`] rather than sent
//! without that slice, since a picture with a slice missing would be the
//! reference of every picture after it until the next key frame. The
//! device then needs a camera encoding slices no larger than the payload
//! size, or it passes a larger size and leaves it to IP fragmentation. The
//! marker bit is set on the last packet of an access unit (RFC 6184 5.1).
//!
//! Receiving: single NAL unit packets, STAP-A and FU-A (modes 0 and 1),
//! access units ended by the marker bit or by the next timestamp, and
//! losses seen in the sequence numbers reported on the access unit they
//! damage, so a consumer can wait for the next key frame.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};

use crate::{rtp::Packet, Error};

/// A payload size that, with IP, UDP and RTP headers, fits an Ethernet
/// MTU with room for a tunnel or VPN.
pub const MAX_PAYLOAD: usize = 1200;
/// The largest access unit reassembled (a peer may not make the device
/// buffer more); a 1080p key frame is far smaller.
pub const MAX_ACCESS_UNIT: usize = 4 << 20;

/// NAL unit types (H.264 7.4.1, RFC 6184 5.2) used here.
pub const IDR: u8 = 5;
pub const SPS: u8 = 7;
pub const PPS: u8 = 8;
pub const AUD: u8 = 9;
pub const STAP_A: u8 = 24;
pub const FU_A: u8 = 28;

/// The type of a NAL unit (its header's low 5 bits); 0 for an empty one,
/// which H.264 leaves unspecified too.
pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |h| h & 0x1f)
}

/// The NAL units of Annex B bytes, without their start codes (3 or 4
/// bytes) and trailing zero bytes. Bytes before the first start code are
/// not a NAL unit and are dropped; so are empty ones. No copy: the units
/// are slices of `data`.
pub fn split_annex_b(data: &Bytes) -> Vec<Bytes> {
    let b = &data[..];
    let mut nals = Vec::new();
    let mut start = None;
    let mut push = |from: usize, to: usize| {
        // A NAL unit never ends in a zero byte (H.264 7.4.1): zeros before
        // a start code are its fourth byte or trailing_zero_8bits.
        let end = from
            + b[from..to]
                .iter()
                .rposition(|&x| x != 0)
                .map_or(0, |i| i + 1);
        if end > from {
            nals.push(data.slice(from..end));
        }
    };
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i..i + 3] == [0, 0, 1] {
            if let Some(s) = start {
                push(s, i);
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        push(s, b.len());
    }
    nals
}

/// NAL units as Annex B, each behind a 4-byte start code.
pub fn join_annex_b(nals: &[Bytes]) -> Bytes {
    let mut out = BytesMut::with_capacity(nals.iter().map(|n| n.len() + 4).sum());
    for nal in nals {
        out.put_slice(&[0, 0, 0, 1]);
        out.put_slice(nal);
    }
    out.freeze()
}

/// Whether an access unit is a key frame: it has an IDR slice.
pub fn is_key_frame(nals: &[Bytes]) -> bool {
    nals.iter().any(|n| nal_type(n) == IDR)
}

/// The newest SPS and PPS of a stream, to put before an IDR picture that
/// comes without them: every receiver must start at a key frame it can
/// decode, and some cameras send parameter sets only now and then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParameterSets {
    sps: Option<Bytes>,
    pps: Option<Bytes>,
}

impl ParameterSets {
    /// Known ones (the camera's, or SDP's sprop-parameter-sets).
    pub fn new(sps: Bytes, pps: Bytes) -> Self {
        Self {
            sps: Some(sps),
            pps: Some(pps),
        }
    }

    pub fn sps(&self) -> Option<&Bytes> {
        self.sps.as_ref()
    }

    pub fn pps(&self) -> Option<&Bytes> {
        self.pps.as_ref()
    }

    /// Keeps the access unit's SPS and PPS, if it has any.
    pub fn learn(&mut self, nals: &[Bytes]) {
        for nal in nals {
            match nal_type(nal) {
                SPS => self.sps = Some(nal.clone()),
                PPS => self.pps = Some(nal.clone()),
                _ => {}
            }
        }
    }

    /// Puts the stored SPS and PPS that an IDR access unit lacks after its
    /// access unit delimiter, SPS before PPS; other access units are left
    /// alone. Errs, changing nothing, when one is missing and none is
    /// stored.
    pub fn complete(&self, nals: &mut Vec<Bytes>) -> Result<(), Error> {
        if !is_key_frame(nals) {
            return Ok(());
        }
        // The stored unit of type `t` if the access unit has none.
        let wanted = |t, stored: &Option<Bytes>| match nals.iter().any(|n| nal_type(n) == t) {
            true => Ok(None),
            false => stored.clone().map(Some).ok_or(Error::NoParameterSets),
        };
        let sps = wanted(SPS, &self.sps)?;
        let pps = wanted(PPS, &self.pps)?;
        if let Some(sps) = sps {
            let after_aud = nals.iter().take_while(|n| nal_type(n) == AUD).count();
            nals.insert(after_aud, sps);
        }
        if let Some(pps) = pps {
            let at = nals
                .iter()
                .position(|n| nal_type(n) == SPS)
                .map_or(0, |i| i + 1);
            nals.insert(at, pps);
        }
        Ok(())
    }
}

/// RFC 6184's packetization modes that the door sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 0: single NAL unit packets only.
    SingleNal,
    /// 1: single NAL units, STAP-A and FU-A, in decoding order.
    NonInterleaved,
}

impl Mode {
    /// SDP's `packetization-mode` (absent means 0); mode 2 is not sent.
    pub fn from_sdp(packetization_mode: u8) -> Option<Self> {
        match packetization_mode {
            0 => Some(Self::SingleNal),
            1 => Some(Self::NonInterleaved),
            _ => None,
        }
    }
}

/// One RTP payload of an access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub data: Bytes,
    /// Set on the access unit's last packet.
    pub marker: bool,
}

/// An access unit's RTP payloads, in order. `max_payload` is raised to 3
/// (FU-A's two header bytes and one of data). Empty NAL units, and types
/// that H.264 leaves unspecified (0, 24 to 31: in RTP they name payload
/// structures), are not sent.
pub fn packetize(nals: &[Bytes], mode: Mode, max_payload: usize) -> Result<Vec<Payload>, Error> {
    let max = max_payload.max(3);
    let nals: Vec<&Bytes> = nals
        .iter()
        .filter(|n| matches!(nal_type(n), 1..=23))
        .collect();
    if mode == Mode::SingleNal {
        if let Some(n) = nals.iter().find(|n| n.len() > max) {
            return Err(Error::NalTooLarge { len: n.len(), max });
        }
    }
    let mut out = Vec::new();
    for nal in nals {
        if nal.len() <= max {
            out.push(Payload {
                data: nal.clone(),
                marker: false,
            });
            continue;
        }
        // FU-A (RFC 6184 5.8): the indicator keeps F and NRI with type 28,
        // the FU header carries start, end and the NAL unit's type; the
        // NAL header itself is not sent.
        let header = nal[0];
        let indicator = header & 0xe0 | FU_A;
        let pieces = nal[1..].chunks(max - 2);
        let last = pieces.len() - 1;
        for (i, piece) in pieces.enumerate() {
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i == last { 0x40 } else { 0 };
            let mut fu = BytesMut::with_capacity(2 + piece.len());
            fu.put_slice(&[indicator, start | end | header & 0x1f]);
            fu.put_slice(piece);
            out.push(Payload {
                data: fu.freeze(),
                marker: false,
            });
        }
    }
    if let Some(last) = out.last_mut() {
        last.marker = true;
    }
    Ok(out)
}

/// A received access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessUnit {
    pub timestamp: u32,
    pub nals: Vec<Bytes>,
    /// Packets of it (or just before it) were lost or unreadable: NAL
    /// units may be missing. A decoder should wait for a key frame.
    pub lost: bool,
}

impl AccessUnit {
    pub fn is_key_frame(&self) -> bool {
        is_key_frame(&self.nals)
    }
}

/// Packets this far behind the expected sequence number are late or
/// repeated and are dropped; farther back is taken as a restarted stream.
const REORDER: u16 = 64;
/// Access units kept for [`Depacketizer::pop`]: a caller that does not
/// pop loses the oldest, the device does not fill up.
const READY: usize = 8;

/// Reassembles access units from one stream's RTP packets.
#[derive(Debug, Default)]
pub struct Depacketizer {
    expected: Option<u16>,
    current: Option<AccessUnit>,
    /// Bytes in `current`, for [`MAX_ACCESS_UNIT`].
    size: usize,
    /// The NAL unit that FU-A packets are building.
    fu: Option<BytesMut>,
    ready: VecDeque<AccessUnit>,
}

impl Depacketizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one packet of the stream. An error says why its payload was
    /// not read; the access unit it belongs to is then marked lost, and
    /// reading goes on with the next packet.
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<(), Error> {
        let h = &packet.header;
        let mut gap = false;
        if let Some(expected) = self.expected {
            let behind = expected.wrapping_sub(h.sequence);
            if (1..=REORDER).contains(&behind) {
                return Ok(());
            }
            gap = h.sequence != expected;
        }
        self.expected = Some(h.sequence.wrapping_add(1));
        // Lost packets belong to the unit they interrupt or to the next
        // one, which cannot be told apart: both are marked.
        if gap {
            self.fu = None;
            self.mark_lost();
        }
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.timestamp != h.timestamp)
        {
            self.finish();
        }
        self.current.get_or_insert_with(|| AccessUnit {
            timestamp: h.timestamp,
            nals: Vec::new(),
            lost: gap,
        });
        let read = self.read(packet.payload);
        if read.is_err() {
            self.mark_lost();
        }
        if h.marker {
            self.finish();
        }
        read
    }

    /// The next complete access unit, oldest first.
    pub fn pop(&mut self) -> Option<AccessUnit> {
        self.ready.pop_front()
    }

    fn read(&mut self, payload: &[u8]) -> Result<(), Error> {
        let first = *payload.first().ok_or(Error::Truncated("H.264 payload"))?;
        let t = first & 0x1f;
        if t != FU_A && self.fu.take().is_some() {
            // A fragmented unit that never got its end.
            self.mark_lost();
        }
        match t {
            1..=23 => self.add(Bytes::copy_from_slice(payload)),
            STAP_A => {
                // RFC 6184 5.7.1: 16-bit sizes, each followed by its unit.
                // Read whole before taking any.
                let mut rest = &payload[1..];
                let mut nals = Vec::new();
                while !rest.is_empty() {
                    let size = match rest {
                        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
                        _ => return Err(Error::H264("STAP-A ends inside a size")),
                    };
                    let nal = rest
                        .get(2..2 + size)
                        .filter(|n| !n.is_empty())
                        .ok_or(Error::H264("STAP-A unit size 0 or past the end"))?;
                    nals.push(Bytes::copy_from_slice(nal));
                    rest = &rest[2 + size..];
                }
                if nals.is_empty() {
                    return Err(Error::H264("empty STAP-A"));
                }
                nals.into_iter().try_for_each(|n| self.add(n))
            }
            FU_A => self.read_fu(first, payload),
            other => Err(Error::Unsupported(other)),
        }
    }

    fn read_fu(&mut self, indicator: u8, payload: &[u8]) -> Result<(), Error> {
        let header = *payload.get(1).ok_or(Error::Truncated("FU header"))?;
        let data = &payload[2..];
        if header & 0x80 != 0 {
            if self.fu.is_some() {
                self.mark_lost();
            }
            let mut nal = BytesMut::with_capacity(1 + data.len());
            nal.put_u8(indicator & 0xe0 | header & 0x1f);
            self.fu = Some(nal);
        }
        let Some(nal) = &mut self.fu else {
            // A middle or end without its start: lost already.
            self.mark_lost();
            return Ok(());
        };
        if self.size + nal.len() + data.len() > MAX_ACCESS_UNIT {
            self.fu = None;
            return Err(Error::H264("access unit larger than MAX_ACCESS_UNIT"));
        }
        nal.put_slice(data);
        // Start and end in one packet is against RFC 6184 5.8 but whole:
        // taken.
        if header & 0x40 != 0 {
            if let Some(nal) = self.fu.take() {
                return self.add(nal.freeze());
            }
        }
        Ok(())
    }

    fn add(&mut self, nal: Bytes) -> Result<(), Error> {
        if self.size + nal.len() > MAX_ACCESS_UNIT {
            return Err(Error::H264("access unit larger than MAX_ACCESS_UNIT"));
        }
        self.size += nal.len();
        if let Some(c) = &mut self.current {
            c.nals.push(nal);
        }
        Ok(())
    }

    fn mark_lost(&mut self) {
        if let Some(c) = &mut self.current {
            c.lost = true;
        }
    }

    /// Ends the current access unit; one with nothing in it and nothing
    /// lost is not one.
    fn finish(&mut self) {
        if self.fu.take().is_some() {
            self.mark_lost();
        }
        self.size = 0;
        if let Some(c) = self.current.take() {
            if c.lost || !c.nals.is_empty() {
                if self.ready.len() == READY {
                    self.ready.pop_front();
                }
                self.ready.push_back(c);
            }
        }
    }
}

#[cfg(test)]
mod tests;
