//! `GET /metrics` (issue 24) against the real binary: only with the
//! metrics token made by `vto --new-metrics-token`; the counters follow
//! real activity (sipp registering a monitor and calling an offline room,
//! garbage on the SIP port, an unlock, a wrong password, an RTSP player, a
//! WebRTC viewer); Debian's Prometheus scrapes it with the token from a
//! credentials file, and its `promtool` finds nothing wrong in the text.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{process::Stdio, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{eventually, eventually_within, room, sipp::Sipp, ProcessGroup, Vto, STRONG};
use tokio::{io::AsyncWriteExt, process::Command};

/// `vto --new-metrics-token` (or `--revoke-metrics-token`) on the running
/// device's data dir: its stdout.
async fn token_command(vto: &Vto, flag: &str) -> String {
    let out = Command::new(tests::binary())
        .arg("--data-dir")
        .arg(&vto.data_dir)
        .arg(flag)
        .output()
        .await
        .expect("run vto");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn scrape(vto: &Vto, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", vto.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("GET /metrics");
    let status = r.status();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    (status, challenge, r.text().await.unwrap_or_default())
}

/// The value of `series` (name and labels exactly as rendered).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Prometheus's answer to the instant query `q`: its first value.
async fn query(port: u16, q: &str) -> Option<f64> {
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/query"))
        .query(&[("query", q)])
        .send()
        .await
        .ok()?;
    let v: Value = r.json().await.ok()?;
    v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
}

/// Waits until Prometheus's `up` of the job is `want`.
async fn prometheus_up(port: u16, want: f64, what: &str) {
    eventually_within(what, Duration::from_secs(60), || async {
        query(port, r#"up{job="vto"}"#).await.filter(|v| *v == want)
    })
    .await;
}

/// Scrapes until `series` has the value `want`.
async fn until(vto: &Vto, token: &str, series: &str, want: f64) -> String {
    eventually_within(series, Duration::from_secs(30), || async move {
        let (status, _, text) = scrape(vto, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        (value(&text, series) == Some(want)).then_some(text)
    })
    .await
}

#[tokio::test]
async fn prometheus_scrapes_the_counters_with_the_token_only() {
    let vto = Vto::start().await;
    let c = vto.ready().await;

    // Nobody without the token: not a stranger, not the signed-in admin,
    // not a made-up token while none is set.
    let (status, challenge, _) = scrape(&vto, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let r = c.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, _, _) = scrape(&vto, Some("vto_metrics_guess")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A token, made while the device runs: shown once, kept as a hash.
    let token = token_command(&vto, "--new-metrics-token").await;
    assert!(token.starts_with("vto_metrics_"), "{token}");
    let stored = std::fs::read_to_string(vto.data_dir.join("metrics-token.sha256")).unwrap();
    assert_eq!(stored.trim().len(), 64);
    assert!(!stored.contains(&token["vto_metrics_".len()..]));
    let (status, _, text) = scrape(&vto, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(value(&text, "vto_sip_registrations_online"), Some(0.0));
    assert_eq!(
        value(&text, r#"vto_login_failures_total{method="metrics_token"}"#),
        Some(1.0),
        "the made-up token counts: {text}"
    );
    assert!(!vto.logs().contains(&token), "the token is never logged");

    // A monitor registers with sipp over UDP.
    let sip = vto.sip.unwrap();
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": null}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let password = page["new_passwords"][0][1].as_str().unwrap().to_string();
    let me = tests::free_port();
    let run = Sipp::new("register.xml", sip, "9901#0")
        .password(&password)
        .port(me)
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    let text = until(&vto, &token, "vto_sip_registrations_online", 1.0).await;
    // The challenge and the 200: at least two in, two out, on UDP.
    let sip_in = value(
        &text,
        r#"vto_sip_messages_total{direction="in",transport="udp"}"#,
    );
    let sip_out = value(
        &text,
        r#"vto_sip_messages_total{direction="out",transport="udp"}"#,
    );
    assert!(sip_in >= Some(2.0) && sip_out >= Some(2.0), "{text}");

    // It calls room 9902, whose monitors are offline: a missed call.
    let (code, page) = c
        .call("add_room", json!({"room": room("9902"), "password": null}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let run = Sipp::new("caller-480.xml", sip, "9901#0")
        .port(me)
        .fields(&["9902"])
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    until(
        &vto,
        &token,
        r#"vto_calls_total{type="intercom",end_state="missed"}"#,
        1.0,
    )
    .await;

    // Garbage on the SIP port is dropped and counted.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(b"\x00\xff not SIP", sip).await.unwrap();
    until(
        &vto,
        &token,
        r#"vto_sip_dropped_total{reason="malformed"}"#,
        1.0,
    )
    .await;

    // The door opened from the UI; a wrong password at the login page.
    let (code, r) = c.call("unlock", json!({"via": "Ui"})).await;
    assert_eq!(code, StatusCode::OK, "{r}");
    until(
        &vto,
        &token,
        r#"vto_unlocks_total{method="remote",result="opened"}"#,
        1.0,
    )
    .await;
    let (code, _) = vto.client().login("Wrong-Pass1").await;
    assert_ne!(code, StatusCode::OK);
    until(
        &vto,
        &token,
        r#"vto_login_failures_total{method="password"}"#,
        1.0,
    )
    .await;

    // An RTSP player counts while it plays.
    let addr = vto.rtsp.unwrap();
    let url = format!("rtsp://admin:{STRONG}@{addr}/cam/realmonitor?channel=1&subtype=0");
    let mut ffmpeg = ProcessGroup::spawn(
        Command::new("ffmpeg")
            .args(["-v", "error", "-rtsp_transport", "tcp", "-i", &url])
            .args(["-f", "null", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("run ffmpeg");
    until(&vto, &token, "vto_rtsp_sessions", 1.0).await;
    ffmpeg.kill_group().await;
    until(&vto, &token, "vto_rtsp_sessions", 0.0).await;

    // A WebRTC viewer counts while it watches.
    let api = tests::viewer::api().unwrap();
    let viewer = tests::viewer::watch(&api, &c).await.unwrap();
    until(&vto, &token, "vto_live_viewers", 1.0).await;
    tests::viewer::end(&c, &viewer).await;
    until(&vto, &token, "vto_live_viewers", 0.0).await;

    // Writes were timed: every commit is in the histogram.
    let (_, _, text) = scrape(&vto, Some(&token)).await;
    let writes = value(&text, "vto_db_write_seconds_count").unwrap();
    assert!(writes >= 3.0, "{text}");
    assert_eq!(
        value(&text, r#"vto_db_write_seconds_bucket{le="+Inf"}"#),
        Some(writes)
    );

    // promtool (Prometheus's own linter) finds nothing wrong.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run promtool (apt install prometheus)");
    let mut stdin = promtool.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let out = promtool.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Prometheus scrapes it, the token in a credentials file.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("vto.token");
    std::fs::write(&token_file, &token).unwrap();
    let target = vto.url.trim_start_matches("http://");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: vto\n    authorization:\n      type: Bearer\n      \
             credentials_file: {}\n    static_configs:\n      - targets: ['{target}']\n",
            token_file.display()
        ),
    )
    .unwrap();
    let port = tests::free_port();
    let mut prometheus = ProcessGroup::spawn(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("run prometheus (apt install prometheus)");
    prometheus_up(port, 1.0, "Prometheus scrapes vto").await;
    let opened = eventually("Prometheus has the unlock", || async {
        query(
            port,
            r#"vto_unlocks_total{method="remote",result="opened"}"#,
        )
        .await
    })
    .await;
    assert_eq!(opened, 1.0);
    let online = eventually("Prometheus has the registration", || async {
        query(port, "vto_sip_registrations_online").await
    })
    .await;
    assert_eq!(online, 1.0);

    // Every query of the Grafana dashboard in docs/ is one Prometheus
    // runs, on series the device serves.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../docs/grafana/vto-dashboard.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().replace("$instance", ".*"))
        .collect();
    assert!(exprs.len() >= 10);
    for expr in &exprs {
        let v: Value = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/api/v1/query"))
            .query(&[("query", expr.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "success", "{expr}: {v}");
        for name in expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("vto_"))
        {
            let family = name.strip_suffix("_bucket").unwrap_or(name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{expr}: {name} is not served"
            );
        }
    }

    // Revoked: nobody scrapes any more, at once.
    token_command(&vto, "--revoke-metrics-token").await;
    let (status, _, _) = scrape(&vto, Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    prometheus_up(port, 0.0, "Prometheus sees vto refuse").await;
    prometheus.kill_group().await;
}
