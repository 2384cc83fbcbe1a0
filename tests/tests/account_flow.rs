//! Initialize, log in, use the session, change password and email, log out.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::json;
use tests::{Vto, STRONG, STRONG2};

#[tokio::test]
async fn initialize_login_use_logout() {
    let vto = Vto::start().await;
    let c = vto.client();

    let (s, b) = c.call("setup_state", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["initialized"], false);

    // Weak password: refused with the rule named; nothing stored.
    let (s, b) = c
        .call("initialize", json!({"password": "abcdefgh", "email": null}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["Invalid"]["field"], "password");
    assert!(
        b["Invalid"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("two kinds"),
        "{b}"
    );
    // Bad email: refused, nothing stored.
    let (s, b) = c
        .call("initialize", json!({"password": STRONG, "email": "owner@"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["Invalid"]["field"], "email");
    assert_eq!(
        c.call("setup_state", json!({})).await.1["initialized"],
        false
    );

    let (s, _) = c
        .call(
            "initialize",
            json!({"password": STRONG, "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = c
        .call("initialize", json!({"password": STRONG2, "email": null}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b, json!("AlreadyInitialized"));

    // Not logged in yet.
    let (s, b) = c.call("overview", json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b, json!("Unauthorized"));

    // Wrong password: a neutral answer.
    let (s, b) = c.login("Wrong-Pass1").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["BadCredentials"]["attempts_left"], 4);
    assert_eq!(c.cookie(), None);

    let res = c
        .http
        .post(format!("{}/api/login", vto.url))
        .header("origin", &vto.url)
        .json(&json!({"user": "admin", "password": STRONG}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("vto_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = cookie["vto_session=".len()..]
        .split(';')
        .next()
        .unwrap_or_default();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    c.set_cookie(Some(token.to_string()));

    let (s, b) = c.call("overview", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["vto"]["vto_no"], "8001");
    assert_eq!(b["vto"]["device_type"], "VillaStation");
    assert_eq!(b["account"]["email"], "owner@example.com");
    assert_eq!(b["system"]["security_baseline"], "1.2");
    assert!(!b["system"]["software_version"]
        .as_str()
        .unwrap_or_default()
        .is_empty());

    // The main page renders with the session, and not without it.
    let page = c.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(
        html.contains("VTO Information") && html.contains("8001"),
        "{html}"
    );

    let (s, _) = c.call("logout", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c.cookie(), None, "logout clears the cookie");
    // The old id no longer works on the server either.
    c.set_cookie(Some(token.to_string()));
    let (s, _) = c.call("overview", json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let page = c.get("/").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");

    // The security log recorded it all, newest first.
    let c = vto.client();
    c.login(STRONG).await;
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        [
            "LoginSucceeded",
            "LoggedOut",
            "LoginSucceeded",
            "LoginFailed",
            "Initialized"
        ]
    );
    assert_eq!(log["events"][0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn change_password_and_email() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let other = vto.client();
    other.login(STRONG).await;

    let (s, b) = c
        .call(
            "change_password",
            json!({"old_password": "Wrong-Pass1", "new_password": STRONG2}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["Invalid"]["field"], "old_password");
    let (s, b) = c
        .call(
            "change_password",
            json!({"old_password": STRONG, "new_password": "admin#Door9"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["Invalid"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("user name"),
        "{b}"
    );
    let (s, _) = c
        .call(
            "change_password",
            json!({"old_password": STRONG, "new_password": STRONG2}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // This session goes on; the other one ended.
    assert_eq!(c.call("overview", json!({})).await.0, StatusCode::OK);
    assert_eq!(
        other.call("overview", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(vto.client().login(STRONG).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(vto.client().login(STRONG2).await.0, StatusCode::OK);

    let (s, b) = c
        .call(
            "change_email",
            json!({"password": STRONG, "email": "new@example.com"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password no longer works"
    );
    assert_eq!(b["Invalid"]["field"], "password");
    let (s, b) = c
        .call(
            "change_email",
            json!({"password": STRONG2, "email": "new@@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["Invalid"]["field"], "email");
    let (s, _) = c
        .call(
            "change_email",
            json!({"password": STRONG2, "email": "new@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        c.call("overview", json!({})).await.1["account"]["email"],
        "new@example.com"
    );
}

#[tokio::test]
async fn factory_reset_returns_to_initialization() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (s, b) = c
        .call("factory_reset", json!({"password": "Wrong-Pass1"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(
        c.call("setup_state", json!({})).await.1["initialized"],
        true
    );

    let (s, _) = c.call("factory_reset", json!({"password": STRONG})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c.cookie(), None);
    let fresh = vto.client();
    assert_eq!(
        fresh.call("setup_state", json!({})).await.1["initialized"],
        false
    );
    let page = fresh.get("/").await;
    assert_eq!(page.headers()["location"], "/init");
    assert_eq!(fresh.get("/init").await.status(), StatusCode::OK);
    // And it can be initialized again, with another password.
    let (s, _) = fresh
        .call("initialize", json!({"password": STRONG2, "email": null}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(fresh.login(STRONG).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fresh.login(STRONG2).await.0, StatusCode::OK);
}
