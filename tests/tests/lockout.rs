//! 5 failures lock the account for the source address; the lock expires.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tests::{Vto, STRONG};

#[tokio::test]
async fn five_failures_lock_then_expire() {
    let vto = Vto::start_with(&["--lockout-secs", "2"]).await;
    vto.ready().await;
    let c = vto.client();
    for left in [4, 3, 2, 1] {
        let (s, b) = c.login("Wrong-Pass1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(b["BadCredentials"]["attempts_left"], left);
    }
    // The lock starts with this 5th failure, not before.
    let locked_from = Instant::now();
    let res = c
        .http
        .post(format!("{}/api/login", vto.url))
        .header("origin", &vto.url)
        .json(&json!({"user": "admin", "password": "Wrong-Pass1"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "2");
    let b: serde_json::Value = res.json().await.unwrap_or_default();
    assert_eq!(b["Locked"]["retry_after_secs"], 2);

    // The right password is refused while locked, from this address only.
    let (s, _) = c.login(STRONG).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = vto.client_from("127.0.0.2");
    assert_eq!(elsewhere.login(STRONG).await.0, StatusCode::OK);

    // Real time must pass: the right password gets in once the 2 s are
    // over (asked again until then: a refusal while locked does not extend
    // the lock), and not before.
    let cr = &c;
    tests::eventually_within("the lock expires", Duration::from_secs(10), || async move {
        let (s, _) = cr.login(STRONG).await;
        assert!(
            matches!(s, StatusCode::OK | StatusCode::TOO_MANY_REQUESTS),
            "{s}"
        );
        (s == StatusCode::OK).then_some(())
    })
    .await;
    let lasted = locked_from.elapsed();
    assert!(
        lasted >= Duration::from_millis(1900),
        "let in {lasted:?} after the 5th failure: the lock is 2 s"
    );

    let (_, log) = elsewhere.call("security_log", json!({"offset": 0})).await;
    let text = log.to_string();
    assert!(
        text.contains("LockedOut") && text.contains("LoginRefusedWhileLocked"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_user_gets_the_same_answer() {
    let vto = Vto::start().await;
    vto.ready().await;
    let c = vto.client_from("127.0.0.3");
    let (s1, b1) = c
        .call("login", json!({"user": "root", "password": STRONG}))
        .await;
    let c = vto.client_from("127.0.0.4");
    let (s2, b2) = c.login("Wrong-Pass1").await;
    assert_eq!((s1, b1), (s2, b2));
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = vto.client();
        tasks.push(tokio::spawn(async move {
            c.login(&format!("Wrong-Pass{i}x")).await.0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    // Only five passwords were checked; the others waited for them
    // (503, busy) or met the lock (429).
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        4,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(
            *s,
            StatusCode::UNAUTHORIZED
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
        )),
        "{statuses:?}"
    );
    let (_, log) = admin.call("security_log", json!({"offset": 0})).await;
    let failed = log["events"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["kind"] == "LoginFailed").count())
        .unwrap_or_default();
    assert_eq!(failed, 5, "{log}");
    assert_eq!(
        vto.client().login(STRONG).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
