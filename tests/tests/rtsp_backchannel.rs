//! The ONVIF audio backchannel of RTSP out (issue 21): GStreamer's rtspsrc
//! with `backchannel=onvif` (`tests/peers/backchannel_client.py`), as an
//! NVR's or a relay's talk button, sends a tone; the door's speaker (ALSA's
//! `file` plugin through the real libasound, as in `door_audio.rs`) plays
//! it. One talker at a time, door calls first, and only accounts that may
//! answer the door.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{path::Path, process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::json;
use tests::{
    add_user,
    baresip::{tone_power, Baresip, RATE},
    eventually, eventually_within, online,
    process::ProcessGroup,
    room, Vto,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/backchannel_client.py");
const MAIN: &str = "/cam/realmonitor?channel=1&subtype=0";
const PW: &str = "Door2026Bell";
const FIRST_HZ: f64 = 880.0;
const SECOND_HZ: f64 = 1320.0;
/// A tone's power in the speaker's output (`tone_power`: Goertzel over
/// the samples, normalised by their count squared): the clients' tones
/// (half of full scale) throughout reach about 7e7.
const HEARD: f64 = 1e7;
/// At most about 12 packets (240 ms) of a tone in 2 s: what the speaker
/// still had queued when a call took it over.
const MUTED: f64 = 1e6;

/// A backchannel client talking (its process group ends when dropped).
struct Talker {
    _group: ProcessGroup,
}

/// Starts a client sending `hz`; waits for its first packet taken after
/// PLAY ("talking"), or returns its error line.
async fn talk(vto: &Vto, user: &str, password: &str, hz: f64) -> Result<Talker, String> {
    let addr = vto.rtsp.expect("vto prints its RTSP address");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(SCRIPT)
        .arg(format!("rtsp://{addr}{MAIN}"))
        .args([user, password, &hz.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // GStreamer's warnings about the sample's ownership in Python.
        .stderr(Stdio::null());
    let mut child = ProcessGroup::spawn(&mut cmd).expect("run python3 (apt install python3-gi)");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the backchannel client talks or fails within 30 s")
        .expect("read")
        .unwrap_or_default();
    if first == "talking" {
        Ok(Talker { _group: child })
    } else {
        Err(first)
    }
}

fn samples(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The speaker's next `seconds` of output from now (it plays silence
/// between talkers, so the file grows in real time).
async fn next_played(path: &Path, seconds: u32) -> Vec<i16> {
    let from = samples(path).len();
    let want = from + (RATE * seconds) as usize;
    eventually_within(
        "the speaker plays on",
        Duration::from_secs(u64::from(seconds) + 15),
        || async {
            let s = samples(path);
            (s.len() >= want).then(|| s[from..want].to_vec())
        },
    )
    .await
}

/// Waits until the speaker's newest second carries `hz`.
async fn heard(vto: &Vto, path: &Path, hz: f64, what: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let s = samples(path);
        let last = &s[s.len().saturating_sub(RATE as usize)..];
        if tone_power(last, hz) > HEARD {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "{what}: not within 15 s\n{}",
            vto.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_backchannel_reaches_the_door_speaker_one_talker_at_a_time() {
    let home = tempfile::tempdir().unwrap();
    let speaker = home.path().join("speaker.raw");
    let device = format!("file:'{}',raw", speaker.display());
    let mut vto = Vto::start_with(&["--audio-out", &device]).await;
    let c = vto.ready().await;
    add_user(&c, "keeper", "Porch-Light42", "Operator").await;
    add_user(&c, "nvr", "Hall-Monitor42", "Viewer").await;

    // A Viewer may watch but not talk: the backchannel's SETUP is refused.
    let refused = talk(&vto, "nvr", "Hall-Monitor42", FIRST_HZ).await;
    let why = match refused {
        Ok(_) => panic!("a Viewer cannot talk to the door: {}", vto.logs()),
        Err(why) => why,
    };
    assert!(why.starts_with("error:"), "{why}");

    // An Operator talks: the door's speaker plays the tone.
    let first = talk(&vto, "keeper", "Porch-Light42", FIRST_HZ)
        .await
        .unwrap();
    heard(
        &vto,
        &speaker,
        FIRST_HZ,
        "the speaker plays the first talker",
    )
    .await;

    // A second client while the first talks: the first keeps the speaker.
    let second = talk(&vto, "admin", tests::STRONG, SECOND_HZ).await.unwrap();
    let both = next_played(&speaker, 2).await;
    let (p1, p2) = (tone_power(&both, FIRST_HZ), tone_power(&both, SECOND_HZ));
    assert!(
        p1 > HEARD && p2 < MUTED,
        "while the first talks, only it is heard: {p1:.0} at {FIRST_HZ} Hz, {p2:.0} at {SECOND_HZ} Hz"
    );
    // The first leaves: the second is heard.
    drop(first);
    heard(
        &vto,
        &speaker,
        SECOND_HZ,
        "the speaker plays the second talker",
    )
    .await;

    // A door call owns the speaker: while it rings, the backchannel is
    // not played.
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let mut monitor = Baresip::start("9901#0", PW, sip, 440.0).await;
    eventually("the monitor of 9901 online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    assert_eq!(s["phase"], "Ringing", "{s}");
    monitor.event("CALL_INCOMING", 10).await;
    let ringing = next_played(&speaker, 2).await;
    let p2 = tone_power(&ringing, SECOND_HZ);
    assert!(
        p2 < MUTED,
        "the backchannel is muted during a call: {p2:.0}"
    );
    let (code, s) = c.call("reject_call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    monitor.event("CALL_CLOSED", 10).await;
    // After the call the backchannel talks again.
    heard(&vto, &speaker, SECOND_HZ, "the backchannel after the call").await;
    assert!(
        vto.logs().contains("talks to the door (RTSP backchannel)"),
        "the device logs who talks"
    );
    drop(second);
    drop(monitor);
    vto.stop().await;
}
