//! The door calls a room (issue 18): a Call press on the simulated door
//! panel rings both baresip monitors of room 9901 at once; one answers and
//! the other is cancelled "elsewhere"; the answering monitor hears the
//! door's camera (H.264 it decodes) and microphone (the test camera's
//! 440 Hz tone) and the door's
//! speaker hears the monitor; the First Unlock Command sent as DTMF opens
//! the door (Unlock log: SIP, the monitor); the call log has the row with
//! its talk time.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    baresip::{loud_frames, tone_power, Baresip},
    eventually, eventually_within, online, room,
    sipp::Sipp,
    Vto,
};

const PW: &str = "Door2026Bell";
/// The door's microphone: the built-in camera's tone.
const DOOR_HZ: f64 = 440.0;
const MONITOR_HZ: f64 = 880.0;
/// How long the answering monitor talks before the command and the
/// hang-up: the call's length, not a wait for anything.
const TALK: Duration = Duration::from_secs(2);

async fn status(c: &tests::Client) -> Value {
    let (code, s) = c.call("call_status", json!({"seen": u64::MAX})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    s
}

/// The door's (simulated) speaker plays what the answering side says.
async fn speaker_plays(c: &tests::Client) {
    eventually("the door speaker's level", || async {
        let s = status(c).await;
        (s["speaker_level"].as_u64().unwrap_or(0) > 50).then_some(())
    })
    .await;
}

/// The size of the door's picture as the monitor decoded it (a PNG).
async fn decoded_picture(monitor: &mut Baresip) -> (u32, u32) {
    let png = monitor.path("door.png");
    monitor
        .command("snapshot_recv", &png.display().to_string())
        .await;
    let picture = eventually("the monitor's decoded picture of the door", || async {
        std::fs::read(&png).ok().filter(|b| b.len() > 24)
    })
    .await;
    assert_eq!(&picture[1..4], b"PNG");
    let size = |at: usize| u32::from_be_bytes(picture[at..at + 4].try_into().unwrap());
    (size(16), size(20))
}

/// The unlock log's row of the door opened from a call.
async fn sip_unlock(c: &tests::Client) -> Value {
    eventually("the unlock log's SIP row", || async {
        let (code, log) = c.call("unlock_log", json!({"offset": 0})).await;
        assert_eq!(code, StatusCode::OK, "{log}");
        log["records"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["method"] == "Sip").cloned())
    })
    .await
}

/// The monitor heard the door's microphone (its tone, not its own) for
/// about as long as the call's TALK.
fn assert_heard_door(monitor: &Baresip) {
    let heard = monitor.received();
    let loud = loud_frames(&heard) as f64 * 0.02;
    let (door, own) = (tone_power(&heard, DOOR_HZ), tone_power(&heard, MONITOR_HZ));
    assert!(
        loud >= 1.8 && door > 10.0 * own,
        "the monitor heard {loud:.1} s; power at {DOOR_HZ} Hz {door:.0}, at {MONITOR_HZ} Hz {own:.0}"
    );
}

