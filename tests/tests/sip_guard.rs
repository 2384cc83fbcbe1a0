//! Issue 22 against the running binary: forged REGISTERs "from" a
//! registered monitor's address do not lock it out (while garbage from an
//! unknown address still blocks that address), and 2,000 idle TCP
//! connections from one address to SIP, DHIP and RTSP keep no one else out
//! and are closed after the first request timeout.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::json;
use sip::digest::{ha1, Algorithm, Credentials};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream, UdpSocket},
};

use tests::{dhip::DhipClient, sipp::Sipp, Vto, STRONG};

const PW: &str = "Door2026Bell";

/// A SIP user agent on a raw UDP socket: REGISTERs with one Call-ID (as
/// a device does for all its refreshes), answers what it is sent.
struct Ua {
    sock: UdpSocket,
    sip: SocketAddr,
    user: String,
    call_id: String,
    cseq: u32,
}

impl Ua {
    async fn new(ip: &str, sip: SocketAddr, user: &str, call_id: &str) -> Ua {
        Ua {
            sock: UdpSocket::bind((ip, 0)).await.unwrap(),
            sip,
            user: user.to_string(),
            call_id: call_id.to_string(),
            cseq: 0,
        }
    }

    fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// A REGISTER with `auth` as its Authorization, if any.
    fn register_text(&mut self, auth: Option<&str>) -> String {
        self.cseq += 1;
        let (sip, me) = (self.sip, self.local());
        let aor = self.user.replace('#', "%23");
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{}-{};rport\r\n\
             From: <sip:{aor}@{sip}>;tag=ua\r\nTo: <sip:{aor}@{sip}>\r\nCall-ID: {}\r\n\
             CSeq: {} REGISTER\r\nContact: <sip:{aor}@{me}>\r\nExpires: 600\r\n\
             Max-Forwards: 70\r\n{auth}Content-Length: 0\r\n\r\n",
            self.call_id, self.cseq, self.call_id, self.cseq
        )
    }

    /// Sends `text`, returns the status code of the response to it.
    async fn exchange(&mut self, text: &str) -> (u16, String) {
        self.sock.send_to(text.as_bytes(), self.sip).await.unwrap();
        self.response().await
    }

    /// The next response (requests sent to it on the way are answered 200).
    async fn response(&mut self) -> (u16, String) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, _) =
                tokio::time::timeout(Duration::from_secs(10), self.sock.recv_from(&mut buf))
                    .await
                    .expect("an answer from the device")
                    .unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            if let Some(code) = text
                .strip_prefix("SIP/2.0 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
            {
                return (code, text);
            }
            self.answer(&text).await;
        }
    }

    /// Answers a request 200.
    async fn answer(&self, request: &str) {
        let mut head = String::from("SIP/2.0 200 OK\r\n");
        for line in request.lines() {
            let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
            if ["via", "from", "to", "call-id", "cseq"].contains(&name.as_str()) {
                head.push_str(line);
                if name == "to" && !line.contains("tag=") {
                    head.push_str(";tag=callee");
                }
                head.push_str("\r\n");
            }
        }
        head.push_str("Content-Length: 0\r\n\r\n");
        self.sock.send_to(head.as_bytes(), self.sip).await.unwrap();
    }

    /// The nonce of a 401's challenge.
    fn nonce(response: &str) -> String {
        let line = response
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
            .unwrap_or_else(|| panic!("no challenge: {response}"));
        let value = line.split_once(':').unwrap().1;
        sip::digest::params(value)
            .and_then(|p| p.into_iter().find(|(k, _)| k == "nonce"))
            .map(|(_, v)| v)
            .expect("a nonce")
    }

    fn authorization(&self, nonce: &str, password: &str) -> String {
        let mut c = Credentials {
            username: self.user.clone(),
            realm: "VDP".into(),
            nonce: nonce.into(),
            uri: format!("sip:{}", self.sip),
            response: String::new(),
            algorithm: Algorithm::Md5,
            qop: None,
            opaque: None,
        };
        c.response = c.expected(
            "REGISTER",
            &ha1(Algorithm::Md5, &self.user, "VDP", password),
        );
        format!(
            "Digest username=\"{}\", realm=\"VDP\", nonce=\"{nonce}\", uri=\"{}\", \
             response=\"{}\", algorithm=MD5",
            c.username, c.uri, c.response
        )
    }

    /// REGISTER, challenge, REGISTER with `password`: the final code.
    async fn register(&mut self, password: &str) -> u16 {
        let text = self.register_text(None);
        let (code, resp) = self.exchange(&text).await;
        if code != 401 {
            return code;
        }
        let auth = self.authorization(&Self::nonce(&resp), password);
        let text = self.register_text(Some(&auth));
        self.exchange(&text).await.0
    }
}

