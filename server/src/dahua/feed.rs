//! The door's events as Dahua clients read them, for every Dahua front
//! door (the CGI event stream now, DHIP next): one task follows the lock
//! and the intercom and broadcasts each [`Event`] once; each stream
//! subscribes. A reader that falls behind loses the oldest events (and
//! is told in the log), it never holds the device up.
//!
//! [`Translator`] is the pure part: what a change of the call or of the
//! door is, in Dahua's codes (see `dahua::events`).

use std::sync::Arc;

use app::model::{
    access::{AlarmKind, AlarmRecord, DoorStatus, UnlockMethod, UnlockRecord},
    intercom::{CallPhase, CallStatus},
    time::{civil_from_days, UnixMillis},
};
use dahua::events::{self as ev, Action, Event, KeyLight, When};
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{door::lock::Written, services::Services};

/// Events kept for slow readers before the oldest are dropped for them.
const BACKLOG: usize = 256;

pub struct Feed {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Feed {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    fn send(&self, events: Vec<Event>) {
        for e in events {
            // Nobody listening is fine.
            let _ = self.tx.send(Arc::new(e));
        }
    }

    /// Follows the door and the intercom until they stop.
    pub async fn run(self: Arc<Self>, services: Arc<Services>) {
        let mut written = services.door.lock.written();
        let mut door = services.door.lock.watch_status();
        let mut call = services.intercom.follow();
        let mut t = Translator::new(&door.borrow_and_update(), &call.borrow_and_update());
        let when = |utc: UnixMillis| when(services.system.time.display().local(utc), utc);
        loop {
            tokio::select! {
                w = written.recv() => match w {
                    Ok(Written::Unlock(seq, record)) => {
                        self.send(t.unlock(seq, &record, &when(record.time)));
                    }
                    Ok(Written::Alarm(_, alarm)) => self.send(t.alarm(&alarm, &when(alarm.time))),
                    Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "door records not sent as events"),
                    Err(RecvError::Closed) => break,
                },
                changed = door.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let status = door.borrow_and_update().clone();
                    let now = services.system.time.now();
                    self.send(t.door(&status, &when(now)));
                }
                changed = call.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let status = call.borrow_and_update().clone();
                    let now = services.system.time.now();
                    self.send(t.call(&status, &when(now)));
                }
            }
        }
    }
}

/// `local` (milliseconds, the device's local time) and `utc` as events
/// carry them.
pub fn when(local: i64, utc: UnixMillis) -> When {
    let secs = local.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let (h, min, sec) = (s / 3600, s % 3600 / 60, s % 60);
    When {
        locale_time: format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{sec:02}"),
        utc: utc.0.div_euclid(1000),
    }
}

/// What each change means in events; remembers the last state seen.
pub struct Translator {
    door_open: bool,
    phase: CallPhase,
    /// Counts calls: the `CallID` of the current one.
    call_id: u64,
    callee: String,
}

impl Translator {
    pub fn new(door: &DoorStatus, call: &CallStatus) -> Self {
        Self {
            door_open: door.door_open,
            phase: call.phase,
            call_id: 0,
            callee: call.callee.clone(),
        }
    }

    /// An attempt to open, once recorded: `AccessControl` and the key
    /// light's unlock (8) or failed unlock (9).
    pub fn unlock(&mut self, seq: u64, r: &UnlockRecord, when: &When) -> Vec<Event> {
        let (card_no, user_id) = card_and_user(r);
        let access = ev::Access {
            method: method(r.method),
            name: r.who.clone(),
            card_no,
            user_id,
            granted: r.refused.is_none(),
            reader_id: "1".into(),
            rec_no: seq,
        };
        let light = if r.refused.is_none() {
            KeyLight::Unlock
        } else {
            KeyLight::UnlockFailed
        };
        vec![
            ev::access_control(&access, when),
            ev::back_key_light(light, when),
        ]
    }

