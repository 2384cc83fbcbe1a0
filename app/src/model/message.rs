//! Visitors' messages (Leave Message Upload): what the Messages page lists.

use serde::{Deserialize, Serialize};

use super::{system_time::TimeDisplay, time::UnixMillis};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The file on the Storage Point (`message-<begin>-<duration>.mp4`).
    pub file: String,
    pub time: UnixMillis,
    pub duration_ms: u64,
    pub bytes: u64,
}

impl MessageRecord {
    /// Where the browser plays it.
    pub fn url(&self) -> String {
        format!("/storage/{}", self.file)
    }
}

/// Newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub records: Vec<MessageRecord>,
    #[serde(default)]
    pub display: TimeDisplay,
}