#[tokio::test]
async fn a_call_press_rings_the_room_one_monitor_answers_talks_and_opens_the_door() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let mut other = Baresip::start("9901#0", PW, sip, MONITOR_HZ).await;
    let mut answering = Baresip::start_with_video("9901#1", PW, sip, MONITOR_HZ).await;
    eventually("both monitors of 9901 online", || async {
        (online(&c, "9901").await == 2).then_some(())
    })
    .await;

    // Auto Snapshot (talking) on: the answer takes a picture.
    let (_, mut basic) = c.call("basic_settings", json!({})).await;
    basic["auto_snapshot_talking"] = json!(true);
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");

    // The visitor presses Call: the Villa Station's room rings.
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    assert_eq!(s["phase"], "Ringing", "{s}");
    assert_eq!(s["callee"], "9901", "{s}");
    other.event("CALL_INCOMING", 10).await;
    answering.event("CALL_INCOMING", 10).await;
    // A second press while it rings does nothing.
    let (code, again) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{again}");
    assert_eq!(again["phase"], "Ringing", "{again}");

    answering.command("accept", "").await;
    answering.event("CALL_ESTABLISHED", 10).await;
    answering.event("CALL_RTPESTAB", 10).await;
    // The other monitor stops ringing: the device cancelled it (baresip
    // 1.0 reports a CANCEL so; the CANCEL's Reason is checked by sipp in
    // the_monitor_not_answering_is_told_the_call_completed_elsewhere).
    let closed = other.event("CALL_CLOSED", 10).await;
    assert_eq!(closed["param"], "Connection reset by peer", "{closed}");
    let talking = eventually("the door panel shows the call answered", || async {
        let s = status(&c).await;
        (s["phase"] == "Talking").then_some(s)
    })
    .await;
    assert_eq!(talking["answered_by"], "9901#1", "{talking}");
    // The door's speaker plays the monitor's tone.
    speaker_plays(&c).await;

    // The monitor decodes the door camera's H.264: the built-in camera's
    // main stream by default, 720P.
    assert_eq!(decoded_picture(&mut answering).await, (1280, 720));

    tokio::time::sleep(TALK).await;
    // The First Unlock Command (default 123) as RFC 4733 events.
    answering.command("sndcode", "123").await;
    let unlock = sip_unlock(&c).await;
    assert_eq!(unlock["refused"], Value::Null, "{unlock}");
    assert!(
        unlock["who"].as_str().unwrap_or_default().contains("9901"),
        "{unlock}"
    );

    answering.command("hangup", "").await;
    answering.event("CALL_CLOSED", 10).await;
    let ended = eventually("the door panel shows the call over", || async {
        let s = status(&c).await;
        (s["phase"] == "Idle").then_some(s)
    })
    .await;
    assert_eq!(ended["last"]["end_state"], "Answered", "{ended}");

    // The monitor heard the door's microphone for about as long.
    assert_heard_door(&answering);

    // The call log's row, with the talk time (written once its snapshot
    // is saved).
    let log = eventually("the call log row", || async {
        let (code, log) = c.call("call_log", json!({"offset": 0})).await;
        assert_eq!(code, StatusCode::OK, "{log}");
        (log["total"] == 1).then_some(log)
    })
    .await;
    let row = &log["records"][0];
    assert_eq!(row["call_type"], "DoorCall", "{log}");
    assert_eq!(row["to"], "9901", "{log}");
    assert_eq!(row["room_no"], "9901", "{log}");
    assert_eq!(row["end_state"], "Answered", "{log}");
    let talk = row["talk_ms"].as_u64().unwrap_or(0);
    assert!((2_000..60_000).contains(&talk), "talk time {talk} ms");
    // Its snapshot, taken at the answer, is a JPEG on the Storage Point.
    let file = row["snapshot"]["Saved"].as_str().expect("a saved snapshot");
    assert!(file.starts_with("talk-"), "{row}");
    let res = c.get(&format!("/storage/{file}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let jpeg = res.bytes().await.unwrap();
    assert_eq!(&jpeg[..2], [0xff, 0xd8], "a JPEG");

    drop((other, answering));
    vto.stop().await;
}

#[tokio::test]
async fn calls_that_reach_nobody_say_why_and_are_logged() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    // No room yet: the Call button has nobody to call.
    let (code, e) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("Room No. Management"), "{e}");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // Bad numbers on the keypad, a room nobody has.
    for (number, says) in [
        ("", "Enter a room number"),
        ("99;01", "digits"),
        ("9999", "Not Found"),
    ] {
        let (code, e) = c.call("call", json!({"number": number})).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{number}: {e}");
        assert!(e.to_string().contains(says), "{number}: {e}");
    }
    // The room exists, no monitor of it is online: not answered, logged.
    let (code, e) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e.to_string().contains("9901: Temporarily Unavailable"),
        "{e}"
    );
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(log["records"][0]["end_state"], "NotAnswered", "{log}");
    assert_eq!(log["records"][0]["call_type"], "DoorCall", "{log}");

    // A monitor rings; the visitor walks away (Hang Up): cancelled.
    let mut monitor = Baresip::start("9901#0", PW, sip, MONITOR_HZ).await;
    eventually("the monitor online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;
    let (code, s) = c.call("call", json!({"number": "9901"})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    monitor.event("CALL_INCOMING", 10).await;
    let (code, s) = c.call("hang_up", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    monitor.event("CALL_CLOSED", 10).await;
    let ended = eventually("the call over", || async {
        let s = status(&c).await;
        (s["phase"] == "Idle").then_some(s)
    })
    .await;
    assert_eq!(ended["last"]["end_state"], "Cancelled", "{ended}");
    // The monitor refuses the next one: rejected.
    c.call("call", json!({})).await;
    monitor.event("CALL_INCOMING", 10).await;
    monitor.command("hangup", "").await;
    let ended = eventually("the call refused", || async {
        let s = status(&c).await;
        (s["phase"] == "Idle" && s["last"]["end_state"] != "Cancelled").then_some(s)
    })
    .await;
    assert_eq!(ended["last"]["end_state"], "Rejected", "{ended}");
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    let states: Vec<&str> = log["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["end_state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(states, ["Rejected", "Cancelled", "NotAnswered"], "{log}");
    drop(monitor);
    vto.stop().await;
}

/// Nobody answers: after the Ring Time (3 s here) the monitor is
/// cancelled, the door records the visitor for the Message Time as a
/// fragmented MP4 that ffprobe reads as H.264 and FLAC, listed on the
/// Messages page, served to a session and deleted; the call log says
/// Message Left.
#[tokio::test]
async fn nobody_answers_and_the_visitor_leaves_a_message() {
    let mut vto = Vto::start_with(&["--ring-secs", "3"]).await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let (_, mut basic) = c.call("basic_settings", json!({})).await;
    basic["leave_message"] = json!(true);
    basic["message_time_s"] = json!(5);
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    let port = tests::free_port();
    let reg = Sipp::new("register.xml", sip, "9901#0")
        .password(PW)
        .port(port)
        .run()
        .await;
    assert!(reg.passed, "{}", reg.output);
    let ringing = Sipp::new("callee-ring.xml", sip, "9901#0")
        .port(port)
        .spawn();
    tests::wait_bound(port, false).await;

    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    // The Ring Time passes: the monitor is cancelled, the door records.
    let run = ringing.await.unwrap();
    assert!(run.passed, "{}", run.output);
    eventually("the door recording a message", || async {
        let s = status(&c).await;
        (s["phase"] == "Message").then_some(())
    })
    .await;
    let ended = eventually_within("the message recorded", Duration::from_secs(20), || async {
        let s = status(&c).await;
        (s["phase"] == "Idle").then_some(s)
    })
    .await;
    assert_eq!(ended["last"]["end_state"], "MessageLeft", "{ended}");
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(log["records"][0]["end_state"], "MessageLeft", "{log}");

    let (code, list) = c.call("messages", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let m = &list["records"][0];
    let file = m["file"].as_str().unwrap().to_string();
    let duration = m["duration_ms"].as_u64().unwrap();
    assert!((4_500..6_000).contains(&duration), "{list}");
    let res = c.get(&format!("/storage/{file}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "video/mp4");
    let mp4 = res.bytes().await.unwrap();
    assert_eq!(mp4.len() as u64, m["bytes"].as_u64().unwrap());
    // A browser seeks with ranges.
    let res = c
        .request(reqwest::Method::GET, &format!("/storage/{file}"))
        .header("range", "bytes=8-15")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 8-15/{}", mp4.len()).as_str()
    );
    assert_eq!(res.bytes().await.unwrap(), mp4[8..16]);
    // Without a session: nothing.
    let res = vto.client().get(&format!("/storage/{file}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "to the login page");

    // A real reader: the camera's H.264 and the microphone as FLAC.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.mp4");
    std::fs::write(&path, &mp4).unwrap();
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-of", "json"])
        .arg(&path)
        .output()
        .expect("ffprobe (apt install ffmpeg)");
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let streams: Value = serde_json::from_slice(&probe.stdout).unwrap();
    let codec = |i: usize| {
        streams["streams"][i]["codec_name"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        (codec(0), codec(1)),
        ("h264".into(), "flac".into()),
        "{streams}"
    );
    assert_eq!(streams["streams"][0]["width"], 1280, "{streams}");
    assert_eq!(streams["streams"][1]["sample_rate"], "8000", "{streams}");
    let decode = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "decodes cleanly: {}",
        String::from_utf8_lossy(&decode.stderr)
    );

    let (code, list) = c.call("delete_message", json!({"file": file})).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["records"], json!([]), "{list}");
    let (code, e) = c.call("delete_message", json!({"file": file})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (code, e) = c
        .call("delete_message", json!({"file": "../data.redb"}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    vto.stop().await;
}

/// The monitor that did not answer gets CANCEL with RFC 3326's Reason
/// "Call completed elsewhere" (so it does not show a missed call): sipp
/// checks the header of the CANCEL it gets while baresip answers.
#[tokio::test]
async fn the_monitor_not_answering_is_told_the_call_completed_elsewhere() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let port = tests::free_port();
    let reg = Sipp::new("register.xml", sip, "9901#0")
        .password(PW)
        .port(port)
        .run()
        .await;
    assert!(reg.passed, "{}", reg.output);
    let mut answering = Baresip::start("9901#1", PW, sip, MONITOR_HZ).await;
    eventually("both monitors online", || async {
        (online(&c, "9901").await == 2).then_some(())
    })
    .await;
    let ringing = Sipp::new("callee-ring-elsewhere.xml", sip, "9901#0")
        .port(port)
        .spawn();
    tests::wait_bound(port, false).await;
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    answering.event("CALL_INCOMING", 10).await;
    answering.command("accept", "").await;
    answering.event("CALL_ESTABLISHED", 10).await;
    let run = ringing.await.unwrap();
    assert!(run.passed, "the CANCEL's Reason: {}", run.output);
    answering.command("hangup", "").await;
    answering.event("CALL_CLOSED", 10).await;
    drop(answering);
    vto.stop().await;
}

/// Monitor: a registered monitor calls the VTO No. (8001) and the door
/// answers at once with its camera and microphone; the monitor talks to
/// the door's speaker and opens the door with the First Unlock Command.
/// A stranger's INVITE to the same number gets nothing of the door.
#[tokio::test]
async fn a_monitor_calls_the_door_to_watch_talk_and_open_it() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let mut monitor = Baresip::start_with_video("9901#0", PW, sip, MONITOR_HZ).await;
    eventually("the monitor of 9901 online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;

    monitor.command("dial", &format!("sip:8001@{sip}")).await;
    monitor.event("CALL_ESTABLISHED", 10).await;
    monitor.event("CALL_RTPESTAB", 10).await;
    let watching = eventually("the door panel shows the Monitor", || async {
        let s = status(&c).await;
        (s["phase"] == "Monitor").then_some(s)
    })
    .await;
    assert_eq!(watching["answered_by"], "9901#0", "{watching}");
    // The door's speaker plays the monitor's tone.
    speaker_plays(&c).await;
    // The monitor decodes the door camera's picture.
    assert_eq!(decoded_picture(&mut monitor).await, (1280, 720));

    // A visitor's press while a monitor watches does nothing.
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    assert_eq!(s["phase"], "Monitor", "{s}");

    tokio::time::sleep(TALK).await;
    monitor.command("sndcode", "123").await;
    let unlock = sip_unlock(&c).await;
    assert_eq!(unlock["refused"], Value::Null, "{unlock}");
    assert!(
        unlock["who"]
            .as_str()
            .unwrap_or_default()
            .contains("9901#0"),
        "{unlock}"
    );

    monitor.command("hangup", "").await;
    monitor.event("CALL_CLOSED", 10).await;
    let ended = eventually("the door panel shows the Monitor over", || async {
        let s = status(&c).await;
        (s["phase"] == "Idle").then_some(s)
    })
    .await;
    assert_eq!(ended["last"]["monitor"], true, "{ended}");
    // The monitor heard the door's microphone.
    assert_heard_door(&monitor);
    let log = eventually("the call log row", || async {
        let (_, log) = c.call("call_log", json!({"offset": 0})).await;
        (log["total"] == 1).then_some(log)
    })
    .await;
    let row = &log["records"][0];
    assert_eq!(row["call_type"], "Monitor", "{log}");
    assert_eq!(row["from"], "9901#0", "{log}");
    assert_eq!(row["to"], "8001", "{log}");
    assert_eq!(row["room_no"], "9901", "{log}");
    assert_eq!(row["end_state"], "Answered", "{log}");
    let talk = row["talk_ms"].as_u64().unwrap_or(0);
    assert!((2_000..60_000).contains(&talk), "talk time {talk} ms");

    // A stranger (not registered) dialing the VTO No. is refused by the
    // proxy and sees nothing of the door.
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = socket.local_addr().unwrap();
    let invite = format!(
        "INVITE sip:8001@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKstranger\r\n\
         Max-Forwards: 70\r\nFrom: <sip:9901%230@{sip}>;tag=x\r\nTo: <sip:8001@{sip}>\r\n\
         Call-ID: stranger-1\r\nCSeq: 1 INVITE\r\nContact: <sip:9901%230@{me}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    socket.send_to(invite.as_bytes(), sip).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), socket.recv_from(&mut buf))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        answer.starts_with("SIP/2.0 403 Forbidden (register first)"),
        "{answer}"
    );
    assert_eq!(status(&c).await["phase"], "Idle");

    drop(monitor);
    vto.stop().await;
}
