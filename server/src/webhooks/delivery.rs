//! The pure part of webhooks: which change of the door is which event,
//! the JSON each sends, how a receiver's answer is judged, when to try
//! again, and the signature.

use std::time::Duration;

use app::model::{
    access::{AlarmRecord, UnlockRecord},
    intercom::{CallPhase, CallStatus},
    time::UnixMillis,
    webhook::HookEvent,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

/// Waits before the 2nd, 3rd, 4th and 5th attempt; after the 5th the
/// delivery has failed.
pub const RETRY_AFTER_S: [u64; 4] = [2, 10, 60, 300];

/// How long to wait after `attempts` failed attempts; `None`: give up.
pub fn retry_delay(attempts: u32) -> Option<Duration> {
    let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
    RETRY_AFTER_S.get(i).map(|s| Duration::from_secs(*s))
}

/// What an attempt's outcome means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered(u16),
    /// Worth another attempt: the receiver is down, slow or overloaded.
    Retry(String),
    /// Another attempt would be answered the same.
    GiveUp(String),
}

/// `outcome`: the receiver's status, or why there was none.
pub fn judge(outcome: Result<u16, String>) -> Verdict {
    match outcome {
        Ok(c @ 200..=299) => Verdict::Delivered(c),
        // Following a redirect would send the event (and its signature)
        // where the answer says, not where the owner configured.
        Ok(c @ 300..=399) => Verdict::GiveUp(format!("Answered {c}: redirects are not followed")),
        Ok(c @ (408 | 425 | 429 | 500..)) => Verdict::Retry(format!("Answered {c}")),
        Ok(c) => Verdict::GiveUp(format!("Answered {c}")),
        Err(e) => Verdict::Retry(e),
    }
}

/// One change of the door that webhooks are sent for.
#[derive(Clone, Debug, PartialEq)]
pub struct Fired {
    /// `None`: the Test button.
    pub event: Option<HookEvent>,
    pub time: UnixMillis,
    /// The event's own fields.
    pub data: Map<String, Value>,
}

impl Fired {
    pub fn key(&self) -> &'static str {
        self.event.map_or("test", HookEvent::key)
    }
}

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A call starting to ring (`Call`) or the ringing call answered
/// (`Answer`); `before` is the phase before `now`.
pub fn on_call(before: CallPhase, now: &CallStatus, time: UnixMillis) -> Option<Fired> {
    let (event, data) = match (before, now.phase) {
        (b, CallPhase::Ringing) if b != CallPhase::Ringing => {
            (HookEvent::Call, json!({ "callee": now.callee }))
        }
        (CallPhase::Ringing, CallPhase::Talking) => (
            HookEvent::Answer,
            json!({ "callee": now.callee, "answered_by": now.answered_by }),
        ),
        _ => return None,
    };
    Some(Fired {
        event: Some(event),
        time,
        data: fields(data),
    })
}

/// An attempt to open, granted or refused.
pub fn on_unlock(r: &UnlockRecord) -> Fired {
    Fired {
        event: Some(HookEvent::Unlock),
        time: r.time,
        data: fields(json!({
            "method": r.method.key(),
            "who": r.who,
            "source": r.source,
            "granted": r.refused.is_none(),
            "refused": r.refused.map(|x| x.label()),
        })),
    }
}

pub fn on_alarm(a: &AlarmRecord) -> Fired {
    Fired {
        event: Some(HookEvent::Alarm),
        time: a.time,
        data: fields(json!({ "alarm": a.kind.key(), "name": a.kind.label() })),
    }
}

pub fn test(time: UnixMillis) -> Fired {
    Fired {
        event: None,
        time,
        data: fields(json!({ "test": true })),
    }
}

/// Who sends: in every body.
#[derive(Clone, Debug, Default)]
pub struct Device {
    pub serial: String,
    pub vto_no: String,
}

