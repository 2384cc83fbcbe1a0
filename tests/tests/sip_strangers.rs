//! Strangers on the SIP port, from other loopback addresses: a forged
//! response (our Via on top, a victim's below) makes the device send
//! nothing to the victim, over UDP or TCP, and SIP goes on answering; a
//! peer whose TCP connect hangs holds up no one else.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{net::SocketAddr, time::Duration};

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

use tests::{sipp::Sipp, Vto};

#[tokio::test]
async fn a_forged_response_goes_nowhere() {
    let vto = Vto::start().await;
    vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    let victim_udp = UdpSocket::bind("127.0.0.3:0").await.unwrap();
    let victim_tcp = TcpListener::bind("127.0.0.3:0").await.unwrap();
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let udp = victim_udp.local_addr().unwrap();
    let tcp = victim_tcp.local_addr().unwrap();
    for (i, below) in [format!("UDP {udp}"), format!("TCP {tcp}")]
        .iter()
        .enumerate()
    {
        for code in ["180 Ringing", "200 OK"] {
            let forged = format!(
                "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP {sip};branch=z9hG4bK-vto-0-{i}\r\n\
                 Via: SIP/2.0/{below};branch=z9hG4bKv{i}\r\nFrom: <sip:a@b>;tag=1\r\n\
                 To: <sip:c@d>;tag=2\r\nCall-ID: forged-{i}\r\nCSeq: 1 INVITE\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            stranger.send_to(forged.as_bytes(), sip).await.unwrap();
        }
    }
    // One loop handles the datagrams in order: once this OPTIONS is
    // answered, the forged ones were handled.
    options_answered(&stranger, sip).await;
    // Nothing reached the victim. The old loop sent (and connected) before
    // it read the OPTIONS, so what it sent is there by now; a spawned
    // connect gets a second.
    let mut one = [0u8; 16];
    assert!(
        victim_udp.try_recv_from(&mut one).is_err(),
        "a datagram reached the victim"
    );
    let accepted = tokio::time::timeout(Duration::from_secs(1), victim_tcp.accept()).await;
    assert!(accepted.is_err(), "the device connected to the victim");
}

/// Sends an OPTIONS from `socket` and waits for the device's 200 to it.
async fn options_answered(socket: &UdpSocket, sip: SocketAddr) {
    let options = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKo;rport\r\n\
         From: <sip:x@y>;tag=1\r\nTo: <sip:{sip}>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        socket.local_addr().unwrap()
    );
    socket.send_to(options.as_bytes(), sip).await.unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, from) = tokio::time::timeout(Duration::from_secs(10), socket.recv_from(&mut buf))
        .await
        .expect("OPTIONS answered")
        .unwrap();
    assert_eq!(from, sip);
    assert!(
        buf[..n].starts_with(b"SIP/2.0 200 OK"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
}

/// Whether a socket of this network namespace is connecting (SYN_SENT) to
/// 127.0.0.1:`port` (from /proc/net/tcp: addresses in hex, state 02).
fn connecting_to(port: u16) -> bool {
    let remote = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(2) == Some(&remote.as_str()) && f.get(3) == Some(&"02")
        })
}

#[tokio::test]
async fn a_tcp_peer_that_never_answers_does_not_stall_udp() {
    const PW: &str = "Door2026Bell";
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.expect("vto prints its SIP address");
    for no in ["9901", "9902"] {
        let (s, page) = c
            .call("add_room", json!({"room": tests::room(no), "password": PW}))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
    }
    // 9901's monitor registers over TCP, then goes; its address turns into
    // a listener whose queue is full, so a connect to it hangs (SYNs are
    // dropped). 9902's monitor registers over UDP.
    let (port, from) = (tests::free_port(), tests::free_port());
    for (user, port, tcp) in [("9901#0", port, true), ("9902#0", from, false)] {
        let run = Sipp::new("register.xml", sip, user)
            .password(PW)
            .port(port)
            .tcp(tcp)
            .run()
            .await;
        assert!(run.passed, "{}", run.output);
    }
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(([127, 0, 0, 1], port).into()).unwrap();
    let _blackhole = socket.listen(0).unwrap();
    let _queued = TcpStream::connect(("127.0.0.1", port)).await.unwrap();

    // 9902 calls 9901 over UDP: the device connects to 9901, and waits.
    let caller = UdpSocket::bind(("127.0.0.1", from)).await.unwrap();
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let invite = format!(
        "INVITE sip:9901@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{from};branch=z9hG4bKi;rport\r\n\
         From: <sip:9902%230@{sip}>;tag=1\r\nTo: <sip:9901@{sip}>\r\nCall-ID: stall\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:9902%230@127.0.0.1:{from}>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    caller.send_to(invite.as_bytes(), sip).await.unwrap();
    tests::eventually("the device connecting to 9901's monitor", || async {
        connecting_to(port).then_some(())
    })
    .await;

    // Meanwhile UDP is answered, while that connect still hangs.
    options_answered(&UdpSocket::bind("127.0.0.1:0").await.unwrap(), sip).await;
    assert!(
        connecting_to(port),
        "OPTIONS was answered only once the connect had given up"
    );
}
