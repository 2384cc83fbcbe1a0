//! ONVIF out (issue 21) against the real binary, by the clients that look
//! for a camera: onvif-zeep-async (Home Assistant's ONVIF library) doing
//! what the integration does, ffprobe playing the stream URI it got with
//! the same credentials, wsdiscovery's Probe on the WS-Discovery port.
//! The ONVIF password is its own (Network Setting > ONVIF), counted
//! toward the UI's lockout, and the ONVIF user's role limits what it gets.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{path::Path, process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{add_user, Client, Vto, STRONG};
use tokio::process::Command;

const ONVIF_PASSWORD: &str = "Onvif-Pass-4711";

/// The Python client (`tests/peers/onvif_clients.py`) doing `args`; its
/// one JSON line.
async fn py(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/onvif_clients.py");
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        Command::new(tests::dahua::python())
            .arg(script)
            .args(args)
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("the ONVIF client within 90 s")
    .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output: {}", String::from_utf8_lossy(&out.stderr)));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn host_port(vto: &Vto) -> (String, String) {
    let addr = vto.url.trim_start_matches("http://").trim_end_matches('/');
    let (h, p) = addr.rsplit_once(':').unwrap();
    (h.to_string(), p.to_string())
}

async fn ha(vto: &Vto, user: &str, password: &str) -> Value {
    let (h, p) = host_port(vto);
    py(&["ha", &h, &p, user, password]).await
}

async fn call(vto: &Vto, user: &str, password: &str, op: &str) -> Value {
    let (h, p) = host_port(vto);
    py(&["call", &h, &p, user, password, op]).await
}

async fn probe(vto: &Vto, secs: &str) -> Value {
    let addr = vto.discovery.expect("vto prints its discovery address");
    py(&[
        "probe",
        &addr.ip().to_string(),
        &addr.port().to_string(),
        secs,
    ])
    .await
}

/// Saves Network Setting > ONVIF.
async fn save(
    c: &Client,
    enabled: bool,
    user: &str,
    password: Option<&str>,
) -> (StatusCode, Value) {
    let password = match password {
        Some(p) => json!({ "Set": p }),
        None => json!("Keep"),
    };
    c.call(
        "save_onvif",
        json!({
            "settings": {"enabled": enabled, "discovery": true, "user": user, "has_password": false},
            "password": password
        }),
    )
    .await
}

async fn enable(c: &Client, user: &str) {
    let (s, b) = save(c, true, user, Some(ONVIF_PASSWORD)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["settings"]["enabled"], true);
    assert_eq!(b["settings"]["has_password"], true);
}

/// ffprobe's video stream of `url` over TCP.
async fn video_of(url: &str) -> Result<Value, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("ffprobe")
            .args(["-v", "error", "-rtsp_transport", "tcp", "-show_streams"])
            .args(["-of", "json", url])
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("ffprobe within 30 s")
    .expect("run ffprobe (apt install ffmpeg)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe's JSON");
    v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video").cloned())
        .ok_or_else(|| format!("no video in {v}"))
}

fn with_credentials(uri: &str, user: &str, password: &str) -> String {
    uri.replacen("rtsp://", &format!("rtsp://{user}:{password}@"), 1)
}

/// A raw SOAP request to a service path.
async fn soap(vto: &Vto, path: &str, body: &str) -> (StatusCode, String) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", vto.url.trim_end_matches('/')))
        .header("content-type", "application/soap+xml; charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    (res.status(), res.text().await.unwrap_or_default())
}

const HOSTNAME: &str = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
    <GetHostname xmlns=\"http://www.onvif.org/ver10/device/wsdl\"/></s:Body></s:Envelope>";
const CLOCK: &str = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
    <GetSystemDateAndTime xmlns=\"http://www.onvif.org/ver10/device/wsdl\"/></s:Body></s:Envelope>";

