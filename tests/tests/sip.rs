//! This device as SIP server, with sipp as the indoor monitors: rooms added
//! through the API register with digest auth over UDP and TCP, wrong
//! passwords are refused and block the address after 5, registrations
//! survive a restart, garbage leaves the server serving; calls and
//! messages go through the proxy between registered monitors.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    online, room,
    sipp::{self, Sipp},
    Vto,
};

#[tokio::test]
async fn rooms_register_with_digest_auth_and_stay_registered() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");

    // A generated password, shown once.
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": null}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let generated = page["new_passwords"][0][1].as_str().unwrap().to_string();
    assert_eq!(page["new_passwords"][0][0], "9901");
    assert_eq!(generated.len(), 16);
    let (_, again) = c.call("rooms", json!({})).await;
    assert!(!again.to_string().contains(&generated), "shown once only");
    // A typed one, weak: saved with a warning. Bad ones: refused.
    let (code, page) = c
        .call(
            "add_room",
            json!({"room": room("9902"), "password": "123456"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["new_passwords"], json!([]));
    assert!(page["warnings"][0]
        .as_str()
        .unwrap()
        .contains("factory default"));
    for (body, field) in [
        (
            json!({"room": room("9903"), "password": "pw#1!x"}),
            "room-password",
        ),
        (json!({"room": room("99x"), "password": null}), "room-no"),
        (json!({"room": room("9901"), "password": null}), "room-no"),
    ] {
        let (code, err) = c.call("add_room", body).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["Invalid"]["field"], field);
    }

    // The main monitor over UDP, an extension over TCP.
    let run = sipp::run("register.xml", sip, false, "9901#0", &generated, 1).await;
    assert!(run.passed, "{}", run.output);
    let run = sipp::run("register.xml", sip, true, "9901#1", &generated, 1).await;
    assert!(run.passed, "{}", run.output);
    assert_eq!(online(&c, "9901").await, 2);
    assert_eq!(online(&c, "9902").await, 0);
    // The weak typed password works too (MD5 digest, as Dahua devices).
    let run = sipp::run("register.xml", sip, false, "9902#0", "123456", 1).await;
    assert!(run.passed, "{}", run.output);
    assert!(
        !vto.logs().contains(&generated),
        "the password is never logged"
    );

    // A flood of garbage and broken messages does not stop the server.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let broken = [
        &b"\x00\xff garbage"[..],
        b"REGISTER\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        &[b'A'; 70_000][..60_000],
        b"INVITE sip:9901@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nContent-Length: 18446744073709551615\r\n\r\n",
        b"INVITE sip:9901@x SIP/2.0\r\nVia: nonsense\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:9901@x>\r\n\r\n",
        b"BYE sip:9901@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\nMax-Forwards: x\r\nCall-ID: a\r\nCSeq: 1 BYE\r\n\r\n",
        b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-vto-x-1\r\nCSeq: 1 INVITE\r\nCall-ID: a\r\n\r\n",
    ];
    for i in 0..4_000 {
        sock.send_to(broken[i % broken.len()], sip).await.unwrap();
    }
    let extension = tests::free_port();
    let run = Sipp::new("register.xml", sip, "9901#2")
        .password(&generated)
        .port(extension)
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    assert_eq!(online(&c, "9901").await, 3);

    // Registrations survive a restart.
    let dir = vto.data_dir.clone();
    vto.stop().await;
    let mut vto = Vto::start_in(&dir, &[]).await.unwrap();
    let c = vto.client();
    c.login(tests::STRONG).await;
    assert_eq!(online(&c, "9901").await, 3);

    // An extension unregisters (Expires: 0); the restarted device has
    // another SIP port.
    let sip = vto.sip.expect("vto prints its SIP address");
    let run = Sipp::new("unregister.xml", sip, "9901#2")
        .password(&generated)
        .port(extension)
        .run()
        .await;
    assert!(run.passed, "{}", run.output);
    assert_eq!(online(&c, "9901").await, 2);

    // Deleting a room drops its registrations.
    let (code, _) = c.call("delete_room", json!({"room_no": "9901"})).await;
    assert_eq!(code, StatusCode::OK);
    let (_, page) = c.call("rooms", json!({})).await;
    assert_eq!(page["rooms"].as_array().unwrap().len(), 1);
    vto.stop().await;
}

