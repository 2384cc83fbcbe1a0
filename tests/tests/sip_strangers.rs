//! Strangers on the SIP port, from other loopback addresses: a forged
//! response (our Via on top, a victim's below) makes the device send
//! nothing to the victim, over UDP or TCP, and SIP goes on answering.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};

use tests::Vto;

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
    let options = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKo;rport\r\n\
         From: <sip:x@y>;tag=1\r\nTo: <sip:{sip}>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        stranger.local_addr().unwrap()
    );
    stranger.send_to(options.as_bytes(), sip).await.unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), stranger.recv_from(&mut buf))
        .await
        .expect("OPTIONS answered")
        .unwrap();
    assert_eq!(from, sip);
    assert!(
        buf[..n].starts_with(b"SIP/2.0 200 OK"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
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
