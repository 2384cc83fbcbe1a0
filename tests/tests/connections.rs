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

#[tokio::test]
async fn two_thousand_idle_sockets_from_one_address_keep_no_one_out() {
    let vto = Vto::start_with(&["--http-idle-secs", "60"]).await;
    let addr: std::net::SocketAddr = web_addr(&vto).parse().expect("address");

    // 2,000 connections from 127.0.0.2 that never send a byte.
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut idle = Vec::new();
    for _ in 0..2_000 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.2:0".parse().unwrap()).expect("bind");
        let Ok(mut conn) = socket.connect(addr).await else {
            closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        };
        let closed = closed.clone();
        idle.push(tokio::spawn(async move {
            let mut buf = [0u8; 16];
            if let Ok(0) | Err(_) = conn.read(&mut buf).await {
                closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    // All but the address's share (64) are turned away at once.
    tests::eventually("the sockets beyond the address's share closed", || {
        let closed = closed.clone();
        async move {
            (closed.load(std::sync::atomic::Ordering::Relaxed) >= 2_000 - 64).then_some(())
        }
    })
    .await;
    let held = 2_000 - closed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(held <= 64, "{held} idle connections held");

    // A browser from another address is served meanwhile.
    let c = vto.client();
    assert_eq!(c.get("/init").await.status(), StatusCode::OK);
    let (s, b) = c.call("setup_state", serde_json::json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    for task in idle {
        task.abort();
    }
}
