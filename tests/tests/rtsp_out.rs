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
        let frames = gst_decoded_frames(&format!("rtsp://{addr}{MAIN}"), protocols, 25)
            .await
            .unwrap_or_else(|e| panic!("{protocols}: {e}"));
        // Whole 1280×720 I420 pictures out of the decoder.
        assert!(
            frames.iter().all(|f| f.contains("(1382400 bytes")),
            "{protocols}: {frames:?}"
        );
    }
}

/// The first `count` frames avdec_h264 decodes from `url`, as fakesink
/// reports them, or gst-launch's output when it ends first. It is
/// stopped once it has them: letting fakesink end the stream instead
/// races rtspsrc's PAUSE against its own TEARDOWN at shutdown (its bug,
/// an "end-of-file" error after all the frames arrived).
async fn gst_decoded_frames(
    url: &str,
    protocols: &str,
    count: usize,
) -> Result<Vec<String>, String> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = Command::new("gst-launch-1.0")
        .args(["-v", "rtspsrc"])
        // One property per argument: gst-launch escapes each.
        .arg(format!("location={url}"))
        .args(["user-id=admin", &format!("user-pw={STRONG}")])
        .arg(format!("protocols={protocols}"))
        .args(["!", "rtph264depay", "!", "h264parse", "!", "avdec_h264"])
        .args(["!", "fakesink", "silent=false"])
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gst-launch-1.0");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut frames = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("last-message = chain") {
                frames.push(line);
                if frames.len() == count {
                    return true;
                }
            } else {
                seen.push(line);
            }
        }
        false
    })
    .await;
    let _ = child.kill().await;
    let out = child.wait_with_output().await.expect("gst-launch's output");
    match read {
        Ok(true) => Ok(frames),
        _ => Err(format!(
            "{} of {count} frames\n{}\n{}",
            frames.len(),
            seen.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        )),
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

/// RTSP connections Online Users lists now.
async fn rtsp_online(c: &tests::Client) -> usize {
    let (_, v) = c.call("online_users", json!({})).await;
    v["entries"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["door"] == "RTSP").count())
        .unwrap_or(0)
}

/// ffmpeg playing `url` over `transport` until killed.
fn play_on(url: &str, transport: &str) -> tokio::process::Child {
    Command::new("ffmpeg")
        .args(["-v", "error", "-rtsp_transport", transport, "-i", url])
        .args(["-f", "null", "-"])
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ffmpeg")
}

#[tokio::test]
async fn a_client_that_vanishes_is_freed() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let mut ffmpeg = play_on(&url(&vto, "admin", STRONG, MAIN), "tcp");
    let cr = &c;
    eventually("the RTSP client listed", || async move {
        (rtsp_online(cr).await == 1).then_some(())
    })
    .await;
    ffmpeg.kill().await.unwrap();
    eventually("the RTSP client gone", || async move {
        (rtsp_online(cr).await == 0).then_some(())
    })
    .await;
}

// ---------------------------------------------------------------------
// retina, the Rust RTSP client (as in Moonfire NVR).

mod retina_client {
    use std::{pin::Pin, time::Duration};

    use futures_util::StreamExt;
    use retina::{
        client::{Credentials, Demuxed},
        codec::{CodecItem, VideoFrame},
    };

    /// A session playing the video track of `url`, demuxed into frames.
    pub struct Player {
        pub frames: Pin<Box<Demuxed>>,
        pub size: (u32, u32),
    }

    /// Plays `url` as `user` over UDP or TCP interleaved.
    pub async fn play(url: &str, user: &str, password: &str, udp: bool) -> Result<Player, String> {
        let creds = Credentials {
            username: user.into(),
            password: password.into(),
        };
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let (playing, size) = tests::rtsp::retina_play(url, Some(creds), udp).await?;
        // The size the SDP's sprop-parameter-sets announce (the SPS).
        if size == (0, 0) {
            return Err("no SPS in the SDP".into());
        }
        let frames = Box::pin(playing.demuxed().map_err(|e| e.to_string())?);
        Ok(Player { frames, size })
    }

    impl Player {
        /// The next video frame, within 10 s.
        pub async fn frame(&mut self) -> VideoFrame {
            loop {
                let item = tokio::time::timeout(Duration::from_secs(10), self.frames.next())
                    .await
                    .expect("a frame within 10 s")
                    .expect("the stream goes on")
                    .expect("a frame, not an error");
                if let CodecItem::VideoFrame(f) = item {
                    return f;
                }
            }
        }
    }
}

use retina_client::play;

