//! Config Manager > Backup and Restore (issue 24) against the real binary:
//! back up, restore factory defaults, restore, and the accounts, a room's
//! SIP password (sipp registers with it), a card (it opens the door), the
//! SMTP password, the door camera's RTSP password (GStreamer's RTSP server
//! streams to it again) and the HTTPS certificate and key (a client that
//! trusts only that certificate gets through) all work again. A wrong passphrase, a cut
//! or foreign file change nothing.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    room,
    rtsp::{self, Mode, RtspCamera},
    sipp::Sipp,
    Client, Vto, STRONG, STRONG2,
};

const PASS: &str = "hall-closet-blue-42";
const SMTP: &str = "Smtp-Secret-7731";
const OPS: &str = "Night-Shift-3310";

async fn ok(c: &Client, name: &str, body: Value) -> Value {
    let (s, b) = c.call(name, body).await;
    assert_eq!(s, StatusCode::OK, "{name}: {b}");
    b
}

/// The field a refusal names.
async fn invalid(c: &Client, name: &str, body: Value) -> String {
    let (s, b) = c.call(name, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b}");
    b["Invalid"]["field"].as_str().unwrap().to_string()
}

async fn snapshot_served(c: &Client) {
    tests::eventually("a snapshot from the RTSP camera", || async {
        let res = c.get("/snapshot/door.jpg").await;
        let served = res.status() == StatusCode::OK;
        (served && tests::jpeg_size(&res.bytes().await.ok()?) == Some((640, 480))).then_some(())
    })
    .await;
}

