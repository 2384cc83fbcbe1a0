//! IP Permissions from several loopback source addresses: a refused peer's
//! connection is closed without a page; a list that would shut out the
//! browser saving it is refused; the lists survive a restart.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{Client, Vto};

/// Whether a client from `ip` gets any answer at all.
async fn reaches(vto: &Vto, ip: &str) -> bool {
    let c = vto.client_from(ip);
    c.http.get(format!("{}/login", c.base)).send().await.is_ok()
}

async fn save(c: &Client, settings: Value) -> (StatusCode, Value) {
    c.call("save_ip_permissions", json!({"settings": settings}))
        .await
}

#[tokio::test]
async fn white_and_black_lists_are_enforced_at_accept() {
    let mut vto = Vto::start().await;
    let admin = vto.ready().await; // from 127.0.0.1
    assert!(reaches(&vto, "127.0.0.2").await, "off by default");

    let (s, b) = save(
        &admin,
        json!({"enabled": true, "mode": "WhiteList",
               "white_list": ["127.0.0.1", "127.0.0.3-127.0.0.4"], "black_list": []}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(!reaches(&vto, "127.0.0.2").await, "not on the white list");
    assert!(reaches(&vto, "127.0.0.3").await);
    assert!(reaches(&vto, "127.0.0.4").await);
    assert!(!reaches(&vto, "127.0.0.5").await);
    assert!(vto.logs().contains("connection refused by IP Permissions"));

    let (s, b) = save(
        &admin,
        json!({"enabled": true, "mode": "BlackList",
               "white_list": ["127.0.0.1"], "black_list": ["127.0.0.2/32"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(!reaches(&vto, "127.0.0.2").await);
    assert!(reaches(&vto, "127.0.0.5").await);

    // A connection kept open from before the change gets no page either.
    let kept = vto.client_from("127.0.0.6");
    assert_eq!(kept.get("/login").await.status(), StatusCode::OK);
    let (s, b) = save(
        &admin,
        json!({"enabled": true, "mode": "BlackList",
               "white_list": ["127.0.0.1"], "black_list": ["127.0.0.2/32", "127.0.0.6"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let again = kept.http.get(format!("{}/login", kept.base)).send().await;
    assert!(again.map_or(true, |r| r.status() == StatusCode::FORBIDDEN));

    // The lists are in force after a restart, before anyone logs in.
    let token = admin.cookie();
    vto.stop().await;
    let vto2 = Vto::start_in(&vto.data_dir, &[]).await.expect("restart");
    assert!(!reaches(&vto2, "127.0.0.2").await);
    assert!(reaches(&vto2, "127.0.0.3").await);
    let c = vto2.client();
    c.set_cookie(token);
    let (_, p) = c.call("ip_permissions", json!({})).await;
    assert_eq!(p["mode"], "BlackList");
    assert_eq!(p["black_list"], json!(["127.0.0.2/32", "127.0.0.6"]));
}

#[tokio::test]
async fn a_list_that_shuts_out_the_browser_or_is_invalid_is_refused() {
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    let cases = [
        (
            json!({"enabled": true, "mode": "WhiteList", "white_list": ["127.0.0.2"], "black_list": []}),
            "white-list",
            "your own address 127.0.0.1",
        ),
        (
            json!({"enabled": true, "mode": "BlackList", "white_list": [], "black_list": ["127.0.0.0/8"]}),
            "black-list",
            "your own address 127.0.0.1",
        ),
        (
            json!({"enabled": true, "mode": "WhiteList", "white_list": [], "black_list": []}),
            "white-list",
            "at least one",
        ),
        (
            json!({"enabled": false, "mode": "WhiteList", "white_list": ["127.0.0.300"], "black_list": []}),
            "white-list",
            "127.0.0.300:",
        ),
        (
            json!({"enabled": false, "mode": "BlackList", "white_list": [], "black_list": ["10.0.0.9-10.0.0.1"]}),
            "black-list",
            "start comes after its end",
        ),
    ];
    for (settings, field, says) in cases {
        let (s, b) = save(&admin, settings.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{settings}: {b}");
        assert_eq!(b["Invalid"]["field"], field, "{settings}");
        let m = b["Invalid"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(says), "{m}");
        // Nothing saved, nobody shut out.
        let (_, p) = admin.call("ip_permissions", json!({})).await;
        assert_eq!(p["enabled"], false);
        assert!(reaches(&vto, "127.0.0.2").await);
    }
    // Settings need a session.
    assert_eq!(
        vto.client().call("ip_permissions", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn factory_reset_turns_the_lists_off() {
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    let (s, b) = save(
        &admin,
        json!({"enabled": true, "mode": "BlackList", "white_list": [], "black_list": ["127.0.0.2"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(!reaches(&vto, "127.0.0.2").await);
    let (s, b) = admin
        .call("factory_reset", json!({"password": tests::STRONG}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(reaches(&vto, "127.0.0.2").await);
}