/// Frames per second by the stream's own clock (90 kHz): the median gap
/// between `frames` consecutive frames' timestamps. The median, because a
/// camera short of CPU (the test machine is shared) skips a frame now and
/// then, which lengthens a gap but does not change the configured rate.
async fn rtp_rate(p: &mut retina_client::Player, frames: usize) -> f64 {
    let mut last = p.frame().await.timestamp().timestamp();
    let mut gaps = Vec::with_capacity(frames);
    for _ in 0..frames {
        let ts = p.frame().await.timestamp().timestamp();
        gaps.push(ts - last);
        last = ts;
    }
    gaps.sort_unstable();
    90_000.0 / gaps[gaps.len() / 2].max(1) as f64
}

#[tokio::test]
async fn retina_plays_over_tcp_and_udp_as_a_viewer() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    tests::add_user(&c, "nvr", "Gate-Keeper9", "Viewer").await;
    for udp in [false, true] {
        let mut p = play(
            &url(&vto, "", "", MAIN).replace("rtsp://:@", "rtsp://"),
            "nvr",
            "Gate-Keeper9",
            udp,
        )
        .await
        .unwrap_or_else(|e| panic!("udp {udp}: {e}"));
        // The SPS announces the camera's configured size (Video & Audio's
        // default main stream, 720P).
        assert_eq!(p.size, (1280, 720), "udp {udp}");
        let first = p.frame().await;
        assert!(
            first.is_random_access_point(),
            "udp {udp}: the first frame is a key frame"
        );
        // The rate by RTP time: the camera's 25 fps.
        let fps = rtp_rate(&mut p, 50).await;
        assert!((24.0..=26.0).contains(&fps), "udp {udp}: {fps} fps");
        // And on this machine's clock, loosely (the box is shared): frames
        // in a 4 s window, after the start's burst.
        let until = tokio::time::Instant::now() + Duration::from_secs(4);
        let mut n = 0u32;
        while tokio::time::Instant::now() < until {
            p.frame().await;
            n += 1;
        }
        assert!((40..=160).contains(&n), "udp {udp}: {n} frames in 4 s");
    }
    // A wrong password is refused.
    let err = play(
        &url(&vto, "", "", MAIN).replace("rtsp://:@", "rtsp://"),
        "nvr",
        "wrong-Pass1",
        false,
    )
    .await
    .err()
    .expect("refused");
    assert!(err.contains("401"), "{err}");
}

#[tokio::test]
async fn retina_over_tcp_and_ffmpeg_over_udp_at_once() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    let bare = url(&vto, "", "", MAIN).replace("rtsp://:@", "rtsp://");
    let mut p = play(&bare, "admin", STRONG, false).await.unwrap();
    assert!(p.frame().await.is_random_access_point());
    // ffmpeg decodes 50 frames over UDP while retina keeps receiving.
    let with_creds = url(&vto, "admin", STRONG, MAIN);
    let ffmpeg = decode(&with_creds, "udp", 50);
    let retina = async {
        for _ in 0..50 {
            p.frame().await;
        }
        rtp_rate(&mut p, 25).await
    };
    let (f, fps) = tokio::join!(ffmpeg, retina);
    f.unwrap();
    assert!((24.0..=26.0).contains(&fps), "{fps} fps");
}

#[tokio::test]
async fn a_session_kept_alive_plays_past_the_60_s_timeout() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let bare = url(&vto, "", "", MAIN).replace("rtsp://:@", "rtsp://");
    // retina sends GET_PARAMETER keep-alives (and RTCP receiver reports)
    // within the timeout the Session header announces.
    let mut p = play(&bare, "admin", STRONG, false).await.unwrap();
    let start = tokio::time::Instant::now();
    // Frames keep coming (each within 10 s) past 65 s: past vto's 60 s.
    while start.elapsed() < Duration::from_secs(66) {
        p.frame().await;
    }
    let fps = rtp_rate(&mut p, 25).await;
    assert!((24.0..=26.0).contains(&fps), "{fps} fps");
    assert_eq!(rtsp_online(&c).await, 1);
}

/// Sends `sig` to process `pid` (ours).
fn signal(pid: u32, sig: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

#[tokio::test]
async fn a_udp_client_that_goes_silent_is_freed_after_the_timeout() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    // ffmpeg over UDP, then frozen: its control connection stays open but
    // silent, no keep-alive and no RTCP any more, as a recorder that hung.
    let mut ffmpeg = play_on(&url(&vto, "admin", STRONG, MAIN), "udp");
    let cr = &c;
    eventually("the RTSP client listed", || async move {
        (rtsp_online(cr).await == 1).then_some(())
    })
    .await;
    let pid = ffmpeg.id().unwrap();
    signal(pid, libc::SIGSTOP);
    // The session times out after 60 s without a keep-alive.
    tests::eventually_within(
        "the silent client freed",
        Duration::from_secs(90),
        || async move { (rtsp_online(cr).await == 0).then_some(()) },
    )
    .await;
    // Thawed, it finds its session gone (and is killed either way).
    signal(pid, libc::SIGCONT);
    ffmpeg.kill().await.unwrap();
}
