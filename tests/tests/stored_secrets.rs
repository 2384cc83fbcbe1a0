//! Every secret the device keeps (the SMTP, camera, IPC and upstream SIP
//! passwords, the TOTP secret, the HTTPS key) is used where it is for and
//! never shown again: not in any page or export, not in the log, even at
//! debug level.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    rtsp::{self, Mode, RtspCamera},
    Vto, STRONG,
};

const SMTP: &str = "Smtp-Secret-7731";
const IPC: &str = "Ipc-Secret-5521";
const SIP: &str = "Sip-Secret-9902";

async fn ok(c: &tests::Client, name: &str, body: Value) -> Value {
    let (s, b) = c.call(name, body).await;
    assert_eq!(s, StatusCode::OK, "{name}: {b}");
    b
}

#[tokio::test]
async fn stored_secrets_are_never_shown_or_logged() {
    let camera = RtspCamera::start(Mode::AudioVideo, Some(rtsp::Auth::Digest)).await;
    let mut vto = Vto::start_with(&["--log", "debug"]).await;
    let c = vto.ready().await;
    ok(
        &c,
        "change_email",
        json!({"password": STRONG, "email": "owner@example.com"}),
    )
    .await;

    // SMTP: saved, then used (the server is not there: refused clearly).
    let mail = json!({"server": "127.0.0.1", "port": 1, "security": "None",
        "user": "vto", "sender": "vto@example.com", "has_password": false});
    ok(
        &c,
        "save_mail_settings",
        json!({"settings": mail, "password": {"Set": SMTP}}),
    )
    .await;
    let (s, _) = c
        .call(
            "send_test_mail",
            json!({"settings": mail, "password": "Keep"}),
        )
        .await;
    assert_ne!(s, StatusCode::OK);

    // The door camera over RTSP with digest auth, used until it streams.
    let (_, page) = c.call("video_settings", json!({})).await;
    let mut video = page["settings"].clone();
    video["camera"]["kind"] = json!("Rtsp");
    video["camera"]["url"] = json!(camera.url());
    video["camera"]["user"] = json!(rtsp::USER);
    ok(
        &c,
        "save_video_settings",
        json!({"settings": video, "password": {"Set": rtsp::PASSWORD}}),
    )
    .await;
    // The camera runs while someone wants its picture: a snapshot starts it.
    tests::eventually("a snapshot from the RTSP camera", || async {
        let res = c.get("/snapshot/door.jpg").await;
        let served = res.status() == StatusCode::OK;
        (served && tests::jpeg_size(&res.bytes().await.ok()?) == Some((640, 480))).then_some(())
    })
    .await;
    c.wait_camera("door", "Live").await;

    // An IPC (its camera is not there) and the upstream SIP server.
    let ipc = json!({"name": "Gate", "ip": "127.0.0.1", "user": "admin", "port": 1,
        "protocol": "Local", "stream": "Main", "channel": 1, "device_type": "Ipc"});
    ok(
        &c,
        "save_ipc",
        json!({"id": null, "ipc": ipc, "password": {"Set": IPC}}),
    )
    .await;
    let sip = json!({"enabled": false, "server_type": "Other", "ip": "127.0.0.1",
        "port": tests::free_port(), "username": "8002", "domain": "VDP"});
    ok(
        &c,
        "save_sip_server",
        json!({"settings": sip, "password": SIP}),
    )
    .await;

    // Two-factor login: the secret is shown once, at enrolment.
    let enrolment = ok(&c, "totp_begin", json!({"password": STRONG})).await;
    let totp = enrolment["secret"].as_str().unwrap().to_string();
    ok(&c, "totp_confirm", json!({"code": tests::totp_now(&totp)})).await;

    // An uploaded HTTPS certificate and its key.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["door.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let key_pem = key.serialize_pem();
    ok(
        &c,
        "upload_certificate",
        json!({"upload": {"certificate": cert.pem(), "private_key": key_pem}}),
    )
    .await;
    // The key's base64 body, as any part of it could be printed.
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();

    // Everything the pages and exports show.
    let mut shown = String::new();
    for name in [
        "mail_settings",
        "video_settings",
        "ipc_list",
        "export_ipcs",
        "sip_server",
        "network",
        "overview",
        "export_device_info",
        "export_user_info",
        "security_log",
    ] {
        let body = if name == "security_log" {
            json!({"offset": 0})
        } else {
            json!({})
        };
        shown.push_str(&ok(&c, name, body).await.to_string());
    }
    vto.stop().await;
    let logs = vto.logs();
    // Few events are at debug level; the log must at least have been read.
    assert!(logs.contains("INFO"), "the log was captured: {logs}");
    let secrets = [
        SMTP,
        rtsp::PASSWORD,
        IPC,
        SIP,
        totp.as_str(),
        &key_body[..40],
        &key_body[key_body.len() - 40..],
    ];
    for s in secrets {
        assert!(!shown.contains(s), "{s} shown by a page or an export");
        assert!(!logs.contains(s), "{s} in the log");
    }
}

