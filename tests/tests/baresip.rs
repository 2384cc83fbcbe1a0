//! Two real SIP user agents (baresip) as the indoor monitors of rooms 9901
//! and 9902: they register to this device with digest auth (`9901#0`,
//! `9902#0`), one calls the other's room through the proxy, each hears the
//! other's tone, DTMF digits reach the callee as RFC 4733 events, the
//! hang-up reaches the callee, and the call log shows the call answered
//! with its talk time.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::{
    baresip::{loud_frames, tone_power, Baresip, RATE},
    online, room, Vto,
};

const PW: &str = "Door2026Bell";
// Different tones: what each side hears must be the other's.
const CALLER_HZ: f64 = 440.0;
const CALLEE_HZ: f64 = 660.0;
/// How long the monitors talk before the DTMF and the hang-up: each side
/// must then have heard 1.8 s of the other's tone, and the call log a talk
/// time of at least 2 s. The call's length, not a wait for anything.
const TALK: Duration = Duration::from_secs(2);

/// Until room `no` has `count` monitors online (baresip registers on its
/// own schedule).
async fn wait_online(vto: &Vto, c: &tests::Client, no: &str, count: u64) {
    for _ in 0..100 {
        if online(c, no).await == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "room {no} never had {count} monitor(s) online; vto log:\n{}",
        vto.logs()
    );
}

/// That `heard` is at least `secs` of the tone `hz` and not of `other`.
fn assert_hears(who: &Baresip, heard: &[i16], hz: f64, other: f64, secs: f64) {
    let loud = loud_frames(heard);
    let (wanted, unwanted) = (tone_power(heard, hz), tone_power(heard, other));
    assert!(
        loud as f64 * 0.02 >= secs && wanted > 10.0 * unwanted,
        "{} heard {:.1} s of sound ({} samples at {RATE} Hz); power at {hz} Hz {wanted:.0}, \
         at {other} Hz {unwanted:.0}",
        who.user,
        loud as f64 * 0.02,
        heard.len()
    );
}

#[tokio::test]
async fn baresip_monitors_call_each_other_through_the_proxy() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    for no in ["9901", "9902"] {
        let (code, page) = c
            .call("add_room", json!({"room": room(no), "password": PW}))
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
        assert_eq!(online(&c, no).await, 0);
    }

    // Each monitor registers as `ROOM#0`, answering the digest challenge.
    let mut caller = Baresip::start("9901#0", PW, sip, CALLER_HZ).await;
    let mut callee = Baresip::start("9902#0", PW, sip, CALLEE_HZ).await;
    wait_online(&vto, &c, "9901", 1).await;
    wait_online(&vto, &c, "9902", 1).await;

    // 9901's monitor calls room 9902 at the device, which forks to the
    // room's registered monitor.
    caller.command("dial", &format!("sip:9902@{sip}")).await;
    let incoming = callee.event("CALL_INCOMING", 10).await;
    assert!(
        incoming["peeruri"].as_str().unwrap().contains("9901%230"),
        "the callee sees the calling monitor: {incoming}"
    );
    callee.command("accept", "").await;
    callee.event("CALL_ESTABLISHED", 10).await;
    caller.event("CALL_ESTABLISHED", 10).await;
    // The SDP passed the proxy intact: RTP arrives on both sides.
    callee.event("CALL_RTPESTAB", 10).await;
    caller.event("CALL_RTPESTAB", 10).await;

    // Talk a while, then key in a code (RFC 4733 telephone events).
    tokio::time::sleep(TALK).await;
    caller.command("sndcode", "1234#").await;
    let mut digits = String::new();
    for _ in 0..5 {
        let dtmf = callee.event("CALL_DTMF_START", 10).await;
        digits.push_str(dtmf["param"].as_str().unwrap_or("?"));
    }
    assert_eq!(digits, "1234#");

    // The BYE reaches the callee (through the device: its talk time below).
    caller.command("hangup", "").await;
    caller.event("CALL_CLOSED", 10).await;
    callee.event("CALL_CLOSED", 10).await;

    // Each heard the other's tone, about as long as the call lasted.
    assert_hears(&callee, &callee.received(), CALLER_HZ, CALLEE_HZ, 1.8);
    assert_hears(&caller, &caller.received(), CALLEE_HZ, CALLER_HZ, 1.8);

    // The device logged the call as answered, with the time talked.
    let (code, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(code, StatusCode::OK, "{log}");
    let call = &log["records"][0];
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(call["from"], "9901#0", "{log}");
    assert_eq!(call["to"], "9902", "{log}");
    assert_eq!(call["room_no"], "9902", "{log}");
    assert_eq!(call["end_state"], "Answered", "{log}");
    let talk = call["talk_ms"].as_u64().unwrap_or(0);
    assert!((2_000..60_000).contains(&talk), "talk time {talk} ms");

    drop((caller, callee));
    vto.stop().await;
}
