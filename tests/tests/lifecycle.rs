//! Reboot restarts the services in place; the single binary carries its UI.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::{binary, Vto};

#[tokio::test]
async fn reboot_reexecutes_on_the_same_port_and_comes_back() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (_, before) = c.call("setup_state", json!({})).await;
    let pid = vto.pid();
    let (s, _) = c.call("reboot", json!({})).await;
    assert_eq!(s, StatusCode::OK);

    // Wait for a new boot id on the same URL.
    let mut after = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(res) = c
            .http
            .post(format!("{}/api/setup_state", vto.url))
            .json(&json!({}))
            .send()
            .await
        {
            let b: serde_json::Value = res.json().await.unwrap_or_default();
            if b["boot_id"] != before["boot_id"] && b["boot_id"].is_number() {
                after = Some(b);
                break;
            }
        }
    }
    let after = after.expect("the device came back with a new boot id");
    assert_eq!(after["initialized"], true);
    assert_eq!(vto.pid(), pid, "re-executed in place");
    // Under its own name in ps, and the database was closed cleanly first.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    assert_eq!(argv0, binary().as_os_str().as_encoded_bytes());
    assert!(
        !vto.logs().contains("database still in use"),
        "{}",
        vto.logs()
    );
    // Sessions and data survive a reboot.
    assert_eq!(c.call("overview", json!({})).await.0, StatusCode::OK);
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    assert!(log.to_string().contains("Rebooted"));
}

#[tokio::test]
async fn the_binary_alone_serves_the_whole_ui() {
    // Copy only the binary into an empty directory and run it there with
    // its defaults for the data dir.
    let tmp = tempfile::tempdir().expect("tmp");
    let bin = tmp.path().join("vto");
    std::fs::copy(binary(), &bin).expect("copy");
    let mut child = tests::ProcessGroup::spawn(
        tokio::process::Command::new(&bin)
            .current_dir(tmp.path())
            .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
            .env_remove("VTO_DATA_DIR")
            .stdout(std::process::Stdio::piped()),
    )
    .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    // The SIP line comes first.
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("vto listening on ") {
                return url.to_string();
            }
        }
        String::new()
    })
    .await
    .expect("started");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let html = http
        .get(format!("{url}/init"))
        .send()
        .await
        .expect("init")
        .text()
        .await
        .unwrap_or_default();
    assert!(html.contains("/pkg/frontend.js") && html.contains("Device Initialization"));
    for (path, ctype, min) in [
        ("/pkg/frontend_bg.wasm", "application/wasm", 100_000),
        ("/pkg/frontend.js", "text/javascript; charset=utf-8", 10_000),
        ("/style.css", "text/css; charset=utf-8", 1_000),
        ("/favicon.svg", "image/svg+xml", 100),
    ] {
        let res = http
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], ctype, "{path}");
        let etag = res.headers()["etag"].clone();
        let body = res.bytes().await.unwrap_or_default();
        assert!(body.len() >= min, "{path}: {} bytes", body.len());
        if path.ends_with(".wasm") {
            assert_eq!(&body[..4], b"\0asm");
        }
        let again = http
            .get(format!("{url}{path}"))
            .header("if-none-match", etag)
            .send()
            .await
            .expect("revalidate");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    assert!(
        tmp.path().join("vto-data/vto.redb").is_file(),
        "default data dir ./vto-data"
    );
    child.kill_group().await;
}

#[test]
fn help_documents_the_options() {
    let out = std::process::Command::new(binary())
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--data-dir",
        "VTO_DATA_DIR",
        "./vto-data",
        "--http",
        "VTO_HTTP",
        "127.0.0.1:8080",
    ] {
        assert!(help.contains(needle), "{needle} not in:\n{help}");
    }
}
