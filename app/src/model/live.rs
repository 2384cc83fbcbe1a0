//! Live view over WebRTC: the browser's offer and the device's answer.

use serde::{Deserialize, Serialize};

/// The device's answer to a live-view offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAnswer {
    /// Names this viewer for `live_end`.
    pub id: String,
    /// The SDP answer, with the device's candidates (no trickle ICE).
    pub sdp: String,
}

/// The sources a live view can show.
pub const SOURCES: &[&str] = &["door"];