#[tokio::test]
async fn home_assistants_library_finds_both_profiles_and_the_stream_plays() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    enable(&c, "admin").await;
    let r = ha(&vto, "admin", ONVIF_PASSWORD).await;
    assert!(r.get("error").is_none(), "{r}");
    let base = vto.url.trim_end_matches('/');
    assert_eq!(
        r["xaddrs"]["http://www.onvif.org/ver10/media/wsdl"],
        format!("{base}/onvif/media_service")
    );
    assert_eq!(r["media_xaddr"], format!("{base}/onvif/media_service"));
    assert_eq!(r["manufacturer"], "vto");
    assert_eq!(r["model"], "VTO-vto");
    assert!(r["serial"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
    assert_eq!(r["interfaces"], json!(["127.0.0.1"]));
    assert!(r["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "onvif://www.onvif.org/Profile/Streaming"));
    assert_eq!(r["snapshot_capable"], true);
    assert_eq!(r["video_sources"], json!([[1280, 720]]));
    let profiles = r["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2, "{r}");
    let rtsp = vto.rtsp.expect("vto prints its RTSP address");
    for (p, token, size, subtype) in [
        (&profiles[0], "main", (1280, 720), 0),
        (&profiles[1], "sub", (352, 288), 1),
    ] {
        assert_eq!(p["token"], token);
        assert_eq!(p["encoding"], "H264");
        assert_eq!(
            (p["width"].as_u64(), p["height"].as_u64()),
            (Some(size.0), Some(size.1))
        );
        assert_eq!(p["audio"], "G711");
        assert_eq!(
            p["stream_uri"],
            format!(
                "rtsp://127.0.0.1:{}/cam/realmonitor?channel=1&subtype={subtype}",
                rtsp.port()
            )
        );
    }
    // The snapshot: the CGI on the same address, HTTP Digest with the
    // ONVIF user and password (what Home Assistant does).
    assert_eq!(
        r["snapshot_uri"],
        format!("{base}/cgi-bin/snapshot.cgi?channel=1")
    );
    assert_eq!(r["snapshot_jpeg"], true, "{r}");
    // The stream URI plays with the same credentials (Home Assistant hands
    // them to ffmpeg).
    let uri = profiles[0]["stream_uri"].as_str().unwrap();
    let v = video_of(&with_credentials(uri, "admin", ONVIF_PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["codec_name"], "h264", "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1280), Some(720))
    );
    // The ONVIF password is not the login password: the UI refuses it.
    let (s, _) = vto.client().login(ONVIF_PASSWORD).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Never shown, never logged.
    let (s, page) = c.call("onvif_settings", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!page.to_string().contains(ONVIF_PASSWORD));
    assert!(!vto.logs().contains(ONVIF_PASSWORD));
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_five_lock_the_account_for_the_address() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    enable(&c, "admin").await;
    // The account's own login password is not the ONVIF password either.
    let r = call(&vto, "admin", STRONG, "GetDeviceInformation").await;
    assert_eq!(r["error"], "Fault", "{r}");
    assert!(r["subcodes"].to_string().contains("NotAuthorized"), "{r}");
    for _ in 0..4 {
        let r = call(&vto, "admin", "Wrong-Pass-1", "GetDeviceInformation").await;
        assert!(
            r["message"].as_str().unwrap().contains("not Authorized"),
            "{r}"
        );
    }
    // Locked for this address: the right password too, and the UI's login.
    let r = call(&vto, "admin", ONVIF_PASSWORD, "GetDeviceInformation").await;
    assert!(r["message"].as_str().unwrap().contains("locked"), "{r}");
    let (s, _) = vto.client().login(STRONG).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not locked.
    let (s, _) = vto.client_from("127.0.0.2").login(STRONG).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn unknown_operations_and_bodies_get_their_faults() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    enable(&c, "admin").await;
    let r = call(&vto, "admin", ONVIF_PASSWORD, "SystemReboot").await;
    assert_eq!(r["error"], "Fault", "{r}");
    assert!(
        r["subcodes"].to_string().contains("ActionNotSupported"),
        "{r}"
    );
    // Not XML: a Sender fault, 400.
    let (s, body) = soap(&vto, "/onvif/device_service", "not xml at all").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("env:Sender"), "{body}");
    // The clock answers without authentication; the host name does not:
    // an HTTP Digest challenge with the NotAuthorized fault.
    let (s, body) = soap(&vto, "/onvif/device_service", CLOCK).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("UTCDateTime"), "{body}");
    let res = reqwest::Client::new()
        .post(format!(
            "{}/onvif/device_service",
            vto.url.trim_end_matches('/')
        ))
        .body(HOSTNAME)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Digest realm=\"Login to "));
    assert!(res.text().await.unwrap().contains("ter:NotAuthorized"));
    // A device operation sent to the media service is not the media's.
    let (s, body) = soap(&vto, "/onvif/media_service", CLOCK).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("ter:ActionNotSupported"), "{body}");
}

