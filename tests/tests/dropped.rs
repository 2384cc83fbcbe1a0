//! Requests that go away mid-check (a browser navigating away, a phone
//! losing Wi-Fi, a client timing out) settle what they reserved: the
//! account is never left "busy" for their address.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::{Vto, STRONG};

/// Logins cut off after a few milliseconds, while the device checks the
/// password (argon2 takes tens of milliseconds).
async fn cut_off_logins(vto: &Vto, n: usize) {
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(5))
        .build()
        .unwrap();
    for _ in 0..n {
        let sent = quick
            .post(format!("{}/api/login", vto.url))
            .header("origin", &vto.url)
            .json(&json!({"user": "admin", "password": "Wrong-Pass1"}))
            .send()
            .await;
        assert!(sent.is_err(), "the request was to be cut off: {sent:?}");
    }
}

#[tokio::test]
async fn logins_cut_off_mid_check_do_not_make_the_account_busy() {
    let vto = Vto::start().await;
    vto.ready().await;
    // More than the lockout's 5: each held a place while it was checked.
    cut_off_logins(&vto, 6).await;
    let c = vto.client();
    let (status, body) = c.login(STRONG).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Typed as a new user would: wrong passwords, then the right one,
    // with cut-off requests in between, get the lockout's own answers.
    cut_off_logins(&vto, 4).await;
    let mut answers = Vec::new();
    loop {
        let (s, b) = c.login("Wrong-Pass1").await;
        assert_ne!(s, StatusCode::SERVICE_UNAVAILABLE, "busy: {b}");
        answers.push(s);
        if s != StatusCode::UNAUTHORIZED {
            assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
            assert!(b["Locked"].is_object(), "the lockout, not busy: {b}");
            break;
        }
        assert!(answers.len() <= 5, "never locked: {answers:?}");
    }
}