async fn rooms(c: &Client) -> usize {
    ok(c, "rooms", json!({})).await["rooms"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_full_backup_brings_everything_back_after_a_factory_reset() {
    let camera = RtspCamera::start(Mode::AudioVideo, Some(rtsp::Auth::Digest)).await;
    // A fixed SIP port: a reboot binds port 0 anew.
    let sip = format!("127.0.0.1:{}", tests::free_port());
    let vto = Vto::start_with(&["--sip", &sip]).await;
    let c = vto.ready().await;

    // A room (its generated SIP password), a card, an operator, the SMTP
    // password, the door camera over RTSP with Digest.
    let page = ok(
        &c,
        "add_room",
        json!({"room": room("9901"), "password": null}),
    )
    .await;
    let sip_password = page["new_passwords"][0][1].as_str().unwrap().to_string();
    ok(&c, "issue_card", json!({"room_no": "9901"})).await;
    ok(&c, "present_card", json!({"number": "00AB12"})).await;
    ok(
        &c,
        "name_card",
        json!({"room_no": "9901", "number": "00AB12", "name": "Ben"}),
    )
    .await;
    ok(&c, "confirm_send_card", json!({"room_no": "9901"})).await;
    tests::add_user(&c, "ops", OPS, "Operator").await;
    let mail = json!({"server": "127.0.0.1", "port": 1, "security": "None",
        "user": "vto", "sender": "vto@example.com", "has_password": false});
    ok(
        &c,
        "save_mail_settings",
        json!({"settings": mail, "password": {"Set": SMTP}}),
    )
    .await;
    let mut video = ok(&c, "video_settings", json!({})).await["settings"].clone();
    video["camera"]["kind"] = json!("Rtsp");
    video["camera"]["url"] = json!(camera.url());
    video["camera"]["user"] = json!(rtsp::USER);
    ok(
        &c,
        "save_video_settings",
        json!({"settings": video, "password": {"Set": rtsp::PASSWORD}}),
    )
    .await;
    snapshot_served(&c).await;
    // HTTPS, with the certificate and key the device generates.
    let mut net = ok(&c, "network", json!({})).await["settings"].clone();
    let https_port = tests::free_port();
    net["https"] = json!(true);
    net["https_port"] = json!(https_port);
    let page = ok(&c, "save_network", json!({"settings": net})).await;
    let certificate = page["certificate"]["pem"].as_str().unwrap().to_string();
    let https_url = format!("https://127.0.0.1:{https_port}");
    let c = c.moved_to(&https_url, &[&certificate]);

    // The account's password first; a passphrase worth the name.
    let asked =
        |password: &str, passphrase: &str| json!({"password": password, "passphrase": passphrase});
    assert_eq!(
        invalid(&c, "backup", asked("Wrong-Pass1", PASS)).await,
        "backup-password"
    );
    assert_eq!(
        invalid(&c, "backup", asked(STRONG, "short")).await,
        "backup-passphrase"
    );
    let file = ok(&c, "backup", asked(STRONG, PASS)).await;
    let file = base64::engine::general_purpose::STANDARD
        .decode(file.as_str().unwrap())
        .unwrap();
    for secret in [SMTP, OPS, &sip_password, rtsp::PASSWORD, "9901", "00AB12"] {
        assert!(
            !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the clear"
        );
    }
    let encoded = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);

    // Factory defaults (the web server back on the command line's HTTP);
    // a new owner with another password.
    ok(&c, "factory_reset", json!({"password": STRONG})).await;
    let c = vto.client();
    tests::eventually("HTTP again after the reset", || async {
        vto.boot_id().await
    })
    .await;
    ok(
        &c,
        "initialize",
        json!({"password": STRONG2, "email": null}),
    )
    .await;
    let (s, _) = c.login(STRONG2).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rooms(&c).await, 0);

    // Refused, nothing changed: a wrong passphrase, the file cut short,
    // another file, not base64.
    let restore = |passphrase: &str, file: String| json!({"password": STRONG2, "passphrase": passphrase, "file": file});
    let cases = [
        (
            restore("hall-closet-blue-43", encoded(&file)),
            "restore-passphrase",
        ),
        (
            restore(PASS, encoded(&file[..file.len() - 1])),
            "restore-passphrase",
        ),
        (restore(PASS, encoded(&file[..40])), "restore-file"),
        (
            restore(PASS, encoded(b"{\"format\":\"vto-device-info\"}")),
            "restore-file",
        ),
        (restore(PASS, "not base64!".into()), "restore-file"),
    ];
    for (body, field) in cases {
        assert_eq!(invalid(&c, "restore", body).await, field);
        assert_eq!(rooms(&c).await, 0);
    }
    assert_eq!(
        invalid(
            &c,
            "restore",
            json!({"password": "Wrong-Pass1", "passphrase": PASS, "file": encoded(&file)})
        )
        .await,
        "restore-password"
    );

    // Restored: the device restarts into the backup's state, HTTPS with
    // the same certificate (a client trusting only it gets through).
    let before = vto.boot_id().await.unwrap();
    ok(&c, "restore", restore(PASS, encoded(&file))).await;
    let c = Client::with_roots(&https_url, None, &[&certificate]);
    let (c, before, url) = (&c, &before, https_url.as_str());
    tests::eventually_within(
        "the restored device over HTTPS",
        std::time::Duration::from_secs(30),
        || async move {
            let res = c
                .http
                .post(format!("{url}/api/setup_state"))
                .header("origin", url)
                .json(&json!({}))
                .send()
                .await
                .ok()?;
            let state: Value = res.json().await.ok()?;
            (state["boot_id"].is_number() && state["boot_id"] != *before).then_some(())
        },
    )
    .await;
    let (s, _) = c.login(STRONG2).await;
    assert_ne!(s, StatusCode::OK, "the new owner's password is gone");
    let (s, b) = c.login(STRONG).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = Client::with_roots(&https_url, None, &[&certificate])
        .login_as("ops", OPS)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(rooms(c).await, 1);
    let run = Sipp::new("register.xml", vto.sip.unwrap(), "9901#0")
        .password(&sip_password)
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    let door = ok(c, "present_card", json!({"number": "00AB12"})).await;
    assert_eq!(door["lock_open"], true, "{door}");
    let mail = ok(c, "mail_settings", json!({})).await;
    assert_eq!(mail["has_password"], true, "{mail}");
    snapshot_served(c).await;
    let log = ok(c, "security_log", json!({"offset": 0})).await;
    assert!(log.to_string().contains("BackupRestored"), "{log}");
}
