//! The SIP sockets: UDP and TCP on one port. Thin loops: every message goes
//! to [`SipService::handle`] (right on the loop: it never waits for the disk,
//! whose writes go behind on the ticker's blocking thread) and what it
//! returns goes where it says: answers back where the message
//! came from (RFC 3581: the source address and port, whatever the Via
//! says), forwarded requests to the device they are for. Over TCP a
//! device is reached on the connection it registered on, or on a new one.
//!
//! TCP connections are bounded ([`network::conn_limit`]): IP Permissions
//! and a place within [`TCP_PER_ADDR`] per address and [`MAX_TCP`] in all
//! at accept (else a reset); the first whole message within the first
//! request timeout (`--first-request-secs`), and a message once begun
//! within it too; then [`TCP_IDLE`] between reads.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use sip::dispatch::Transport;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream, UdpSocket},
    sync::mpsc,
    task::JoinSet,
};

use super::{Send, SipService};
use crate::{
    metrics::{Dropped, Way, METRICS},
    network::conn_limit::{self, ConnLimits, Timeouts},
};

/// TCP connections at once, in and out; more are reset at accept.
pub const MAX_TCP: usize = 1024;
/// TCP connections from one address (an IPv6 /64) at once.
pub const TCP_PER_ADDR: usize = 32;
/// A TCP peer that sends nothing for this long is dropped (registrations
/// refresh well within it).
const TCP_IDLE: Duration = Duration::from_secs(300);
/// How long a new TCP connection to a device may take (it runs in a task
/// of its own, so only what goes to that device waits).
const TCP_CONNECT: Duration = Duration::from_secs(3);
/// Messages queued for one TCP peer; past it they are dropped (a peer that
/// reads nothing must not fill the memory).
const TCP_QUEUE: usize = 256;

/// The UDP receive buffer asked for: a burst of REGISTERs (every monitor
/// after a power cut) must wait in the kernel, not be dropped. The kernel
/// grants at most `net.core.rmem_max`.
const UDP_RECV_BUFFER: usize = 2 << 20;

/// Binds UDP and TCP on `addr` (port 0: a free port, the same for both).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(addr).await?;
        if let Err(e) = socket2::SockRef::from(&udp).set_recv_buffer_size(UDP_RECV_BUFFER) {
            tracing::debug!(error = %e, "SIP UDP receive buffer left as it is");
        }
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

/// Sends messages where the service says: UDP from the listening socket,
/// TCP on the peer's connection.
struct Wire {
    service: Arc<SipService>,
    udp: Arc<UdpSocket>,
    tcp: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    limits: ConnLimits,
    timeouts: Timeouts,
}

impl Wire {
    /// Boxed: sending may open a connection whose reader sends again.
    fn send_all(
        self: &Arc<Self>,
        out: Vec<Send>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + std::marker::Send + '_>> {
        Box::pin(async move {
            for (transport, to, bytes) in out {
                self.send(transport, to, bytes).await;
            }
        })
    }

