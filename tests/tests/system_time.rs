//! Local Setting > System through the real binary: the device's clock set
//! by Sync PC and by the System Time field, kept across a restart, and put
//! right by NTP from a real server (chronyd on loopback); validation at the
//! edges with nothing saved on error; the audit entry.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{ntp::NtpServer, Vto};

fn host_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const DAY: i64 = 86_400_000;

/// How far the device's clock is from the host's, in ms.
async fn skew(c: &tests::Client) -> i64 {
    let before = host_now();
    let (status, page) = c.call("system_time", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let after = host_now();
    page["now"].as_i64().unwrap() - (before + after) / 2
}

#[tokio::test]
async fn sync_pc_survives_a_restart_and_ntp_puts_the_clock_right() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    assert!(
        skew(&c).await.abs() < 2000,
        "the device starts on the host's clock"
    );

    // A PC whose clock is three days slow.
    let (status, page) = c
        .call("sync_pc", json!({"now": host_now() - 3 * DAY}))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let s = skew(&c).await;
    assert!((s + 3 * DAY).abs() < 2000, "skew {s}");

    // The offset is stored: a restart keeps the device's clock.
    let token = c.cookie();
    vto.stop().await;
    let mut vto = Vto::start_in(&vto.data_dir.clone(), &[])
        .await
        .expect("restart");
    let c = vto.client();
    c.set_cookie(token);
    let s = skew(&c).await;
    assert!((s + 3 * DAY).abs() < 2000, "after restart, skew {s}");

    // NTP to a real server: saving tries it at once and the page says so.
    let ntp = NtpServer::start().await;
    let (_, page) = c.call("system_time", json!({})).await;
    let mut settings = page["settings"].clone();
    settings["ntp"] = json!({
        "enabled": true, "server": "127.0.0.1", "port": ntp.port, "update_cycle": 1
    });
    let (status, page) = c
        .call(
            "save_system_time",
            json!({"settings": settings, "clock": "Keep"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let step = page["last_sync"]["result"]["Ok"]
        .as_i64()
        .unwrap_or_else(|| panic!("sync failed: {page}"));
    assert!((step - 3 * DAY).abs() < 2000, "stepped by {step}");
    let s = skew(&c).await;
    assert!(s.abs() < 1000, "after NTP, skew {s}");

    // The security log's times are the device's clock, in UTC.
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let newest = &log["events"][0];
    assert_eq!(
        newest["detail"], "System: NTP Enable, NTP Server, Port, Update Cycle",
        "{log}"
    );
    // Saved (and logged) before the sync, by the clock as it was then.
    assert!((newest["time"].as_i64().unwrap() - (host_now() - 3 * DAY)).abs() < 60_000);
    // A login now is logged at the right time.
    c.login(tests::STRONG).await;
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert_eq!(log["events"][0]["kind"], "LoginSucceeded", "{log}");
    assert!((log["events"][0]["time"].as_i64().unwrap() - host_now()).abs() < 5000);
    let sync_pc = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["detail"] == "System: System Time (Sync PC)")
        .expect("Sync PC audited");
    assert!(
        (sync_pc["time"].as_i64().unwrap() - host_now()).abs() < 60_000,
        "logged by the device's clock as it was before the sync"
    );
    vto.stop().await;
}

#[tokio::test]
async fn an_unreachable_ntp_server_is_reported_and_keeps_the_clock() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    c.call("sync_pc", json!({"now": host_now() + DAY})).await;
    // A port nothing listens on.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, page) = c.call("system_time", json!({})).await;
    let mut settings = page["settings"].clone();
    settings["ntp"] =
        json!({"enabled": true, "server": "127.0.0.1", "port": port, "update_cycle": 30});
    let (status, page) = c
        .call(
            "save_system_time",
            json!({"settings": settings, "clock": "Keep"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let error = page["last_sync"]["result"]["Err"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("no time from 127.0.0.1"), "{page}");
    let s = skew(&c).await;
    assert!((s - DAY).abs() < 2000, "the clock stays as it was: {s}");
}

#[tokio::test]
async fn typed_system_time_follows_the_zone_and_bad_input_changes_nothing() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (_, page) = c.call("system_time", json!({})).await;
    let defaults = page["settings"].clone();
    assert_eq!(defaults["display"]["zone"], 0);
    assert_eq!(defaults["ntp"]["enabled"], false);
    assert_eq!(defaults["maintenance"]["day"], "Never");

    // 12:00 in GMT+05:30 is 06:30 UTC.
    let mut s = defaults.clone();
    s["display"]["zone"] = json!(330);
    s["display"]["time_format"] = json!("H12");
    let (status, page) = c
        .call(
            "save_system_time",
            json!({"settings": s, "clock": {"Local": "2031-05-06T12:00:00"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let utc_0630 = 1_935_815_400_000; // 2031-05-06T06:30:00Z
    assert!(
        (page["now"].as_i64().unwrap() - utc_0630).abs() < 2000,
        "{page}"
    );

    let saved = page["settings"].clone();
    type Bad = (fn(&mut Value), Value, &'static str);
    let bad: &[Bad] = &[
        (
            |s| s["ntp"]["update_cycle"] = json!(31),
            json!("Keep"),
            "ntp-cycle",
        ),
        (
            |s| s["ntp"]["update_cycle"] = json!(0),
            json!("Keep"),
            "ntp-cycle",
        ),
        (|s| s["ntp"]["port"] = json!(0), json!("Keep"), "ntp-port"),
        (
            |s| s["ntp"]["server"] = json!("bad host"),
            json!("Keep"),
            "ntp-server",
        ),
        (|s| s["display"]["zone"] = json!(61), json!("Keep"), "zone"),
        (
            |s| s["maintenance"]["minute"] = json!(1440),
            json!("Keep"),
            "maintenance-time",
        ),
        (
            |s| {
                s["display"]["dst"]["enabled"] = json!(true);
                s["display"]["dst"]["kind"] = json!("Date");
                s["display"]["dst"]["begin"]["month"] = json!(4);
                s["display"]["dst"]["begin"]["day"] = json!(31);
            },
            json!("Keep"),
            "dst-begin",
        ),
        (|_| {}, json!({"Local": "2031-02-29T12:00"}), "system-time"),
        (|_| {}, json!({"Local": "1999-12-31T12:00"}), "system-time"),
        (|_| {}, json!({"Local": "yesterday"}), "system-time"),
    ];
    for (i, (change, clock, field)) in bad.iter().enumerate() {
        let mut s = saved.clone();
        s["display"]["date_format"] = json!("DayMonthYear"); // a valid change riding along
        change(&mut s);
        let before = skew(&c).await;
        let (status, b) = c
            .call("save_system_time", json!({"settings": s, "clock": clock}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "case {i}: {b}");
        assert_eq!(b["Invalid"]["field"], *field, "case {i}");
        let (_, page) = c.call("system_time", json!({})).await;
        assert_eq!(page["settings"], saved, "case {i}: nothing saved");
        assert!(
            (skew(&c).await - before).abs() < 2000,
            "case {i}: clock kept"
        );
    }
    let (status, b) = c.call("sync_pc", json!({"now": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // The security log shows its times in the saved formats and zone.
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert_eq!(log["display"]["zone"], 330);
    assert_eq!(log["display"]["time_format"], "H12");
    // Without a session: nothing.
    assert_eq!(
        vto.client().call("system_time", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        vto.client()
            .call("sync_pc", json!({"now": host_now()}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn auto_maintenance_restarts_the_services_at_its_time() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (_, before) = c.call("setup_state", json!({})).await;
    let (_, page) = c.call("system_time", json!({})).await;
    let mut settings = page["settings"].clone();
    settings["maintenance"] = json!({"day": "Everyday", "minute": 12 * 60});
    let (status, page) = c
        .call(
            "save_system_time",
            json!({"settings": settings, "clock": "Keep"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // Five seconds before 12:00 (GMT+00:00) today by the device's clock.
    let today = host_now() / DAY * DAY;
    c.call("sync_pc", json!({"now": today + 12 * 3_600_000 - 5_000}))
        .await;
    let mut after = None;
    for _ in 0..300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (status, b) = c.call("setup_state", json!({})).await;
        if status == StatusCode::OK && b["boot_id"] != before["boot_id"] {
            after = Some(b);
            break;
        }
    }
    assert!(after.is_some(), "restarted within 30 s: {}", vto.logs());
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let restart = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "AutoMaintenance")
        .unwrap_or_else(|| panic!("logged: {log}"));
    assert_eq!(restart["user"], "system");
}
