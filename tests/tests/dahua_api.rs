//! The Dahua HTTP CGI API (issue 20) against the real binary, by the
//! clients integrators run: python-amcrest 1.9.9 and aiodahua 0.5.0 from
//! PyPI, unmodified (`tests/peers/dahua_clients.py`), plus raw requests
//! for the wire details (the challenge, Basic, lockout).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::json;
use sip::digest::{Algorithm, Credentials};
use tests::{
    baresip::Baresip,
    dahua::{run, PyClient},
    eventually, online, Vto, STRONG,
};

/// `key="value"` of a challenge.
fn field(challenge: &str, name: &str) -> String {
    let start = challenge.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
    let rest = &challenge[start..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A GET signed with `password` for the challenge `www` (`nc` 1).
async fn signed_get(base: &str, path: &str, www: &str, password: &str) -> reqwest::Response {
    let realm = field(www, "realm");
    let nonce = field(www, "nonce");
    let c = Credentials {
        username: "admin".into(),
        realm: realm.clone(),
        nonce: nonce.clone(),
        uri: path.into(),
        response: String::new(),
        algorithm: Algorithm::Md5,
        qop: Some(("00000001".into(), "c0ffee".into())),
        opaque: None,
    };
    let ha1 = sip::digest::ha1(Algorithm::Md5, "admin", &realm, password);
    let auth = format!(
        "Digest username=\"admin\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{path}\", response=\"{}\", qop=auth, nc=00000001, cnonce=\"c0ffee\"",
        c.expected("GET", &ha1)
    );
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
}

/// A fresh challenge from an unauthenticated GET.
async fn challenge(base: &str, path: &str) -> String {
    let res = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn amcrest_and_aiodahua_read_the_identity_and_snapshots_with_digest_auth() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    let base = vto.url.clone();

    // The challenge as devices write it; Basic gets it too, never a 403.
    let www = challenge(&base, "/cgi-bin/magicBox.cgi?action=getSerialNo").await;
    let realm = field(&www, "realm");
    assert!(
        realm.starts_with("Login to ") && !realm.contains(','),
        "{www}"
    );
    assert!(www.starts_with("Digest realm=\"Login to "), "{www}");
    assert!(www.contains(",qop=\"auth\",nonce=\""), "{www}");
    assert!(
        field(&www, "nonce").bytes().all(|b| b.is_ascii_digit()),
        "{www}"
    );
    assert!(!www.contains("algorithm"), "{www}");
    let basic = reqwest::Client::new()
        .get(format!("{base}/cgi-bin/magicBox.cgi?action=getSerialNo"))
        .basic_auth("admin", Some(STRONG))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert!(basic.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Digest realm="));
    assert_eq!(basic.headers()["connection"], "close");

    let a = run("amcrest", "identity", &base, "admin", STRONG).await;
    let serial = realm.trim_start_matches("Login to ");
    assert_eq!(a["serial"], serial, "{a}");
    assert_eq!(a["device_type"], "VTO-vto", "{a}");
    assert_eq!(a["version"], env!("CARGO_PKG_VERSION"), "{a}");
    // amcrest keeps the line end, as it would of a device.
    let build = a["build"].as_str().unwrap().trim_end();
    assert!(build == "unknown" || build.len() == 10, "{a}");
    assert_eq!(a["vendor"], "vto", "{a}");
    let info = a["system_info"].as_str().unwrap();
    assert!(info.contains(&format!("serialNumber={serial}\r\n")), "{a}");
    assert!(info.contains("deviceType=VTO-vto\r\n"), "{a}");

    let d = run("aiodahua", "identity", &base, "admin", STRONG).await;
    assert_eq!(d["serial"], serial, "{d}");
    assert_eq!(d["device_type"], "VTO-vto", "{d}");
    assert_eq!(d["system_info"]["serialNumber"], serial, "{d}");

    for client in ["amcrest", "aiodahua"] {
        let s = run(client, "snapshot", &base, "admin", STRONG).await;
        assert_eq!(s["head"], "ffd8ff", "{client}: {s}");
        assert_eq!(s["tail"], "ffd9", "{client}: {s}");
        assert!(s["len"].as_u64().unwrap() > 10_000, "{client}: {s}");
    }

    // Unsupported: 400 `Error\r\nBad Request!`, which clients read as
    // "absent"; a wrong password is an auth error for both clients.
    let www = challenge(&base, "/cgi-bin/magicBox.cgi?action=frobnicate").await;
    let res = signed_get(
        &base,
        "/cgi-bin/magicBox.cgi?action=frobnicate",
        &www,
        STRONG,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.text().await.unwrap(), "Error\r\nBad Request!");
    let e = run("aiodahua", "identity", &base, "admin", "Wrong-Pass1").await;
    assert_eq!(e["error"], "DahuaAuthError", "{e}");
    let e = run("amcrest", "identity", &base, "admin", "Wrong-Pass1").await;
    assert!(e["error"].is_string(), "{e}");
}

#[tokio::test]
async fn wrong_digests_lock_the_account_for_that_address_like_the_ui() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let base = vto.url.clone();
    let path = "/cgi-bin/magicBox.cgi?action=getDeviceType";
    for _ in 0..5 {
        let www = challenge(&base, path).await;
        let res = signed_get(&base, path, &www, "Wrong-Pass1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().contains_key("www-authenticate"));
    }
    // Locked: the right password is refused too, and says why.
    let www = challenge(&base, path).await;
    let res = signed_get(&base, path, &www, STRONG).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("Locked"));
    // The UI's login from this address is locked as well.
    let (code, body) = c.login(STRONG).await;
    assert_ne!(code, StatusCode::OK, "{body}");
    // A replayed nonce count is stale, not a failure: a new nonce at once.
    let vto2 = Vto::start().await;
    vto2.ready().await;
    let www = challenge(&vto2.url, path).await;
    let ok = signed_get(&vto2.url, path, &www, STRONG).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["connection"], "close");
    assert_eq!(ok.text().await.unwrap(), "type=VTO-vto\r\n");
    let again = signed_get(&vto2.url, path, &www, STRONG).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .ends_with(",stale=TRUE"));
}

