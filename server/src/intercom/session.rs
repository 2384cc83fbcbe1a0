//! One door call's media on the wire: an RTP and an RTCP socket for audio
//! and for video, and one task that sends the door camera's H.264 (as it
//! comes, no transcoding, from a key frame with its SPS and PPS) and the
//! door microphone's G.711, and hears the answering side: its audio goes
//! to the door's speaker (simulated: its loudness), its telephone events
//! are keys. Symmetric RTP: once the peer's packets arrive, we send to
//! where they come from. The task ends when the session is dropped.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use media::{dtmf, g711::Law, h264, rtcp, rtp, symmetric::Latch};
use sip::sdp::{self, AudioCodec};
use tokio::{
    net::UdpSocket,
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    clock::{monotonic, Clock},
    door::audio::Speaker,
    video::{hub::Frame, Source},
};

/// No RTP from the answering side for this long ends the call.
pub const INACTIVITY: Duration = Duration::from_secs(30);
/// How often the sender reports go out (RFC 3550 suggests 5 s).
const RTCP_EVERY: Duration = Duration::from_secs(5);
/// How often the speaker's level is told (the door panel's meter).
pub const LEVEL_EVERY: Duration = Duration::from_millis(250);
/// Frames queued toward one call before it skips to the next key frame.
const VIDEO_QUEUE: usize = 30;
const AUDIO_QUEUE: usize = 25;
/// Samples of G.711 per 20 ms packet.
const SAMPLES_PER_FRAME: u32 = 160;

/// An RTP socket on an even port and its RTCP socket on the next.
pub struct Pair {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl Pair {
    /// The first free even port of `range` from a random start.
    pub async fn bind(ip: IpAddr, range: (u16, u16)) -> std::io::Result<Pair> {
        let first = range.0 + range.0 % 2;
        let count = (range.1.saturating_sub(first) / 2).max(1);
        let mut r = [0u8; 2];
        let _ = getrandom::fill(&mut r);
        let start = u16::from_be_bytes(r) % count;
        for i in 0..count {
            let port = first + 2 * ((start + i) % count);
            let Ok(rtp) = UdpSocket::bind((ip, port)).await else {
                continue;
            };
            if let Ok(rtcp) = UdpSocket::bind((ip, port + 1)).await {
                return Ok(Pair { rtp, rtcp });
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("no free RTP port pair in {}-{}", range.0, range.1),
        ))
    }

    pub fn port(&self) -> u16 {
        self.rtp.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

/// What the session hears from the answering side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// A key pressed (RFC 4733).
    Key(char),
    /// The speaker's level, 0 to 100.
    Level(u8),
    /// Nothing for [`INACTIVITY`].
    Quiet,
}

/// A running session; dropping it stops the task and frees its ports.
pub struct Session {
    target: watch::Sender<Option<sdp::Media>>,
    task: JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// Starts the task; it sends nothing until [`Session::send_to`].
    pub fn start(
        audio: Pair,
        video: Option<Pair>,
        door: Arc<Source>,
        speaker: Option<Speaker>,
        clock: Arc<dyn Clock>,
        heard: mpsc::Sender<Heard>,
    ) -> Session {
        let (target, rx) = watch::channel(None);
        let ends = Ends {
            door,
            speaker,
            heard,
        };
        let task = tokio::spawn(run(audio, video, ends, clock, rx));
        Session { target, task }
    }

