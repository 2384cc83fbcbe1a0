//! Every route the server has, enumerated by `vto --list-routes`, refuses
//! requests without a session unless it is meant to be public; every
//! response carries the security headers.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{binary, Client, Vto, STRONG};

struct Route {
    method: String,
    path: String,
    access: String,
    /// For routes that need a session: the right the account's role needs.
    right: Option<String>,
}

fn list_routes() -> Vec<Route> {
    let out = std::process::Command::new(binary())
        .arg("--list-routes")
        .output()
        .expect("vto --list-routes");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let method = parts.next()?.to_string();
            let path = parts.next()?.to_string();
            let mut access: Vec<&str> = parts.collect();
            let right = match access.as_slice() {
                ["session", right] => Some(right.to_string()),
                _ => None,
            };
            access.truncate(if right.is_some() { 1 } else { access.len() });
            Some(Route {
                method,
                path,
                access: access.join(" "),
                right,
            })
        })
        .collect()
}

async fn request(c: &Client, r: &Route) -> reqwest::Response {
    let method = Method::from_bytes(r.method.as_bytes()).expect("method");
    let mut rb = c.http.request(method, format!("{}{}", c.base, r.path));
    if r.path.starts_with("/api/") {
        rb = rb.header("origin", &c.base).json(&json!({}));
    }
    rb.send().await.expect("request")
}

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
}

#[test]
fn the_route_list_is_complete() {
    let routes = list_routes();
    let paths: Vec<&str> = routes.iter().map(|r| r.path.as_str()).collect();
    for p in [
        "/",
        "/init",
        "/login",
        "/account",
        "/log/security",
        "/storage/{file}",
        "/api/login",
        "/api/logout",
        "/api/initialize",
        "/api/setup_state",
        "/api/overview",
        "/api/change_password",
        "/api/change_email",
        "/api/reboot",
        "/api/factory_reset",
        "/api/security_log",
        "/cgi-bin/magicBox.cgi",
        "/cgi-bin/accessControl.cgi",
        "/cgi-bin/eventManager.cgi",
        "/onvif/device_service",
        "/onvif/media_service",
        "/onvif/media2_service",
        "/metrics",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    // The UI's files, under names hashed by content.
    for (prefix, suffix) in [
        ("/pkg/", "/frontend_bg.wasm"),
        ("/pkg/", "/frontend.js"),
        ("/pkg/", "/__wasm_split.js"),
        ("/style.", ".css"),
        ("/favicon.", ".svg"),
    ] {
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with(prefix) && p.ends_with(suffix)),
            "{prefix}*{suffix} missing from {paths:?}"
        );
    }
    // Every route for a session declares the right it needs; what is not
    // named for the other roles is Settings (Admin only).
    let rights = ["LiveView", "Snapshot", "OpenDoor", "Logs", "Settings"];
    for r in routes.iter().filter(|r| r.access == "session") {
        let right = r.right.as_deref().unwrap_or_default();
        assert!(
            rights.contains(&right),
            "{} {}: {right:?}",
            r.method,
            r.path
        );
    }
    let right_of = |path: &str| {
        routes
            .iter()
            .find(|r| r.path == path)
            .and_then(|r| r.right.clone())
            .unwrap_or_default()
    };
    for (path, right) in [
        ("/", "LiveView"),
        ("/monitor", "LiveView"),
        ("/api/overview", "LiveView"),
        ("/api/change_password", "LiveView"),
        ("/api/whep/door", "LiveView"),
        ("/snapshot/door.jpg", "Snapshot"),
        ("/api/unlock", "OpenDoor"),
        ("/api/answer_call", "OpenDoor"),
        ("/api/call/whep", "OpenDoor"),
        ("/api/unlock_log", "Logs"),
        ("/log/unlock", "Logs"),
        ("/api/security_log", "Settings"),
        ("/api/save_basic_settings", "Settings"),
        ("/api/users", "Settings"),
        ("/api/online_users", "Settings"),
        ("/local/users", "Settings"),
        ("/local/basic", "Settings"),
    ] {
        assert_eq!(right_of(path), right, "{path}");
    }
    let mut public: Vec<&str> = routes
        .iter()
        .filter(|r| {
            r.access != "session"
                && r.access != "digest"
                && r.access != "ws-security"
                && r.access != "metrics token"
                && !r.access.contains("static asset")
        })
        .map(|r| r.path.as_str())
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "/api/initialize",
            "/api/login",
            "/api/login_code",
            "/api/reset_complete",
            "/api/reset_info",
            "/api/reset_request",
            "/api/reset_verify",
            "/api/setup_state",
            "/init",
            "/login",
            "/reset"
        ],
        "only these are public"
    );
}