/// Waits until `n` event streams are attached (the device logs each).
async fn attached(vto: &Vto, n: usize) {
    eventually("the event streams attached", || async {
        (vto.logs().matches("event stream attached").count() >= n).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_unlock_and_a_call_press_reach_amcrest_and_aiodahua_as_events() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let base = vto.url.clone();
    let (code, page) = c
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": "MonitorPw1"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let sip = vto.sip.expect("vto prints its SIP address");
    let mut monitor = Baresip::start("9901#0", "MonitorPw1", sip, 880.0).await;
    eventually("the monitor online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;
    // AccessControl + BackKeyLight from the unlock; Invite,
    // CallNoAnswered and BackKeyLight from the press; CallNoAnswered and
    // BackKeyLight from the answer.
    let mut amcrest = PyClient::spawn("amcrest", "events", &base, "admin", STRONG, 7);
    let mut aiodahua = PyClient::spawn("aiodahua", "events", &base, "admin", STRONG, 7);
    for client in [&mut amcrest, &mut aiodahua] {
        assert_eq!(client.next(30).await, Some(json!({"attaching": true})));
    }
    attached(&vto, 2).await;

    // aiodahua opens the door: OK, and the unlock log says who and how.
    let open = run("aiodahua", "open", &base, "admin", STRONG).await;
    assert!(open["open"].is_object(), "{open}");
    let log = tests::unlock_log_when(&c, json!({}), |l| l["total"] != 0).await;
    let last = &log["records"][0];
    assert_eq!(
        (last["method"].clone(), last["who"].clone()),
        (json!("Api"), json!("admin")),
        "{log}"
    );
    assert!(last["refused"].is_null(), "{log}");

    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    assert_eq!(s["phase"], "Ringing", "{s}");
    monitor.event("CALL_INCOMING", 10).await;
    monitor.command("accept", "").await;
    monitor.event("CALL_ESTABLISHED", 10).await;

    let mut codes = Vec::new();
    while let Some(e) = amcrest.next(30).await {
        let code = e["code"].as_str().unwrap_or_default().to_string();
        let p = &e["payload"];
        if code == "AccessControl" {
            assert_eq!(p["action"], "Pulse", "{e}");
            // amcrest decodes the data JSON itself.
            let data = &p["data"];
            assert_eq!(data["Method"], 4, "{e}");
            assert_eq!(data["Name"], "admin", "{e}");
            assert_eq!(data["Status"], 1, "{e}");
        }
        codes.push(code);
    }
    assert_eq!(
        codes,
        [
            "AccessControl",
            "BackKeyLight",
            "Invite",
            "CallNoAnswered",
            "BackKeyLight",
            "CallNoAnswered",
            "BackKeyLight"
        ],
        "amcrest"
    );
    let mut parts = Vec::new();
    while let Some(e) = aiodahua.next(30).await {
        assert!(e["error"].is_null(), "{e}");
        parts.push(e["part"].as_str().unwrap().to_string());
    }
    assert!(
        parts[0].starts_with("Code=AccessControl;action=Pulse;index=0;data={"),
        "{parts:?}"
    );
    assert!(
        parts[2].starts_with("Code=Invite;action=Pulse;index=0;data={"),
        "{parts:?}"
    );
    assert!(parts[3].contains("\"UserID\" : \"9901\""), "{parts:?}");
    assert!(
        parts[5].starts_with("Code=CallNoAnswered;action=Stop;"),
        "{parts:?}"
    );
    assert!(parts[6].contains("\"State\" : 5"), "{parts:?}");
    monitor.command("hangup", "").await;

    // recordFinder: the unlock and the call, oldest first.
    let cr = &c;
    eventually("the call logged as ended", || async move {
        let (_, log) = cr.call("call_log", json!({"offset": 0})).await;
        log["records"][0]["talk_ms"].as_u64().map(|_| ())
    })
    .await;
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/recordFinder.cgi?action=find&name=AccessControlCardRec",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        body.starts_with("found=1\r\nrecords[0].CardName=admin\r\n"),
        "{body}"
    );
    assert!(
        body.contains("records[0].Method=4\r\n") && body.contains("records[0].Status=1\r\n"),
        "{body}"
    );
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/recordFinder.cgi?action=find&name=VideoTalkLog&count=10",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        body.starts_with("found=1\r\nrecords[0].CallType=Outgoing\r\n"),
        "{body}"
    );
    assert!(body.contains("records[0].EndState=Received\r\n"), "{body}");
    assert!(body.contains("records[0].LocalNumber=8001\r\n"), "{body}");
    assert!(body.contains("records[0].PeerNumber=9901"), "{body}");
    // A range after now finds nothing; a bad time is refused.
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/recordFinder.cgi?action=find&name=VideoTalkLog&StartTime=2099-01-01%2000:00:00",
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "found=0\r\n"));
    let (code, _) = admin_get(
        &base,
        "/cgi-bin/recordFinder.cgi?action=find&name=VideoTalkLog&StartTime=soon",
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

/// A signed GET of `path` as `admin`, after a fresh challenge.
async fn admin_get(base: &str, path: &str) -> (StatusCode, String) {
    let www = challenge(base, path).await;
    let res = signed_get(base, path, &www, STRONG).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn config_tables_read_and_write_the_settings_as_the_pages_do() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let base = vto.url.clone();
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/configManager.cgi?action=getConfig&name=AccessControl",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        body.contains("table.AccessControl[0].UnlockHoldInterval=5000\r\n"),
        "{body}"
    );
    assert!(
        body.contains("table.AccessControl[0].SensorEnable=false\r\n"),
        "{body}"
    );
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/configManager.cgi?action=getConfig&name=General.MachineName",
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, "table.General.MachineName=8001\r\n")
    );

    // Bad values change nothing: out of the page's range, not whole
    // seconds, not a boolean, two tables at once, a read-only key.
    for bad in [
        "AccessControl%5B0%5D.UnlockHoldInterval=999000",
        "AccessControl[0].UnlockHoldInterval=1500",
        "AccessControl[0].UnlockHoldInterval=7000&AccessControl[0].SensorEnable=yes",
        "AccessControl[0].UnlockHoldInterval=7000&VideoTalkPhoneGeneral.AutoRecordTime=30",
        "General.MachineName=x",
    ] {
        let (code, body) = admin_get(
            &base,
            &format!("/cgi-bin/configManager.cgi?action=setConfig&{bad}"),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body.starts_with("Error\r\n"), "{bad}: {body}");
    }
    let (_, a) = c.call("access_settings", json!({})).await;
    assert_eq!(a["unlock_period_s"], 5, "{a}");
    assert_eq!(a["sensor_check_enable"], false, "{a}");

    let (code, body) = admin_get(
        &base,
        "/cgi-bin/configManager.cgi?action=setConfig&AccessControl%5B0%5D.UnlockHoldInterval=7000&AccessControl[0].SensorEnable=true",
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "OK\r\n"));
    let (_, a) = c.call("access_settings", json!({})).await;
    assert_eq!(
        (
            a["unlock_period_s"].clone(),
            a["sensor_check_enable"].clone()
        ),
        (json!(7), json!(true)),
        "{a}"
    );
    // Audited like the page's Save.
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert!(log.to_string().contains("Access Control"), "{log}");
    // Unknown tables are absent, as on a device.
    let (code, body) = admin_get(
        &base,
        "/cgi-bin/configManager.cgi?action=getConfig&name=Ptz",
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::BAD_REQUEST, "Error\r\nBad Request!")
    );
}