    /// The door sensor: `DoorStatus` when it changes.
    pub fn door(&mut self, s: &DoorStatus, when: &When) -> Vec<Event> {
        if s.door_open == self.door_open {
            return Vec::new();
        }
        self.door_open = s.door_open;
        vec![ev::door_status(s.door_open, when)]
    }

    /// An alarm of the door: `DoorNotClosed` (open too long) or `BreakIn`
    /// (forced), Dahua's access control alarm codes.
    pub fn alarm(&mut self, a: &AlarmRecord, when: &When) -> Vec<Event> {
        let code = match a.kind {
            AlarmKind::DoorOpenTooLong => "DoorNotClosed",
            AlarmKind::ForcedDoor => "BreakIn",
        };
        vec![Event {
            code: code.into(),
            action: Action::Pulse,
            index: 0,
            data: Some(json!({
                "LocaleTime": when.locale_time,
                "Name": a.kind.label(),
                "UTC": when.utc,
            })),
        }]
    }

    /// The door call: the bell (`Invite`, `CallNoAnswered` Start, key
    /// light 1), its answer (Stop, 5) or its end unanswered (Stop, 6), and
    /// a monitor watching the door (7).
    pub fn call(&mut self, s: &CallStatus, when: &When) -> Vec<Event> {
        let (from, to) = (self.phase, s.phase);
        if from == to {
            return Vec::new();
        }
        self.phase = to;
        let mut out = Vec::new();
        if to == CallPhase::Ringing {
            self.call_id += 1;
            self.callee = s.callee.clone();
            let id = self.call_id.to_string();
            out.push(ev::invite(&id, 1, when));
            out.push(ev::call_no_answered(Action::Start, &id, &self.callee, when));
            out.push(ev::back_key_light(KeyLight::Ringing, when));
            return out;
        }
        if from == CallPhase::Ringing {
            let id = self.call_id.to_string();
            out.push(ev::call_no_answered(Action::Stop, &id, &self.callee, when));
            let light = if to == CallPhase::Talking {
                KeyLight::Answered
            } else {
                KeyLight::NotAnswered
            };
            out.push(ev::back_key_light(light, when));
        } else if to == CallPhase::Monitor {
            out.push(ev::back_key_light(KeyLight::Monitor, when));
        }
        out
    }
}

/// A record's card number (empty but for cards) and user: the room for a
/// card (`who` is `room name (card number)`, `door::access::card_who`),
/// else who opened.
pub fn card_and_user(r: &UnlockRecord) -> (String, String) {
    match r.method {
        UnlockMethod::Card => {
            let card = r
                .who
                .rsplit_once("(card ")
                .and_then(|(_, c)| c.strip_suffix(')'))
                .unwrap_or_default();
            let room = r.who.split(' ').next().unwrap_or_default();
            (card.to_string(), room.to_string())
        }
        _ => (String::new(), r.who.clone()),
    }
}

