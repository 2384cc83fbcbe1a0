//! The media of door calls (issue 18, "Media"): what the door station sends
//! and receives over RTP once SIP and SDP (`sip::call`, `sip::sdp`) have
//! agreed on codecs and addresses. Pure functions and small state machines
//! fed bytes and time; the device's sockets will be thin loops around
//! them. Not wired to calls yet.
//!
//! - `rtp.rs`: RTP packets (RFC 3550 5.1) read and written; the
//!   [`rtp::Sequencer`] of an outgoing stream (SSRC, sequence numbers,
//!   timestamps, the counts RTCP reports).
//! - `h264.rs`: H.264 over RTP (RFC 6184): Annex B to NAL units,
//!   packetization modes 0 and 1 (FU-A), key frames and their parameter
//!   sets, and a depacketizer (single NAL, FU-A, STAP-A) with loss
//!   detection.
//! - `g711.rs`: PCMU and PCMA (ITU-T G.711) to and from 16-bit samples, and
//!   from one law to the other by G.711's tables.
//! - `dtmf.rs`: RFC 4733 telephone events, the keys they press, and the
//!   matcher of a key sequence (a monitor's unlock command).
//! - `rtcp.rs`: RTCP (RFC 3550 6): sender reports and BYE written, compound
//!   packets read leniently (report blocks, BYE).
//! - `symmetric.rs`: symmetric RTP: where to send a peer's media, learned
//!   only from packets that come from the address its SDP gave.
//! - `mp4.rs`: a visitor's message recorded as fragmented MP4 that
//!   browsers play: the camera's H.264 and the door microphone's samples
//!   as FLAC, written fragment by fragment as the call goes.
//! - `aec.rs`: an acoustic echo canceller for the door's hands-free audio
//!   (NLMS, with two-path double-talk detection).
//!
//! A crate of its own with two small dependencies (bytes, thiserror), like
//! `sip`, so that its readers of network input can be tested and fuzzed
//! alone. Nothing here opens a socket or reads a clock: times are
//! parameters.

pub mod aec;
pub mod dtmf;
pub mod g711;
pub mod h264;
pub mod mp4;
pub mod rtcp;
pub mod rtp;
pub mod symmetric;

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
    #[error("a NAL unit of {len} bytes does not fit one packet of {max} bytes (packetization mode 0 cannot fragment)")]
    NalTooLarge { len: usize, max: usize },
    #[error("H.264 NAL unit type {0} is not read (only single NAL units, STAP-A and FU-A: packetization modes 0 and 1)")]
    Unsupported(u8),
    #[error("malformed H.264 payload: {0}")]
    H264(&'static str),
    #[error("an IDR picture without SPS and PPS, and none stored")]
    NoParameterSets,
    #[error("not a key sequence (0-9, *, #, A-D): {0:?}")]
    Command(String),
}
