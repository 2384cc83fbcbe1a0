//! Webhooks (issue 20) through the real binary to a real HTTP(S) receiver
//! (`tests/peers/webhook_sink.py`, Python's http.server, which checks the
//! signature with Python's own hmac): the door's events arrive as signed
//! JSON, failures are retried with back-off and shown, redirects are not
//! followed, HTTPS trusts only known certificates, bad input changes
//! nothing, and only Admin may see or change them.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    baresip::Baresip,
    eventually, online,
    webhook::{Options, WebhookSink},
    Client, Vto,
};

const SECRET: &str = "s3cret-Key";

async fn save(c: &Client, hook: Value, secret: Value) -> (StatusCode, Value) {
    c.call(
        "save_webhook",
        json!({"save": {"hook": hook, "secret": secret}}),
    )
    .await
}

async fn add(c: &Client, url: &str, events: &[&str], secret: Value) -> u64 {
    let (code, page) = save(
        c,
        json!({"id": 0, "url": url, "events": events, "enabled": true}),
        secret,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == url)
        .unwrap()["id"]
        .as_u64()
        .unwrap()
}

async fn page(c: &Client) -> Value {
    let (code, p) = c.call("webhooks", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{p}");
    p
}

/// The deliveries to `url`, newest first, once `done` holds for them.
async fn deliveries(c: &Client, url: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually(&format!("deliveries to {url}"), || async {
        let p = page(c).await;
        let d: Vec<Value> = p["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["url"] == url)
            .cloned()
            .collect();
        done(&d).then_some(d)
    })
    .await
}

async fn simulate(c: &Client, action: &str) {
    let (code, s) = c.call("simulate", json!({"action": action})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
}

#[tokio::test]
async fn the_doors_events_arrive_as_signed_json() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let sink = WebhookSink::start(Options {
        secret: Some(SECRET),
        ..Options::default()
    })
    .await;
    let url = sink.url("/api/webhook/door?token=abc");
    let id = add(
        &c,
        &url,
        &["Call", "Answer", "Unlock", "Alarm"],
        json!({"Set": SECRET}),
    )
    .await;
    let p = page(&c).await;
    assert_eq!(p["hooks"][0]["has_secret"], true, "{p}");
    assert!(!p.to_string().contains(SECRET), "the secret came back: {p}");

    // Alarm: the door opened while locked.
    simulate(&c, "OpenDoor").await;
    simulate(&c, "CloseDoor").await;
    let got = sink.wait_for(1, 10).await;
    let alarm = &got[0];
    assert_eq!(alarm.path, "/api/webhook/door?token=abc");
    assert_eq!(alarm.json["event"], "alarm", "{}", alarm.body);
    assert_eq!(alarm.json["alarm"], "forced", "{}", alarm.body);
    assert_eq!(alarm.json["device"]["vto_no"], "8001", "{}", alarm.body);
    assert_eq!(
        alarm.json["device"]["serial"].as_str().unwrap().len(),
        13,
        "{}",
        alarm.body
    );
    assert!(alarm.json["time"].as_i64().unwrap() > 0);
    assert_eq!(alarm.headers["content-type"], "application/json");
    assert_eq!(alarm.headers["x-vto-event"], "alarm");
    assert!(alarm.headers["user-agent"]
        .as_str()
        .unwrap()
        .starts_with("vto/"));
    assert_eq!(alarm.signature_ok, Some(true), "{:?}", alarm.headers);

    // Unlock, with its method and who.
    let (code, r) = c.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{r}");
    let got = sink.wait_for(2, 10).await;
    let unlock = &got[1].json;
    assert_eq!(unlock["event"], "unlock", "{unlock}");
    assert_eq!(
        (&unlock["method"], &unlock["who"], &unlock["granted"]),
        (&json!("api"), &json!("admin"), &json!(true)),
        "{unlock}"
    );
    assert_eq!(got[1].signature_ok, Some(true));

    // A call rings a monitor, which answers.
    let (code, room) = c
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": "MonitorPw1"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{room}");
    let mut monitor = Baresip::start("9901#0", "MonitorPw1", vto.sip.unwrap(), 880.0).await;
    eventually("the monitor online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    monitor.event("CALL_INCOMING", 10).await;
    monitor.command("accept", "").await;
    monitor.event("CALL_ESTABLISHED", 10).await;
    let got = sink.wait_for(4, 10).await;
    let (call, answer) = (&got[2].json, &got[3].json);
    assert_eq!(
        (&call["event"], &call["callee"]),
        (&json!("call"), &json!("9901")),
        "{call}"
    );
    assert_eq!(answer["event"], "answer", "{answer}");
    assert!(
        answer["answered_by"].as_str().unwrap().starts_with("9901"),
        "{answer}"
    );
    monitor.command("hangup", "").await;
    // Each delivery has its own id, in the header and on the page.
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["x-vto-delivery"].as_str().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] != w[1]), "{ids:?}");
    let shown = deliveries(&c, &url, |d| {
        d.len() == 4 && d.iter().all(|d| d["result"]["Delivered"] == 204)
    })
    .await;
    let events: Vec<&str> = shown.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["answer", "call", "unlock", "alarm"]);

    // Test: one request now, answered on the spot.
    let (code, d) = c.call("test_webhook", json!({"id": id})).await;
    assert_eq!(code, StatusCode::OK, "{d}");
    assert_eq!(d["result"]["Delivered"], 204, "{d}");
    let got = sink.wait_for(5, 10).await;
    assert_eq!(got[4].json["event"], "test");
    assert_eq!(got[4].json["test"], true);
    assert_eq!(got[4].signature_ok, Some(true));

    // Turned off: nothing more is sent.
    let (code, p) = save(
        &c,
        json!({"id": id, "url": url, "events": ["Unlock"], "enabled": false}),
        json!("Keep"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    simulate(&c, "OpenDoor").await;
    simulate(&c, "CloseDoor").await;
    let (code, d) = c.call("test_webhook", json!({"id": id})).await;
    assert_eq!(code, StatusCode::OK, "{d}");
    // The test still goes (it is how the owner checks a URL); the alarm
    // before it did not.
    let got = sink.wait_for(6, 10).await;
    assert_eq!(got.len(), 6);
    assert_eq!(got[5].json["event"], "test");
}

#[tokio::test]
async fn failures_are_retried_with_back_off_and_shown() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let flaky = WebhookSink::start(Options {
        fail: 1,
        ..Options::default()
    })
    .await;
    let missing = WebhookSink::start(Options {
        status: Some(404),
        ..Options::default()
    })
    .await;
    let moved = WebhookSink::start(Options {
        status: Some(302),
        ..Options::default()
    })
    .await;
    let closed = format!("http://127.0.0.1:{}/hook", tests::free_port());
    let (flaky_url, missing_url, moved_url) = (flaky.url("/a"), missing.url("/b"), moved.url("/c"));
    for url in [&flaky_url, &missing_url, &moved_url, &closed] {
        add(&c, url, &["Unlock"], json!("Keep")).await;
    }
    let (code, r) = c.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{r}");

    // 503, then 204 two seconds later: the same delivery id both times.
    let got = flaky.wait_for(2, 20).await;
    assert_eq!(
        got[0].headers["x-vto-delivery"],
        got[1].headers["x-vto-delivery"]
    );
    assert_eq!(got[0].body, got[1].body);
    let d = deliveries(&c, &flaky_url, |d| {
        d.first().is_some_and(|d| d["result"]["Delivered"] == 204)
    })
    .await;
    assert_eq!(d[0]["attempts"], 2, "{d:?}");

    // 404 and a redirect: given up at once, the redirect not followed.
    let d = deliveries(&c, &missing_url, |d| {
        d.first().is_some_and(|d| d["result"]["Failed"].is_string())
    })
    .await;
    assert_eq!(
        (&d[0]["attempts"], &d[0]["result"]["Failed"]),
        (&json!(1), &json!("Answered 404"))
    );
    let d = deliveries(&c, &moved_url, |d| {
        d.first().is_some_and(|d| d["result"]["Failed"].is_string())
    })
    .await;
    assert!(
        d[0]["result"]["Failed"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{d:?}"
    );
    assert_eq!(missing.received().len(), 1);
    assert_eq!(moved.received().len(), 1);

    // Nobody listening: shown as retrying, with why and when.
    let d = deliveries(&c, &closed, |d| {
        d.first()
            .is_some_and(|d| d["result"]["Retrying"].is_object())
    })
    .await;
    let retrying = &d[0]["result"]["Retrying"];
    assert!(
        retrying["error"]
            .as_str()
            .unwrap()
            .starts_with("Cannot connect"),
        "{retrying}"
    );
    assert!(
        !retrying["error"].as_str().unwrap().contains("/hook"),
        "no URL in errors"
    );
    // Deleted meanwhile: not tried again.
    let p = page(&c).await;
    let closed_id = p["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == closed)
        .unwrap()["id"]
        .clone();
    let (code, p) = c.call("delete_webhook", json!({"id": closed_id})).await;
    assert_eq!(code, StatusCode::OK, "{p}");
    assert_eq!(p["hooks"].as_array().unwrap().len(), 3);
    let d = deliveries(&c, &closed, |d| {
        d.first().is_some_and(|d| d["result"]["Failed"].is_string())
    })
    .await;
    assert!(
        d[0]["result"]["Failed"]
            .as_str()
            .unwrap()
            .contains("deleted"),
        "{d:?}"
    );

    // The test button of a receiver that refuses: the reason, at once.
    let missing_id = p["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == missing_url)
        .unwrap()["id"]
        .clone();
    let (code, d) = c.call("test_webhook", json!({"id": missing_id})).await;
    assert_eq!(code, StatusCode::OK, "{d}");
    assert_eq!(d["result"]["Failed"], "Answered 404", "{d}");
}

#[tokio::test]
async fn https_trusts_only_known_certificates() {
    let trusted = WebhookSink::start(Options {
        tls: true,
        ..Options::default()
    })
    .await;
    let stranger = WebhookSink::start(Options {
        tls: true,
        ..Options::default()
    })
    .await;
    let ca = trusted.ca_pem.clone().unwrap();
    let vto = Vto::start_with(&["--ca-file", ca.to_str().unwrap()]).await;
    let c = vto.ready().await;
    let good = add(&c, &trusted.url("/ok"), &["Alarm"], json!("Keep")).await;
    let bad = add(&c, &stranger.url("/no"), &["Alarm"], json!("Keep")).await;
    let (code, d) = c.call("test_webhook", json!({"id": good})).await;
    assert_eq!(
        (code, &d["result"]["Delivered"]),
        (StatusCode::OK, &json!(204)),
        "{d}"
    );
    assert_eq!(trusted.wait_for(1, 10).await[0].json["event"], "test");
    let (code, d) = c.call("test_webhook", json!({"id": bad})).await;
    assert_eq!(code, StatusCode::OK, "{d}");
    let why = d["result"]["Failed"].as_str().unwrap();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    assert!(stranger.received().is_empty());
}

#[tokio::test]
async fn bad_input_changes_nothing_and_only_admin_may() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let id = add(
        &c,
        "http://127.0.0.1:9/x",
        &["Unlock"],
        json!({"Set": SECRET}),
    )
    .await;
    let before = page(&c).await["hooks"].clone();
    for (hook, secret, field) in [
        (
            json!({"id": 0, "url": "ftp://h/", "events": ["Call"], "enabled": true}),
            json!("Keep"),
            "hook-url",
        ),
        (
            json!({"id": 0, "url": "http://u:p@h/", "events": ["Call"], "enabled": true}),
            json!("Keep"),
            "hook-url",
        ),
        (
            json!({"id": 0, "url": "http://h/", "events": [], "enabled": true}),
            json!("Keep"),
            "hook-events",
        ),
        // Another host with the kept secret: it must be entered again.
        (
            json!({"id": id, "url": "http://127.0.0.2:9/x", "events": ["Unlock"], "enabled": true}),
            json!("Keep"),
            "hook-secret",
        ),
        (
            json!({"id": 999, "url": "http://h/", "events": ["Call"], "enabled": true}),
            json!("Keep"),
            "hook-url",
        ),
    ] {
        let (code, b) = save(&c, hook, secret).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["Invalid"]["field"], field, "{b}");
    }
    assert_eq!(page(&c).await["hooks"], before);
    // Unknown events are not a webhook.
    let (code, b) = save(
        &c,
        json!({"id": 0, "url": "http://h/", "events": ["Fire"], "enabled": true}),
        json!("Keep"),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["BadRequest"]
            .as_str()
            .unwrap()
            .contains("unknown variant"),
        "{b}"
    );
    assert_eq!(page(&c).await["hooks"], before);

    // Audited, and never exported.
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert!(log.to_string().contains("Webhooks: added"), "{log}");
    let (code, export) = c.call("export_device_info", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert!(!export.to_string().contains(SECRET));

    // An Operator may open the door, not see or change webhooks.
    tests::add_user(&c, "op", "Gate-Keeper9", "Operator").await;
    let op = vto.client();
    let (code, b) = op.login_as("op", "Gate-Keeper9").await;
    assert_eq!(code, StatusCode::OK, "{b}");
    for (name, body) in [
        ("webhooks", json!({})),
        ("test_webhook", json!({"id": id})),
        ("delete_webhook", json!({"id": id})),
    ] {
        let (code, b) = op.call(name, body).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{name}: {b}");
    }
    assert_eq!(page(&c).await["hooks"], before);
}