#[tokio::test]
async fn forged_registers_do_not_lock_a_registered_monitor_out() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    for no in ["9901", "9902"] {
        let (s, page) = c
            .call("add_room", json!({"room": tests::room(no), "password": PW}))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
    }
    let mut monitor = Ua::new("127.0.0.1", sip, "9901#0", "monitor-9901-0").await;
    assert_eq!(monitor.register(PW).await, 200);

    // Forged REGISTERs for the monitor's account from its address (another
    // port: a forger writes the address, not the port it cannot know):
    // garbage credentials, a made-up nonce, then wrong passwords.
    for i in 0..6 {
        let mut forger = Ua::new("127.0.0.1", sip, "9901#0", &format!("forged-{i}")).await;
        let text = forger.register_text(Some("Digest garbage"));
        let code = forger.exchange(&text).await.0;
        assert!(code == 400 || code == 403, "{code}");
        // (403 once the account is throttled from there.)
        let made_up = forger.authorization("0123456789abcdef0123456789abcdef", "guess");
        let text = forger.register_text(Some(&made_up));
        let code = forger.exchange(&text).await.0;
        assert!(code == 401 || code == 403, "{code}");
        let code = forger.register("wrong-password").await;
        assert!(code == 401 || code == 403, "{code}");
    }
    // The last forgeries were refused unchecked (the account is throttled
    // from there), even with the right password.
    let mut forger = Ua::new("127.0.0.1", sip, "9901#0", "forged-right").await;
    assert_eq!(forger.register(PW).await, 403);

    // The monitor refreshes its registration: still welcome.
    assert_eq!(monitor.register(PW).await, 200);
    assert_eq!(monitor.register(PW).await, 200);
    // Another monitor on the same address registers too, and reaches it.
    let mut other = Ua::new("127.0.0.1", sip, "9902#0", "monitor-9902-0").await;
    assert_eq!(other.register(PW).await, 200);
    let me = other.local();
    let options = format!(
        "OPTIONS sip:9901@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKopt;rport\r\n\
         From: <sip:9902%230@{sip}>;tag=o\r\nTo: <sip:9901@{sip}>\r\nCall-ID: options-1\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    other.sock.send_to(options.as_bytes(), sip).await.unwrap();
    // The monitor is sent the OPTIONS and answers it; the caller hears 200.
    let mut buf = vec![0u8; 65_536];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), monitor.sock.recv_from(&mut buf))
        .await
        .expect("the OPTIONS reaches the monitor")
        .unwrap();
    let forwarded = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(forwarded.starts_with("OPTIONS "), "{forwarded}");
    monitor.answer(&forwarded).await;
    let (code, resp) = other.response().await;
    assert_eq!(code, 200, "{resp}");

    // An unknown address sending garbage is blocked as before.
    let mut stranger = Ua::new("127.0.0.5", sip, "9901#0", "stranger").await;
    for _ in 0..5 {
        let text = stranger.register_text(Some("Digest garbage"));
        assert_eq!(stranger.exchange(&text).await.0, 400);
    }
    let text = stranger.register_text(None);
    assert_eq!(stranger.exchange(&text).await.0, 403);
    tests::eventually("the stranger's block in the log", || async {
        vto.logs().contains("127.0.0.5 is blocked").then_some(())
    })
    .await;
}

/// Raises this process's open files limit to its hard limit (2,000
/// sockets per listener); the device, its child, inherits it.
#[allow(unsafe_code)] // getrlimit and setrlimit, nowhere else
fn raise_open_files() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    assert!(
        lim.rlim_cur >= 8192,
        "open files hard limit {}",
        lim.rlim_max
    );
}

/// `n` connections from `from` to `to`, 100 at a time. After each batch
/// it waits until the device has reset all but `limit` of them, so the
/// kernel's accept backlog never overflows and every connection reaches
/// the device (a flood faster than the accept loop loses some in the
/// backlog, still open for the client and never seen by the device).
/// Returns the connections the device keeps; those it reset are closed.
async fn flood(from: IpAddr, to: SocketAddr, n: usize, limit: usize) -> Vec<TcpStream> {
    let mut open = Vec::new();
    let mut made = 0;
    let mut left = n;
    while left > 0 {
        let batch = left.min(100);
        left -= batch;
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..batch {
            connects.spawn(async move {
                let socket = TcpSocket::new_v4().expect("socket");
                socket.bind(SocketAddr::new(from, 0)).expect("bind");
                tokio::time::timeout(Duration::from_secs(5), socket.connect(to)).await
            });
        }
        while let Some(done) = connects.join_next().await {
            match done.expect("connect task") {
                Ok(Ok(s)) => open.push(s),
                // Reset by the device before the handshake was seen here:
                // it reached the device and was turned away.
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
                other => panic!("a connection to {to} not made: {other:?}"),
            }
            made += 1;
        }
        kept(from, to, limit).await;
        // Those reset carry ECONNRESET; closing them frees their ports.
        open.retain(|s: &TcpStream| matches!(s.take_error(), Ok(None)));
    }
    assert_eq!(made, n, "connections made to {to}");
    // The attacker does hold places while the others are served.
    assert!(established(from, to) > 0, "no connection kept to {to}");
    open
}

