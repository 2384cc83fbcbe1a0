//! DHIP on TCP 5000 (issue 20) against the real binary, by a client
//! written from the documented protocol (`tests/src/dhip.rs`): the login
//! with Dahua's hash, the calls the Home Assistant integration and openHAB
//! make right after it, opening the door, events from an unlock and a Call
//! press, wrong passwords locked out, garbage refused.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{baresip::Baresip, dhip::DhipClient, eventually, online, Vto, STRONG};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The next event notification (skipping replies), as `(Code, entry)`.
async fn next_event(c: &mut DhipClient) -> (String, Value) {
    loop {
        let m = c.recv(15).await.expect("an event, not a close");
        if m["method"] == "client.notifyEventStream" {
            assert_eq!(m["params"]["SID"], 513, "{m}");
            let list = m["params"]["eventList"].as_array().unwrap();
            assert_eq!(list.len(), 1, "one event per message: {m}");
            return (
                list[0]["Code"].as_str().unwrap().to_string(),
                list[0].clone(),
            );
        }
    }
}

#[tokio::test]
async fn a_dhip_client_logs_in_opens_the_door_and_receives_the_door_events() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let (code, page) = c
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": "MonitorPw1"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let mut monitor = Baresip::start("9901#0", "MonitorPw1", vto.sip.unwrap(), 880.0).await;
    eventually("the monitor online", || async {
        (online(&c, "9901").await == 1).then_some(())
    })
    .await;

    let mut d = DhipClient::connect(vto.dhip.expect("vto prints its DHIP address")).await;
    let ok = d.login("admin", STRONG).await;
    assert_eq!(ok["result"], true, "{ok}");
    assert_eq!(ok["params"]["keepAliveInterval"], 60, "{ok}");
    assert_eq!(ok["session"], d.session, "{ok}");
    // openHAB needs the attach's answer first.
    let attach = d
        .call("eventManager.attach", json!({"codes": ["All"]}), None)
        .await;
    assert_eq!(
        (attach["result"].clone(), attach["params"]["SID"].clone()),
        (json!(true), json!(513)),
        "{attach}"
    );

    // What the Home Assistant integration asks right after login.
    let acl = d
        .call(
            "configManager.getConfig",
            json!({"name": "AccessControl"}),
            None,
        )
        .await;
    assert_eq!(
        acl["params"]["table"][0]["UnlockHoldInterval"], 5000,
        "{acl}"
    );
    let t2u = d
        .call(
            "configManager.getConfig",
            json!({"name": "T2UServer"}),
            None,
        )
        .await;
    let serial = t2u["params"]["table"]["UUID"].as_str().unwrap().to_string();
    assert_eq!(serial.len(), 13, "{t2u}");
    let v = d
        .call("magicBox.getSoftwareVersion", json!(null), None)
        .await;
    assert_eq!(
        v["params"]["version"]["Version"],
        env!("CARGO_PKG_VERSION"),
        "{v}"
    );
    let t = d.call("magicBox.getDeviceType", json!(null), None).await;
    assert_eq!(t["params"]["type"], "VTO-vto", "{t}");
    let info = d.call("magicBox.getSystemInfo", json!(null), None).await;
    assert_eq!(info["params"]["serialNumber"], serial.as_str(), "{info}");
    let k = d
        .call(
            "global.keepAlive",
            json!({"timeout": 60, "action": true}),
            None,
        )
        .await;
    assert_eq!(
        (k["result"].clone(), k["params"]["timeout"].clone()),
        (json!(true), json!(60)),
        "{k}"
    );
    let unknown = d.call("magicBox.frobnicate", json!(null), None).await;
    assert_eq!(unknown["error"]["code"], 268_894_209, "{unknown}");

    // Open the door as the integration does.
    let inst = d
        .call(
            "accessControl.factory.instance",
            json!({"channel": 0}),
            None,
        )
        .await;
    let object = inst["result"].as_u64().expect("an object id");
    let open = d
        .call(
            "accessControl.openDoor",
            json!({"DoorIndex": 0, "ShortNumber": "HA"}),
            Some(object),
        )
        .await;
    assert_eq!(open["result"], true, "{open}");
    let (code, e) = next_event(&mut d).await;
    assert_eq!(code, "AccessControl", "{e}");
    assert_eq!(
        (e["Data"]["Method"].clone(), e["Data"]["Name"].clone()),
        (json!(4), json!("admin")),
        "{e}"
    );
    let (code, e) = next_event(&mut d).await;
    assert_eq!(
        (code.as_str(), e["Data"]["State"].clone()),
        ("BackKeyLight", json!(8)),
        "{e}"
    );
    let log = tests::unlock_log_when(&c, json!({}), |l| l["total"] != 0).await;
    assert_eq!(
        (
            log["records"][0]["method"].clone(),
            log["records"][0]["who"].clone()
        ),
        (json!("Api"), json!("admin")),
        "{log}"
    );

    // A Call press.
    let (code, s) = c.call("call", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    let (code, e) = next_event(&mut d).await;
    assert_eq!(code, "Invite", "{e}");
    assert_eq!(e["Action"], "Pulse", "{e}");
    assert!(
        e["Data"]["LocaleTime"].is_string() && e["Data"]["UTC"].is_i64(),
        "{e}"
    );
    let (code, e) = next_event(&mut d).await;
    assert_eq!(
        (
            code.as_str(),
            e["Action"].clone(),
            e["Data"]["UserID"].clone()
        ),
        ("CallNoAnswered", json!("Start"), json!("9901")),
        "{e}"
    );
    // Hang up as the integration does (`hc`).
    monitor.event("CALL_INCOMING", 10).await;
    let hc = d
        .call("console.runCmd", json!({"command": "hc"}), None)
        .await;
    assert_eq!(hc["result"], true, "{hc}");
    eventually("the call ended", || async {
        let (_, s) = c.call("call_status", json!({"seen": 0})).await;
        (s["phase"] == "Idle").then_some(())
    })
    .await;
    let bye = d.call("global.logout", json!(null), None).await;
    assert_eq!(bye["result"], true);
    assert!(d.recv(5).await.is_none(), "closed after logout");
}

#[tokio::test]
async fn wrong_dhip_passwords_count_toward_the_lockout_and_garbage_is_dropped() {
    let vto = Vto::start().await;
    let _c = vto.ready().await;
    let addr = vto.dhip.unwrap();
    for _ in 0..5 {
        let mut d = DhipClient::connect(addr).await;
        let no = d.login("admin", "Wrong-Pass1").await;
        assert_eq!(no["result"], false, "{no}");
        let code = no["error"]["code"].as_i64().unwrap();
        assert!(code == 268_632_080 || code == 268_632_081, "{no}");
    }
    let mut d = DhipClient::connect(addr).await;
    let locked = d.login("admin", STRONG).await;
    assert_eq!(locked["error"]["code"], 268_632_081, "{locked}");

    // Not DHIP: the connection is closed; the listener goes on.
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    // A request before any login is refused and closed.
    let mut d = DhipClient::connect(addr).await;
    let no = d
        .call("accessControl.openDoor", json!({"DoorIndex": 0}), Some(1))
        .await;
    assert_eq!(no["result"], false, "{no}");
    assert!(d.recv(5).await.is_none());
    let vto2 = Vto::start().await;
    vto2.ready().await;
    let mut ok = DhipClient::connect(vto2.dhip.unwrap()).await;
    assert_eq!(ok.login("admin", STRONG).await["result"], true);
}