    /// Where the media goes now and in what form (an early media answer,
    /// then the 2xx's).
    pub fn send_to(&self, media: sdp::Media) {
        self.target.send_replace(Some(media));
    }
}

/// One outgoing stream.
struct Out {
    seq: rtp::Sequencer,
    latch: Latch,
    rtcp: Option<SocketAddr>,
    /// The media clock at the last packet.
    media_time: u32,
}

impl Out {
    fn new(remote: SocketAddr, rtcp: Option<SocketAddr>, pts: &[u8]) -> Self {
        let mut seed = [0u8; 10];
        let _ = getrandom::fill(&mut seed);
        Self {
            seq: rtp::Sequencer::new(rtp::Seed::from_bytes(seed)),
            latch: Latch::new(remote, pts, None),
            rtcp,
            media_time: 0,
        }
    }
}

fn law(codec: AudioCodec) -> Law {
    match codec {
        AudioCodec::Pcma => Law::Alaw,
        _ => Law::Ulaw,
    }
}

async fn recv(rx: &mut Option<mpsc::Receiver<Frame>>) -> Option<Frame> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_on(pair: Option<&Pair>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match pair {
        Some(p) => p.rtp.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// The door's side of a session: its camera and microphone, its speaker
/// (None: simulated), and where what it hears is told.
struct Ends {
    door: Arc<Source>,
    speaker: Option<Speaker>,
    heard: mpsc::Sender<Heard>,
}

async fn run(
    audio: Pair,
    video: Option<Pair>,
    ends: Ends,
    clock: Arc<dyn Clock>,
    mut target: watch::Receiver<Option<sdp::Media>>,
) {
    let Ends {
        door,
        speaker,
        heard,
    } = ends;
    let started = monotonic();
    let mut streams: Option<(sdp::Media, Out, Option<Out>)> = None;
    let (mut video_rx, mut audio_rx) = (None, None);
    let mut dtmf = dtmf::Detector::new();
    let mut last_heard = monotonic();
    let mut loudest = 0u8;
    let mut level_at = monotonic();
    let mut rtcp_tick = tokio::time::interval(RTCP_EVERY);
    let (mut abuf, mut vbuf) = (vec![0u8; 2048], vec![0u8; 2048]);
    loop {
        let quiet_at = last_heard + INACTIVITY;
        tokio::select! {
            changed = target.changed() => {
                if changed.is_err() {
                    return;
                }
                let Some(media) = target.borrow_and_update().clone() else { continue };
                let a = &media.audio;
                let mut pts = vec![a.pt];
                pts.extend(a.telephone_event);
                let aout = Out::new(a.remote, a.remote_rtcp, &pts);
                let vout = media
                    .video
                    .as_ref()
                    .filter(|_| video.is_some())
                    .map(|v| Out::new(v.remote, v.remote_rtcp, &[v.pt]));
                // A new answer (early media, then the 2xx) restarts the
                // streams: the monitor that answered decodes from a key
                // frame.
                video_rx = vout
                    .as_ref()
                    .filter(|_| media.video.as_ref().is_some_and(|v| v.send))
                    .map(|_| door.subscribe(VIDEO_QUEUE));
                audio_rx = a.send.then(|| door.subscribe_audio(AUDIO_QUEUE));
                last_heard = monotonic();
                streams = Some((media, aout, vout));
            }
            Some(frame) = recv(&mut video_rx) => {
                let (Some((media, _, Some(out))), Some(pair)) = (streams.as_mut(), video.as_ref()) else { continue };
                let Some(v) = media.video.as_ref() else { continue };
                let mode = h264::Mode::from_sdp(v.packetization_mode).unwrap_or(h264::Mode::SingleNal);
                let nals = h264::split_annex_b(&frame.data);
                let Ok(payloads) = h264::packetize(&nals, mode, h264::MAX_PAYLOAD) else { continue };
                out.media_time = (started.elapsed().as_millis() as u32).wrapping_mul(90);
                let to = out.latch.destination();
                for p in payloads {
                    let packet = out.seq.packet(v.pt, p.marker, out.media_time, &p.data);
                    let _ = pair.rtp.send_to(&packet, to).await;
                }
            }
            Some(frame) = recv(&mut audio_rx) => {
                let Some((media, out, _)) = streams.as_mut() else { continue };
                let to_law = law(media.audio.codec);
                let payload: Vec<u8> = if to_law == Law::Ulaw {
                    frame.data.to_vec()
                } else {
                    frame.data.iter().map(|&c| Law::Ulaw.convert(to_law, c)).collect()
                };
                let packet = out.seq.packet(media.audio.pt, false, out.media_time, &payload);
                out.media_time = out.media_time.wrapping_add(SAMPLES_PER_FRAME);
                let _ = audio.rtp.send_to(&packet, out.latch.destination()).await;
            }
            r = audio.rtp.recv_from(&mut abuf) => {
                let Ok((n, from)) = r else { continue };
                let Some((media, out, _)) = streams.as_mut() else { continue };
                let Ok(packet) = rtp::parse(&abuf[..n]) else { continue };
                if !out.latch.accept(from, &packet.header) {
                    continue;
                }
                last_heard = monotonic();
                let a = &media.audio;
                if Some(packet.header.payload_type) == a.telephone_event {
                    let key = dtmf::Event::parse(packet.payload)
                        .ok()
                        .and_then(|e| dtmf.push(packet.header.timestamp, &e));
                    if let Some(k) = key {
                        let _ = heard.send(Heard::Key(k)).await;
                    }
                } else if packet.header.payload_type == a.pt {
                    if let Some(s) = &speaker {
                        s.play_g711(law(a.codec), packet.payload);
                    }
                    loudest = loudest.max(level(law(a.codec), packet.payload));
                    if level_at.elapsed() >= LEVEL_EVERY {
                        let _ = heard.try_send(Heard::Level(std::mem::take(&mut loudest)));
                        level_at = monotonic();
                    }
                }
            }
            r = recv_on(video.as_ref(), &mut vbuf) => {
                let Ok((n, from)) = r else { continue };
                let Some((_, _, Some(out))) = streams.as_mut() else { continue };
                if let Ok(packet) = rtp::parse(&vbuf[..n]) {
                    if out.latch.accept(from, &packet.header) {
                        last_heard = monotonic();
                    }
                }
            }
            _ = rtcp_tick.tick() => {
                let Some((_, aout, vout)) = streams.as_ref() else { continue };
                let unix_ms = clock.now().0;
                let pairs = [(Some(aout), Some(&audio)), (vout.as_ref(), video.as_ref())];
                for (out, pair) in pairs {
                    let (Some(out), Some(pair)) = (out, pair) else { continue };
                    let Some(to) = out.rtcp else { continue };
                    let info = out.seq.sender_info(unix_ms, out.media_time);
                    let report = rtcp::sender_report(out.seq.ssrc(), &info, &[], "vto");
                    let _ = pair.rtcp.send_to(&report, to).await;
                }
            }
            _ = tokio::time::sleep_until(quiet_at), if streams.is_some() => {
                let _ = heard.send(Heard::Quiet).await;
                last_heard = monotonic();
            }
        }
    }
}

/// How loud one packet of G.711 is, 0 (silence) to 100 (full scale), on a
/// dB scale over 60 dB.
pub fn level(law: Law, payload: &[u8]) -> u8 {
    if payload.is_empty() {
        return 0;
    }
    let power: f64 = payload
        .iter()
        .map(|&c| {
            let s = f64::from(law.decode(c)) / 32768.0;
            s * s
        })
        .sum::<f64>()
        / payload.len() as f64;
    let db = 10.0 * power.max(1e-12).log10();
    ((db + 60.0) / 60.0 * 100.0).clamp(0.0, 100.0) as u8
}

/// The camera's SPS and PPS for the offer, from its next key frame (the
/// hub hands a new subscriber its latest one at once); `None` when none
/// comes within `wait`.
pub async fn parameter_sets(door: &Source, wait: Duration) -> Option<sdp::H264> {
    let mut rx = door.subscribe(1);
    let frame = tokio::time::timeout(wait, rx.recv()).await.ok()??;
    let nals: Vec<Bytes> = h264::split_annex_b(&frame.data);
    let find = |t| nals.iter().find(|n| h264::nal_type(n) == t);
    sdp::H264::new(find(h264::SPS)?, find(h264::PPS)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speaker_level_follows_the_loudness() {
        let silence = vec![media::g711::ulaw_encode(0); 160];
        let loud: Vec<u8> = (0..160)
            .map(|i| media::g711::ulaw_encode(if i % 2 == 0 { 20_000 } else { -20_000 }))
            .collect();
        let quiet: Vec<u8> = loud
            .iter()
            .map(|&c| media::g711::ulaw_encode(media::g711::ulaw_decode(c) / 100))
            .collect();
        assert_eq!(level(Law::Ulaw, &silence), 0);
        assert!(level(Law::Ulaw, &loud) > 90, "{}", level(Law::Ulaw, &loud));
        let q = level(Law::Ulaw, &quiet);
        // 40 dB down: about a third of the 60 dB scale.
        assert!((15..45).contains(&q), "{q}");
        assert_eq!(level(Law::Ulaw, &[]), 0);
    }
}