/// 401 with a challenge that starts with `scheme`.
fn challenged(res: &reqwest::Response, scheme: &str, what: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    let www = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(www.starts_with(scheme), "{what}: {www}");
}

/// What an anonymous request to `r` must get.
fn expect_anonymous(r: &Route, res: &reqwest::Response, initialized: bool) {
    let status = res.status();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok());
    let what = format!("{} {} (initialized: {initialized})", r.method, r.path);
    let api = r.path.starts_with("/api/");
    match (r.access.as_str(), api) {
        ("session", true) => assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}"),
        // The HTTP CGI API: a Digest challenge, initialized or not.
        ("digest", _) => challenged(res, "Digest realm=\"Login to ", &what),
        // The ONVIF services: off until Network Setting > ONVIF enables
        // them, and then their own WS-Security (tests/tests/onvif_out.rs).
        ("ws-security", _) => assert_eq!(status, StatusCode::NOT_FOUND, "{what}"),
        // `/metrics`: a Bearer challenge; the token is tests/tests/metrics.rs.
        ("metrics token", _) => challenged(res, "Bearer realm=", &what),
        ("session", false) => {
            assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
            let to = if initialized { "/login" } else { "/init" };
            assert_eq!(location, Some(to), "{what}");
        }
        ("public until initialized", _) if initialized => {
            assert_eq!(location, Some("/login"), "{what}")
        }
        ("public", false) if !initialized => assert_eq!(location, Some("/init"), "{what}"),
        // Public: reachable (an empty body may be a bad request, never 401/403).
        _ => assert!(
            status != StatusCode::UNAUTHORIZED
                && status != StatusCode::FORBIDDEN
                && !status.is_redirection(),
            "{what}: {status}"
        ),
    }
}

