//! Snapshots of the door camera (the built-in test camera) through the real
//! binary: a JPEG with the camera's dimensions, only with a session, a new
//! picture each time (the time drawn on it moves on).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use tests::Vto;

/// Width and height from a JPEG's SOF0/SOF2 segment.
fn jpeg_size(b: &[u8]) -> Option<(u16, u16)> {
    if !b.starts_with(&[0xFF, 0xD8]) || !b.ends_with(&[0xFF, 0xD9]) {
        return None;
    }
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if matches!(marker, 0xC0 | 0xC2) {
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]);
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

#[tokio::test]
async fn a_snapshot_is_a_jpeg_of_the_camera_picture() {
    let vto = Vto::start().await;
    // Without a session: no picture.
    let anonymous = vto.client().get("/snapshot/door.jpg").await;
    assert_ne!(anonymous.status(), StatusCode::OK);
    assert_ne!(
        anonymous
            .headers()
            .get("content-type")
            .map(|v| v.as_bytes()),
        Some(&b"image/jpeg"[..])
    );

    let c = vto.ready().await;
    let res = c.get("/snapshot/door.jpg").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let first = res.bytes().await.unwrap();
    assert_eq!(
        jpeg_size(&first),
        Some((1280, 720)),
        "the main stream's size"
    );

    // The time on the picture moves on.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let second = c.get("/snapshot/door.jpg").await.bytes().await.unwrap();
    assert_eq!(jpeg_size(&second), Some((1280, 720)));
    assert_ne!(first, second);

    assert_eq!(
        c.get("/snapshot/garage.jpg").await.status(),
        StatusCode::NOT_FOUND
    );
}