/// `AccessControl`'s `Method`: 4 (remote) is what a real VTO sends for
/// the HTTP API, DHIP and a monitor's unlock; the others are vto's own
/// numbering after Dahua's door-open methods as far as they are known
/// (the guide confirms only 4).
pub fn method(m: UnlockMethod) -> ev::Method {
    match m {
        UnlockMethod::Remote | UnlockMethod::Api | UnlockMethod::Sip => ev::Method::REMOTE,
        UnlockMethod::Password => ev::Method(1),
        UnlockMethod::Card => ev::Method(2),
        UnlockMethod::Button => ev::Method(6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::access::Refusal;

    fn at() -> When {
        when(1_714_564_984_000, UnixMillis(1_714_557_784_000))
    }

    fn codes(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| format!("{}:{}", e.code, e.action.as_str()))
            .collect()
    }

    fn call(phase: CallPhase) -> CallStatus {
        CallStatus {
            phase,
            callee: "9901".into(),
            ..Default::default()
        }
    }

    #[test]
    fn local_time_and_utc() {
        let w = at();
        assert_eq!(w.locale_time, "2024-05-01 12:03:04");
        assert_eq!(w.utc, 1_714_557_784);
    }

    #[test]
    fn a_call_answered_and_one_not() {
        let mut t = Translator::new(&DoorStatus::default(), &call(CallPhase::Idle));
        let ring = t.call(&call(CallPhase::Ringing), &at());
        assert_eq!(
            codes(&ring),
            ["Invite:Pulse", "CallNoAnswered:Start", "BackKeyLight:Pulse"]
        );
        let data = ring[1].data.clone().unwrap_or_default();
        assert_eq!(data["CallID"], "1");
        assert_eq!(data["UserID"], "9901");
        assert!(t.call(&call(CallPhase::Ringing), &at()).is_empty());
        let answered = t.call(&call(CallPhase::Talking), &at());
        assert_eq!(
            codes(&answered),
            ["CallNoAnswered:Stop", "BackKeyLight:Pulse"]
        );
        assert_eq!(answered[1].data.clone().unwrap_or_default()["State"], 5);
        assert!(t.call(&call(CallPhase::Idle), &at()).is_empty());
        let second = t.call(&call(CallPhase::Ringing), &at());
        assert_eq!(second[0].data.clone().unwrap_or_default()["CallID"], "2");
        let missed = t.call(&call(CallPhase::Message), &at());
        assert_eq!(missed[1].data.clone().unwrap_or_default()["State"], 6);
        t.call(&call(CallPhase::Idle), &at());
        let watch = t.call(&call(CallPhase::Monitor), &at());
        assert_eq!(watch[0].data.clone().unwrap_or_default()["State"], 7);
    }

    #[test]
    fn unlocks_door_and_alarms() {
        let mut t = Translator::new(&DoorStatus::default(), &call(CallPhase::Idle));
        let mut r = UnlockRecord {
            time: UnixMillis(0),
            method: UnlockMethod::Api,
            who: "op".into(),
            source: "127.0.0.1".into(),
            refused: None,
            snapshot: None,
        };
        let e = t.unlock(7, &r, &at());
        assert_eq!(codes(&e), ["AccessControl:Pulse", "BackKeyLight:Pulse"]);
        let d = e[0].data.clone().unwrap_or_default();
        assert_eq!(
            (d["Method"].clone(), d["Name"].clone()),
            (json!(4), json!("op"))
        );
        assert_eq!(
            (d["RecNo"].clone(), d["Status"].clone()),
            (json!(7), json!(1))
        );
        assert_eq!(e[1].data.clone().unwrap_or_default()["State"], 8);
        r.method = UnlockMethod::Card;
        r.who = "9901 Anna (card 00AB12)".into();
        r.refused = Some(Refusal::LostCard);
        let e = t.unlock(8, &r, &at());
        let d = e[0].data.clone().unwrap_or_default();
        assert_eq!(
            (d["CardNo"].clone(), d["UserID"].clone()),
            (json!("00AB12"), json!("9901"))
        );
        assert_eq!(d["Status"], 0);
        assert_eq!(e[1].data.clone().unwrap_or_default()["State"], 9);
        let open = DoorStatus {
            door_open: true,
            ..Default::default()
        };
        assert_eq!(codes(&t.door(&open, &at())), ["DoorStatus:Pulse"]);
        assert!(t.door(&open, &at()).is_empty());
        let closed = t.door(&DoorStatus::default(), &at());
        assert_eq!(
            closed[0].data.clone().unwrap_or_default()["Status"],
            "Close"
        );
        let alarm = AlarmRecord {
            time: UnixMillis(0),
            kind: AlarmKind::ForcedDoor,
            centre: None,
        };
        assert_eq!(codes(&t.alarm(&alarm, &at())), ["BreakIn:Pulse"]);
    }
}
