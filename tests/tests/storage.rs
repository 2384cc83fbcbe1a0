//! Data survives restarts and SIGKILL; a second process on the same data
//! dir is refused; concurrent initializations leave one password.

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
