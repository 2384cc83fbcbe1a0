//! Local Setting > Video & Audio through the real binary: the door camera
//! switches between the built-in camera and a real RTSP camera (GStreamer)
//! at once, the camera password is write-only, bad input changes nothing,
//! and the choice survives a restart.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::json;
use tests::{
    jpeg_size,
    rtsp::{Auth, Mode, RtspCamera, PASSWORD, USER},
    Client, Vto,
};

async fn snapshot_size(c: &Client) -> Option<(u16, u16)> {
    let res = c.get("/snapshot/door.jpg").await;
    if res.status() != StatusCode::OK {
        return None;
    }
    jpeg_size(&res.bytes().await.unwrap())
}

#[tokio::test]
async fn the_door_camera_can_be_an_rtsp_camera() {
    let camera = RtspCamera::start(Mode::AudioVideo, Some(Auth::Digest)).await;
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    assert_eq!(snapshot_size(&c).await, Some((1280, 720)), "built-in 720P");

    let (code, page) = c.call("video_settings", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    let mut settings = page["settings"].clone();
    assert_eq!(settings["camera"]["kind"], "BuiltIn");

    // Bad addresses are refused next to their field; nothing changes.
    for bad in ["http://127.0.0.1/", "rtsp://admin:x@127.0.0.1/", ""] {
        settings["camera"]["kind"] = json!("Rtsp");
        settings["camera"]["url"] = json!(bad);
        let (code, body) = c
            .call(
                "save_video_settings",
                json!({"settings": settings, "password": "Keep"}),
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(body["Invalid"]["field"], "camera-url", "{bad}");
    }
    let (_, page) = c.call("video_settings", json!({})).await;
    assert_eq!(page["settings"]["camera"]["kind"], "BuiltIn");

    settings["camera"]["url"] = json!(camera.url());
    settings["camera"]["user"] = json!(USER);
    let (code, page) = c
        .call(
            "save_video_settings",
            json!({"settings": settings, "password": {"Set": PASSWORD}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["password_set"], true);
    assert!(!page.to_string().contains(PASSWORD), "write-only");

    // At once, no restart: the snapshot is the RTSP camera's 640x480.
    assert_eq!(snapshot_size(&c).await, Some((640, 480)));
    let status = c.wait_camera("door", "Live").await;
    assert_eq!(
        (status["width"].as_u64(), status["height"].as_u64()),
        (Some(640), Some(480))
    );

    // A wrong password is a clear status, not a hang or a crash.
    let (code, _) = c
        .call(
            "save_video_settings",
            json!({"settings": settings, "password": {"Set": "wrong"}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(snapshot_size(&c).await, None);
    let status = c.wait_camera("door", "Error").await;
    assert_eq!(
        status["detail"],
        "the camera refused the user name or password"
    );

    // The right one again; kept over a restart without being sent again.
    let (code, _) = c
        .call(
            "save_video_settings",
            json!({"settings": settings, "password": {"Set": PASSWORD}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let token = c.cookie();
    vto.stop().await;
    let vto2 = Vto::start_in(&vto.data_dir, &[]).await.expect("restart");
    let c = vto2.client();
    c.set_cookie(token);
    assert_eq!(snapshot_size(&c).await, Some((640, 480)));
    let (_, page) = c.call("video_settings", json!({})).await;
    assert_eq!(page["settings"]["camera"]["url"], camera.url());

    // The secret is not in the logs nor in the Device Info export.
    assert!(!vto.logs().contains(PASSWORD));
    assert!(!vto2.logs().contains(PASSWORD));
    let (code, info) = c.call("export_device_info", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert!(!info.to_string().contains(PASSWORD));

    // Back to the built-in camera.
    settings["camera"]["kind"] = json!("BuiltIn");
    let (code, _) = c
        .call(
            "save_video_settings",
            json!({"settings": settings, "password": "Clear"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(snapshot_size(&c).await, Some((1280, 720)));
}
