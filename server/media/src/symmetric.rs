//! Symmetric RTP (RFC 4961): where to send a peer's media.
//!
//! The rule: send to the address in the peer's SDP until a packet comes
//! that is the peer's: from the IP address that SDP gave, with a payload
//! type agreed for the stream and, once one was taken (or when the SDP
//! gave one), the same SSRC. From then on send to the address the peer's
//! packets come from, so a monitor behind NAT, or one that sends from
//! another port than it wrote, still hears the door.
//!
//! A packet from any other IP address is not the peer's, whatever it
//! carries: it neither moves the media nor is played, so a stranger on the
//! network can neither take the call's audio nor speak into it. A new
//! SSRC is taken only from the address already learned (the peer's own
//! socket restarting its stream), never from another port.
//!
//! RTCP is not latched here: it goes to the SDP's RTCP address.

use std::net::SocketAddr;

use crate::rtp::Header;

/// One stream's peer address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latch {
    signalled: SocketAddr,
    payload_types: Vec<u8>,
    ssrc: Option<u32>,
    learned: Option<SocketAddr>,
}

impl Latch {
    /// `signalled`: the SDP's address and port for the stream;
    /// `payload_types`: the ones agreed for it (audio and its telephone
    /// events); `ssrc`: the SDP's `a=ssrc`, if it gave one.
    pub fn new(signalled: SocketAddr, payload_types: &[u8], ssrc: Option<u32>) -> Self {
        Self {
            signalled,
            payload_types: payload_types.to_vec(),
            ssrc,
            learned: None,
        }
    }

    /// Whether a packet from `from` is the peer's (only those are played),
    /// learning its address and SSRC when it is.
    pub fn accept(&mut self, from: SocketAddr, header: &Header) -> bool {
        let peer = from.ip().to_canonical() == self.signalled.ip().to_canonical();
        if !peer || !self.payload_types.contains(&header.payload_type) {
            return false;
        }
        if self.ssrc.is_some_and(|s| s != header.ssrc) && self.learned != Some(from) {
            return false;
        }
        self.ssrc = Some(header.ssrc);
        self.learned = Some(from);
        true
    }

    /// Where to send the stream now.
    pub fn destination(&self) -> SocketAddr {
        self.learned.unwrap_or(self.signalled)
    }

    /// The peer's SSRC, once known.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }
}

#[cfg(test)]
mod tests;
