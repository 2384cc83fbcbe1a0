//! Password reset and mail through the real binary over HTTP, with a real
//! SMTP server (aiosmtpd). Time-dependent rules (24 h validity, 5-minute
//! locks) are tested on simulated time in `server/src/device/tests.rs`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    smtp::{security_code, SmtpSink},
    Client, Vto, STRONG, STRONG2,
};

async fn ready_with_email(vto: &Vto) -> Client {
    let c = vto.client();
    let (s, b) = c
        .call(
            "initialize",
            json!({"password": STRONG, "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(c.login(STRONG).await.0, StatusCode::OK);
    c
}

fn smtp_settings(sink: &SmtpSink) -> Value {
    json!({
        "server": "127.0.0.1",
        "port": sink.port,
        "security": "None",
        "user": "",
        "sender": "door@example.com",
        "has_password": false
    })
}

#[tokio::test]
async fn forgot_password_by_mailed_code() {
    let sink = SmtpSink::plain().await;
    let vto = Vto::start().await;
    let admin = ready_with_email(&vto).await;
    let (s, b) = admin
        .call(
            "save_mail_settings",
            json!({"settings": smtp_settings(&sink), "password": "Keep"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let anon = vto.client();
    let (s, info) = anon.call("reset_info", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["available"], true);
    assert_eq!(info["email_hint"], "o***r@e***.com");

    let (s, issued) = anon.call("reset_request", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let host = vto.url.trim_start_matches("http://");
    assert_eq!(issued["qr_url"], format!("http://{host}/reset?step=2"));
    let mails = sink.wait_for(1).await;
    let code = security_code(&mails[0]).expect("code in mail");
    assert!(!mails[0].contains(STRONG));

    // Rate limited: no second mail right away.
    let (s, b) = anon.call("reset_request", json!({})).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");

    let (s, b) = anon
        .call("reset_verify", json!({"code": "XXXX-XXXX-XX"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["Invalid"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("4 attempts left"));
    let (s, t) = anon.call("reset_verify", json!({"code": code})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, b) = anon
        .call(
            "reset_complete",
            json!({"ticket": t["ticket"], "password": STRONG2}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // The admin's session ended; the new password works.
    assert_eq!(
        admin.call("overview", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(anon.login(STRONG).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.login(STRONG2).await.0, StatusCode::OK);
    let (_, log) = anon.call("security_log", json!({"offset": 0})).await;
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"PasswordReset"), "{kinds:?}");
    assert!(kinds.contains(&"ResetCodeWrong"), "{kinds:?}");
}

#[tokio::test]
async fn the_embedded_default_writes_mail_to_the_outbox() {
    let vto = Vto::start().await;
    ready_with_email(&vto).await;
    let anon = vto.client();
    let (s, issued) = anon.call("reset_request", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let outbox = vto.data_dir.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    let code = security_code(&text).expect("code in the outbox mail");
    assert_eq!(
        anon.call("reset_verify", json!({"code": code})).await.0,
        StatusCode::OK
    );
    assert!(vto.logs().contains("mail written to the outbox"));
    assert!(!vto.logs().contains(&code), "the code is never logged");
}

#[tokio::test]
async fn reset_needs_an_address_and_the_setting() {
    let vto = Vto::start().await;
    let admin = vto.ready().await; // no email
    let anon = vto.client();
    assert_eq!(
        anon.call("reset_info", json!({})).await.1["available"],
        false
    );
    assert_eq!(
        anon.call("reset_request", json!({})).await.0,
        StatusCode::CONFLICT
    );
    let (s, b) = admin
        .call(
            "change_email",
            json!({"password": STRONG, "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        anon.call("reset_info", json!({})).await.1["available"],
        true
    );
    let (s, b) = admin
        .call(
            "save_security_settings",
            json!({"settings": {"reset_password": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        anon.call("reset_info", json!({})).await.1["available"],
        false
    );
    assert_eq!(
        anon.call("reset_request", json!({})).await.0,
        StatusCode::CONFLICT
    );
    // Settings need a session.
    assert_eq!(
        anon.call("security_settings", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_smtp_password_is_write_only() {
    let sink = SmtpSink::plain().await;
    let vto = Vto::start().await;
    let admin = ready_with_email(&vto).await;
    let mut settings = smtp_settings(&sink);
    settings["user"] = json!("door");
    let (s, b) = admin
        .call(
            "save_mail_settings",
            json!({"settings": settings, "password": {"Set": "Smtp-Secret-77"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["has_password"], true);
    let (_, shown) = admin.call("mail_settings", json!({})).await;
    assert_eq!(shown["has_password"], true);
    assert!(!shown.to_string().contains("Smtp-Secret-77"));
    assert!(!vto.logs().contains("Smtp-Secret-77"));
    // A test mail reports the server's answer.
    let (s, r) = admin
        .call(
            "send_test_mail",
            json!({"settings": smtp_settings(&sink), "password": "Keep"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["answer"].as_str().unwrap().starts_with("250"), "{r}");
    assert_eq!(sink.wait_for(1).await.len(), 1);
    // Bad settings are refused next to their field and change nothing.
    let mut bad = smtp_settings(&sink);
    bad["sender"] = json!("nobody");
    let (s, b) = admin
        .call(
            "save_mail_settings",
            json!({"settings": bad, "password": "Clear"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["Invalid"]["field"], "sender");
    assert_eq!(
        admin.call("mail_settings", json!({})).await.1["has_password"],
        true
    );
}

/// A reset request with `host` as its Host header, as a script (no Origin).
async fn reset_request_as(c: &Client, host: &str) -> (StatusCode, Value) {
    let res = c
        .http
        .post(format!("{}/api/reset_request", c.base))
        .header(reqwest::header::HOST, host)
        .json(&json!({}))
        .send()
        .await
        .expect("POST");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn outbox(vto: &Vto) -> Vec<String> {
    std::fs::read_dir(vto.data_dir.join("outbox"))
        .map(|d| {
            d.flatten()
                .filter_map(|f| std::fs::read_to_string(f.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_mailed_link_never_comes_from_a_strangers_host_header() {
    let vto = Vto::start().await;
    ready_with_email(&vto).await;
    let anon = vto.client();
    let device = vto.url.trim_start_matches("http://").to_string();

    // A name that is not the device's (DNS rebinding, a forged Host): refused
    // on every route, and no mail is sent.
    let (s, b) = reset_request_as(&anon, "evil.example").await;
    assert_eq!(s, StatusCode::MISDIRECTED_REQUEST, "{b}");
    for path in ["/login", "/", "/pkg/frontend.js", "/cgi-bin/magicBox.cgi"] {
        let res = anon
            .http
            .get(format!("{}{path}", anon.base))
            .header(reqwest::header::HOST, "evil.example:80")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST, "{path}");
    }
    assert!(outbox(&vto).is_empty(), "no mail for a refused request");

    // An address that is not the device's: accepted (no rebinding page can
    // make a browser send one), but the link names the address the
    // connection reached.
    let (s, issued) = reset_request_as(&anon, "6.6.6.6").await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let link = format!("http://{device}/reset?step=2");
    assert_eq!(issued["qr_url"], link);
    let mails = outbox(&vto);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains(&link), "{}", mails[0]);
    assert!(!mails[0].contains("6.6.6.6"), "{}", mails[0]);
}

#[tokio::test]
async fn a_host_name_given_to_the_device_is_served_and_linked() {
    let vto = Vto::start_with(&["--host-name", "door.example.net,other.example"]).await;
    ready_with_email(&vto).await;
    let anon = vto.client();
    let port = vto.url.rsplit(':').next().unwrap_or_default().to_string();
    let res = anon
        .http
        .get(format!("{}/login", anon.base))
        .header(reqwest::header::HOST, format!("DOOR.example.net.:{port}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::OK);
    let host = format!("door.example.net:{port}");
    let (s, issued) = reset_request_as(&anon, &host).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let link = format!("http://{host}/reset?step=2");
    assert_eq!(issued["qr_url"], link);
    assert!(outbox(&vto)[0].contains(&link));
    let res = anon
        .http
        .get(format!("{}/login", anon.base))
        .header(reqwest::header::HOST, "door.example.net.evil.example")
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
}
