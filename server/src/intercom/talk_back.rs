//! Talking to the door from outside a door call: the ONVIF audio
//! backchannel of RTSP clients (an NVR's or Home Assistant's talk button).
//!
//! The door has one speaker and door calls own it (the one-talker rule):
//! while a call rings, talks, records a message or a monitor watches,
//! nothing from a backchannel is played. Outside calls one client talks at
//! a time: the first to send holds the speaker until it has been silent
//! for [`RELEASE_AFTER`] or leaves; the others' audio is dropped
//! meanwhile (never queued: late speech is worse than none).

use std::{sync::Arc, time::Duration};

use app::model::intercom::CallPhase;
use media::g711::Law;
use tokio::time::Instant;

use super::{lock, IntercomService};

/// A holder silent this long lets another client talk.
pub const RELEASE_AFTER: Duration = Duration::from_secs(1);

/// Who holds the speaker outside calls. Pure: time is passed in.
#[derive(Debug, Default)]
pub struct Floor {
    /// The holder and when it last sent audio.
    holder: Option<(u64, Instant)>,
    next_id: u64,
}

impl Floor {
    /// A new talker's id (ids are never reused).
    pub fn join(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// `id` sends audio at `now`: whether it holds the speaker now.
    pub fn take(&mut self, id: u64, now: Instant) -> bool {
        match self.holder {
            Some((h, last)) if h != id && now.saturating_duration_since(last) < RELEASE_AFTER => {
                false
            }
            _ => {
                self.holder = Some((id, now));
                true
            }
        }
    }

    /// `id` left (its connection ended).
    pub fn leave(&mut self, id: u64) {
        if self.holder.is_some_and(|(h, _)| h == id) {
            self.holder = None;
        }
    }
}

/// One client's backchannel. Dropping it frees the speaker.
pub struct TalkBack {
    intercom: Arc<IntercomService>,
    id: u64,
    who: String,
    /// It held the speaker at its last packet (logs each start once).
    talking: bool,
}

impl IntercomService {
    /// A backchannel for `who` (the account, for the log).
    pub fn talk_back(self: &Arc<Self>, who: &str) -> TalkBack {
        let id = lock(&self.floor).join();
        TalkBack {
            intercom: self.clone(),
            id,
            who: who.to_string(),
            talking: false,
        }
    }

    /// The door has a speaker to talk to.
    pub fn has_speaker(&self) -> bool {
        self.config.speaker.is_some()
    }
}

impl TalkBack {
    /// Plays one RTP payload of G.711 when this client may talk now;
    /// returns whether it was played.
    pub fn play(&mut self, law: Law, payload: &[u8]) -> bool {
        let i = &self.intercom;
        let Some(speaker) = &i.config.speaker else {
            return false;
        };
        let in_call = i.status.borrow().phase != CallPhase::Idle
            || i.recording.load(std::sync::atomic::Ordering::SeqCst);
        let mine = !in_call && lock(&i.floor).take(self.id, crate::clock::monotonic());
        if mine != self.talking {
            if mine {
                tracing::info!(who = %self.who, "talks to the door (RTSP backchannel)");
            } else {
                tracing::info!(who = %self.who, "backchannel muted: a door call or another talker has the speaker");
            }
            self.talking = mine;
        }
        if mine {
            speaker.play_g711(law, payload);
        }
        mine
    }
}

impl Drop for TalkBack {
    fn drop(&mut self) {
        lock(&self.intercom.floor).leave(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_to_send_talks_until_silent_or_gone() {
        let t0 = crate::clock::monotonic();
        let mut f = Floor::default();
        let (a, b) = (f.join(), f.join());
        assert_ne!(a, b);
        assert!(f.take(a, t0));
        assert!(!f.take(b, t0 + Duration::from_millis(20)), "b waits");
        assert!(f.take(a, t0 + Duration::from_millis(900)));
        assert!(
            !f.take(b, t0 + Duration::from_millis(1800)),
            "a spoke 0.9 s ago"
        );
        // Silent for a second: b takes over, and a now waits.
        assert!(f.take(b, t0 + Duration::from_millis(1900)));
        assert!(!f.take(a, t0 + Duration::from_millis(1950)));
        f.leave(b);
        assert!(f.take(a, t0 + Duration::from_millis(1960)), "b left");
        // Leaving when not the holder changes nothing.
        f.leave(b);
        assert!(!f.take(b, t0 + Duration::from_millis(1970)));
    }
}
