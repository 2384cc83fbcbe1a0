//! The media of door calls (issue 18, "Media"): what the door station sends
//! and receives over RTP once SIP and SDP (`sip::call`, `sip::sdp`) have
//! agreed on codecs and addresses. Pure functions and small state machines
//! fed bytes and time; the device's sockets will be thin loops around
//! them. Not wired to calls yet.
//!
//! - `rtp.rs`: RTP packets (RFC 3550 5.1) read and written; the
//!   [`rtp::Sequencer`] of an outgoing stream (SSRC, sequence numbers,
//!   timestamps, the counts RTCP reports).
//! - `g711.rs`: PCMU and PCMA (ITU-T G.711) to and from 16-bit samples, and
//!   from one law to the other by G.711's tables.
//! - `rtcp.rs`: RTCP (RFC 3550 6): sender reports and BYE written, compound
//!   packets read leniently (report blocks, BYE).
//!
//! A crate of its own with one small dependency (thiserror), like
//! `sip`, so that its readers of network input can be tested and fuzzed
//! alone. Nothing here opens a socket or reads a clock: times are
//! parameters.

pub mod g711;
pub mod rtcp;
pub mod rtp;

/// Why a packet cannot be read or written. Reading network input returns
/// these, never panics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the packet ends inside its {0}")]
    Truncated(&'static str),
    #[error("RTP version {0}, not 2")]
    Version(u8),
    #[error("padding of {0} bytes does not fit the packet")]
    Padding(u8),
}