#[tokio::test]
async fn off_is_404_and_silent_and_discovery_finds_the_device_once_on() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    for path in [
        "/onvif/device_service",
        "/onvif/media_service",
        "/onvif/media2_service",
    ] {
        let (s, _) = soap(&vto, path, CLOCK).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    // Silence is waited for once, 2 s: there is nothing else to wait on.
    let r = probe(&vto, "2").await;
    assert_eq!(r["error"], "timeout", "{r}");
    enable(&c, "admin").await;
    let (s, _) = soap(&vto, "/onvif/device_service", CLOCK).await;
    assert_eq!(s, StatusCode::OK);
    let r = probe(&vto, "10").await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(r["relates_to"], r["message_id"], "{r}");
    let m = &r["matches"][0];
    assert_eq!(
        m["xaddrs"],
        json!([format!(
            "{}/onvif/device_service",
            vto.url.trim_end_matches('/')
        )])
    );
    assert!(m["epr"].as_str().unwrap().starts_with("urn:uuid:"), "{r}");
    assert!(
        m["types"].to_string().contains("NetworkVideoTransmitter"),
        "{r}"
    );
    assert!(
        m["scopes"].to_string().contains("onvif://www.onvif.org/"),
        "{r}"
    );
    // WS-Discovery off (ONVIF still on): silent again.
    let (s, b) = c
        .call(
            "save_onvif",
            json!({"settings": {"enabled": true, "discovery": false, "user": "admin", "has_password": true}, "password": "Keep"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let r = probe(&vto, "2").await;
    assert_eq!(r["error"], "timeout", "{r}");
}

#[tokio::test]
async fn a_bad_save_changes_nothing_and_says_which_field() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    // Enabling needs a password.
    let (s, b) = save(&c, true, "admin", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["Invalid"]["field"], "onvif-password", "{b}");
    let (s, b) = save(&c, true, "nobody", Some(ONVIF_PASSWORD)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["Invalid"]["field"], "onvif-user", "{b}");
    let (s, b) = save(&c, true, "admin", Some("short")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["Invalid"]["field"], "onvif-password", "{b}");
    let (_, page) = c.call("onvif_settings", json!({})).await;
    assert_eq!(page["settings"]["enabled"], false, "{page}");
    assert_eq!(page["settings"]["has_password"], false, "{page}");
    // A good save is audited, without the password.
    enable(&c, "admin").await;
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let text = log.to_string();
    assert!(
        text.contains("ONVIF: ONVIF, WS-Discovery, User Name, Password"),
        "{text}"
    );
    assert!(!text.contains(ONVIF_PASSWORD));
}

#[tokio::test]
async fn the_onvif_users_role_limits_what_it_gets_and_only_admins_see_the_page() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    add_user(&c, "watcher", "Seen-Door-91", "Viewer").await;
    add_user(&c, "guard", "Shift-Door-92", "Operator").await;
    // The page and its saving are for Admin only.
    for (user, password) in [("watcher", "Seen-Door-91"), ("guard", "Shift-Door-92")] {
        let other = vto.client();
        let (s, b) = other
            .call("login", json!({"user": user, "password": password}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, _) = other.call("onvif_settings", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _) = save(&other, true, user, Some(ONVIF_PASSWORD)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let res = other.get("/network/onvif").await;
        assert!(
            res.url().path() == "/" || res.status() != StatusCode::OK,
            "{user}"
        );
    }
    // A Viewer: profiles and streams, no snapshot.
    enable(&c, "watcher").await;
    let r = ha(&vto, "watcher", ONVIF_PASSWORD).await;
    assert!(r.get("error").is_none(), "{r}");
    assert_eq!(r["profiles"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["snapshot_uri"], Value::Null, "{r}");
    assert_eq!(r["snapshot_len"], 0, "{r}");
    let uri = r["profiles"][1]["stream_uri"].as_str().unwrap().to_string();
    let v = video_of(&with_credentials(&uri, "watcher", ONVIF_PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["codec_name"], "h264");
    // The ONVIF password is only the ONVIF user's: admin cannot use it.
    let admin_uri = with_credentials(&uri, "admin", ONVIF_PASSWORD);
    assert!(video_of(&admin_uri).await.is_err());
    // An Operator: the snapshot too.
    enable(&c, "guard").await;
    let r = ha(&vto, "guard", ONVIF_PASSWORD).await;
    assert_eq!(r["snapshot_jpeg"], true, "{r}");
    // ONVIF off: its password opens nothing any more.
    let (s, b) = save(&c, false, "guard", None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(video_of(&with_credentials(&uri, "guard", ONVIF_PASSWORD))
        .await
        .is_err());
}
