//! One RTSP client's media: a source's video (H.264, mode 1) and audio
//! (PCMU) as RTP, interleaved on the RTSP connection or over UDP to the
//! client's address, with RTCP sender reports.
//!
//! A client starts at a key frame (the hub hands it one, with SPS and
//! PPS). A slow client never holds up the others: its hub queue overflows
//! and it skips to the next key frame, and the same happens when its
//! connection's queue is full.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use media::{
    h264, rtcp,
    rtp::{Seed, Sequencer},
};
use rtsp::session::track;
use tokio::{
    net::UdpSocket,
    sync::mpsc::{self, error::TrySendError},
    task::JoinHandle,
};

use crate::{
    clock::Clock,
    video::{hub::Frame, Source},
};

/// Frames waiting for one client in the hub.
const VIDEO_QUEUE: usize = 60;
const AUDIO_QUEUE: usize = 64;
const SENDER_REPORT_EVERY: Duration = Duration::from_secs(5);
/// The payload types of the SDP (`rtsp::sdp`).
const H264_PT: u8 = 96;
const PCMU_PT: u8 = 0;
/// RTP payloads at most: fits an Ethernet MTU over UDP, and keeps
/// interleaved frames small.
const MAX_PAYLOAD: usize = 1400;

/// The server's UDP ports of one track, and where the client listens (its
/// address as connected, never one a message names).
#[derive(Clone)]
pub struct Udp {
    rtp: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
    to_rtp: SocketAddr,
    to_rtcp: SocketAddr,
}

impl Udp {
    /// An even port and the next one on `local`, for the client's ports on
    /// `peer`.
    pub async fn bind(local: IpAddr, peer: IpAddr, client: (u16, u16)) -> std::io::Result<Udp> {
        let (local, peer) = (local.to_canonical(), peer.to_canonical());
        for _ in 0..32 {
            let rtp = UdpSocket::bind(SocketAddr::new(local, 0)).await?;
            let port = rtp.local_addr()?.port();
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(local, port + 1)).await {
                return Ok(Udp {
                    rtp: Arc::new(rtp),
                    rtcp: Arc::new(rtcp),
                    to_rtp: SocketAddr::new(peer, client.0),
                    to_rtcp: SocketAddr::new(peer, client.1),
                });
            }
        }
        Err(std::io::Error::other("no free pair of UDP ports"))
    }

    /// The RTP socket and the client's address, to receive on (the
    /// backchannel).
    pub fn receiver(&self) -> (Arc<UdpSocket>, IpAddr) {
        (self.rtp.clone(), self.to_rtp.ip())
    }

    pub fn server_ports(&self) -> (u16, u16) {
        let port = |s: &UdpSocket| s.local_addr().map(|a| a.port()).unwrap_or(0);
        (port(&self.rtp), port(&self.rtcp))
    }
}

/// Where a track's packets go.
pub enum Dest {
    Tcp {
        rtp: u8,
        rtcp: u8,
        tx: mpsc::Sender<Bytes>,
    },
    Udp(Udp),
}

struct Out {
    track: u8,
    seq: Sequencer,
    dest: Dest,
    /// When the first packet went (the stream clock's zero).
    first: Option<tokio::time::Instant>,
    /// The clock rate of the payload.
    rate: u32,
}

/// Why a packet was not sent.
enum Sent {
    Ok,
    /// The connection's queue is full: skip to the next key frame.
    Behind,
    /// The client is gone.
    Gone,
}

impl Out {
    async fn send(&self, packet: Vec<u8>, rtcp: bool) -> Sent {
        match &self.dest {
            Dest::Tcp { rtp, rtcp: c, tx } => {
                let channel = if rtcp { *c } else { *rtp };
                let Ok(frame) = rtsp::message::interleaved(channel, &packet) else {
                    return Sent::Ok;
                };
                match tx.try_send(frame) {
                    Ok(()) => Sent::Ok,
                    Err(TrySendError::Full(_)) => Sent::Behind,
                    Err(TrySendError::Closed(_)) => Sent::Gone,
                }
            }
            Dest::Udp(u) => {
                let (sock, to) = if rtcp {
                    (&u.rtcp, u.to_rtcp)
                } else {
                    (&u.rtp, u.to_rtp)
                };
                // A lost datagram is RTP's normal; an unreachable port
                // comes back as an error on a later send: ignored too.
                let _ = sock.send_to(&packet, to).await;
                Sent::Ok
            }
        }
    }

    /// The stream's clock now, for sender reports.
    fn media_time(&self) -> Option<u32> {
        let first = self.first?;
        let ms = crate::clock::monotonic()
            .saturating_duration_since(first)
            .as_millis();
        Some(
            (ms as u64)
                .wrapping_mul(u64::from(self.rate))
                .wrapping_div(1000) as u32,
        )
    }
}

/// The media of one PLAY, ready to start.
pub struct Player {
    outs: Vec<Out>,
}