/// `n` connections from `from` to `to` that send nothing.
async fn idle(from: IpAddr, to: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::new(from, 0)).expect("bind");
        out.push(socket.connect(to).await.expect("connect"));
    }
    out
}

/// Established connections from `from` to `to` now (/proc/net/tcp: the
/// client side of each; those reset are gone from it).
fn established(from: IpAddr, to: SocketAddr) -> usize {
    let hex = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => format!("{:08X}", u32::from_le_bytes(v4.octets())),
        IpAddr::V6(_) => String::new(),
    };
    let local = format!("{}:", hex(from));
    let remote = format!("{}:{:04X}", hex(to.ip()), to.port());
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1).is_some_and(|a| a.starts_with(&local))
                && f.get(2) == Some(&remote.as_str())
                && f.get(3) == Some(&"01")
        })
        .count()
}

/// Waits (15 s at most) until no more than `n` connections from `from`
/// to `to` are established (the others reset as the device accepts them).
async fn kept(from: IpAddr, to: SocketAddr, n: usize) {
    let until = std::time::Instant::now() + Duration::from_secs(15);
    let mut now = established(from, to);
    while now > n {
        assert!(
            std::time::Instant::now() < until,
            "{now} connections kept to {to}, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        now = established(from, to);
    }
}

/// Whether every connection of `list` was closed by the device.
async fn all_closed(list: &mut [TcpStream]) -> bool {
    let mut one = [0u8; 1];
    for s in list.iter_mut() {
        match tokio::time::timeout(Duration::from_millis(1), s.read(&mut one)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            _ => return false,
        }
    }
    true
}

#[tokio::test]
async fn idle_connections_from_one_address_keep_no_one_out() {
    raise_open_files();
    let vto = Vto::start_with(&["--first-request-secs", "6"]).await;
    let c = vto.ready().await;
    let (sip, dhip, rtsp) = (vto.sip.unwrap(), vto.dhip.unwrap(), vto.rtsp.unwrap());
    let (s, page) = c
        .call(
            "add_room",
            json!({"room": tests::room("9901"), "password": PW}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let attacker: IpAddr = [127, 0, 0, 2].into();

    // SIP over TCP: 2,000 idle connections from 127.0.0.2; 32 are kept.
    let idle_sip = flood(attacker, sip, 2000, 32).await;
    // A monitor registers over TCP from 127.0.0.1 meanwhile.
    let run = Sipp::new("register.xml", sip, "9901#0")
        .password(PW)
        .tcp(true)
        .run()
        .await;
    assert!(run.passed, "{}", run.output);

    // DHIP: 16 kept from one address; a client logs in meanwhile.
    let idle_dhip = flood(attacker, dhip, 2000, 16).await;
    let mut d = DhipClient::connect(dhip).await;
    let ok = d.login("admin", STRONG).await;
    assert_eq!(ok["result"], true, "{ok}");

    // RTSP: 16 kept from one address; a client is answered meanwhile.
    let idle_rtsp = flood(attacker, rtsp, 2000, 16).await;
    let mut player = TcpStream::connect(rtsp).await.unwrap();
    player
        .write_all(format!("OPTIONS rtsp://{rtsp}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), player.read(&mut answer))
        .await
        .expect("RTSP answers")
        .unwrap();
    assert!(
        answer[..n].starts_with(b"RTSP/1.0 200"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );

    // A connection that trickles a byte at a time is closed all the same.
    let mut trickle = TcpStream::connect(sip).await.unwrap();
    let started = std::time::Instant::now();
    let closed = async {
        let mut one = [0u8; 1];
        loop {
            if trickle.write_all(b"O").await.is_err() {
                return;
            }
            match tokio::time::timeout(Duration::from_millis(500), trickle.read(&mut one)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), closed)
        .await
        .expect("a trickling SIP connection closed");
    assert!(started.elapsed() >= Duration::from_secs(5));

    // Idle connections are closed after the first request timeout (6 s):
    // checked on three fresh ones per listener from another address.
    drop((idle_sip, idle_dhip, idle_rtsp));
    let other: IpAddr = [127, 0, 0, 3].into();
    let mut fresh_sip = idle(other, sip, 3).await;
    let mut fresh_dhip = idle(other, dhip, 3).await;
    let mut fresh_rtsp = idle(other, rtsp, 3).await;
    let until = std::time::Instant::now() + Duration::from_secs(30);
    for (what, list) in [
        ("SIP", &mut fresh_sip),
        ("DHIP", &mut fresh_dhip),
        ("RTSP", &mut fresh_rtsp),
    ] {
        while !all_closed(list).await {
            assert!(
                std::time::Instant::now() < until,
                "idle {what} connections still open"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The monitor stays registered.
    assert_eq!(tests::online(&c, "9901").await, 1);
    // The logged-in DHIP client is still served.
    let alive = d
        .call("global.keepAlive", json!({"timeout": 60}), None)
        .await;
    assert_eq!(alive["result"], true, "{alive}");
}
