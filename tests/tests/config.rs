//! Config manager, Device Info: export without secrets, import all or
//! nothing, every kind of bad file refused with the field named.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{Client, Vto, STRONG};

async fn all_settings(c: &Client) -> Value {
    json!({
        "basic": c.call("basic_settings", json!({})).await.1,
        "security": c.call("security_settings", json!({})).await.1,
        "mail": c.call("mail_settings", json!({})).await.1,
        "ip_permissions": c.call("ip_permissions", json!({})).await.1,
    })
}

#[tokio::test]
async fn export_import_round_trip_without_secrets() {
    let a = Vto::start().await;
    let ca = a.ready().await;
    // Change something on every page, with an SMTP password.
    let mut basic = ca.call("basic_settings", json!({})).await.1;
    basic["vto_no"] = json!("8123");
    basic["call_centre_time"] = json!({"start": 480, "end": 1080});
    assert_eq!(
        ca.call("save_basic_settings", json!({"settings": basic}))
            .await
            .0,
        StatusCode::OK
    );
    ca.call(
        "save_security_settings",
        json!({"settings": {"reset_password": false}}),
    )
    .await;
    let mail = json!({"server": "mail.example.com", "port": 465, "security": "Tls",
        "user": "door", "sender": "door@example.com", "has_password": false});
    let (s, b) = ca
        .call(
            "save_mail_settings",
            json!({"settings": mail, "password": {"Set": "Smtp-Secret-77"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (s, file) = ca.call("export_device_info", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(file["format"], "vto-device-info");
    assert_eq!(file["version"], 1);
    let text = file.to_string();
    for secret in ["Smtp-Secret-77", "argon2", STRONG, "password_hash"] {
        assert!(!text.contains(secret), "{secret} in the export");
    }

    // Into a fresh device: identical settings (its own SMTP password aside).
    let b_dev = Vto::start().await;
    let cb = b_dev.ready().await;
    let (s, r) = cb.call("import_device_info", json!({"file": text})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let mut want = all_settings(&ca).await;
    want["mail"]["has_password"] = json!(false);
    assert_eq!(all_settings(&cb).await, want);
    let (_, log) = cb.call("security_log", json!({"offset": 0})).await;
    assert!(
        log.to_string()
            .contains("Device Info import: Call Centre Time, VTO No., Reset Password, Email"),
        "{log}"
    );

    // A fresh device's export imported into another changes nothing.
    let fresh = Vto::start().await;
    let cf = fresh.ready().await;
    let before = all_settings(&cf).await;
    let (_, f) = cf.call("export_device_info", json!({})).await;
    let other = Vto::start().await;
    let co = other.ready().await;
    assert_eq!(
        co.call("import_device_info", json!({"file": f.to_string()}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(all_settings(&co).await, before);
}

#[tokio::test]
async fn bad_files_are_refused_and_change_nothing() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (_, good) = c.call("export_device_info", json!({})).await;
    let before = all_settings(&c).await;

    let mut cases: Vec<(String, &str)> = vec![
        ("{".into(), "Not a JSON file"),
        (" ".repeat(70 * 1024), "larger than 64 KiB"),
        ("[]".into(), "format"),
    ];
    type Edit = (fn(&mut Value), &'static str);
    let edits: Vec<Edit> = vec![
        (|v| v["format"] = json!("something-else"), "format"),
        (|v| v["version"] = json!(2), "newer vto"),
        (|v| v["basic"]["vto_no"] = json!("80a1"), "basic.vto_no"),
        (
            |v| v["basic"]["centre_call_no"] = json!(""),
            "basic.centre_call_no",
        ),
        (
            |v| v["basic"]["call_centre_time"]["end"] = json!(1440),
            "basic.call_centre_time",
        ),
        (|v| v["mail"]["port"] = json!(0), "mail.port"),
        (|v| v["mail"]["password"] = json!("x"), "mail"),
        (
            |v| v["ip_permissions"] = json!({"enabled": true, "mode": "WhiteList", "white_list": ["10.0.0.1"], "black_list": []}),
            "your own address 127.0.0.1",
        ),
        (
            |v| v["security"]["reset_password"] = json!("yes"),
            "security",
        ),
    ];
    for (edit, expect) in edits {
        let mut v = good.clone();
        // A valid change rides along: it must not be applied either.
        v["basic"]["vto_no"] = json!("8999");
        edit(&mut v);
        cases.push((v.to_string(), expect));
    }
    for (file, expect) in cases {
        let (s, b) = c.call("import_device_info", json!({"file": file})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{expect}: {b}");
        assert_eq!(b["Invalid"]["field"], "import");
        let m = b["Invalid"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(expect), "{expect}: {m}");
        assert_eq!(all_settings(&c).await, before, "{expect}");
    }
    // Needs a session.
    assert_eq!(
        vto.client().call("export_device_info", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}