/// A running player; stopped when dropped.
pub struct Running(pub(super) JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Player {
    /// `(track, ssrc, dest)` of each sending track; answers PLAY's
    /// `RTP-Info` too: each track's first sequence number and timestamp.
    pub fn prepare(dests: Vec<(u8, u32, Dest)>) -> (Player, Vec<(u8, u16, u32)>) {
        let mut info = Vec::new();
        let outs = dests
            .into_iter()
            .map(|(t, ssrc, dest)| {
                let r = crate::error::random::<6>().unwrap_or([3; 6]);
                let seed = Seed {
                    ssrc,
                    sequence: u16::from_be_bytes([r[0], r[1]]),
                    timestamp: u32::from_be_bytes([r[2], r[3], r[4], r[5]]),
                };
                info.push((t, seed.sequence, seed.timestamp));
                Out {
                    track: t,
                    seq: Sequencer::new(seed),
                    dest,
                    first: None,
                    rate: if t == track::VIDEO { 90_000 } else { 8_000 },
                }
            })
            .collect();
        (Player { outs }, info)
    }

    pub fn start(
        self,
        source: Arc<Source>,
        clock: Arc<dyn Clock>,
        heard: Arc<AtomicU64>,
        epoch: tokio::time::Instant,
    ) -> Running {
        Running(tokio::spawn(self.run(source, clock, heard, epoch)))
    }

    async fn run(
        mut self,
        source: Arc<Source>,
        clock: Arc<dyn Clock>,
        heard: Arc<AtomicU64>,
        epoch: tokio::time::Instant,
    ) {
        // Receiver reports over UDP keep the session alive.
        let listeners: Vec<Running> = self
            .outs
            .iter()
            .filter_map(|o| match &o.dest {
                Dest::Udp(u) => Some(Running(tokio::spawn(listen_rtcp(
                    u.rtcp.clone(),
                    u.to_rtcp.ip(),
                    heard.clone(),
                    epoch,
                )))),
                Dest::Tcp { .. } => None,
            })
            .collect();
        let video = self.outs.iter().position(|o| o.track == track::VIDEO);
        let audio = self.outs.iter().position(|o| o.track == track::AUDIO);
        let mut vrx = video.map(|_| source.subscribe(VIDEO_QUEUE));
        let mut arx = audio.map(|_| source.subscribe_audio(AUDIO_QUEUE));
        let mut need_key = true;
        let mut first_pts: Option<i64> = None;
        let mut audio_time: u32 = 0;
        let mut reports = tokio::time::interval(SENDER_REPORT_EVERY);
        loop {
            tokio::select! {
                Some(f) = recv(&mut vrx) => {
                    let Some(i) = video else { continue };
                    if need_key && !f.key {
                        continue;
                    }
                    match self.video(i, &f, &mut first_pts).await {
                        Sent::Ok => need_key = false,
                        Sent::Behind => need_key = true,
                        Sent::Gone => break,
                    }
                }
                Some(a) = recv(&mut arx) => {
                    let Some(i) = audio else { continue };
                    // Audio waits for the picture, so both start together.
                    if first_pts.is_none() {
                        continue;
                    }
                    let out = &mut self.outs[i];
                    out.first.get_or_insert_with(crate::clock::monotonic);
                    let packet = out.seq.packet(PCMU_PT, false, audio_time, &a.data);
                    audio_time = audio_time.wrapping_add(a.data.len() as u32);
                    if let Sent::Gone = out.send(packet, false).await {
                        break;
                    }
                }
                _ = reports.tick() => {
                    let unix_ms = clock.now().0;
                    for out in &self.outs {
                        let Some(t) = out.media_time() else { continue };
                        let info = out.seq.sender_info(unix_ms, t);
                        let report = rtcp::sender_report(out.seq.ssrc(), &info, &[], "vto");
                        if let Sent::Gone = out.send(report, true).await {
                            return;
                        }
                    }
                }
                else => break,
            }
        }
        drop(listeners);
    }

    async fn video(&mut self, i: usize, f: &Frame, first_pts: &mut Option<i64>) -> Sent {
        let nals = h264::split_annex_b(&f.data);
        let Ok(payloads) = h264::packetize(&nals, h264::Mode::NonInterleaved, MAX_PAYLOAD) else {
            return Sent::Ok;
        };
        let first = *first_pts.get_or_insert(f.pts_ms);
        let media_time = (f.pts_ms.wrapping_sub(first) as u32).wrapping_mul(90);
        let out = &mut self.outs[i];
        out.first.get_or_insert_with(crate::clock::monotonic);
        for p in payloads {
            let packet = out.seq.packet(H264_PT, p.marker, media_time, &p.data);
            match out.send(packet, false).await {
                Sent::Ok => {}
                other => return other,
            }
        }
        Sent::Ok
    }
}

async fn recv(rx: &mut Option<mpsc::Receiver<Frame>>) -> Option<Frame> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Notes when the client's RTCP arrives (from its own address only).
async fn listen_rtcp(
    sock: Arc<UdpSocket>,
    peer: IpAddr,
    heard: Arc<AtomicU64>,
    epoch: tokio::time::Instant,
) {
    let mut buf = [0u8; 1500];
    while let Ok((_, from)) = sock.recv_from(&mut buf).await {
        if from.ip().to_canonical() == peer {
            heard.store(crate::clock::millis_since(epoch), Ordering::Relaxed);
        }
    }
}
