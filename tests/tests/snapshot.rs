//! Snapshots of the door camera (the built-in test camera) through the real
//! binary: a JPEG with the camera's dimensions, only with a session, a new
//! picture each time (the time drawn on it moves on).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use tests::{jpeg_size, Vto};

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

    // The time on the picture moves on (real time must pass: asked again
    // until the picture differs).
    let (cr, fr) = (&c, &first);
    let second =
        tests::eventually_within("a new picture", Duration::from_secs(10), || async move {
            let b = cr.get("/snapshot/door.jpg").await.bytes().await.unwrap();
            (b != *fr).then_some(b)
        })
        .await;
    assert_eq!(jpeg_size(&second), Some((1280, 720)));

    assert_eq!(
        c.get("/snapshot/garage.jpg").await.status(),
        StatusCode::NOT_FOUND
    );
}