/// The request's body: the event, its time (UTC milliseconds and the
/// device's local time as shown), the device, then the event's fields.
pub fn body(f: &Fired, local_time: &str, device: &Device) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("event".into(), f.key().into());
    m.insert("time".into(), f.time.0.into());
    m.insert("local_time".into(), local_time.into());
    m.insert(
        "device".into(),
        json!({ "serial": device.serial, "vto_no": device.vto_no }),
    );
    for (k, v) in &f.data {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m).to_string().into_bytes()
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // A key of any length is accepted by HMAC.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The request's headers besides Content-Type.
pub fn headers(
    key: &str,
    delivery: u64,
    secret: Option<&str>,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("X-Vto-Event", key.to_string()),
        ("X-Vto-Delivery", delivery.to_string()),
    ];
    if let Some(s) = secret {
        h.push(("X-Vto-Signature", signature(s, body)));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::access::{AlarmKind, Refusal, UnlockMethod};

    #[test]
    fn retries_back_off_then_stop() {
        let waits: Vec<_> = (0..7).map(retry_delay).collect();
        assert_eq!(
            waits,
            [
                None,
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(300)),
                None,
                None,
            ]
        );
    }

    #[test]
    fn answers_judged() {
        assert_eq!(judge(Ok(204)), Verdict::Delivered(204));
        for c in [500, 503, 429, 408] {
            assert!(matches!(judge(Ok(c)), Verdict::Retry(_)), "{c}");
        }
        for c in [301, 302, 400, 401, 404] {
            assert!(matches!(judge(Ok(c)), Verdict::GiveUp(_)), "{c}");
        }
        assert_eq!(
            judge(Err("refused".into())),
            Verdict::Retry("refused".into())
        );
    }

    fn status(phase: CallPhase) -> CallStatus {
        CallStatus {
            phase,
            callee: "9901".into(),
            answered_by: "9901#1".into(),
            ..CallStatus::default()
        }
    }

    #[test]
    fn call_and_answer() {
        let t = UnixMillis(5);
        let f = on_call(CallPhase::Idle, &status(CallPhase::Ringing), t).unwrap();
        assert_eq!(f.event, Some(HookEvent::Call));
        assert_eq!(f.data["callee"], "9901");
        let f = on_call(CallPhase::Ringing, &status(CallPhase::Talking), t).unwrap();
        assert_eq!(f.event, Some(HookEvent::Answer));
        assert_eq!(f.data["answered_by"], "9901#1");
        // Unanswered, a monitor watching, hanging up: nothing.
        assert!(on_call(CallPhase::Ringing, &status(CallPhase::Message), t).is_none());
        assert!(on_call(CallPhase::Idle, &status(CallPhase::Monitor), t).is_none());
        assert!(on_call(CallPhase::Monitor, &status(CallPhase::Talking), t).is_none());
        assert!(on_call(CallPhase::Talking, &status(CallPhase::Idle), t).is_none());
        assert!(on_call(CallPhase::Ringing, &status(CallPhase::Ringing), t).is_none());
    }

    #[test]
    fn unlock_alarm_and_body() {
        let r = UnlockRecord {
            time: UnixMillis(1_000),
            method: UnlockMethod::Card,
            who: "9901 / card 00AB12".into(),
            source: String::new(),
            refused: Some(Refusal::LostCard),
            snapshot: None,
        };
        let device = Device {
            serial: "ABC".into(),
            vto_no: "8001".into(),
        };
        let b = body(&on_unlock(&r), "2026-12-06 04:00:01", &device);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["event"], "unlock");
        assert_eq!(v["time"], 1_000);
        assert_eq!(v["local_time"], "2026-12-06 04:00:01");
        assert_eq!(v["device"]["vto_no"], "8001");
        assert_eq!(v["method"], "card");
        assert_eq!(v["granted"], false);
        assert_eq!(v["refused"], "Lost card");
        let a = AlarmRecord {
            time: UnixMillis(2),
            kind: AlarmKind::ForcedDoor,
            centre: None,
        };
        let v: Value = serde_json::from_slice(&body(&on_alarm(&a), "", &device)).unwrap();
        assert_eq!(
            (v["event"].as_str(), v["alarm"].as_str()),
            (Some("alarm"), Some("forced"))
        );
        assert_eq!(test(UnixMillis(1)).key(), "test");
    }

    #[test]
    fn signature_is_rfc_4231_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let h = headers("unlock", 7, None, b"{}");
        assert_eq!(
            h,
            [
                ("X-Vto-Event", "unlock".into()),
                ("X-Vto-Delivery", "7".into())
            ]
        );
        assert_eq!(headers("unlock", 7, Some("k"), b"{}").len(), 3);
    }
}
