//! WHEP (RFC 9725) through the real binary: an SDP offer in, `201` with the
//! answer and a `Location` out, `DELETE` ends the viewer; only with a
//! session and from the device's own origin; bad offers are refused with a
//! clear status. The offer is a recorded Chromium receive-only offer (the
//! browser test plays video through this endpoint end to end).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::{header, Method, StatusCode};
use tests::{Client, Vto};

const OFFER: &str = include_str!("../fixtures/whep-offer.sdp");

async fn post(c: &Client, path: &str, content_type: &str, body: String) -> reqwest::Response {
    c.request(Method::POST, path)
        .header(header::ORIGIN, &c.base)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("POST")
}

#[tokio::test]
async fn whep_answers_offers_and_ends_viewers() {
    let vto = Vto::start().await;
    // Without a session: nothing.
    let anonymous = post(
        &vto.client(),
        "/api/whep/door",
        "application/sdp",
        OFFER.into(),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let c = vto.ready().await;
    let res = post(&c, "/api/whep/door", "application/sdp", OFFER.into()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/sdp");
    let location = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/api/whep/door/"), "{location}");
    let answer = res.text().await.unwrap();
    assert!(answer.contains("m=video"), "{answer}");
    assert!(answer.contains("a=sendonly"), "{answer}");
    assert!(answer.contains("H264/90000"), "{answer}");
    // Not trickled: the device's host candidates come with the answer.
    assert!(answer.contains("a=candidate:"), "{answer}");
    assert!(answer.contains("127.0.0.1"), "{answer}");

    // Only from the device's own pages (or clients that send no Origin).
    let foreign = c
        .request(Method::DELETE, &location)
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let end = c.request(Method::DELETE, &location).send().await.unwrap();
    assert_eq!(end.status(), StatusCode::OK);
    let again = c.request(Method::DELETE, &location).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_offers_get_a_clear_status() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let audio_only = OFFER.replace("m=video", "m=audio");
    for (path, content_type, body, status, says) in [
        (
            "/api/whep/door",
            "text/plain",
            OFFER.to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/sdp",
        ),
        (
            "/api/whep/garage",
            "application/sdp",
            OFFER.to_string(),
            StatusCode::NOT_FOUND,
            "No camera named garage",
        ),
        (
            "/api/whep/door",
            "application/sdp",
            "hello".to_string(),
            StatusCode::BAD_REQUEST,
            "video",
        ),
        (
            "/api/whep/door",
            "application/sdp",
            audio_only,
            StatusCode::BAD_REQUEST,
            "no video section",
        ),
        (
            "/api/whep/door",
            "application/sdp",
            "m=video\n".repeat(10_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large",
        ),
    ] {
        let res = post(&c, path, content_type, body).await;
        assert_eq!(res.status(), status, "{path} {content_type}");
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{status}: {text}");
    }
    // Nothing was left behind: the device still answers a good offer.
    let res = post(&c, "/api/whep/door", "application/sdp", OFFER.into()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// The door call's WHEP-style answering and its event stream: a session
/// is needed; with no call ringing the answer says so (409) and nothing is
/// left behind; the stream starts with the status at once. (Answering a
/// real call with media: end2end/tests/talker.test.mjs.)
#[tokio::test]
async fn the_call_api_needs_a_session_and_a_call() {
    let vto = Vto::start().await;
    let anonymous = vto.client();
    let res = post(
        &anonymous,
        "/api/call/whep",
        "application/sdp",
        OFFER.into(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = anonymous
        .request(Method::GET, "/api/call/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = anonymous
        .request(Method::DELETE, "/api/call/whep/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let c = vto.ready().await;
    let res = post(&c, "/api/call/whep", "text/plain", OFFER.into()).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = post(&c, "/api/call/whep", "application/sdp", OFFER.into()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.text().await.unwrap(), "No call to answer");
    let res = c
        .request(Method::DELETE, "/api/call/whep/nobody")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let mut res = c
        .request(Method::GET, "/api/call/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
            .await
            .expect("the first event in time")
            .unwrap()
            .expect("the stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("event: status\ndata: {"), "{text}");
    assert!(text.contains("\"phase\":\"Idle\""), "{text}");
}
