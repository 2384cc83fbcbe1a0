//! Restore Factory Defaults takes the device back to what a new one runs,
//! not only to what a new one stores: the rooms' monitors can no longer
//! register, the device stops registering to another server, the lock is
//! back on its defaults, and no registration is written back into the
//! emptied tables.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{net::SocketAddr, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{room, sipp, Vto, STRONG};

/// How long the upstream server is watched after the reset: its grant is
/// 2 s, so a client still running would refresh within about 1 s.
const QUIET: Duration = Duration::from_secs(4);

/// A SIP registrar on a loopback UDP port that grants 2 s to every
/// REGISTER and remembers each one's Expires.
struct Upstream {
    socket: tokio::net::UdpSocket,
}

impl Upstream {
    async fn start() -> Self {
        Self {
            socket: tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// The next REGISTER within `wait`, answered 200 with a 2 s grant:
    /// its Expires, or None when none came.
    async fn next_register(&self, wait: Duration) -> Option<u32> {
        let mut buf = vec![0u8; 65536];
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let (n, from) = tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf))
                .await
                .ok()?
                .unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            if !text.starts_with("REGISTER ") {
                continue;
            }
            let header = |name: &str| {
                text.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                    .map(|l| l[name.len() + 1..].trim().to_string())
                    .unwrap_or_default()
            };
            let expires: u32 = header("expires").parse().unwrap_or(0);
            let answer = format!(
                "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=up\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: {};expires=2\r\nExpires: 2\r\nContent-Length: 0\r\n\r\n",
                header("via"),
                header("from"),
                header("to"),
                header("call-id"),
                header("cseq"),
                header("contact"),
            );
            self.socket.send_to(answer.as_bytes(), from).await.unwrap();
            return Some(expires);
        }
    }
}

async fn door(c: &tests::Client) -> Value {
    let (s, status) = c.call("door_status", json!({"seen": 0})).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    status
}

#[tokio::test]
async fn factory_reset_stops_what_the_old_settings_started() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");

    // A room whose monitor registers.
    let (s, page) = c
        .call(
            "add_room",
            json!({"room": room("9901"), "password": "Monitor9901"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let run = sipp::run("register.xml", sip, false, "9901#0", "Monitor9901", 1).await;
    assert!(run.passed, "{}", run.output);

    // The lock on NC (energized while locked) instead of the default NO.
    let (_, mut access) = c.call("access_settings", json!({})).await;
    access["contact"] = json!("Nc");
    let (s, b) = c
        .call("save_access_settings", json!({"settings": access}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    tests::eventually("the relay energized (NC, locked)", || async {
        (door(&c).await["relay_energized"] == true).then_some(())
    })
    .await;

    // Registered as a client to another server.
    let upstream = Upstream::start().await;
    let settings = json!({
        "enabled": false,
        "server_type": "Other",
        "ip": "127.0.0.1",
        "port": upstream.addr().port(),
        "username": "8002",
        "domain": "VDP",
    });
    let (s, b) = c
        .call(
            "save_sip_server",
            json!({"settings": settings, "password": "Upstream-2026"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let first = upstream.next_register(Duration::from_secs(10)).await;
    assert!(
        first.is_some_and(|e| e > 0),
        "registered upstream: {first:?}"
    );
    let refresh = upstream.next_register(Duration::from_secs(10)).await;
    assert!(refresh.is_some_and(|e| e > 0), "refreshed: {refresh:?}");

    // An import re-applies what is stored; what it leaves alone runs on:
    // the next REGISTER is a refresh, not an unregister (Expires: 0).
    let (s, file) = c.call("export_device_info", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{file}");
    let (s, b) = c
        .call("import_device_info", json!({"file": file.to_string()}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let after = upstream.next_register(Duration::from_secs(10)).await;
    assert!(
        after.is_some_and(|e| e > 0),
        "still registered after the import: {after:?}"
    );

    let (s, b) = c.call("factory_reset", json!({"password": STRONG})).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // No more registrations upstream: at most the one that takes the
    // device's binding away (Expires: 0), then nothing.
    let deadline = tokio::time::Instant::now() + QUIET;
    while let Some(expires) = upstream
        .next_register(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        assert_eq!(expires, 0, "a REGISTER upstream after the reset");
    }

    // The deleted room's monitor cannot register any more.
    let run = sipp::run("register.xml", sip, false, "9901#0", "Monitor9901", 1).await;
    assert!(!run.passed, "registered after the reset: {}", run.output);

    // The lock runs on the defaults again (NO: not energized while locked).
    let c = vto.ready().await;
    tests::eventually("the relay released (NO, locked)", || async {
        (door(&c).await["relay_energized"] == false).then_some(())
    })
    .await;
    let (_, access) = c.call("access_settings", json!({})).await;
    assert_eq!(access["contact"], "No");

    // The registrations table stays empty through the SIP server's flushes
    // and its last one at shutdown.
    let data = vto.data_dir.clone();
    vto.stop().await;
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let db = redb::Database::open(data.join("vto.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let table = txn
        .open_table(redb::TableDefinition::<&str, &[u8]>::new("sip_bindings"))
        .unwrap();
    assert_eq!(table.len().unwrap(), 0, "registrations written back");
}
