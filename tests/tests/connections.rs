//! What one client may hold of the web server: a silent connection and a
//! request head sent a byte at a time (slowloris) are closed after the
//! header timeout; a request in progress is not.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tests::Vto;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn web_addr(vto: &Vto) -> String {
    vto.url.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or `limit` passes);
/// returns when it closed.
async fn closed_within(conn: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn silent_and_slow_clients_are_closed_after_the_header_timeout() {
    let vto = Vto::start_with(&["--http-idle-secs", "2"]).await;
    let addr = web_addr(&vto);

    // Connected, never a byte.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    let took = closed_within(&mut silent, Duration::from_secs(15))
        .await
        .expect("a silent connection is closed");
    assert!(took >= Duration::from_millis(1500), "closed after {took:?}");

    // Slowloris: a header line every 300 ms never finishes the head.
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    let start = Instant::now();
    let closed = loop {
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break start.elapsed();
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break start.elapsed(),
            Ok(Ok(n)) => panic!("answered a head that never ended: {:?}", &buf[..n]),
            Err(_) => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "a trickled head is still open after 15 s"
        );
    };
    assert!(
        closed >= Duration::from_millis(1500),
        "closed after {closed:?}"
    );

    // A keep-alive connection between requests: closed once idle.
    let mut kept = TcpStream::connect(&addr).await.expect("connect");
    kept.write_all(b"GET /init HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).await.expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(closed_within(&mut kept, Duration::from_secs(15))
        .await
        .is_some());

    // A client that asks and waits is served as before.
    let c = vto.client();
    assert_eq!(c.get("/init").await.status(), StatusCode::OK);
}