/// `name` refused with a field error on `field`, and what it says.
async fn refused(c: &tests::Client, name: &str, body: Value, field: &str) -> String {
    let (s, b) = c.call(name, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b}");
    assert_eq!(b["Invalid"]["field"], field, "{name}: {b}");
    b["Invalid"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_kept_secret_never_follows_a_new_destination() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    ok(
        &c,
        "change_email",
        json!({"password": STRONG, "email": "owner@example.com"}),
    )
    .await;

    // SMTP: another server, port or security with "keep" is refused, for a
    // save and for a test mail; the rest may change.
    let mail = json!({"server": "127.0.0.1", "port": 1, "security": "None",
        "user": "vto", "sender": "vto@example.com", "has_password": false});
    ok(
        &c,
        "save_mail_settings",
        json!({"settings": mail, "password": {"Set": SMTP}}),
    )
    .await;
    for (key, value) in [
        ("server", json!("127.0.0.2")),
        ("port", json!(2)),
        ("security", json!("Tls")),
    ] {
        let mut moved = mail.clone();
        moved[key] = value;
        let m = refused(
            &c,
            "save_mail_settings",
            json!({"settings": moved, "password": "Keep"}),
            "smtp-password",
        )
        .await;
        assert!(m.contains("enter the Password again"), "{m}");
        refused(
            &c,
            "send_test_mail",
            json!({"settings": moved, "password": "Keep"}),
            "smtp-password",
        )
        .await;
    }
    let shown = ok(&c, "mail_settings", json!({})).await;
    assert_eq!(
        (shown["server"].clone(), shown["port"].clone()),
        (json!("127.0.0.1"), json!(1))
    );
    let mut renamed = mail.clone();
    renamed["user"] = json!("door");
    renamed["server"] = json!(" 127.0.0.1 ");
    let saved = ok(
        &c,
        "save_mail_settings",
        json!({"settings": renamed, "password": "Keep"}),
    )
    .await;
    assert_eq!(saved["has_password"], true);
    let mut moved = mail.clone();
    moved["server"] = json!("127.0.0.2");
    ok(
        &c,
        "save_mail_settings",
        json!({"settings": moved, "password": {"Set": "Other-Smtp-1"}}),
    )
    .await;

    // The door camera's RTSP address: another host or port is refused,
    // another path on the same camera is not.
    let (_, page) = c.call("video_settings", json!({})).await;
    let mut video = page["settings"].clone();
    video["camera"]["kind"] = json!("Rtsp");
    video["camera"]["url"] = json!("rtsp://127.0.0.1:1/cam/realmonitor?channel=1&subtype=0");
    video["camera"]["user"] = json!("admin");
    ok(
        &c,
        "save_video_settings",
        json!({"settings": video, "password": {"Set": "Camera-Pw-1"}}),
    )
    .await;
    for url in [
        "rtsp://127.0.0.2:1/cam/realmonitor",
        "rtsp://127.0.0.1:2/cam/realmonitor",
    ] {
        let mut moved = video.clone();
        moved["camera"]["url"] = json!(url);
        refused(
            &c,
            "save_video_settings",
            json!({"settings": moved, "password": "Keep"}),
            "camera-password",
        )
        .await;
    }
    let (_, page) = c.call("video_settings", json!({})).await;
    assert_eq!(
        page["settings"]["camera"]["url"],
        "rtsp://127.0.0.1:1/cam/realmonitor?channel=1&subtype=0"
    );
    video["camera"]["url"] = json!("rtsp://127.0.0.1:1/cam/realmonitor?channel=1&subtype=1");
    ok(
        &c,
        "save_video_settings",
        json!({"settings": video, "password": "Keep"}),
    )
    .await;

    // An IPC: another IP Addr. or Port No. is refused.
    let ipc = json!({"name": "Gate", "ip": "127.0.0.1", "user": "admin", "port": 1,
        "protocol": "Local", "stream": "Main", "channel": 1, "device_type": "Ipc"});
    let page = ok(
        &c,
        "save_ipc",
        json!({"id": null, "ipc": ipc, "password": {"Set": IPC}}),
    )
    .await;
    let id = page["ipcs"][0]["id"].clone();
    for (key, value) in [("ip", json!("127.0.0.2")), ("port", json!(2))] {
        let mut moved = ipc.clone();
        moved[key] = value;
        refused(
            &c,
            "save_ipc",
            json!({"id": id, "ipc": moved, "password": "Keep"}),
            "ipc-password",
        )
        .await;
    }
    let mut renamed = ipc.clone();
    renamed["name"] = json!("Front gate");
    let page = ok(
        &c,
        "save_ipc",
        json!({"id": id, "ipc": renamed, "password": "Keep"}),
    )
    .await;
    assert_eq!(page["ipcs"][0]["ipc"]["ip"], "127.0.0.1");
    assert_eq!(page["ipcs"][0]["password_set"], true);

    // The upstream SIP server: another IP Addr. or Port needs the password.
    let port = tests::free_port();
    let sip = json!({"enabled": false, "server_type": "Other", "ip": "127.0.0.1",
        "port": port, "username": "8002", "domain": "VDP"});
    ok(
        &c,
        "save_sip_server",
        json!({"settings": sip, "password": SIP}),
    )
    .await;
    for (key, value) in [("ip", json!("127.0.0.2")), ("port", json!(port ^ 1))] {
        let mut moved = sip.clone();
        moved[key] = value;
        refused(
            &c,
            "save_sip_server",
            json!({"settings": moved, "password": null}),
            "sip-password",
        )
        .await;
    }
    let mut renamed = sip.clone();
    renamed["username"] = json!("8003");
    let page = ok(
        &c,
        "save_sip_server",
        json!({"settings": renamed, "password": null}),
    )
    .await;
    assert_eq!(page["settings"]["ip"], "127.0.0.1");
    assert_eq!(page["password_set"], true);
}
