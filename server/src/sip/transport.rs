//! The SIP sockets: UDP and TCP on one port. Thin loops: every message goes
//! to [`SipService::handle`] (on a blocking thread: it may write to redb)
//! and what it returns goes back where the message came from (RFC 3581:
//! the source address and port, whatever the Via says).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream, UdpSocket},
    task::JoinSet,
};

use super::SipService;

/// TCP connections at once; more wait in the kernel's backlog.
const MAX_TCP: usize = 256;
/// A TCP peer that sends nothing for this long is dropped (registrations
/// refresh well within it).
const TCP_IDLE: Duration = Duration::from_secs(300);

/// Binds UDP and TCP on `addr` (port 0: a free port, the same for both).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(addr).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            // Port 0 gave a UDP port whose TCP twin is taken: try another.
            Err(e) if addr.port() == 0 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// Serves until the task is aborted.
pub async fn serve(service: Arc<SipService>, udp: UdpSocket, tcp: TcpListener) {
    let udp = Arc::new(udp);
    let mut tasks = JoinSet::new();
    tasks.spawn(udp_loop(service.clone(), udp));
    tasks.spawn(tcp_loop(service.clone(), tcp));
    tasks.spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        loop {
            every.tick().await;
            let s = service.clone();
            let _ = tokio::task::spawn_blocking(move || s.tick()).await;
        }
    });
    while tasks.join_next().await.is_some() {}
}

async fn udp_loop(service: Arc<SipService>, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; sip::message::MAX_MESSAGE];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors from an earlier send surface here: go on.
                tracing::debug!(error = %e, "SIP UDP receive");
                continue;
            }
        };
        let bytes = buf[..n].to_vec();
        let s = service.clone();
        let out = match tokio::task::spawn_blocking(move || s.handle(&bytes, from, "UDP")).await {
            Ok(out) => out,
            Err(e) => {
                tracing::error!(error = %e, "SIP handler failed");
                continue;
            }
        };
        for reply in out {
            if let Err(e) = socket.send_to(&reply, from).await {
                tracing::debug!(%from, error = %e, "SIP UDP send");
            }
        }
    }
}

async fn tcp_loop(service: Arc<SipService>, listener: TcpListener) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_TCP));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, from) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "SIP TCP accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let s = service.clone();
        tokio::spawn(async move {
            connection(s, stream, from).await;
            drop(permit);
        });
    }
}

/// One TCP connection: messages framed by Content-Length, answered on it.
async fn connection(service: Arc<SipService>, mut stream: TcpStream, from: SocketAddr) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        // Every whole message in the buffer first.
        loop {
            match sip::message::frame_len(&buf) {
                Ok(Some(n)) => {
                    let bytes: Vec<u8> = buf.drain(..n).collect();
                    if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        continue; // keep-alive
                    }
                    let s = service.clone();
                    let out = tokio::task::spawn_blocking(move || s.handle(&bytes, from, "TCP"))
                        .await
                        .unwrap_or_default();
                    for reply in out {
                        if stream.write_all(&reply).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // The stream cannot be cut into messages any more.
                    tracing::debug!(%from, error = %e, "SIP TCP: closing");
                    return;
                }
            }
        }
        match tokio::time::timeout(TCP_IDLE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
