//! The door camera served over RTSP 1.0 (RFC 2326) to NVRs, ffmpeg,
//! GStreamer's rtspsrc, Janus and Home Assistant: the server side of the
//! protocol as pure functions and per-connection state. No sockets, no
//! clock reads (times are milliseconds passed in), so the readers of
//! network input can be tested and fuzzed alone (`server/rtsp/fuzz`) and
//! the device's listener stays a thin loop around them.
//!
//! - `message.rs`: what a client sends on the RTSP connection, read
//!   incrementally (requests, and `$`-framed interleaved RTP/RTCP), and the
//!   responses written back.
//! - `target.rs`: what a request URL names: the main or sub stream (Dahua's
//!   `/cam/realmonitor?channel=1&subtype=N` or `/live/main|sub`), a relayed
//!   camera `/ipc/N`, and a track control (`trackID=N`, `*`).
//! - `transport.rs`: the `Transport` header: TCP interleaved or unicast
//!   UDP asked for, and the reply's.
//! - `session.rs`: the state machine of one session on one connection
//!   (OPTIONS ... TEARDOWN, the status codes, the timeout, the ONVIF
//!   backchannel's `Require`).
//! - `sdp.rs`: the session description DESCRIBE answers with (H.264 with
//!   its parameter sets, PCMU, the ONVIF backchannel).
//!
//! Client behaviour followed here is written where a choice depends on
//! it; where clients are silent the choice is documented where it is made.

pub mod message;
pub mod sdp;
pub mod session;
pub mod target;
pub mod transport;

use message::{Response, MAX_BODY, MAX_HEADER};

/// Why something a client sent cannot be served. Reading network input
/// returns these, never panics; [`Error::response`] is what to answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the header section is longer than {MAX_HEADER} bytes")]
    HeaderTooLarge,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("no CSeq header, or not a number")]
    MissingCSeq,
    #[error("Content-Length is not a number")]
    ContentLength { cseq: u32 },
    #[error("a body of {len} bytes is longer than {MAX_BODY}")]
    BodyTooLarge { len: u64, cseq: u32 },
    #[error("no stream or track at {0:?}")]
    NotFound(String),
    #[error("no transport served in {0:?} (unicast RTP/AVP over TCP, or over UDP where enabled)")]
    UnsupportedTransport(String),
    #[error("an interleaved frame of {0} bytes is longer than 65535")]
    FrameTooLarge(usize),
    #[error("bad H.264 parameter sets: {0}")]
    ParameterSets(&'static str),
}

impl Error {
    /// The RTSP status code that answers this error.
    pub fn status(&self) -> u16 {
        use message::status;
        match self {
            Self::HeaderTooLarge
            | Self::Malformed(_)
            | Self::MissingCSeq
            | Self::ContentLength { .. } => status::BAD_REQUEST,
            Self::BodyTooLarge { .. } => status::REQUEST_ENTITY_TOO_LARGE,
            Self::NotFound(_) => status::NOT_FOUND,
            Self::UnsupportedTransport(_) => status::UNSUPPORTED_TRANSPORT,
            Self::FrameTooLarge(_) | Self::ParameterSets(_) => status::INTERNAL_SERVER_ERROR,
        }
    }

    /// The CSeq of the request the error is about, where it was read.
    pub fn cseq(&self) -> Option<u32> {
        match self {
            Self::ContentLength { cseq } | Self::BodyTooLarge { cseq, .. } => Some(*cseq),
            _ => None,
        }
    }

    /// The response to send before closing the connection (reader errors
    /// leave the stream out of step, so nothing after them can be read).
    /// Without a CSeq when none was read: a reply the client cannot match
    /// still tells a person reading a capture what went wrong.
    pub fn response(&self) -> Response {
        Response::new(self.status(), self.cseq())
    }
}
