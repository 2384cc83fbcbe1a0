//! Data survives restarts and SIGKILL; a second process on the same data
//! dir is refused; concurrent initializations leave one password; the
//! Storage Point stays within its bounds, the oldest files removed first.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::json;
use tests::{binary, Vto, STRONG, STRONG2};

#[tokio::test]
async fn concurrent_initialization_leaves_exactly_one_password() {
    let vto = Vto::start().await;
    let passwords: Vec<String> = (0..8)
        .map(|i| format!("Door-Bell7x{}#{}", i, i * 7 % 10))
        .collect();
    let mut tasks = Vec::new();
    for p in passwords.clone() {
        let c = vto.client();
        tasks.push(tokio::spawn(async move {
            let (s, _) = c
                .call("initialize", json!({"password": p, "email": null}))
                .await;
            (p, s)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (p, s) = t.await.expect("task");
        match s {
            StatusCode::OK => winners.push(p),
            other => assert_eq!(other, StatusCode::CONFLICT),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let mut working = 0;
    for (i, p) in passwords.iter().enumerate() {
        // Each from its own address, so failures do not add up to a lockout.
        let c = vto.client_from(&format!("127.0.1.{}", i + 1));
        if c.login(p).await.0 == StatusCode::OK {
            working += 1;
            assert_eq!(p, &winners[0]);
        }
    }
    assert_eq!(working, 1);
}

#[tokio::test]
async fn restart_keeps_data() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    c.call(
        "change_email",
        json!({"password": STRONG, "email": "a@example.com"}),
    )
    .await;
    let token = c.cookie();
    vto.stop().await;

    let vto2 = Vto::start_in(&vto.data_dir, &[]).await.expect("restart");
    let c2 = vto2.client();
    c2.set_cookie(token);
    let (s, b) = c2.call("overview", json!({})).await;
    assert_eq!(s, StatusCode::OK, "the session survives a restart: {b}");
    assert_eq!(b["account"]["email"], "a@example.com");
    let (_, log) = c2.call("security_log", json!({"offset": 0})).await;
    assert_eq!(log["total"], 3, "{log}");
}

#[tokio::test]
async fn sigkill_after_a_confirmed_change_keeps_it() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let (s, _) = c
        .call(
            "change_password",
            json!({"old_password": STRONG, "new_password": STRONG2}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // No grace: killed the moment the answer arrived.
    vto.kill9().await;

    let vto2 = Vto::start_in(&vto.data_dir, &[])
        .await
        .expect("restart after SIGKILL");
    assert_eq!(vto2.client().login(STRONG2).await.0, StatusCode::OK);
    assert_eq!(
        vto2.client_from("127.0.0.2").login(STRONG).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn second_process_on_the_same_data_dir_is_refused() {
    let vto = Vto::start().await;
    let out = tokio::process::Command::new(binary())
        .arg("--data-dir")
        .arg(&vto.data_dir)
        .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("second vto");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another vto process"), "{err}");
    // The first one is unaffected.
    assert_eq!(
        vto.client().call("setup_state", json!({})).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unusable_data_dir_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let out = tokio::process::Command::new(binary())
        .arg("--data-dir")
        .arg(&file)
        .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
        .output()
        .await
        .expect("vto");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot use the data directory"), "{err}");
}

/// `--storage-max-files 3 --storage-max-mb 1`: an unlock's snapshot
/// brings the Storage Point over both bounds; the oldest of the device's
/// files go (by count, then by size), the newest stay, a file not ours is
/// left alone, and Local Setting > Basic shows the usage.
#[tokio::test]
async fn the_storage_point_keeps_its_bounds_oldest_first() {
    let vto = Vto::start_with(&["--storage-max-files", "3", "--storage-max-mb", "1"]).await;
    let c = vto.ready().await;
    let card = tempfile::tempdir().expect("card");
    let mib = 1 << 20;
    // Exactly at the size bound: any snapshot brings it over.
    for (name, size) in [
        ("message-1000-5000.mp4", 10),
        ("unlock-2000-1.jpg", mib - 20),
        ("talk-3000-3500.jpg", 10),
        ("notes.txt", 10),
    ] {
        std::fs::write(card.path().join(name), vec![0u8; size]).expect("write");
    }
    let (_, mut basic) = c.call("basic_settings", json!({})).await;
    basic["storage_point"] = json!(card.path().display().to_string());
    basic["auto_snapshot_unlock"] = json!(true);
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    let (code, usage) = c.call("storage_usage", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{usage}");
    assert_eq!(
        usage,
        json!({"files": 3, "bytes": mib, "max_files": 3, "max_bytes": mib})
    );

    let (_, r) = c.call("unlock", json!({})).await;
    assert_eq!(r["refused"], serde_json::Value::Null, "{r}");
    let cr = &c;
    let snapshot = tests::eventually("the unlock's snapshot", || async move {
        let (_, log) = cr
            .call("unlock_log", json!({"offset": 0, "filter": {}}))
            .await;
        log["records"][0]["snapshot"]["Saved"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    let jpeg = std::fs::metadata(card.path().join(&snapshot))
        .expect("the newest is kept")
        .len();
    let mut left: Vec<String> = std::fs::read_dir(card.path())
        .expect("card")
        .map(|e| e.expect("entry").file_name().into_string().expect("name"))
        .collect();
    left.sort();
    let mut want = vec![
        "notes.txt".to_string(),
        "talk-3000-3500.jpg".to_string(),
        snapshot.clone(),
    ];
    want.sort();
    assert_eq!(left, want, "the two oldest removed");

    let (_, usage) = c.call("storage_usage", json!({})).await;
    assert_eq!(
        usage,
        json!({"files": 2, "bytes": 10 + jpeg, "max_files": 3, "max_bytes": mib})
    );
    // The page says so, as the device renders it.
    let page = c.get("/local/basic").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    assert!(
        html.contains("In use: 2 files,") && html.contains("of at most 3 files and 1.0 MB"),
        "{html}"
    );
}
