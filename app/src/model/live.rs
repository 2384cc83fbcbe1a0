//! Live view over WebRTC: the browser's offer and the device's answer, and
//! what a camera is doing.

use serde::{Deserialize, Serialize};

/// The device's answer to a live-view offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAnswer {
    /// Names this viewer for `live_end`.
    pub id: String,
    /// The SDP answer, with the device's candidates (no trickle ICE).
    pub sdp: String,
}

/// The sources a live view can show: the door camera's main and sub
/// stream.
pub const SOURCES: &[&str] = &["door", "door-sub"];

/// What a camera's stream is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceState {
    /// Nobody watches, so nothing is fetched or encoded.
    #[default]
    Idle,
    /// The first connection is being made.
    Connecting,
    Live,
    /// The stream broke; it is being retried.
    Reconnecting,
    /// The camera refused or sent something unusable; still retried, as the
    /// camera or its settings may be fixed.
    Error,
}

impl SourceState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Connecting => "Connecting",
            Self::Live => "Live",
            Self::Reconnecting => "Reconnecting",
            Self::Error => "Error",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub state: SourceState,
    /// Why it is reconnecting or failed; empty otherwise.
    pub detail: String,
    /// The picture's size once known (0 before).
    pub width: u16,
    pub height: u16,
    /// The audio relayed (e.g. "G.711 μ-law"), or why none is; empty when
    /// the camera sends none.
    pub audio: String,
}
