//! The lock end to end through the device's API, on its built-in
//! simulated door: Access Control > Local, remote and API unlocks, the
//! Unlock Responding Interval, the exit button, door sensor alarms, NC/NO,
//! the unlock log with filters and CSV export, and a restart (locked, the
//! records kept). Exact periods are tested on paused time in the server's
//! own tests (`server/src/lock/tests.rs`).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{Client, Vto};

fn settings(interval: u32, period: u32, check: u32, enable: bool, contact: &str) -> Value {
    json!({
        "responding_interval_s": interval,
        "unlock_period_s": period,
        "sensor_check_s": check,
        "sensor_check_enable": enable,
        "contact": contact,
        "first_unlock_command": "123",
    })
}

async fn status(c: &Client, seen: u64) -> Value {
    let (code, s) = c.call("door_status", json!({"seen": seen})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    s
}

/// Waits (on the device's own long poll) until `done` holds.
async fn wait_for(c: &Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(30);
    let mut s = status(c, 0).await;
    while !done(&s) {
        assert!(Instant::now() < until, "{what}: {s}");
        s = status(c, s["version"].as_u64().unwrap()).await;
    }
    s
}

/// Until the Unlock Responding Interval (`secs`) since the opening
/// answered at `opened` is over. The device decided before it answered,
/// so its interval is over by then. Asking earlier would add TooSoon
/// records (every attempt is one) that the log checks below count.
async fn interval_over(opened: Instant, secs: u64) {
    tokio::time::sleep_until((opened + Duration::from_secs(secs)).into()).await;
}

async fn simulate(c: &Client, action: &str) -> Value {
    let (code, s) = c.call("simulate", json!({"action": action})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    s
}

async fn log(c: &Client, filter: Value) -> Value {
    let (code, page) = c
        .call("unlock_log", json!({"offset": 0, "filter": filter}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page
}

#[tokio::test]
async fn every_way_to_open_on_the_simulated_door() {
    let mut vto = Vto::start().await;
    let anonymous = vto.client();
    let c = vto.ready().await;

    // Without a session nothing opens, and nothing is recorded.
    let (code, _) = anonymous.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = anonymous
        .call("simulate", json!({"action": "ExitButton"}))
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = anonymous.call("door_status", json!({"seen": 0})).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);

    // The defaults; bad values name their field and change nothing.
    let (code, defaults) = c.call("access_settings", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{defaults}");
    assert_eq!(defaults["contact"], "No");
    for (bad, field) in [
        (settings(0, 1, 30, false, "No"), "unlock-interval"),
        (settings(1, 601, 30, false, "No"), "unlock-period"),
        (settings(1, 1, 0, false, "No"), "sensor-check"),
    ] {
        let (code, err) = c
            .call("save_access_settings", json!({"settings": bad}))
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["Invalid"]["field"], field);
    }
    let (_, still) = c.call("access_settings", json!({})).await;
    assert_eq!(still, defaults);

    let s = status(&c, 0).await;
    assert_eq!(s["simulated"], true);
    assert_eq!(s["lock_open"], false);
    assert_eq!(s["relay_energized"], false, "NO: released while locked");

    // Unlock Period 1 s, Unlock Responding Interval 3 s.
    let (code, saved) = c
        .call(
            "save_access_settings",
            json!({"settings": settings(3, 1, 30, false, "No")}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");

    // The UI's button (Remote) opens; it locks again by itself.
    let (code, r) = c.call("unlock", json!({"via": "Ui"})).await;
    let opened = Instant::now();
    assert_eq!(code, StatusCode::OK, "{r}");
    assert_eq!(r["refused"], Value::Null, "{r}");
    assert_eq!(r["method"], "Remote");
    let s = status(&c, 0).await;
    assert_eq!(s["lock_open"], true, "{s}");
    assert_eq!(s["relay_energized"], true);
    // Within the interval: refused, the door stays locked.
    let (_, r) = c.call("unlock", json!({})).await;
    assert_eq!(r["refused"], "TooSoon", "{r}");
    wait_for(&c, "locked after the period", |s| s["lock_open"] == false).await;

    // A script (no `via`): recorded as API, after the interval.
    interval_over(opened, 3).await;
    let (_, r) = c.call("unlock", json!({})).await;
    let opened = Instant::now();
    assert_eq!(r["refused"], Value::Null, "{r}");
    assert_eq!(r["method"], "Api");
    wait_for(&c, "locked", |s| s["lock_open"] == false).await;

    // The exit button opens too.
    interval_over(opened, 3).await;
    simulate(&c, "ExitButton").await;
    let s = wait_for(&c, "open by the button", |s| {
        s["last"]["method"] == "Button"
    })
    .await;
    assert_eq!(s["last"]["refused"], Value::Null, "{s}");
    wait_for(&c, "locked", |s| s["lock_open"] == false).await;

    // The door opened while locked: forced, shown at once and recorded.
    let s = simulate(&c, "OpenDoor").await;
    assert_eq!(s["door_open"], true, "{s}");
    assert_eq!(s["alarms"][0]["kind"], "ForcedDoor", "{s}");
    simulate(&c, "CloseDoor").await;

    // Door Sensor Check Time 1 s: open too long.
    c.call(
        "save_access_settings",
        json!({"settings": settings(1, 1, 1, false, "No")}),
    )
    .await;
    let (_, r) = c.call("unlock", json!({"via": "Ui"})).await;
    let opened = Instant::now();
    assert_eq!(r["refused"], Value::Null, "{r}");
    simulate(&c, "OpenDoor").await;
    let s = wait_for(&c, "open too long", |s| {
        s["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["kind"] == "DoorOpenTooLong"))
    })
    .await;
    assert_eq!(s["alarms"].as_array().unwrap().len(), 1, "not forced: {s}");
    simulate(&c, "CloseDoor").await;
    // Recorded just after they are shown, the centre's outcome after that;
    // no management centre here, so each says it was not sent.
    let cr = &c;
    let alarms = tests::eventually("both alarms and their outcome", || async move {
        let (_, alarms) = cr.call("alarm_log", json!({"offset": 0})).await;
        let done = alarms["records"]
            .as_array()
            .is_some_and(|r| r.len() == 2 && r.iter().all(|a| a["centre"].is_string()));
        done.then_some(alarms)
    })
    .await;
    let kinds: Vec<&str> = alarms["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["DoorOpenTooLong", "ForcedDoor"]);
    assert_eq!(
        alarms["records"][0]["centre"], "Not sent: No room, monitor, VTO or VTS numbered 888888",
        "{alarms}"
    );

    // NC: the relay holds the lock, and lets go to open.
    c.call(
        "save_access_settings",
        json!({"settings": settings(1, 1, 30, false, "Nc")}),
    )
    .await;
    let s = wait_for(&c, "NC holds", |s| s["relay_energized"] == true).await;
    assert_eq!(s["lock_open"], false);
    interval_over(opened, 1).await;
    let (_, r) = c.call("unlock", json!({"via": "Ui"})).await;
    assert_eq!(r["refused"], Value::Null, "{r}");
    let s = status(&c, 0).await;
    assert_eq!(
        (s["lock_open"].clone(), s["relay_energized"].clone()),
        (json!(true), json!(false)),
        "{s}"
    );
    wait_for(&c, "NC locked", |s| s["relay_energized"] == true).await;

    // The log: every attempt, newest first, with filters and CSV.
    let all = tests::unlock_log_when(&c, json!({}), |l| l["total"] == 6).await;
    let methods: Vec<(&str, bool)> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["method"].as_str().unwrap(), r["refused"].is_null()))
        .collect();
    assert_eq!(
        methods,
        [
            ("Remote", true),
            ("Remote", true),
            ("Button", true),
            ("Api", true),
            ("Api", false),
            ("Remote", true),
        ]
    );
    assert_eq!(all["records"][5]["who"], "admin");
    assert_eq!(all["records"][5]["source"], "127.0.0.1");
    let refused = log(&c, json!({"opened": false})).await;
    assert_eq!(refused["total"], 1);
    assert_eq!(refused["records"][0]["refused"], "TooSoon");
    let api = log(&c, json!({"method": "Api"})).await;
    assert_eq!(api["total"], 2);
    let (code, csv) = c
        .call("export_unlock_log", json!({"filter": {"method": "Remote"}}))
        .await;
    assert_eq!(code, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "No.,Time,Unlock Method,User,Source,Result,Reason,Snapshot"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].contains(",Remote,admin,127.0.0.1,Opened,"),
        "{csv}"
    );

    // A restart: locked, records kept, the settings too.
    let dir = vto.data_dir.clone();
    vto.stop().await;
    let vto2 = Vto::start_in(&dir, &[]).await.expect("restart");
    let c2 = vto2.client();
    let (code, _) = c2.login(tests::STRONG).await;
    assert_eq!(code, StatusCode::OK);
    let s = status(&c2, 0).await;
    assert_eq!(s["lock_open"], false);
    assert_eq!(s["relay_energized"], true, "NC kept: held locked");
    assert_eq!(log(&c2, json!({})).await["total"], 6);

    // Records Kept: bounded, the oldest go at once when it is lowered.
    assert_eq!(log(&c2, json!({})).await["keep"], 10_000);
    let (code, err) = c2
        .call(
            "save_unlock_log_settings",
            json!({"settings": {"keep": 99}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["Invalid"]["field"], "unlock-keep");
    // Refused attempts are records too: 110 of them at once.
    for _ in 0..110 {
        c2.call("unlock", json!({})).await;
    }
    // Written in order, just after each answer.
    let c2r = &c2;
    let full = tests::eventually("116 records", || async move {
        let full = log(c2r, json!({})).await;
        (full["total"] == 116).then_some(full)
    })
    .await;
    let (code, saved) = c2
        .call(
            "save_unlock_log_settings",
            json!({"settings": {"keep": 100}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    let kept = log(&c2, json!({})).await;
    assert_eq!(
        (kept["total"].clone(), kept["keep"].clone()),
        (json!(100), json!(100))
    );
    assert_eq!(kept["records"][0], full["records"][0], "the newest stay");
    c2.call("unlock", json!({})).await;
    assert_eq!(log(&c2, json!({})).await["total"], 100, "and stay bounded");
    drop(vto);
}

/// A lock on GPIO lines that cannot be opened (here: no such chip; this
/// machine has no GPIO) stops the start with the reason, rather than
/// running a door station that cannot drive its lock.
#[tokio::test]
async fn a_gpio_lock_that_cannot_be_opened_stops_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--gpio-chip",
        "/dev/gpiochip-vto-missing",
        "--gpio-relay",
        "17",
    ];
    let e = Vto::start_in(&tmp.path().join("data"), &args)
        .await
        .err()
        .expect("it must not start");
    assert!(e.contains("lock GPIO: /dev/gpiochip-vto-missing:"), "{e}");
}

/// Auto Snapshot (unlock): each opening saves the door camera's picture to
/// the Storage Point, linked from its record and served only to a
/// session; a missing Storage Point (no card) leaves the door working and
/// the failure recorded.
#[tokio::test]
async fn each_unlock_saves_a_snapshot_to_the_storage_point() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let card = tempfile::tempdir().unwrap();
    c.call(
        "save_access_settings",
        json!({"settings": settings(1, 1, 30, false, "No")}),
    )
    .await;
    let (_, mut basic) = c.call("basic_settings", json!({})).await;
    basic["storage_point"] = json!(card.path().display().to_string());
    basic["auto_snapshot_unlock"] = json!(true);
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic.clone()}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");

    let (_, r) = c.call("unlock", json!({})).await;
    let opened = Instant::now();
    assert_eq!(r["refused"], Value::Null, "{r}");
    let cr = &c;
    let s = tests::eventually("the unlock's snapshot", || async move {
        let s = log(cr, json!({})).await["records"][0]["snapshot"].clone();
        (!s.is_null()).then_some(s)
    })
    .await;
    let file = s["Saved"].as_str().unwrap_or_else(|| panic!("{s}"));
    let on_card = std::fs::read(card.path().join(file)).unwrap();
    assert!(tests::jpeg_size(&on_card).is_some(), "a JPEG on the card");
    assert_eq!(
        std::fs::read_dir(card.path()).unwrap().count(),
        1,
        "no part file left"
    );
    let res = c.get(&format!("/storage/{file}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap(), on_card);
    // Only for a session, and only our own names.
    let stranger = vto.client();
    let res = stranger.get(&format!("/storage/{file}")).await;
    assert_ne!(res.status(), StatusCode::OK);
    assert!(tests::jpeg_size(&res.bytes().await.unwrap()).is_none());
    for bad in ["..%2Fvto.redb", "unlock-1-1.jpg", "vto.redb"] {
        let res = c.get(&format!("/storage/{bad}")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    let (_, csv) = c.call("export_unlock_log", json!({"filter": {}})).await;
    assert!(csv.as_str().unwrap().contains(file), "{csv}");

    // The card is gone: the door still opens, the record says why there is
    // no picture.
    basic["storage_point"] = json!(card.path().join("gone").display().to_string());
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    interval_over(opened, 1).await;
    let (_, r) = c.call("unlock", json!({})).await;
    assert_eq!(r["refused"], Value::Null, "the door opens: {r}");
    let s = tests::eventually("the failed snapshot", || async move {
        let s = log(cr, json!({})).await["records"][0]["snapshot"].clone();
        s["Failed"].is_string().then_some(s)
    })
    .await;
    assert!(s["Failed"].as_str().unwrap().contains("is missing"), "{s}");
    assert!(
        !card.path().join("gone").exists(),
        "a missing card is not made"
    );
}
