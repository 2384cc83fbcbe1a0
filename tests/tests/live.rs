//! Live view signalling through the real binary: only with a session, and
//! bad offers or unknown cameras get a clear error (the browser test plays
//! the video itself).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::json;
use tests::Vto;

#[tokio::test]
async fn offers_need_a_session_and_a_real_sdp() {
    let vto = Vto::start().await;
    let (status, _) = vto
        .client()
        .call("live_offer", json!({"source": "door", "sdp": "v=0"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let c = vto.ready().await;
    let cases = [
        (json!({"source": "door", "sdp": ""}), "sdp"),
        (json!({"source": "door", "sdp": "not sdp at all"}), "sdp"),
        (
            json!({"source": "door", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}),
            "sdp",
        ),
        (json!({"source": "door", "sdp": "x".repeat(70_000)}), "sdp"),
        (json!({"source": "garage", "sdp": "v=0"}), "source"),
    ];
    for (body, field) in cases {
        let (status, b) = c.call("live_offer", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["Invalid"]["field"], field, "{b}");
    }
    // The device still answers and ending an unknown viewer is harmless.
    let (status, _) = c.call("live_end", json!({"id": "nobody"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c.get("/snapshot/door.jpg").await.status(), StatusCode::OK);
}
