//! This device as SIP server, with sipp as the indoor monitors: rooms added
//! through the API register with digest auth over UDP and TCP, wrong
//! passwords are refused and block the address after 5, registrations
//! survive a restart, garbage leaves the server serving; calls and
//! messages go through the proxy between registered monitors.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    sipp::{self, Sipp},
    Vto,
};

fn room(no: &str) -> Value {
    json!({"first_name": "Ada", "last_name": "Lovelace", "nick_name": "", "room_no": no, "register_type": "Public"})
}

async fn online(c: &tests::Client, no: &str) -> u64 {
    let (code, page) = c.call("rooms", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    page["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"]["room_no"] == no)
        .map(|r| r["online"].as_u64().unwrap())
        .unwrap_or_else(|| panic!("no room {no}: {page}"))
}

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
    let generated = page["new_password"][1].as_str().unwrap().to_string();
    assert_eq!(page["new_password"][0], "9901");
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
    assert_eq!(page["new_password"], Value::Null);
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

    // Garbage does not stop the server.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for junk in [
        &b"\x00\xff garbage"[..],
        b"REGISTER\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        &[b'A'; 70_000][..60_000],
    ] {
        sock.send_to(junk, sip).await.unwrap();
    }
    let run = sipp::run("register.xml", sip, false, "9901#2", &generated, 1).await;
    assert!(run.passed, "{}", run.output);

    // Registrations survive a restart.
    let dir = vto.data_dir.clone();
    vto.stop().await;
    let mut vto = Vto::start_in(&dir, &[]).await.unwrap();
    let c = vto.client();
    c.login(tests::STRONG).await;
    assert_eq!(online(&c, "9901").await, 3);

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
    assert!(vto.logs().contains("is blocked"));
    // The web login from the same address is a separate matter.
    let (code, _) = c.call("rooms", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    vto.stop().await;
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
    // Time for the callees' sipp to bind its port.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
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
    for (user, port, tcp) in [
        ("9901#0", caller, false),
        ("9902#0", m0, false),
        ("9902#1", m1, false),
        ("9904#0", m2, true),
    ] {
        let run = Sipp::new("register.xml", sip, user)
            .password(PW)
            .port(port)
            .tcp(tcp)
            .run()
            .await;
        assert!(run.passed, "{}", run.output);
    }
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

    // Strangers are no callers, and loops end.
    let invite = |max_forwards: u32| {
        format!(
            "INVITE sip:9902@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{max_forwards}\r\n\
             Max-Forwards: {max_forwards}\r\nFrom: <sip:9901%230@127.0.0.1>;tag=x\r\n\
             To: <sip:9902@127.0.0.1>\r\nCall-ID: raw{max_forwards}\r\nCSeq: 1 INVITE\r\n\r\n"
        )
    };
    let ask = |port: u16, text: String| async move {
        let sock = tokio::net::UdpSocket::bind(("127.0.0.1", port))
            .await
            .unwrap();
        sock.send_to(text.as_bytes(), sip).await.unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) =
            tokio::time::timeout(std::time::Duration::from_secs(5), sock.recv_from(&mut buf))
                .await
                .expect("an answer")
                .unwrap();
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        ask(0, invite(70)).await,
        "SIP/2.0 403 Forbidden (register first)"
    );
    assert_eq!(ask(caller, invite(0)).await, "SIP/2.0 483 Too Many Hops");
    vto.stop().await;
}
