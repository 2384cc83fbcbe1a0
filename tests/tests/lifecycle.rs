//! Reboot restarts the services in place; the single binary carries its UI.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{path::Path, time::Duration};

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

/// systemd's notifications (Type=notify, WatchdogSec=): ready once the
/// page answers, live at a third of the watchdog's timeout, stopping on
/// SIGTERM.
#[tokio::test]
async fn tells_the_service_manager_it_is_ready_live_and_stopping() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("notify");
    let socket = tokio::net::UnixDatagram::bind(&path).expect("bind");
    let next = || async {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(20), socket.recv(&mut buf))
            .await
            .expect("a notification within 20 s")
            .expect("recv");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut vto = Vto::start_with_env(
        &[],
        &[
            ("NOTIFY_SOCKET", &path),
            ("WATCHDOG_USEC", Path::new("900000")),
        ],
    )
    .await;
    assert_eq!(next().await, "READY=1");
    let page = vto
        .client()
        .http
        .get(format!("{}/init", vto.url))
        .send()
        .await
        .expect("the page answers once ready");
    assert_eq!(page.status(), StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(next().await, "WATCHDOG=1");
    }
    vto.stop().await;
    loop {
        match next().await.as_str() {
            "STOPPING=1" => break,
            other => assert_eq!(other, "WATCHDOG=1"),
        }
    }
    assert!(vto.logs().contains("stopped"), "{}", vto.logs());
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
    assert!(html.contains("Device Initialization"), "{html}");
    // The page names its script, wasm and style by the hash of their
    // content: cached for good, served in the best form the client takes.
    let name = |prefix: &str, suffix: &str| -> String {
        let found = html.match_indices(prefix).find_map(|(at, _)| {
            let rest = &html[at + prefix.len()..];
            let hash: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            (hash.len() == 16 && rest[16..].starts_with(suffix)).then_some(hash)
        });
        let hash = found.unwrap_or_else(|| panic!("{prefix}<16 hex>{suffix} in {html}"));
        format!("{prefix}{hash}{suffix}")
    };
    for (path, ctype, min) in [
        (
            name("/pkg/", "/frontend_bg.wasm"),
            "application/wasm",
            100_000,
        ),
        (
            name("/pkg/", "/frontend.js"),
            "text/javascript; charset=utf-8",
            10_000,
        ),
        (name("/style.", ".css"), "text/css; charset=utf-8", 1_000),
        (name("/favicon.", ".svg"), "image/svg+xml", 100),
    ] {
        let get = |encodings: Option<&'static str>| {
            let mut rb = http.get(format!("{url}{path}"));
            if let Some(e) = encodings {
                rb = rb.header("accept-encoding", e);
            }
            rb.send()
        };
        // No Accept-Encoding: the bytes as they are.
        let res = get(None).await.expect("asset");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], ctype, "{path}");
        assert!(res.headers().get("content-encoding").is_none(), "{path}");
        assert_eq!(res.headers()["vary"], "accept-encoding", "{path}");
        let cache = res.headers()["cache-control"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(cache, "public, max-age=31536000, immutable", "{path}");
        let etag = res.headers()["etag"].clone();
        let plain = res.bytes().await.unwrap_or_default();
        assert!(plain.len() >= min, "{path}: {} bytes", plain.len());
        if path.ends_with(".wasm") {
            assert_eq!(&plain[..4], b"\0asm");
        }
        let again = http
            .get(format!("{url}{path}"))
            .header("if-none-match", etag)
            .send()
            .await
            .expect("revalidate");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        // A browser's Accept-Encoding: brotli; gzip where brotli is not
        // taken. Each decodes (with the gzip and brotli tools) to the same
        // bytes, and is smaller.
        for (accept, coding, tool) in [
            ("gzip, deflate, br, zstd", "br", "brotli"),
            ("gzip, deflate", "gzip", "gzip"),
        ] {
            let res = get(Some(accept)).await.expect("asset");
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()["content-encoding"], coding, "{path} {accept}");
            assert_eq!(res.headers()["content-type"], ctype, "{path}");
            let packed = res.bytes().await.unwrap_or_default();
            assert!(
                packed.len() < plain.len(),
                "{path} {coding}: {} bytes",
                packed.len()
            );
            assert!(
                decode(tool, &packed) == plain,
                "{path}: {coding} decodes to the file"
            );
        }
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

/// `tool -d -c` of `bytes` (the gzip or brotli command line tool).
fn decode(tool: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new(tool)
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect(tool);
    writer.join().expect("writer").expect("write");
    assert!(out.status.success(), "{tool} -d failed");
    out.stdout
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_their_area() {
    let vto = Vto::start_with(&["--log-format", "json"]).await;
    let c = vto.ready().await;
    // A failed login: a warning with its fields.
    let (s, _) = c
        .call(
            "login",
            json!({"user": "admin", "password": "Wrong-Pass9x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let lines = tests::eventually("some log lines", || async {
        let logs = vto.logs();
        let lines: Vec<String> = logs.lines().map(str::to_string).collect();
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["time"].is_string(), "{line}");
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&v["level"].as_str().unwrap_or("")),
            "{line}"
        );
        assert!(
            v["target"].as_str().is_some_and(|t| !t.is_empty()),
            "every line names its area: {line}"
        );
    }
    // The device's own areas are named (`vto::...`).
    assert!(
        lines.iter().any(|l| l.contains("\"target\":\"vto::")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn text_logs_have_no_colour_codes_outside_a_terminal() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    let logs = tests::eventually("some log lines", || async {
        let logs = vto.logs();
        (logs.lines().count() >= 2).then_some(logs)
    })
    .await;
    assert!(!logs.contains('\u{1b}'), "{logs}");
    assert!(logs.contains(" INFO "), "{logs}");
}
