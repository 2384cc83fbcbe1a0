//! RTSP out (issue 21) against the real binary, by the clients that pull
//! a door station's stream: Debian's ffprobe and ffmpeg over TCP
//! interleaved and UDP, and GStreamer's rtspsrc; Digest against vto's
//! accounts, with the UI's lockout; a Viewer may watch.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{process::Stdio, time::Duration};

use serde_json::{json, Value};
use tests::{eventually, Vto, STRONG};
use tokio::process::Command;

const MAIN: &str = "/cam/realmonitor?channel=1&subtype=0";
const SUB: &str = "/cam/realmonitor?channel=1&subtype=1";

fn url(vto: &Vto, user: &str, password: &str, path: &str) -> String {
    let addr = vto.rtsp.expect("vto prints its RTSP address");
    format!("rtsp://{user}:{password}@{addr}{path}")
}

/// ffprobe's streams of `url` over `transport`, or its error text.
async fn probe(url: &str, transport: &str) -> Result<Vec<Value>, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("ffprobe")
            .args(["-v", "error", "-rtsp_transport", transport, "-show_streams"])
            .args(["-of", "json", url])
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("ffprobe within 30 s")
    .expect("run ffprobe (apt install ffmpeg)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe's JSON");
    Ok(v["streams"].as_array().cloned().unwrap_or_default())
}

fn stream<'a>(streams: &'a [Value], kind: &str) -> &'a Value {
    streams
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {streams:?}"))
}

/// Decodes `frames` video frames with ffmpeg; their count as ffmpeg says.
async fn decode(url: &str, transport: &str, frames: u32) -> Result<(), String> {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new("ffmpeg")
            .args(["-v", "error", "-rtsp_transport", transport, "-i", url])
            .args(["-frames:v", &frames.to_string(), "-f", "null", "-"])
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("ffmpeg within 60 s")
    .expect("run ffmpeg");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn ffprobe_and_ffmpeg_play_both_streams_over_tcp_and_udp() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    for transport in ["tcp", "udp"] {
        let streams = probe(&url(&vto, "admin", STRONG, MAIN), transport)
            .await
            .unwrap_or_else(|e| panic!("{transport}: {e}"));
        let v = stream(&streams, "video");
        assert_eq!(v["codec_name"], "h264", "{v}");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(1280), Some(720)),
            "{v}"
        );
        let a = stream(&streams, "audio");
        assert_eq!(a["codec_name"], "pcm_mulaw", "{a}");
        assert_eq!(a["sample_rate"], "8000", "{a}");
    }
    let streams = probe(&url(&vto, "admin", STRONG, SUB), "tcp")
        .await
        .unwrap();
    let v = stream(&streams, "video");
    assert!(
        v["width"].as_u64().unwrap() < 1280,
        "the sub stream is smaller: {v}"
    );
    // Frames decode, over both transports; two clients at once; the
    // short alias too.
    let (main, sub) = (
        url(&vto, "admin", STRONG, MAIN),
        url(&vto, "admin", STRONG, "/live/sub"),
    );
    let (a, b) = tokio::join!(decode(&main, "tcp", 30), decode(&sub, "udp", 30));
    a.unwrap();
    b.unwrap();
}

#[tokio::test]
async fn gstreamer_rtspsrc_decodes_the_door_camera() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    let addr = vto.rtsp.unwrap();
    for protocols in ["tcp", "udp"] {
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            Command::new("gst-launch-1.0")
                .args(["-q", "rtspsrc"])
                // One property per argument: gst-launch escapes each.
                .arg(format!("location=rtsp://{addr}{MAIN}"))
                .args(["user-id=admin", &format!("user-pw={STRONG}")])
                .arg(format!("protocols={protocols}"))
                .args(["!", "rtph264depay", "!", "h264parse", "!", "avdec_h264"])
                .args(["!", "fakesink", "num-buffers=25"])
                .kill_on_drop(true)
                .stdin(Stdio::null())
                .output(),
        )
        .await
        .expect("gst-launch within 60 s")
        .expect("run gst-launch-1.0");
        assert!(
            out.status.success(),
            "{protocols}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_locked_out_and_a_viewer_may_watch() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    // Without credentials: 401.
    let err = probe(
        &url(&vto, "", "", MAIN).replace("rtsp://:@", "rtsp://"),
        "tcp",
    )
    .await
    .unwrap_err();
    assert!(err.contains("401"), "{err}");
    tests::add_user(&c, "nvr", "Gate-Keeper9", "Viewer").await;
    let streams = probe(&url(&vto, "nvr", "Gate-Keeper9", MAIN), "tcp")
        .await
        .unwrap();
    assert_eq!(stream(&streams, "video")["codec_name"], "h264");

    // Five wrong passwords lock the account for this address, as the UI.
    for _ in 0..5 {
        let err = probe(&url(&vto, "nvr", "wrong-Pass1", MAIN), "tcp")
            .await
            .unwrap_err();
        assert!(err.contains("401"), "{err}");
    }
    let err = probe(&url(&vto, "nvr", "Gate-Keeper9", MAIN), "tcp")
        .await
        .unwrap_err();
    assert!(err.contains("401"), "locked: {err}");
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert!(log.to_string().contains("nvr"), "{log}");
}

#[tokio::test]
async fn a_client_that_vanishes_is_freed() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let mut ffmpeg = Command::new("ffmpeg")
        .args(["-v", "error", "-rtsp_transport", "tcp", "-i"])
        .arg(url(&vto, "admin", STRONG, MAIN))
        .args(["-f", "null", "-"])
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rtsp_online = |v: &Value| {
        v["entries"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["door"] == "RTSP").count())
            .unwrap_or(0)
    };
    let cr = &c;
    eventually("the RTSP client listed", || async move {
        let (_, v) = cr.call("online_users", json!({})).await;
        (rtsp_online(&v) == 1).then_some(())
    })
    .await;
    ffmpeg.kill().await.unwrap();
    eventually("the RTSP client gone", || async move {
        let (_, v) = cr.call("online_users", json!({})).await;
        (rtsp_online(&v) == 0).then_some(())
    })
    .await;
}