#[tokio::test]
async fn without_a_session_every_protected_route_is_refused() {
    let routes = list_routes();
    let vto = Vto::start().await;
    let anon = vto.client();

    // Before initialization: pages lead to /init, the API answers 401.
    for r in &routes {
        let res = request(&anon, r).await;
        assert_security_headers(&res, &r.path);
        expect_anonymous(r, &res, false);
    }
    // After initialization: pages lead to /login, the API answers 401.
    vto.ready().await;
    for r in &routes {
        let res = request(&anon, r).await;
        assert_security_headers(&res, &r.path);
        expect_anonymous(r, &res, true);
    }

    // Paths nobody routed are refused the same way, not revealed as 404.
    for p in [
        "/nope",
        "/api/nope",
        "/login/",
        "/api/login/../overview",
        "/pkg/x.wasm",
    ] {
        let res = anon.get(p).await;
        assert!(
            matches!(
                res.status(),
                StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
            ),
            "{p}: {}",
            res.status()
        );
    }
    // A forged cookie is no session.
    anon.set_cookie(Some("A".repeat(43)));
    assert_eq!(
        anon.call("overview", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn with_a_session_pages_render_and_unknown_paths_are_404() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    // Pages of one room (`/household/cards/{room}`) are shown for a room
    // that exists.
    let (code, _) = c
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    // And a saved snapshot (`/storage/{file}`): Auto Snapshot (unlock) on,
    // the door opened.
    let (_, mut basic) = c.call("basic_settings", json!({})).await;
    basic["auto_snapshot_unlock"] = json!(true);
    let (code, _) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = c.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    let cr = &c;
    let file = tests::eventually("the unlock's snapshot", || async move {
        let (_, log) = cr
            .call("unlock_log", json!({"offset": 0, "filter": {}}))
            .await;
        log["records"][0]["snapshot"]["Saved"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    for r in list_routes().iter().filter(|r| {
        r.method == "GET"
            && !r.path.starts_with("/api/")
            && r.access != "digest"
            && r.access != "metrics token"
    }) {
        let path = r.path.replace("{room}", "9901").replace("{file}", &file);
        let res = c.get(&path).await;
        assert_security_headers(&res, &r.path);
        if ["/init", "/login", "/reset"].contains(&r.path.as_str()) {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", r.path);
            assert_eq!(res.headers()["location"], "/");
        } else {
            assert_eq!(res.status(), StatusCode::OK, "{}", r.path);
            let html = res.text().await.unwrap_or_default();
            // Each piece of data is loaded, and sent, once: a component
            // that made its resource inside a Suspense did it once per
            // server pass (the home page sent the door's status 3 times).
            let data = resolved_resources(&html);
            for (i, d) in data.iter().enumerate() {
                assert!(
                    !data[i + 1..].contains(d),
                    "{} sends this resource twice: {d}",
                    r.path
                );
            }
        }
    }
    let res = c.get("/no-such-page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("Page not found"));
}

/// The data a page hands to the browser with its HTML: each
/// `__RESOLVED_RESOURCES[n] = "..."`'s string, escapes kept.
fn resolved_resources(html: &str) -> Vec<&str> {
    html.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|part| {
            let body = &part[part.find("] = \"")? + 5..];
            let mut escaped = false;
            let end = body.char_indices().find_map(|(i, ch)| {
                let closes = ch == '"' && !escaped;
                escaped = ch == '\\' && !escaped;
                closes.then_some(i)
            })?;
            Some(&body[..end])
        })
        .collect()
}

#[test]
fn resolved_resources_reads_each_string_whole() {
    let html = r#"<script>__RESOLVED_RESOURCES[3] = "{\"a\":\"x;y\"}";__RESOLVED_RESOURCES[4] = "{}";</script>"#;
    assert_eq!(resolved_resources(html), [r#"{\"a\":\"x;y\"}"#, "{}"]);
}

#[tokio::test]
async fn the_api_refuses_other_origins() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let cookie = format!("vto_session={}", c.cookie().unwrap_or_default());
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let res = c
            .http
            .post(format!("{}/api/logout", vto.url))
            .header("cookie", &cookie)
            .header(name, value)
            .json(&json!({}))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap_or_default(),
            json!("CrossOrigin")
        );
    }
    // Not even initialization can be forced from another site.
    let fresh = Vto::start().await;
    let res = fresh
        .client()
        .http
        .post(format!("{}/api/initialize", fresh.url))
        .header("origin", "http://evil.example")
        .json(&json!({"password": "Door-Bell7x", "email": null}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        fresh.client().call("setup_state", json!({})).await.1["initialized"],
        false
    );
    // The session still works for its own pages.
    assert_eq!(c.call("overview", json!({})).await.0, StatusCode::OK);
}

/// The CSP nonce of a response, and how many inline scripts its page has
/// and how many of them carry that nonce.
async fn nonce_and_scripts(res: reqwest::Response) -> (String, usize, usize, String) {
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_default()
        .to_string();
    let html = res.text().await.unwrap_or_default();
    let scripts = html.matches("<script").count();
    let signed = html.matches(&format!("nonce=\"{nonce}\"")).count();
    (nonce, scripts, signed, html)
}

#[tokio::test]
async fn the_csp_nonce_covers_the_inline_scripts() {
    let vto = Vto::start().await;
    let (nonce, scripts, signed, html) = nonce_and_scripts(vto.client().get("/init").await).await;
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(scripts >= 2, "{html}");
    assert_eq!(signed, scripts, "{html}");
    // A new nonce each time.
    let again = vto.client().get("/init").await;
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .contains(&nonce));
}

#[tokio::test]
async fn the_login_page_is_rendered_once_per_stored_state_with_a_nonce_per_response() {
    // The login page is kept between requests (http::page_cache): each
    // response must still get its own nonce, and a change to what the page
    // shows must show at once.
    let vto = Vto::start().await;
    let admin = vto.ready().await; // no email: no reset
    let anon = vto.client();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..3 {
        let (nonce, scripts, signed, html) = nonce_and_scripts(anon.get("/login").await).await;
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(scripts >= 2 && signed == scripts, "{nonce}: {html}");
        assert!(html.contains("id=\"no-reset\""), "{html}");
        assert!(seen.insert(nonce), "a nonce was sent twice");
    }
    let (s, b) = admin
        .call(
            "change_email",
            json!({"password": STRONG, "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (nonce, scripts, signed, html) = nonce_and_scripts(anon.get("/login").await).await;
    assert!(signed == scripts && seen.insert(nonce), "{html}");
    assert!(html.contains("id=\"forgot-password\""), "{html}");
    assert!(!html.contains("id=\"no-reset\""), "{html}");
    let (s, b) = admin
        .call(
            "save_security_settings",
            json!({"settings": {"reset_password": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let html = anon.get("/login").await.text().await.unwrap_or_default();
    assert!(html.contains("id=\"no-reset\""), "{html}");
    // A signed-in caller is still sent to the main page.
    let res = admin.get("/login").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/");
}

/// A page's data as the browser gets it (each resource's JSON).
fn page_data(html: &str) -> Vec<serde_json::Value> {
    resolved_resources(html)
        .into_iter()
        .filter_map(|s| serde_json::from_str::<String>(&format!("\"{s}\"")).ok())
        .filter_map(|s| serde_json::from_str(&s).ok())
        .collect()
}

/// The `Ok` value of the first resource of `html` that has `field`.
fn datum(html: &str, field: &str) -> serde_json::Value {
    page_data(html)
        .into_iter()
        .find_map(|d| d["Ok"].get(field).is_some().then(|| d["Ok"].clone()))
        .unwrap_or_else(|| panic!("no resource with {field}: {html}"))
}

#[tokio::test]
async fn signed_in_pages_are_kept_per_account_and_show_each_change() {
    // The main page is kept between requests per account
    // (http::page_cache): each response gets its own nonce, each account
    // its own page, and a stored change, a door change and a call change
    // show at once (as on Monitor, rendered each time).
    const PW: &str = "Door2026Bell";
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    tests::add_user(&admin, "viewer", "Watch-Door7q", "Viewer").await;
    let viewer = vto.client();
    let (code, b) = viewer.login_as("viewer", "Watch-Door7q").await;
    assert_eq!(code, StatusCode::OK, "{b}");

    let mut nonces = std::collections::HashSet::new();
    for _ in 0..3 {
        let (nonce, scripts, signed, html) = nonce_and_scripts(admin.get("/").await).await;
        assert!(scripts >= 2 && signed == scripts, "{nonce}: {html}");
        assert!(nonces.insert(nonce), "a nonce was sent twice");
        assert_eq!(datum(&html, "user")["user"], "admin", "{html}");
        assert!(html.contains("id=\"unlock\""), "{html}");
    }
    // Another account: its own name, and only what its role may use.
    for _ in 0..2 {
        let html = viewer.get("/").await.text().await.unwrap_or_default();
        assert_eq!(datum(&html, "user")["user"], "viewer", "{html}");
        assert!(!html.contains("id=\"unlock\""), "{html}");
    }
    let html = admin.get("/").await.text().await.unwrap_or_default();
    assert_eq!(datum(&html, "user")["user"], "admin", "{html}");

    // A stored change.
    let (_, mut basic) = admin.call("basic_settings", json!({})).await;
    basic["vto_no"] = json!("8123");
    let (code, b) = admin
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{b}");
    let html = admin.get("/").await.text().await.unwrap_or_default();
    assert!(html.contains("id=\"vto-no\">8123<"), "{html}");

    // The door: the page shows at least the version after an unlock.
    let (_, door) = admin.call("door_status", json!({"seen": 0})).await;
    let seen = door["version"].as_u64().expect("a version");
    for path in ["/", "/monitor"] {
        let html = admin.get(path).await.text().await.unwrap_or_default();
        assert_eq!(datum(&html, "lock_open")["version"], seen, "{path}: {html}");
    }
    let (code, b) = admin.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{b}");
    let (_, door) = admin.call("door_status", json!({"seen": seen})).await;
    let after = door["version"].as_u64().expect("a version");
    assert!(after > seen, "{door}");
    for path in ["/", "/monitor"] {
        let html = admin.get(path).await.text().await.unwrap_or_default();
        let shown = datum(&html, "lock_open")["version"].as_u64();
        assert!(shown >= Some(after), "{path}: {shown:?} < {after}");
    }

    // A call: a monitor of the room answers it.
    let (code, b) = admin
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": PW}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{b}");
    let sip = vto.sip.expect("vto prints its SIP address");
    let monitor = tests::sipp::answering_monitor(sip, "9901#0", PW, Duration::from_secs(30))
        .await
        .expect("the monitor registers");
    let html = admin.get("/").await.text().await.unwrap_or_default();
    assert_eq!(datum(&html, "phase")["phase"], "Idle", "{html}");
    let (code, s) = admin.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    let version = s["version"].as_u64().expect("a version");
    let html = admin.get("/").await.text().await.unwrap_or_default();
    let call = datum(&html, "phase");
    assert!(call["version"].as_u64() >= Some(version), "{call} {s}");
    assert_ne!(call["phase"], "Idle", "{call}");
    let (code, b) = admin.call("hang_up", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{b}");
    monitor.abort();
}

#[tokio::test]
async fn initialization_through_a_public_host_name_is_refused() {
    // DNS rebinding: a web page's own name now points at the device.
    let vto = Vto::start().await;
    let c = vto.client();
    let res = c
        .http
        .post(format!("{}/api/initialize", vto.url))
        .header("host", "rebind.attacker.example")
        .header("origin", "http://rebind.attacker.example")
        .json(&json!({"password": "Door-Bell7x", "email": null}))
        .send()
        .await
        .expect("post");
    // Refused before any route: the device does not answer to that name.
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(
        c.call("setup_state", json!({})).await.1["initialized"],
        false
    );
    // Through the address it works.
    assert_eq!(
        c.call(
            "initialize",
            json!({"password": "Door-Bell7x", "email": null})
        )
        .await
        .0,
        StatusCode::OK
    );
}
