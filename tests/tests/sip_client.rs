//! This device as a client of another SIP server (Network Setting > SIP
//! Server, not enabled): it registers to Kamailio (a real registrar with
//! digest auth) and to another vto, refreshes before the granted expiry
//! ends, reports a wrong password, answers what the server relays to it,
//! and un-registers when it becomes the SIP server again.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{sipp::Sipp, Vto};

/// Its password (tests/peers/kamailio/registrar.cfg).
const KAMAILIO_PASSWORD: &str = "Kamailio2026Door";

struct Kamailio {
    /// Kamailio forks its workers: the whole group goes on drop.
    _group: tests::ProcessGroup,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kamailio {
    /// Kamailio on a free loopback port, granting at most `max_expires` s.
    async fn start(max_expires: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = tests::free_port();
        let log = dir.path().join("kamailio.log");
        let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/kamailio/registrar.cfg");
        let run = dir.path().to_str().unwrap().to_string();
        // It says where it listens on stdout, and logs on stderr.
        let file = std::fs::File::create(&log).unwrap();
        let group = tests::ProcessGroup::spawn(
            tokio::process::Command::new("kamailio")
                .args(["-f", cfg, "-DD", "-E", "-n", "1", "-Y", &run, "-w", &run])
                .args(["-l", &format!("udp:127.0.0.1:{port}")])
                .args(["-A", "REG_MIN=1", "-A", &format!("REG_MAX={max_expires}")])
                .stdout(file.try_clone().unwrap())
                .stderr(file),
        )
        .expect("kamailio (apt install kamailio)");
        let k = Self {
            _group: group,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            _dir: dir,
        };
        let ready = format!("udp: 127.0.0.1 [127.0.0.1]:{port}");
        for _ in 0..100 {
            if k.log().contains(&ready) {
                return k;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("kamailio did not start:\n{}", k.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The REGISTERs of `user` it accepted (digest checked: logged by
    /// registrar.cfg), with the Expires asked for.
    fn registers(&self, user: &str) -> Vec<String> {
        let lower = format!("REGISTER sip:{user}@vdp ");
        let upper = format!("REGISTER sip:{user}@VDP ");
        self.log()
            .lines()
            .filter(|l| l.contains(&lower) || l.contains(&upper))
            .map(str::to_string)
            .collect()
    }
}

fn client_of(server: SocketAddr, server_type: &str, username: &str) -> Value {
    json!({
        "enabled": false,
        "server_type": server_type,
        "ip": server.ip().to_string(),
        "port": server.port(),
        "username": username,
        "domain": "VDP",
    })
}

async fn save(c: &tests::Client, settings: Value, password: Option<&str>) -> Value {
    let (code, page) = c
        .call(
            "save_sip_server",
            json!({"settings": settings, "password": password}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page
}

/// Waits until the registration is in `state` (Registered, Failed ...).
async fn wait_for(c: &tests::Client, state: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (code, page) = c.call("sip_server", json!({})).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        last = page["registration"].clone();
        if last.get(state).is_some() || last == state {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("registration not {state}: {last}");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Asks `to` OPTIONS through `server` and says whether it answered 200.
async fn options(server: SocketAddr, to: &str) -> tests::sipp::Run {
    Sipp::new("caller-options.xml", server, "9901")
        .fields(&[to])
        .run()
        .await
}

#[tokio::test]
async fn the_device_registers_to_kamailio_and_keeps_the_registration_alive() {
    let kam = Kamailio::start(4).await;
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let (_, page) = c.call("sip_server", json!({})).await;
    assert_eq!(page["settings"]["enabled"], true, "the default: the server");
    assert_eq!(page["registration"], "NotUsed");

    // A client needs a password; a wrong one is reported.
    let (code, err) = c
        .call(
            "save_sip_server",
            json!({"settings": client_of(kam.addr, "Other", "8002"), "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["Invalid"]["field"], "sip-password");
    save(
        &c,
        client_of(kam.addr, "Other", "8002"),
        Some("Wrong2026Pass"),
    )
    .await;
    let failed = wait_for(&c, "Failed").await;
    assert!(
        failed["Failed"]["reason"]
            .as_str()
            .unwrap()
            .contains("wrong user name or password"),
        "{failed}"
    );

    // The right one (kept by a save without one afterwards): registered
    // for what Kamailio grants (4 s), and refreshed before that ends.
    save(
        &c,
        client_of(kam.addr, "Other", "8002"),
        Some(KAMAILIO_PASSWORD),
    )
    .await;
    let registered = wait_for(&c, "Registered").await;
    let until = registered["Registered"]["until"].as_i64().unwrap();
    assert!(until - now_ms() <= 4_500, "granted 4 s: {registered}");
    let page = save(&c, client_of(kam.addr, "Other", "8002"), None).await;
    assert_eq!(page["password_set"], true);
    assert!(!page.to_string().contains(KAMAILIO_PASSWORD));
    wait_for(&c, "Registered").await;
    // Real time must pass: the first grant runs out, and the device has
    // refreshed (every 2 s) before it did, more than once.
    let kr = &kam;
    tests::eventually_within(
        "4 REGISTERs accepted and the first grant over",
        Duration::from_secs(20),
        || async move { (kr.registers("8002").len() >= 4 && now_ms() > until).then_some(()) },
    )
    .await;
    let still = wait_for(&c, "Registered").await;
    assert!(
        still["Registered"]["until"].as_i64().unwrap() > now_ms(),
        "{still}\n{}",
        kam.log()
    );

    // What Kamailio relays to 8002 reaches the device.
    let run = options(kam.addr, "8002").await;
    assert!(run.passed, "{}", run.output);

    // The SIP server again: the device un-registers, Kamailio no longer
    // knows 8002.
    let mut server = client_of(kam.addr, "Other", "8002");
    server["enabled"] = json!(true);
    let page = save(&c, server, None).await;
    assert_eq!(page["registration"], "NotUsed");
    // The un-REGISTER (Expires 0) reaches Kamailio just after the answer;
    // until then it still has 8002 (granted for up to 4 s more).
    tests::eventually_within(
        "the un-REGISTER of 8002 at Kamailio",
        Duration::from_secs(10),
        || async move {
            kr.registers("8002")
                .iter()
                .any(|l| l.ends_with("expires 0"))
                .then_some(())
        },
    )
    .await;
    let run = Sipp::new("caller-404.xml", kam.addr, "9901")
        .fields(&["8002"])
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    assert!(!vto.logs().contains(KAMAILIO_PASSWORD), "never logged");
    vto.stop().await;
}

#[tokio::test]
async fn a_vto_registers_to_another_vto_with_its_vto_no() {
    const PW: &str = "Door2026Bell";
    // A: the SIP server, where door station 8002 is known.
    let mut a = Vto::start().await;
    let ca = a.ready().await;
    let a_sip = a.sip.unwrap();
    let (code, page) = ca
        .call(
            "add_station",
            json!({"kind": "Vto", "station": {"number": "8002", "ip": "127.0.0.1"}, "password": PW}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // A offers SHA-256 only (RFC 8760): B's client answers it.
    let (code, page) = ca
        .call(
            "save_sip_server",
            json!({"settings": {"enabled": true, "digest": "Sha256"}, "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // B: door station 8002, registering to A (Server Type VTO: the user
    // name is its VTO No.).
    let mut b = Vto::start().await;
    let cb = b.ready().await;
    let b_sip = b.sip.unwrap();
    let (_, mut basic) = cb.call("basic_settings", json!({})).await;
    basic["vto_no"] = json!("8002");
    let (code, saved) = cb
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    let page = save(&cb, client_of(a_sip, "Vto", ""), Some(PW)).await;
    assert_eq!(page["vto_no"], "8002");
    wait_for(&cb, "Registered").await;
    let online = |page: &Value| {
        page["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["station"]["number"] == "8002")
            .map(|e| e["online"].as_bool().unwrap())
    };
    let (_, list) = ca.call("stations", json!({"kind": "Vto"})).await;
    assert_eq!(online(&list), Some(true), "{list}");

    // B is no SIP server now: a REGISTER to it is refused.
    let run = Sipp::new("register-blocked.xml", b_sip, "9901#0")
        .run()
        .await;
    assert!(run.passed, "403 at once: {}", run.output);

    // B the server again: it un-registers from A.
    let mut server = client_of(a_sip, "Vto", "");
    server["enabled"] = json!(true);
    save(&cb, server, None).await;
    let mut gone = false;
    for _ in 0..30 {
        let (_, list) = ca.call("stations", json!({"kind": "Vto"})).await;
        if online(&list) == Some(false) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "8002 unregistered from A");
    b.stop().await;
    a.stop().await;
}

/// The door calls a room through Kamailio (client mode): one INVITE to the
/// server, answered with proxy credentials; the monitor registered there
/// answers, talks with the door (RTP straight between them) and hangs up
/// through the server; the call log has the row.
#[tokio::test]
async fn registered_to_kamailio_the_door_calls_a_room_through_it() {
    use tests::baresip::{loud_frames, Baresip};
    let kam = Kamailio::start(3600).await;
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    save(
        &c,
        client_of(kam.addr, "Other", "8002"),
        Some(KAMAILIO_PASSWORD),
    )
    .await;
    wait_for(&c, "Registered").await;
    let mut monitor = Baresip::start("9901", KAMAILIO_PASSWORD, kam.addr, 880.0).await;
    tests::eventually("the monitor registered at Kamailio", || async {
        kam.log().contains("REGISTER sip:9901@").then_some(())
    })
    .await;

    let (code, s) = c.call("call", json!({"number": "9901"})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    monitor.event("CALL_INCOMING", 10).await;
    assert!(
        kam.log().contains("INVITE to 9901 from 8002 authenticated"),
        "the INVITE carried the account's credentials:\n{}",
        kam.log()
    );
    monitor.command("accept", "").await;
    monitor.event("CALL_RTPESTAB", 10).await;
    tests::eventually("the door talking", || async {
        let (_, s) = c.call("call_status", json!({"seen": u64::MAX})).await;
        (s["phase"] == "Talking").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    monitor.command("hangup", "").await;
    monitor.event("CALL_CLOSED", 10).await;
    let row = tests::eventually("the call log row", || async {
        let (_, log) = c.call("call_log", json!({"offset": 0})).await;
        let row = log["records"][0].clone();
        (row["end_state"] == "Answered").then_some(row)
    })
    .await;
    // The door as the call log names it: its VTO No.
    assert_eq!(row["from"], "8001", "{row}");
    assert_eq!(row["to"], "9901", "{row}");
    assert!(row["talk_ms"].as_u64().unwrap_or(0) >= 1_000, "{row}");
    assert!(
        loud_frames(&monitor.received()) > 25,
        "the monitor heard the door"
    );

    // Monitor through the server: the monitor calls the door's account
    // (8002) at Kamailio, which relays the INVITE to the door; the door
    // answers at once.
    monitor
        .command("dial", &format!("sip:8002@{}", kam.addr))
        .await;
    monitor.event("CALL_ESTABLISHED", 10).await;
    tests::eventually("the door watched", || async {
        let (_, s) = c.call("call_status", json!({"seen": u64::MAX})).await;
        (s["phase"] == "Monitor").then_some(())
    })
    .await;
    monitor.command("hangup", "").await;
    monitor.event("CALL_CLOSED", 10).await;
    let row = tests::eventually("the Monitor's call log row", || async {
        let (_, log) = c.call("call_log", json!({"offset": 0})).await;
        let row = log["records"][0].clone();
        (row["call_type"] == "Monitor" && row["end_state"] == "Answered").then_some(row)
    })
    .await;
    assert_eq!(row["from"], "9901", "{row}");
    drop(monitor);
    vto.stop().await;
}
