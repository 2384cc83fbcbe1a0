//! Door calls: a visitor presses the door's Call button and the room's
//! indoor monitors ring (issue 18). What the door panel shows of the call.

use serde::{Deserialize, Serialize};

use super::{call_log::EndState, system_time::TimeDisplay, time::UnixMillis};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallPhase {
    #[default]
    Idle,
    /// The monitors ring (some may already show the door's video).
    Ringing,
    Talking,
    /// Nobody answered: the door records the visitor's message.
    Message,
    /// A monitor called the door to watch (and talk): `answered_by`.
    Monitor,
}

impl CallPhase {
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Ringing => "Ringing",
            Self::Talking => "Talking",
            Self::Message => "Recording a message",
            Self::Monitor => "Monitor",
        }
    }
}

/// How a call of the door ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEnded {
    pub callee: String,
    /// A monitor's Monitor (`callee` is the monitor), not a door call.
    #[serde(default)]
    pub monitor: bool,
    pub end_state: EndState,
    pub talk_ms: Option<u64>,
}

/// The door's call as the device sees it now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallStatus {
    /// Changes with every change below: the browser waits for the next.
    pub version: u64,
    pub phase: CallPhase,
    /// The number called (a room, the Centre Call No.).
    pub callee: String,
    /// The monitor that answered (its SIP user, else its address).
    pub answered_by: String,
    /// When the current phase began.
    pub since: Option<UnixMillis>,
    /// The door's simulated speaker: how loud the answering side talks,
    /// 0 to 100.
    pub speaker_level: u8,
    /// The last call's end, until the next call.
    pub last: Option<CallEnded>,
    /// Counts the call's talkers: changes when someone answers or takes
    /// over. A browser that talks knows its own number
    /// ([`TalkAnswer::talker`]): another one means it was taken over.
    pub talker: u64,
    /// Watch Calls Answered Elsewhere (Local Setting > Basic): browsers
    /// keep showing the door while a monitor or another browser talks.
    pub watch_answered: bool,
    pub display: TimeDisplay,
}

impl CallStatus {
    /// Takes `answer` unless it is older than what is shown: a button's
    /// answer can come back after the long poll already brought a later
    /// status (the call ended before Hang Up's answer arrived), and going
    /// back would show the old phase until the next change.
    pub fn advance(&mut self, answer: CallStatus) {
        if answer.version >= self.version {
            *self = answer;
        }
    }
}

/// The device's answer to a browser answering (or taking over) the door
/// call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TalkAnswer {
    /// Names this talker's connection (like a live viewer's).
    pub id: String,
    /// The SDP answer, with the device's candidates (no trickle ICE).
    pub sdp: String,
    /// This talker's number ([`CallStatus::talker`] while it talks).
    pub talker: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: u64, phase: CallPhase) -> CallStatus {
        CallStatus {
            version,
            phase,
            ..CallStatus::default()
        }
    }

    #[test]
    fn an_answer_older_than_the_shown_status_is_ignored() {
        // The long poll brought Idle (7) before Hang Up's answer (6).
        let mut shown = at(7, CallPhase::Idle);
        shown.advance(at(6, CallPhase::Talking));
        assert_eq!(shown, at(7, CallPhase::Idle));
        // The same version or a later one is taken.
        shown.advance(at(7, CallPhase::Idle));
        assert_eq!(shown.version, 7);
        shown.advance(at(8, CallPhase::Ringing));
        assert_eq!(shown, at(8, CallPhase::Ringing));
    }
}