#[tokio::test]
async fn five_wrong_passwords_block_the_address() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    let (code, _) = c
        .call(
            "add_room",
            json!({"room": room("101"), "password": "Door2026Bell"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    // Each call: challenged, then refused again for the wrong password.
    let run = sipp::run("register-refused.xml", sip, false, "101#0", "wrong-pass", 5).await;
    assert!(run.passed, "{}", run.output);
    // Now even the right password is not looked at: 403 at once.
    let run = sipp::run(
        "register-blocked.xml",
        sip,
        false,
        "101#0",
        "Door2026Bell",
        1,
    )
    .await;
    assert!(run.passed, "{}", run.output);
    // Logged before the 403 left; its line reaches the test a moment later.
    tests::eventually("the block logged", || async {
        vto.logs().contains("is blocked").then_some(())
    })
    .await;
    // The web login from the same address is a separate matter.
    let (code, _) = c.call("rooms", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    vto.stop().await;
}

/// Registers each (user, local port, over TCP) with `password`.
async fn register(sip: std::net::SocketAddr, password: &str, devices: &[(&str, u16, bool)]) {
    for (user, port, tcp) in devices {
        let run = Sipp::new("register.xml", sip, user)
            .password(password)
            .port(*port)
            .tcp(*tcp)
            .run()
            .await;
        assert!(run.passed, "{}", run.output);
    }
}

/// Sends `text` from 127.0.0.1:`port` (0: any) and returns the first line
/// of the answer.
async fn ask(sip: std::net::SocketAddr, port: u16, text: String) -> String {
    let sock = tokio::net::UdpSocket::bind(("127.0.0.1", port))
        .await
        .unwrap();
    sock.send_to(text.as_bytes(), sip).await.unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = tokio::time::timeout(std::time::Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A call from `caller` (registered from `from`) to `to`, with one sipp
/// per callee (scenario, user, port, over TCP) waiting for it.
async fn call(
    sip: std::net::SocketAddr,
    (caller, from): (&str, u16),
    scenario: &str,
    to: &str,
    callees: &[(&str, &str, u16, bool)],
) {
    let waiting: Vec<_> = callees
        .iter()
        .map(|(scenario, user, port, tcp)| {
            Sipp::new(scenario, sip, user).port(*port).tcp(*tcp).spawn()
        })
        .collect();
    // The callees' sipp bound to their ports before the call.
    for (_, _, port, tcp) in callees {
        tests::wait_bound(*port, *tcp).await;
    }
    let run = Sipp::new(scenario, sip, caller)
        .port(from)
        .fields(&[to])
        .run()
        .await;
    let mut runs = vec![run];
    for w in waiting {
        runs.push(w.await.unwrap());
    }
    let failed: Vec<&str> = runs
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.output.as_str())
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[tokio::test]
async fn calls_and_messages_go_through_the_proxy_between_registered_monitors() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    for no in ["9901", "9902", "9903", "9904"] {
        let (code, page) = c
            .call("add_room", json!({"room": room(no), "password": PW}))
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
    }
    let (caller, m0, m1, m2) = (
        tests::free_port(),
        tests::free_port(),
        tests::free_port(),
        tests::free_port(),
    );
    // 9901's monitor calls; room 9902 has two monitors; 9903 has none
    // online; 9904's monitor is on TCP.
    register(
        sip,
        PW,
        &[
            ("9901#0", caller, false),
            ("9902#0", m0, false),
            ("9902#1", m1, false),
            ("9904#0", m2, true),
        ],
    )
    .await;
    let me = ("9901#0", caller);

    // Both monitors ring; the first answers, the other is cancelled; ACK
    // and BYE follow the recorded route.
    call(
        sip,
        me,
        "caller-call.xml",
        "9902",
        &[
            ("callee-answer.xml", "9902#0", m0, false),
            ("callee-ring.xml", "9902#1", m1, false),
        ],
    )
    .await;
    // Both busy: busy.
    call(
        sip,
        me,
        "caller-busy.xml",
        "9902",
        &[
            ("callee-busy.xml", "9902#0", m0, false),
            ("callee-busy.xml", "9902#1", m1, false),
        ],
    )
    .await;
    // The caller gives up while both ring.
    call(
        sip,
        me,
        "caller-cancel.xml",
        "9902",
        &[
            ("callee-ring.xml", "9902#0", m0, false),
            ("callee-ring.xml", "9902#1", m1, false),
        ],
    )
    .await;
    // A text message reaches every monitor of the room.
    call(
        sip,
        me,
        "caller-message.xml",
        "9902",
        &[
            ("callee-message.xml", "9902#0", m0, false),
            ("callee-message.xml", "9902#1", m1, false),
        ],
    )
    .await;
    // A monitor's own number reaches it alone, here over TCP.
    call(
        sip,
        me,
        "caller-call.xml",
        "9904#0",
        &[("callee-answer.xml", "9904#0", m2, true)],
    )
    .await;
    // Nobody has 7777; nobody of 9903 is online.
    call(sip, me, "caller-404.xml", "7777", &[]).await;
    call(sip, me, "caller-480.xml", "9903", &[]).await;

    // Every call is in the call log, newest first; messages are not.
    let (code, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(code, StatusCode::OK, "{log}");
    let rows: Vec<(&str, &str, &str, &str)> = log["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["from"].as_str().unwrap(),
                r["to"].as_str().unwrap(),
                r["room_no"].as_str().unwrap(),
                r["end_state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("9901#0", "9903", "9903", "Missed"),
            ("9901#0", "7777", "9901", "Rejected"),
            ("9901#0", "9904#0", "9904", "Answered"),
            ("9901#0", "9902", "9902", "Cancelled"),
            ("9901#0", "9902", "9902", "Rejected"),
            ("9901#0", "9902", "9902", "Answered"),
        ]
    );
    assert_eq!(log["total"], 6);
    for answered in [2, 5] {
        // The caller hangs up 300 ms after the ACK.
        let talk = log["records"][answered]["talk_ms"].as_u64().unwrap();
        assert!((250..5_000).contains(&talk), "talk time {talk} ms");
    }
    assert!(log["records"][0]["talk_ms"].is_null());
    let (code, csv) = c.call("export_call_log", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert!(csv
        .starts_with("No.,Call Type,Room No.,From,To,Begin Time,Talk Time,End State,Snapshot\r\n"));
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.lines().nth(1).unwrap().ends_with(",-,Missed,"));

    // Strangers are no callers, and loops end.
    let invite = |max_forwards: u32| {
        format!(
            "INVITE sip:9902@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{max_forwards}\r\n\
             Max-Forwards: {max_forwards}\r\nFrom: <sip:9901%230@127.0.0.1>;tag=x\r\n\
             To: <sip:9902@127.0.0.1>\r\nCall-ID: raw{max_forwards}\r\nCSeq: 1 INVITE\r\n\r\n"
        )
    };
    assert_eq!(
        ask(sip, 0, invite(70)).await,
        "SIP/2.0 403 Forbidden (register first)"
    );
    assert_eq!(
        ask(sip, caller, invite(0)).await,
        "SIP/2.0 483 Too Many Hops"
    );
    vto.stop().await;
}

#[tokio::test]
async fn rooms_are_added_in_batch_and_their_monitors_show_in_status() {
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    let batch = |layers: u32, first: u64, second: u64| {
        json!({"unit_layer_amount": layers, "room_amount_in_one_layer": 2,
               "first_floor_number": first, "second_floor_number": second})
    };
    // 2 floors of 2 rooms: each gets a password of its own, shown once.
    let (code, page) = c
        .call(
            "add_rooms",
            json!({"batch": batch(2, 1001, 1101), "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let shown: Vec<(String, String)> =
        serde_json::from_value(page["new_passwords"].clone()).unwrap();
    let rooms: Vec<&str> = shown.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(rooms, ["1001", "1002", "1101", "1102"]);
    let mut passwords: Vec<&str> = shown.iter().map(|(_, p)| p.as_str()).collect();
    passwords.dedup();
    assert_eq!(passwords.len(), 4);
    // A third floor: the first two are there already.
    let (code, page) = c
        .call(
            "add_rooms",
            json!({"batch": batch(3, 1001, 1101), "password": "123456"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["skipped"], json!(["1001", "1002", "1101", "1102"]));
    assert_eq!(page["new_passwords"], json!([]), "typed: nothing to show");
    assert!(page["warnings"][0]
        .as_str()
        .unwrap()
        .contains("factory default"));
    assert_eq!(page["rooms"].as_array().unwrap().len(), 6);
    // Overlapping floors: refused, nothing added.
    let (code, err) = c
        .call(
            "add_rooms",
            json!({"batch": batch(2, 2001, 2002), "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["Invalid"]["field"], "batch-second");
    let (_, page) = c.call("rooms", json!({})).await;
    assert_eq!(page["rooms"].as_array().unwrap().len(), 6);

    // 1101's main monitor registers: Status shows it online, with its
    // address; the rooms nobody registered for show offline.
    let run = sipp::run("register.xml", sip, false, "1101#0", &shown[2].1, 1).await;
    assert!(run.passed, "{}", run.output);
    let (code, status) = c.call("sip_status", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{status}");
    let devices: Vec<(&str, bool, &str)> = status["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["number"].as_str().unwrap(),
                d["online"].as_bool().unwrap(),
                d["ip"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        devices,
        [
            ("1001", false, ""),
            ("1002", false, ""),
            ("1101#0", true, "127.0.0.1"),
            ("1102", false, ""),
            ("1201", false, ""),
            ("1202", false, ""),
        ]
    );
    assert_eq!(status["devices"][2]["user_agent"], "sipp");
    assert!(status["devices"][2]["last_registration"].as_i64().unwrap() > 0);
    vto.stop().await;
}

#[tokio::test]
async fn the_centre_call_number_reaches_the_vts_within_call_centre_time() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // The management centre, on this machine; another one elsewhere with a
    // generated password, shown once.
    let (code, page) = c
        .call(
            "add_station",
            json!({"kind": "Vts", "station": {"number": "888888", "ip": "127.0.0.1"}, "password": PW}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let (code, page) = c
        .call(
            "add_station",
            json!({"kind": "Vts", "station": {"number": "888001", "ip": "127.0.0.9"}, "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["new_passwords"][0][0], "888001");
    let far = page["new_passwords"][0][1].as_str().unwrap().to_string();
    assert_eq!(far.len(), 16);
    for (body, field) in [
        (
            json!({"kind": "Vts", "station": {"number": "888888", "ip": "127.0.0.1"}, "password": PW}),
            "vts-no",
        ),
        (
            json!({"kind": "Vts", "station": {"number": "888002", "ip": "vts.local"}, "password": PW}),
            "vts-ip",
        ),
    ] {
        let (code, err) = c.call("add_station", body).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["Invalid"]["field"], field);
    }
    // A VTS registers only from its IP Address.
    let run = sipp::run("register-blocked.xml", sip, false, "888001", &far, 1).await;
    assert!(run.passed, "{}", run.output);

    let (caller, centre) = (tests::free_port(), tests::free_port());
    register(
        sip,
        PW,
        &[("9901#0", caller, false), ("888888", centre, false)],
    )
    .await;
    let (_, status) = c.call("sip_status", json!({})).await;
    let vts: Vec<(&str, &str, bool)> = status["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "VTS")
        .map(|d| {
            (
                d["number"].as_str().unwrap(),
                d["ip"].as_str().unwrap(),
                d["online"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(vts, [("888001", "", false), ("888888", "127.0.0.1", true)]);

    // The monitor calls the centre: the VTS answers.
    let me = ("9901#0", caller);
    call(
        sip,
        me,
        "caller-call.xml",
        "888888",
        &[("callee-answer.xml", "888888", centre, false)],
    )
    .await;
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(log["records"][0]["call_type"], "CentreCall");
    assert_eq!(log["records"][0]["end_state"], "Answered");
    assert_eq!(log["records"][0]["room_no"], "9901");

    // Outside the Call Centre Time (the device's clock is UTC here): 480.
    let (code, mut basic) = c.call("basic_settings", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    let now_minute = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
        % 1440) as u16;
    basic["call_centre_time"] =
        json!({"start": (now_minute + 60) % 1440, "end": (now_minute + 120) % 1440});
    let (code, saved) = c
        .call("save_basic_settings", json!({"settings": basic}))
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    call(sip, me, "caller-480.xml", "888888", &[]).await;
    let invite = format!(
        "INVITE sip:888888@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{caller};branch=z9hG4bKc1\r\n\
         From: <sip:9901%230@127.0.0.1>;tag=x\r\nTo: <sip:888888@127.0.0.1>\r\n\
         Call-ID: outside\r\nCSeq: 1 INVITE\r\n\r\n"
    );
    assert_eq!(
        ask(sip, caller, invite).await,
        "SIP/2.0 480 Outside Call Centre Time"
    );
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(log["records"][0]["end_state"], "Missed");
    vto.stop().await;
}

/// (number, IP, online, in use) of each VTO on VTO No. Management.
async fn vto_list(c: &tests::Client) -> Vec<(String, String, bool, bool)> {
    let (code, page) = c.call("stations", json!({"kind": "Vto"})).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["station"]["number"].as_str().unwrap().to_string(),
                e["station"]["ip"].as_str().unwrap().to_string(),
                e["online"].as_bool().unwrap(),
                e["in_use"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn door_stations_register_from_their_address_and_are_called_by_rec_no() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    // This VTO is in the list, in use, at the SIP server's address.
    let own = ("8001".to_string(), "127.0.0.1".to_string(), true, true);
    assert_eq!(vto_list(&c).await, std::slice::from_ref(&own));
    let add = |number: &str, ip: &str, password: Option<&str>| json!({"kind": "Vto", "station": {"number": number, "ip": ip}, "password": password});
    let (code, page) = c
        .call("add_station", add("8002", "127.0.0.1", Some(PW)))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // One number, one account: not this VTO's, a room's, a VTS's or the
    // centre's.
    let (code, page) = c
        .call(
            "add_station",
            json!({"kind": "Vts", "station": {"number": "8100", "ip": "127.0.0.1"}, "password": PW}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    for number in ["8001", "8002", "9901", "8100", "888888"] {
        let (code, err) = c
            .call("add_station", add(number, "127.0.0.1", Some(PW)))
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{number}: {err}");
        assert_eq!(err["Invalid"]["field"], "vto-no", "{number}");
    }
    // The VTO in use cannot be modified or deleted.
    let (code, err) = c
        .call(
            "save_station",
            json!({"kind": "Vto", "number": "8001", "station": {"number": "8001", "ip": "127.0.0.2"}, "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err.to_string().contains("in use"), "{err}");
    let (code, err) = c
        .call("delete_station", json!({"kind": "Vto", "number": "8001"}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");

    // 8002 registers (from its IP Address) and shows online, also on Status.
    let (door, monitor) = (tests::free_port(), tests::free_port());
    register(
        sip,
        PW,
        &[("8002", door, false), ("9901#0", monitor, false)],
    )
    .await;
    let list = vto_list(&c).await;
    assert_eq!(list[1], ("8002".into(), "127.0.0.1".into(), true, false));
    let (_, status) = c.call("sip_status", json!({})).await;
    assert!(
        status["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "VTO" && d["number"] == "8002" && d["online"] == true),
        "{status}"
    );
    // The monitor calls the door station by its Rec No.
    call(
        sip,
        ("9901#0", monitor),
        "caller-call.xml",
        "8002",
        &[("callee-answer.xml", "8002", door, false)],
    )
    .await;
    let (_, log) = c.call("call_log", json!({"offset": 0})).await;
    assert_eq!(log["records"][0]["to"], "8002");
    assert_eq!(log["records"][0]["end_state"], "Answered");

    // A VTO elsewhere may not register from here.
    let (code, page) = c
        .call("add_station", add("8003", "127.0.0.9", Some(PW)))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let run = sipp::run("register-blocked.xml", sip, false, "8003", PW, 1).await;
    assert!(run.passed, "{}", run.output);

    // A new Rec No.: a new password (generated, shown once), the old
    // registration gone; the new number registers with the new password.
    let (code, page) = c
        .call(
            "save_station",
            json!({"kind": "Vto", "number": "8002", "station": {"number": "8004", "ip": "127.0.0.1"}, "password": null}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["new_passwords"][0][0], "8004");
    let fresh = page["new_passwords"][0][1].as_str().unwrap().to_string();
    let list = vto_list(&c).await;
    assert!(
        list.contains(&("8004".into(), "127.0.0.1".into(), false, false)),
        "{list:?}"
    );
    assert!(!list.iter().any(|v| v.0 == "8002"), "{list:?}");
    let run = sipp::run("register.xml", sip, false, "8004", &fresh, 1).await;
    assert!(run.passed, "{}", run.output);
    assert!(!vto.logs().contains(&fresh), "the password is never logged");

    // Clear: all but this VTO.
    let (code, page) = c
        .call("delete_station", json!({"kind": "Vto", "number": null}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(vto_list(&c).await, [own]);
    vto.stop().await;
}

#[tokio::test]
async fn publish_information_reaches_the_monitors_and_is_kept_in_history() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    for no in ["9901", "9902"] {
        let (code, page) = c
            .call("add_room", json!({"room": room(no), "password": PW}))
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
    }
    // 9901's main monitor takes the message, its extension refuses it;
    // 9902 has no monitor online.
    let (main, extension) = (tests::free_port(), tests::free_port());
    register(
        sip,
        PW,
        &[("9901#0", main, false), ("9901#1", extension, false)],
    )
    .await;
    let publication = |number: &str, all: bool| {
        json!({"publication": {"number": number, "all": all, "title": "Water",
            "content": "No water from 9 to 12.\nThe caretaker"}})
    };
    let monitors = [
        Sipp::new("callee-publish.xml", sip, "9901#0")
            .port(main)
            .spawn(),
        Sipp::new("callee-refuse.xml", sip, "9901#1")
            .port(extension)
            .spawn(),
    ];
    tests::wait_bound(main, false).await;
    tests::wait_bound(extension, false).await;
    let (code, record) = c.call("publish", publication("9901", false)).await;
    assert_eq!(code, StatusCode::OK, "{record}");
    for m in monitors {
        let run = m.await.unwrap();
        assert!(run.passed, "{}", run.output);
    }
    let mut results: Vec<(String, Value)> = record["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device"].as_str().unwrap().to_string(),
                d["result"].clone(),
            )
        })
        .collect();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        results,
        [
            ("9901#0".to_string(), json!("Delivered")),
            ("9901#1".to_string(), json!({"Refused": [403, "Forbidden"]})),
        ]
    );
    assert_eq!(record["target"], "9901");

    // All device: the room with nobody online is told as Offline.
    let monitors = [
        Sipp::new("callee-publish.xml", sip, "9901#0")
            .port(main)
            .spawn(),
        Sipp::new("callee-publish.xml", sip, "9901#1")
            .port(extension)
            .spawn(),
    ];
    tests::wait_bound(main, false).await;
    tests::wait_bound(extension, false).await;
    let (code, record) = c.call("publish", publication("", true)).await;
    assert_eq!(code, StatusCode::OK, "{record}");
    for m in monitors {
        let run = m.await.unwrap();
        assert!(run.passed, "{}", run.output);
    }
    assert_eq!(record["target"], "All device");
    let offline: Vec<&Value> = record["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["result"] == "Offline")
        .collect();
    assert_eq!(offline.len(), 1, "{record}");
    assert_eq!(offline[0]["device"], "9902");

    // Unknown numbers and bad input are refused; nothing is sent or kept.
    for (body, field) in [
        (publication("7777", false), "publish-no"),
        (publication("", false), "publish-no"),
        (
            json!({"publication": {"number": "9901", "all": false, "title": "a\nb", "content": "x"}}),
            "publish-title",
        ),
        (
            json!({"publication": {"number": "9901", "all": false, "title": "t", "content": ""}}),
            "publish-content",
        ),
    ] {
        let (code, err) = c.call("publish", body).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["Invalid"]["field"], field, "{err}");
    }

    // History Info: newest first, kept across a restart.
    let dir = vto.data_dir.clone();
    vto.stop().await;
    let mut vto = Vto::start_in(&dir, &[]).await.unwrap();
    let c = vto.client();
    c.login(tests::STRONG).await;
    let (code, page) = c.call("publish_history", json!({"offset": 0})).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["records"][0]["target"], "All device");
    assert_eq!(page["records"][1]["target"], "9901");
    assert_eq!(page["records"][1]["title"], "Water");
    vto.stop().await;
}

#[tokio::test]
async fn user_info_leaves_without_passwords_and_an_import_keeps_known_accounts_registered() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    let (code, page) = c
        .call("add_room", json!({"room": room("9901"), "password": PW}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    for (kind, number) in [("Vto", "8002"), ("Vts", "888888")] {
        let (code, page) = c
            .call(
                "add_station",
                json!({"kind": kind, "station": {"number": number, "ip": "127.0.0.1"}, "password": PW}),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
    }
    register(sip, PW, &[("9901#0", tests::free_port(), false)]).await;
    assert_eq!(online(&c, "9901").await, 1);

    let (code, mut file) = c.call("export_user_info", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{file}");
    assert_eq!(file["format"], "vto-user-info");
    assert_eq!(file["rooms"][0]["room_no"], "9901");
    assert_eq!(file["vto"][0]["number"], "8002");
    assert_eq!(file["vts"][0]["number"], "888888");
    let text = file.to_string();
    assert!(
        !text.contains(PW) && !text.contains("md5") && !text.contains("sha256"),
        "{text}"
    );

    // A bad file changes nothing.
    let mut bad = file.clone();
    bad["vts"][0]["number"] = json!("9901");
    let (code, err) = c
        .call("import_user_info", json!({"file": bad.to_string()}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err.to_string().contains("vts[0].number"), "{err}");
    assert_eq!(online(&c, "9901").await, 1);

    // Room 9902 added, the VTS gone: 9901 keeps its password (and its
    // registration), 9902 gets a new one, shown once.
    file["rooms"].as_array_mut().unwrap().push(room("9902"));
    file["vts"] = json!([]);
    let (code, done) = c
        .call("import_user_info", json!({"file": file.to_string()}))
        .await;
    assert_eq!(code, StatusCode::OK, "{done}");
    assert_eq!(
        (
            done["rooms"].as_u64(),
            done["vto"].as_u64(),
            done["vts"].as_u64()
        ),
        (Some(2), Some(1), Some(0))
    );
    assert_eq!(done["new_passwords"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!(done["new_passwords"][0][0], "9902");
    let fresh = done["new_passwords"][0][1].as_str().unwrap().to_string();
    assert_eq!(online(&c, "9901").await, 1, "still registered");
    let (_, vts) = c.call("stations", json!({"kind": "Vts"})).await;
    assert_eq!(vts["list"], json!([]));
    let run = sipp::run("register.xml", sip, false, "9902#0", &fresh, 1).await;
    assert!(run.passed, "{}", run.output);
    let run = sipp::run("register.xml", sip, false, "8002", PW, 1).await;
    assert!(run.passed, "the VTO keeps its password: {}", run.output);
    assert!(!vto.logs().contains(&fresh), "never logged");
    vto.stop().await;
}

#[tokio::test]
async fn monitors_register_and_call_over_ipv6() {
    const PW: &str = "Door2026Bell";
    let mut vto = Vto::start_with(&["--sip", "[::1]:0"]).await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    assert!(sip.is_ipv6(), "{sip}");
    for no in ["9901", "9902"] {
        let (code, page) = c
            .call("add_room", json!({"room": room(no), "password": PW}))
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
    }
    let (caller, callee) = (tests::free_port(), tests::free_port());
    register(
        sip,
        PW,
        &[("9901#0", caller, false), ("9902#0", callee, false)],
    )
    .await;
    call(
        sip,
        ("9901#0", caller),
        "caller-call.xml",
        "9902",
        &[("callee-answer.xml", "9902#0", callee, false)],
    )
    .await;
    let (_, status) = c.call("sip_status", json!({})).await;
    assert_eq!(status["devices"][0]["ip"], "::1", "{status}");
    vto.stop().await;
}

/// The door's alarms go to the management centre (the VTS numbered as the
/// Centre Call No.) as MESSAGEs; each alarm record keeps the outcome.
#[tokio::test]
async fn door_alarms_reach_the_management_centre() {
    const PW: &str = "Centre2026Desk";
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.unwrap();
    let (code, page) = c
        .call(
            "add_station",
            json!({"kind": "Vts", "station": {"number": "888888", "ip": "127.0.0.1"}, "password": PW}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let port = tests::free_port();
    register(sip, PW, &[("888888", port, false)]).await;
    let centre = Sipp::new("centre-alarm.xml", sip, "888888")
        .port(port)
        .calls(2)
        .spawn();
    tests::wait_bound(port, false).await;
    // Door Sensor Check Time 1 s; the door forced, then left open.
    let (code, saved) = c
        .call(
            "save_access_settings",
            json!({"settings": {"responding_interval_s": 1, "unlock_period_s": 1,
                "sensor_check_s": 1, "sensor_check_enable": false, "contact": "No",
                "first_unlock_command": "123"}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{saved}");
    let (code, s) = c.call("simulate", json!({"action": "OpenDoor"})).await;
    assert_eq!(code, StatusCode::OK, "{s}");
    let run = centre.await.unwrap();
    assert!(run.passed, "{}", run.output);
    let cr = &c;
    let alarms = tests::eventually("both alarms delivered", || async move {
        let (_, page) = cr.call("alarm_log", json!({"offset": 0})).await;
        let done = page["records"].as_array().is_some_and(|r| {
            r.len() == 2 && r.iter().all(|a| a["centre"] == "Delivered to 888888")
        });
        done.then_some(page)
    })
    .await;
    assert_eq!(alarms["records"][0]["kind"], "DoorOpenTooLong", "{alarms}");
    assert_eq!(alarms["records"][1]["kind"], "ForcedDoor", "{alarms}");
    c.call("simulate", json!({"action": "CloseDoor"})).await;
    vto.stop().await;
}
