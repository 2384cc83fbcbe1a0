//! The door's real microphone and speaker (`--audio-in`, `--audio-out`)
//! on ALSA devices: ALSA's own `file` plugin stands in for the sound card
//! (the microphone reads a recorded tone, the speaker writes what it plays
//! to a file), through the real libasound. A monitor watching the door
//! hears the microphone (not the camera's tone) and the door's speaker
//! plays the monitor's voice; a bad device name stops the start with a
//! clear error.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::{
    baresip::{tone_power, Baresip, RATE},
    eventually, online, room, Vto,
};

const PW: &str = "Door2026Bell";
/// The visitor at the door's microphone.
const MIC_HZ: f64 = 1000.0;
/// The test camera's tone, which the microphone replaces.
const CAMERA_HZ: f64 = 440.0;
const MONITOR_HZ: f64 = 880.0;

fn read_samples(path: &std::path::Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[tokio::test]
async fn a_monitor_hears_the_door_microphone_and_the_door_speaker_plays_the_monitor() {
    let home = tempfile::tempdir().unwrap();
    let mic = home.path().join("mic.raw");
    let speaker = home.path().join("speaker.raw");
    // A minute of a 1 kHz tone, 8 kHz 16-bit mono, as the microphone hears.
    let tone: Vec<u8> = (0..RATE as usize * 60)
        .flat_map(|i| {
            let t = i as f64 / f64::from(RATE);
            ((8000.0 * (2.0 * std::f64::consts::PI * MIC_HZ * t).sin()) as i16).to_le_bytes()
        })
        .collect();
    std::fs::write(&mic, tone).unwrap();
    std::fs::write(
        home.path().join(".asoundrc"),
        format!(
            "pcm.vto_mic {{\n type file\n slave.pcm null\n file \"/dev/null\"\n infile \"{}\"\n format raw\n}}\n",
            mic.display()
        ),
    )
    .unwrap();
    let speaker_device = format!("file:'{}',raw", speaker.display());
    let mut vto = Vto::start_with_env(
        &["--audio-in", "vto_mic", "--audio-out", &speaker_device],
        &[("HOME", home.path())],
    )
    .await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let mut monitor = Baresip::start("9901#0", PW, sip, MONITOR_HZ).await;
    eventually("the monitor of 9901 online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;

    monitor.command("dial", &format!("sip:8001@{sip}")).await;
    monitor.event("CALL_ESTABLISHED", 10).await;
    monitor.event("CALL_RTPESTAB", 10).await;
    // The speaker's file fills with the monitor's tone.
    let played = eventually("the door speaker played the monitor", || async {
        let s = read_samples(&speaker);
        (tone_power(&s, MONITOR_HZ) > 1e5).then_some(s)
    })
    .await;
    assert!(
        tone_power(&played, MONITOR_HZ) > 10.0 * tone_power(&played, MIC_HZ),
        "the speaker plays the monitor, not the door's own microphone"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    monitor.command("hangup", "").await;
    monitor.event("CALL_CLOSED", 10).await;

    // The monitor heard the microphone's tone, not the camera's.
    let heard = monitor.received();
    let (mic_power, camera_power) = (tone_power(&heard, MIC_HZ), tone_power(&heard, CAMERA_HZ));
    assert!(
        mic_power > 1e5 && mic_power > 10.0 * camera_power,
        "heard {mic_power:.0} at {MIC_HZ} Hz, {camera_power:.0} at {CAMERA_HZ} Hz"
    );
    drop(monitor);
    vto.stop().await;
}

#[tokio::test]
async fn a_device_that_cannot_be_opened_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let Err(why) = Vto::start_in(
        &dir.path().join("data"),
        &["--audio-out", "vto-no-such-speaker"],
    )
    .await
    else {
        panic!("vto started with a speaker that does not exist");
    };
    assert!(why.contains("vto-no-such-speaker"), "{why}");
}
