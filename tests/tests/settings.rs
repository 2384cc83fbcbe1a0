//! Settings pages through the real binary: validation at every edge of the
//! manual's ranges (nothing saved on error), whole-page saves, the audit
//! entry (field names, never values), persistence across a restart.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::Vto;

fn defaults() -> Value {
    json!({
        "device_type": "VillaStation",
        "building_no": "01",
        "unit_no": "1",
        "centre_call_no": "888888",
        "call_centre_time": {"start": 0, "end": 1439},
        "vto_no": "8001",
        "storage_point": "",
        "auto_snapshot_unlock": false,
        "auto_snapshot_talking": false,
        "leave_message": false,
        "message_time_s": 20,
        "watch_answered": false
    })
}

#[tokio::test]
async fn basic_validates_every_edge_and_saves_nothing_on_error() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (s, b) = c.call("basic_settings", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, defaults(), "the manual's defaults");

    let bad: &[(&str, Value, &str)] = &[
        ("vto_no", json!(""), "vto-no"),
        ("vto_no", json!("1234567"), "vto-no"),
        ("vto_no", json!("80a1"), "vto-no"),
        ("building_no", json!("100"), "building-no"),
        ("unit_no", json!(""), "unit-no"),
        ("centre_call_no", json!("1".repeat(17)), "centre-call-no"),
        ("centre_call_no", json!("88 88"), "centre-call-no"),
        ("storage_point", json!("media/sd"), "storage-point"),
        ("storage_point", json!("/media/../etc"), "storage-point"),
        ("storage_point", json!("/media/sd\n"), "storage-point"),
        (
            "call_centre_time",
            json!({"start": 0, "end": 1440}),
            "call-centre-time",
        ),
        ("message_time_s", json!(4), "message-time"),
        ("message_time_s", json!(61), "message-time"),
    ];
    for (key, value, field) in bad {
        let mut s = defaults();
        s["vto_no"] = json!("8002"); // a valid change riding along
        s[*key] = value.clone();
        let (status, b) = c.call("save_basic_settings", json!({"settings": s})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key}={value}: {b}"
        );
        assert_eq!(b["Invalid"]["field"], *field, "{key}={value}");
        assert_eq!(
            c.call("basic_settings", json!({})).await.1,
            defaults(),
            "{key}"
        );
    }
    // A wrong type is refused before it reaches the device.
    let mut s = defaults();
    s["call_centre_time"] = json!({"start": -1, "end": 5});
    let (status, _) = c.call("save_basic_settings", json!({"settings": s})).await;
    assert!(status.is_client_error() || status.is_server_error());
    assert_eq!(c.call("basic_settings", json!({})).await.1, defaults());

    let good: &[(&str, Value)] = &[
        ("vto_no", json!("999999")),
        ("vto_no", json!("1")),
        ("centre_call_no", json!("1".repeat(16))),
        ("call_centre_time", json!({"start": 1320, "end": 360})),
        ("device_type", json!("SecondConfirmation")),
        ("storage_point", json!("/media/sd")),
        ("auto_snapshot_unlock", json!(true)),
        ("auto_snapshot_talking", json!(true)),
        ("leave_message", json!(true)),
        ("message_time_s", json!(5)),
        ("message_time_s", json!(60)),
        ("watch_answered", json!(true)),
    ];
    for (key, value) in good {
        let mut s = defaults();
        s[*key] = value.clone();
        let (status, b) = c
            .call("save_basic_settings", json!({"settings": s.clone()}))
            .await;
        assert_eq!(status, StatusCode::OK, "{key}={value}: {b}");
        assert_eq!(c.call("basic_settings", json!({})).await.1, s);
    }
}

#[tokio::test]
async fn basic_is_audited_persists_and_feeds_the_main_page() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let mut s = defaults();
    s["vto_no"] = json!("8123");
    s["centre_call_no"] = json!("777777");
    let (status, b) = c
        .call("save_basic_settings", json!({"settings": s.clone()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    // Saving the same again changes nothing and logs nothing.
    c.call("save_basic_settings", json!({"settings": s.clone()}))
        .await;
    let (_, o) = c.call("overview", json!({})).await;
    assert_eq!(o["vto"]["vto_no"], "8123");

    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let changes: Vec<&Value> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "SettingsChanged")
        .collect();
    assert_eq!(changes.len(), 1, "{log}");
    assert_eq!(changes[0]["detail"], "Basic: Centre Call No., VTO No.");
    assert_eq!(changes[0]["user"], "admin");
    assert_eq!(changes[0]["ip"], "127.0.0.1");
    assert!(!log.to_string().contains("777777"), "names, never values");

    let token = c.cookie();
    vto.stop().await;
    let vto2 = Vto::start_in(&vto.data_dir, &[]).await.expect("restart");
    let c2 = vto2.client();
    c2.set_cookie(token);
    assert_eq!(c2.call("basic_settings", json!({})).await.1, s);
    // Settings need a session.
    assert_eq!(
        vto2.client().call("basic_settings", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}