    async fn send(self: &Arc<Self>, transport: Transport, to: SocketAddr, bytes: Vec<u8>) {
        METRICS.sip_message(Way::Out, transport.reliable());
        if transport == Transport::Udp {
            if let Err(e) = self.udp.send_to(&bytes, to).await {
                tracing::debug!(%to, error = %e, "SIP UDP send");
            }
            return;
        }
        let existing = self
            .tcp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&to)
            .cloned();
        match existing {
            Some(queue) => queue_send(&queue, to, bytes),
            // Connecting waits on the peer: never on a socket loop, whose
            // every other message would wait too (a blackholed address
            // would stall all of SIP for the connect timeout).
            None => {
                let wire = self.clone();
                tokio::spawn(async move {
                    if let Some(queue) = wire.connect(to).await {
                        queue_send(&queue, to, bytes);
                    }
                });
            }
        }
    }

    /// A new connection to a device (its registration's connection is gone).
    async fn connect(self: &Arc<Self>, to: SocketAddr) -> Option<mpsc::Sender<Vec<u8>>> {
        let slot = self.limits.try_acquire(to.ip())?;
        let stream = match tokio::time::timeout(TCP_CONNECT, TcpStream::connect(to)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%to, error = %e, "SIP TCP connect");
                return None;
            }
            Err(_) => {
                tracing::debug!(%to, "SIP TCP connect: timed out");
                return None;
            }
        };
        let (tx, rx) = mpsc::channel(TCP_QUEUE);
        self.tcp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(to, tx.clone());
        let wire = self.clone();
        tokio::spawn(async move {
            wire.connection(stream, to, rx, false).await;
            drop(slot);
        });
        Some(tx)
    }

    /// One TCP connection: messages framed by Content-Length; what is
    /// queued for the peer is written on it. `inbound`: the peer
    /// connected, and must send a first message in time.
    async fn connection(
        self: Arc<Self>,
        stream: TcpStream,
        from: SocketAddr,
        mut queue: mpsc::Receiver<Vec<u8>>,
        inbound: bool,
    ) {
        let (mut reader, mut writer) = stream.into_split();
        let write = tokio::spawn(async move {
            while let Some(bytes) = queue.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        });
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 16 * 1024];
        let first = self.timeouts.first_request;
        // Whether a whole message came (keep-alives do not count: they
        // would keep an idle connection forever); until then, and while a
        // message is incomplete, the deadline.
        let mut seen = !inbound;
        let mut deadline = inbound.then(|| crate::clock::monotonic() + first);
        'read: loop {
            // Every whole message in the buffer first.
            let mut progressed = false;
            loop {
                match sip::message::frame_len(&buf) {
                    Ok(Some(n)) => {
                        let bytes: Vec<u8> = buf.drain(..n).collect();
                        if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                            continue; // keep-alive
                        }
                        (seen, progressed) = (true, true);
                        let out = self.service.handle(&bytes, from, Transport::Tcp);
                        self.send_all(out).await;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // The stream cannot be cut into messages any more.
                        tracing::debug!(%from, error = %e, "SIP TCP: closing");
                        break 'read;
                    }
                }
            }
            let now = crate::clock::monotonic();
            if seen {
                if buf.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    deadline = None;
                } else if progressed || deadline.is_none() {
                    // A message begun: whole within the same time.
                    deadline = Some(now + first);
                }
            }
            let idle = now + TCP_IDLE;
            let until = deadline.map_or(idle, |d| d.min(idle));
            match tokio::time::timeout_at(until, reader.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        self.tcp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&from);
        write.abort();
    }
}

fn queue_send(queue: &mpsc::Sender<Vec<u8>>, to: SocketAddr, bytes: Vec<u8>) {
    if queue.try_send(bytes).is_err() {
        METRICS.sip_dropped(Dropped::QueueFull);
        tracing::debug!(%to, "SIP TCP: queue full or closed, dropped");
    }
}

/// Serves until the task is aborted.
pub async fn serve(service: Arc<SipService>, udp: UdpSocket, tcp: TcpListener, timeouts: Timeouts) {
    if let Ok(addr) = udp.local_addr() {
        service.bound(addr);
    }
    let wire = Arc::new(Wire {
        service: service.clone(),
        udp: Arc::new(udp),
        tcp: Mutex::new(HashMap::new()),
        limits: ConnLimits::new(TCP_PER_ADDR, MAX_TCP),
        timeouts,
    });
    let mut tasks = JoinSet::new();
    tasks.spawn(udp_loop(wire.clone()));
    tasks.spawn(tcp_loop(wire.clone(), tcp));
    tasks.spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = service.woken() => {}
            }
            let s = service.clone();
            if let Ok(out) = tokio::task::spawn_blocking(move || s.tick()).await {
                wire.send_all(out).await;
            }
        }
    });
    while tasks.join_next().await.is_some() {}
}

async fn udp_loop(wire: Arc<Wire>) {
    let mut buf = vec![0u8; sip::message::MAX_MESSAGE];
    loop {
        let (n, from) = match wire.udp.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors from an earlier send surface here: go on.
                tracing::debug!(error = %e, "SIP UDP receive");
                continue;
            }
        };
        let out = wire.service.handle(&buf[..n], from, Transport::Udp);
        wire.send_all(out).await;
    }
}

async fn tcp_loop(wire: Arc<Wire>, listener: TcpListener) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "SIP TCP accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // IP Permissions, then a place: else closed before a byte is read.
        if !wire.service.allows(from.ip()) {
            conn_limit::reset(stream);
            continue;
        }
        let Some(slot) = wire.limits.try_acquire(from.ip()) else {
            tracing::debug!(%from, "SIP TCP: too many connections, reset");
            conn_limit::reset(stream);
            continue;
        };
        let (tx, rx) = mpsc::channel(TCP_QUEUE);
        wire.tcp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(from, tx);
        let w = wire.clone();
        tokio::spawn(async move {
            w.connection(stream, from, rx, true).await;
            drop(slot);
        });
    }
}
