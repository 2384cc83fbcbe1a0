//! The audio latency a door call answered in the browser goes through, for
//! `.ci/bench-talk` (issue 19): what the device adds between the door's
//! microphone and the browser, and between the browser and the door's
//! speaker, against two WebRTC peers talking directly in the same run.
//!
//! The door's sound card is ALSA's `file` plugin on named pipes (as in
//! `tests/tests/door_audio.rs`, through the real libasound): this process
//! writes the microphone's pipe and reads the speaker's, so it knows when a
//! sample went in and when it came out. Everything is white noise (random
//! samples within ±8000): a 20 ms payload of it occurs once, so packets are
//! recognized by their content, whatever the device's blocks, sequence
//! numbers and timestamps. One vto with both devices (the real set-up: the
//! echo canceller is on; with no echo between the pipes it leaves the
//! microphone as it is, which the match count shows); room 9901's monitor
//! (sipp) rings and is cancelled when the browser answers.
//!
//! - microphone → browser: a block of 160 samples is written to the
//!   microphone's pipe every 20 ms (an absolute schedule, monotonic clock);
//!   the answering peer (webrtc-rs, offering like a browser: PCMU audio
//!   sendrecv, H.264 video recvonly) finds each PCMU payload it receives in
//!   the μ-law of what was written (the device's G.711, `media::g711`);
//!   latency = arrival − the write of the payload's newest sample;
//! - browser → speaker: the peer sends noise as PCMU RTP every 20 ms; each
//!   packet's samples (decoded by G.711, as the device plays them) are
//!   found in what the speaker's pipe gave; latency = the read that gave
//!   the packet's last sample − the packet's send;
//! - peer to peer: two webrtc-rs peers of this process, connected over
//!   loopback, one sending the same kind of packets, measured as
//!   arrival − send. This is the floor every path through a device has
//!   (webrtc-rs on both sides, SRTP, loopback UDP, this process'
//!   scheduling).
//!
//! All three run at once over the same window (`--secs`) after a settling
//! second or two. What the figures include: the device's whole path
//! (ALSA's file plugin, the microphone thread, the echo canceller, G.711,
//! the hub, the WebRTC stack; the talker's queue, the speaker thread and
//! its queue), and on the speaker's side the ALSA buffer vto asks for
//! (100 ms): the file plugin writes a sample out once a whole buffer (800
//! samples) has been written after it (alsa-lib 1.2.8; tried by hand with
//! blocks on time: a block comes out with the fifth block after it), which
//! at the speaker's pace is 100 ms, as a sound card kept full plays a
//! sample a buffer later. Not included: a real card's own latency (the
//! capture period before a block can be read, the DAC, the codec), a
//! browser's jitter buffer and audio output (webrtc-rs hands each packet
//! over as it comes) and a real network's jitter (packets here leave on a
//! 20 ms schedule and cross loopback; the schedule's regularity and how
//! often the speaker's silence came between two of them are printed).
//!
//! The speaker's figure depends on the talk's history: when a talker's
//! packet comes later than the speaker thread's 20 ms wait, it plays a
//! block of silence first and is then a block further ahead of real time;
//! once 60 ms ahead it holds the talker's blocks back in its queue, for
//! the rest of the call. So the silences since the talk began and the
//! latency of the window's first and last second are printed too.
//!
//! usage: talk_bench [--secs 10]; the vto binary is `$VTO_BIN`, else
//! `target/release/vto`. Results go to stdout as `key value` lines;
//! progress to stderr.

use std::{
    collections::HashMap,
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use ::tests::{
    bench::{clock_ticks, host_ticks, percentile, process_ticks},
    room,
    sipp::Sipp,
    Vto,
};
use bytes::Bytes;
use media::g711;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use webrtc::{
    api::{
        interceptor_registry::register_default_interceptors,
        media_engine::{MediaEngine, MIME_TYPE_PCMU},
        setting_engine::SettingEngine,
        APIBuilder, API,
    },
    ice::{mdns::MulticastDnsMode, network_type::NetworkType},
    interceptor::registry::Registry,
    media::Sample,
    peer_connection::{
        configuration::RTCConfiguration, peer_connection_state::RTCPeerConnectionState,
        sdp::session_description::RTCSessionDescription, RTCPeerConnection,
    },
    rtp_transceiver::{
        rtp_codec::{RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType},
        rtp_transceiver_direction::RTCRtpTransceiverDirection,
        RTCRtpTransceiverInit,
    },
    track::track_local::{track_local_static_sample::TrackLocalStaticSample, TrackLocal},
};

type Res<T> = Result<T, String>;

const PASSWORD: &str = "Door2026Bell";
const ROOM: &str = "9901";
const MONITOR: &str = "9901#0";
/// Samples in a packet and in a block of the microphone: 20 ms at 8 kHz.
const BLOCK: usize = 160;
const PACKET: Duration = Duration::from_millis(20);
/// The noise's level: within ±8000 of the 16-bit scale (-12 dBFS peak).
const LEVEL: i64 = 8000;
/// The speaker's ALSA buffer: vto asks for 100 ms (`LATENCY_MS` in
/// `server/src/door/audio`); the file plugin writes a sample out once a
/// whole buffer was written after it.
const ALSA_BUFFER_MS: f64 = 100.0;
/// How long setting up a connection or a call may take.
const WAIT: Duration = Duration::from_secs(15);
/// Before the window: the connections settle, the device's queues fill.
const SETTLE: Duration = Duration::from_secs(2);
/// After the window: the last packets of the window arrive.
const GRACE: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------
// Noise and G.711.

/// xorshift64*: white noise, different in every run.
struct Noise(u64);

impl Noise {
    fn new(stream: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self((nanos ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 20 ms of samples within ±LEVEL.
    fn block(&mut self) -> Vec<i16> {
        (0..BLOCK)
            .map(|_| ((self.next() >> 32) % (2 * LEVEL as u64 + 1)) as i64 - LEVEL)
            .map(|s| s as i16)
            .collect()
    }

    /// 20 ms as a PCMU payload.
    fn payload(&mut self) -> Vec<u8> {
        self.block().into_iter().map(g711::ulaw_encode).collect()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `later − earlier` in ms, negative when `later` came first.
fn ms_between(earlier: Instant, later: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => ms(d),
        None => -ms(earlier - later),
    }
}

fn key8(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------
// The door's sound card: ALSA's file plugin on two named pipes.

/// What was written to the microphone: its μ-law (as the device encodes
/// it) and when each 20 ms block was in the pipe.
#[derive(Default)]
struct MicLog {
    ulaw: Vec<u8>,
    written: Vec<Instant>,
}

/// What the speaker's pipe gave: the bytes and, for each read, the count
/// of bytes so far and when it returned.
#[derive(Default)]
struct SpeakerLog {
    bytes: Vec<u8>,
    reads: Vec<(usize, Instant)>,
}

fn mkfifo(path: &Path) -> Res<()> {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .map_err(|e| format!("mkfifo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("mkfifo {} failed", path.display()))
    }
}

/// `HOME/.asoundrc` with `vto_mic` and `vto_speaker` on the two pipes.
fn sound_card(home: &Path) -> Res<(PathBuf, PathBuf)> {
    let (mic, speaker) = (home.join("mic.fifo"), home.join("speaker.fifo"));
    mkfifo(&mic)?;
    mkfifo(&speaker)?;
    let conf = format!(
        "pcm.vto_mic {{\n type file\n slave.pcm null\n file \"/dev/null\"\n infile \"{}\"\n format raw\n}}\n\
         pcm.vto_speaker {{\n type file\n slave.pcm null\n file \"{}\"\n format raw\n}}\n",
        mic.display(),
        speaker.display()
    );
    std::fs::write(home.join(".asoundrc"), conf).map_err(|e| format!(".asoundrc: {e}"))?;
    Ok((mic, speaker))
}

/// The visitor: noise into the microphone's pipe, a block every 20 ms, from
/// the moment the device opens it until `stop` (or the device is gone).
fn microphone(path: PathBuf, log: Arc<Mutex<MicLog>>, stop: Arc<AtomicBool>) {
    // Opening a pipe waits for its other end: the device's start.
    let mut pipe = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("talk_bench: the microphone's pipe: {e}");
            return;
        }
    };
    let mut noise = Noise::new(1);
    let started = Instant::now();
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let due = started + PACKET * n;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let block = noise.block();
        let raw: Vec<u8> = block.iter().flat_map(|s| s.to_le_bytes()).collect();
        // Taken before the write: the device may run as soon as the
        // bytes are in, and this thread be scheduled again only later (a
        // time taken after would then make the latency short, or
        // negative); a pause before the write can only lengthen it.
        let at = Instant::now();
        // 320 bytes: one write, whole (below PIPE_BUF), read whole.
        if pipe.write_all(&raw).is_err() {
            return;
        }
        let mut l = lock(&log);
        l.ulaw.extend(block.into_iter().map(g711::ulaw_encode));
        l.written.push(at);
        n += 1;
    }
}

/// The door's speaker as it plays: everything its pipe gives, as it comes,
/// until the device closes it.
fn speaker(path: PathBuf, log: Arc<Mutex<SpeakerLog>>) {
    let mut pipe = match std::fs::File::open(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("talk_bench: the speaker's pipe: {e}");
            return;
        }
    };
    let mut buf = vec![0u8; 65536];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let at = Instant::now();
                let mut l = lock(&log);
                l.bytes.extend_from_slice(&buf[..n]);
                let total = l.bytes.len();
                l.reads.push((total, at));
            }
        }
    }
}

// ---------------------------------------------------------------------
// WebRTC peers.

/// PCMU (payload type 0) and the H.264 a browser offers; host candidates
/// on loopback only (the benchmark's namespace has nothing else).
fn webrtc_api() -> Res<API> {
    let mut media = MediaEngine::default();
    media
        .register_codec(
            RTCRtpCodecParameters {
                capability: RTCRtpCodecCapability {
                    mime_type: MIME_TYPE_PCMU.to_owned(),
                    clock_rate: 8000,
                    channels: 1,
                    ..Default::default()
                },
                payload_type: 0,
                ..Default::default()
            },
            RTPCodecType::Audio,
        )
        .map_err(|e| format!("PCMU codec: {e}"))?;
    ::tests::bench::register_h264(&mut media, &[(102, "42e01f"), (104, "42001f")])?;
    let registry = register_default_interceptors(Registry::new(), &mut media)
        .map_err(|e| format!("interceptors: {e}"))?;
    let mut settings = SettingEngine::default();
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    settings.set_include_loopback_candidate(true);
    settings.set_network_types(vec![NetworkType::Udp4]);
    settings.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    Ok(APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build())
}

/// PCMU payloads a peer received, with their arrival.
type Heard = Arc<Mutex<Vec<(Instant, Bytes)>>>;

/// Packets a peer sent, with their send time.
type Said = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

struct Peer {
    pc: Arc<RTCPeerConnection>,
    heard: Heard,
    state: mpsc::Receiver<bool>,
}

/// A peer connection whose received audio goes to `heard` (its video is
/// read and dropped).
async fn peer(api: &API) -> Res<Peer> {
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .map_err(|e| format!("peer connection: {e}"))?,
    );
    let (state_tx, state) = mpsc::channel(8);
    pc.on_peer_connection_state_change(Box::new(move |s| {
        let event = match s {
            RTCPeerConnectionState::Connected => Some(true),
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => Some(false),
            _ => None,
        };
        if let Some(e) = event {
            let _ = state_tx.try_send(e);
        }
        Box::pin(async {})
    }));
    let heard: Heard = Arc::default();
    let h = heard.clone();
    pc.on_track(Box::new(move |track, receiver, _| {
        let heard = h.clone();
        tokio::spawn(async move {
            // RTCP is read so the interceptors see the sender reports.
            tokio::spawn(async move { while receiver.read_rtcp().await.is_ok() {} });
            let audio = track.kind() == RTPCodecType::Audio;
            while let Ok((pkt, _)) = track.read_rtp().await {
                let at = Instant::now();
                if audio && pkt.header.payload_type == 0 {
                    lock(&heard).push((at, pkt.payload));
                }
            }
        });
        Box::pin(async {})
    }));
    Ok(Peer { pc, heard, state })
}

/// A PCMU track on `pc` (sendrecv, as a browser's microphone).
async fn microphone_track(pc: &RTCPeerConnection) -> Res<Arc<TrackLocalStaticSample>> {
    let track = Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_PCMU.to_owned(),
            clock_rate: 8000,
            channels: 1,
            ..Default::default()
        },
        "audio".to_owned(),
        "talk-bench".to_owned(),
    ));
    let sender = pc
        .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
        .await
        .map_err(|e| format!("audio track: {e}"))?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        while sender.read(&mut buf).await.is_ok() {}
    });
    Ok(track)
}

/// Sets `local` and waits for every candidate (no trickle, as vto wants).
async fn gathered(pc: &RTCPeerConnection, local: RTCSessionDescription) -> Res<String> {
    let mut done = pc.gathering_complete_promise().await;
    pc.set_local_description(local)
        .await
        .map_err(|e| format!("local description: {e}"))?;
    let _ = tokio::time::timeout(Duration::from_secs(5), done.recv()).await;
    Ok(pc
        .local_description()
        .await
        .ok_or("no local description")?
        .sdp)
}

/// Until `peer` is connected and has heard its first audio packet.
async fn wait_hearing(peer: &mut Peer, what: &str) -> Res<()> {
    match tokio::time::timeout(WAIT, peer.state.recv()).await {
        Ok(Some(true)) => {}
        Ok(_) => return Err(format!("{what}: the connection failed")),
        Err(_) => return Err(format!("{what}: no connection within {WAIT:?}")),
    }
    let until = Instant::now() + WAIT;
    while lock(&peer.heard).is_empty() {
        if Instant::now() > until {
            return Err(format!("{what}: connected, but no audio within {WAIT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A talker: noise as PCMU, a packet every 20 ms, until `stop`.
fn talk(track: Arc<TrackLocalStaticSample>, stream: u64, stop: Arc<AtomicBool>) -> Said {
    let said: Said = Arc::default();
    let log = said.clone();
    tokio::spawn(async move {
        let mut noise = Noise::new(stream);
        let started = tokio::time::Instant::now();
        let mut n = 0u32;
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep_until(started + PACKET * n).await;
            let payload = noise.payload();
            let sample = Sample {
                data: Bytes::from(payload.clone()),
                duration: PACKET,
                ..Default::default()
            };
            let at = Instant::now();
            if let Err(e) = track.write_sample(&sample).await {
                eprintln!("talk_bench: sending: {e}");
                return;
            }
            lock(&log).push((at, payload));
            n += 1;
        }
    });
    said
}

// ---------------------------------------------------------------------
// The device's API.

struct Api {
    http: reqwest::Client,
    base: String,
    cookie: Mutex<Option<String>>,
}

impl Api {
    fn new(base: &str) -> Res<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base: base.to_string(),
            cookie: Mutex::new(None),
        })
    }

    /// `POST /api/NAME` with the session; the JSON answer of a 200.
    async fn call(&self, name: &str, body: Value) -> Res<Value> {
        let mut req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header(header::ORIGIN, &self.base)
            .json(&body);
        if let Some(c) = lock(&self.cookie).clone() {
            req = req.header(header::COOKIE, format!("vto_session={c}"));
        }
        let res = req.send().await.map_err(|e| format!("vto {name}: {e}"))?;
        let status = res.status();
        let session = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.strip_prefix("vto_session="))
            .filter_map(|rest| rest.split(';').next())
            .find(|v| !v.is_empty())
            .map(str::to_string);
        if session.is_some() {
            *lock(&self.cookie) = session;
        }
        let text = res.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status != StatusCode::OK {
            return Err(format!("vto {name}: {status} {value}"));
        }
        Ok(value)
    }

    /// A fresh device: initialized, signed in.
    async fn sign_in(&self) -> Res<()> {
        self.call(
            "initialize",
            json!({"password": ::tests::STRONG, "email": null}),
        )
        .await?;
        self.call(
            "login",
            json!({"user": "admin", "password": ::tests::STRONG}),
        )
        .await?;
        Ok(())
    }

    /// Until the door's call rings.
    async fn wait_ringing(&self, mut status: Value) -> Res<()> {
        let until = Instant::now() + WAIT;
        while status["phase"] != "Ringing" {
            if Instant::now() > until {
                return Err(format!("the call does not ring: {status}"));
            }
            let seen = status["version"].as_u64().unwrap_or(0);
            status = self.call("call_status", json!({ "seen": seen })).await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------
// Finding what was sent in what came out.

/// Latencies of one path.
#[derive(Debug, Default)]
struct Matched {
    /// Sorted, ms.
    ms: Vec<f64>,
    /// Packets (blocks) sent within the window.
    sent: usize,
    /// Received packets not found in what was sent (the device changed
    /// them), or sent packets not found at the other end (lost, dropped).
    unmatched: usize,
    /// Payloads that did not start at a block of what was written.
    misaligned: usize,
    /// Between two packets played one after the other: how often something
    /// else (the speaker's silence) came between them, and how much.
    gaps: usize,
    gap_samples: usize,
    /// The latencies in the order the packets were sent (the speaker's).
    in_order: Vec<f64>,
}

impl Matched {
    fn print(&self, name: &str) {
        let p = |q: f64| fmt(percentile(&self.ms, q));
        println!("{name}_sent {}", self.sent);
        println!("{name}_matched {}", self.ms.len());
        println!("{name}_unmatched {}", self.unmatched);
        println!("{name}_min {}", p(0.0));
        println!("{name}_p50 {}", p(0.50));
        println!("{name}_p99 {}", p(0.99));
        println!("{name}_max {}", p(1.0));
    }
}

fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "-".into()
    }
}

/// Microphone → browser: each payload `heard` is found in the μ-law of
/// what was written (by content: the device's blocks need not be the
/// writer's); latency = arrival − the write of its newest sample. Blocks
/// written within `window` count.
fn match_microphone(
    mic: &MicLog,
    heard: &[(Instant, Bytes)],
    window: (Instant, Instant),
) -> Matched {
    let in_window = |t: Instant| t >= window.0 && t < window.1;
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for i in 0..mic.ulaw.len().saturating_sub(BLOCK - 1) {
        if let Some(k) = key8(&mic.ulaw[i..]) {
            index.entry(k).or_default().push(i);
        }
    }
    let mut out = Matched {
        sent: mic.written.iter().filter(|t| in_window(**t)).count(),
        ..Matched::default()
    };
    for (at, payload) in heard {
        let found = key8(payload)
            .and_then(|k| index.get(&k))
            .and_then(|starts| {
                starts
                    .iter()
                    .copied()
                    .find(|&i| mic.ulaw.get(i..i + payload.len()) == Some(&payload[..]))
            });
        let Some(start) = found else {
            // Only what arrived in the window is owed a match.
            if in_window(*at) {
                out.unmatched += 1;
            }
            continue;
        };
        let newest = (start + payload.len() - 1) / BLOCK;
        let Some(&written) = mic.written.get(newest) else {
            continue;
        };
        if !in_window(written) {
            continue;
        }
        if start % BLOCK != 0 {
            out.misaligned += 1;
        }
        out.ms.push(ms_between(written, *at));
    }
    out.ms.sort_by(f64::total_cmp);
    out
}

/// Browser → speaker: each packet `said` within `window`, decoded as the
/// device plays it, is found in what the speaker's pipe gave; latency =
/// the read that gave its last sample − its send.
fn match_speaker(
    said: &[(Instant, Vec<u8>)],
    played: &SpeakerLog,
    window: (Instant, Instant),
) -> Matched {
    let sent: Vec<(Instant, Vec<i16>)> = said
        .iter()
        .filter(|(t, _)| *t >= window.0 && *t < window.1)
        .map(|(t, p)| (*t, p.iter().map(|&c| g711::ulaw_decode(c)).collect()))
        .collect();
    let key = |s: &[i16]| -> Option<u64> {
        let b: Vec<u8> = s.get(..4)?.iter().flat_map(|x| x.to_le_bytes()).collect();
        key8(&b)
    };
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for (j, (_, samples)) in sent.iter().enumerate() {
        if let Some(k) = key(samples) {
            index.entry(k).or_default().push(j);
        }
    }
    let samples: Vec<i16> = played
        .bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut found: Vec<Option<usize>> = vec![None; sent.len()];
    for i in 0..samples.len().saturating_sub(BLOCK - 1) {
        let Some(js) = key(&samples[i..]).and_then(|k| index.get(&k)) else {
            continue;
        };
        for &j in js {
            if found[j].is_none() && samples.get(i..i + sent[j].1.len()) == Some(&sent[j].1[..]) {
                found[j] = Some(i + sent[j].1.len());
            }
        }
    }
    let mut out = Matched {
        sent: sent.len(),
        ..Matched::default()
    };
    for pair in found.windows(2) {
        if let [Some(end), Some(next_end)] = pair {
            let gap = next_end.saturating_sub(BLOCK).saturating_sub(*end);
            if gap > 0 {
                out.gaps += 1;
                out.gap_samples += gap;
            }
        }
    }
    for ((at, _), end) in sent.iter().zip(found) {
        // The read that gave the packet's last byte.
        let last_byte = end.map(|e| e * 2 - 1);
        let read = last_byte.and_then(|b| {
            let r = played.reads.partition_point(|(total, _)| *total <= b);
            played.reads.get(r).map(|(_, t)| *t)
        });
        match read {
            Some(t) => out.in_order.push(ms_between(*at, t)),
            None => out.unmatched += 1,
        }
    }
    out.ms.clone_from(&out.in_order);
    out.ms.sort_by(f64::total_cmp);
    out
}

/// The median latency of the first or the last second of packets.
fn second_p50(in_order: &[f64], last: bool) -> f64 {
    let n = (Duration::from_secs(1).as_millis() / PACKET.as_millis()) as usize;
    let part = if last {
        &in_order[in_order.len().saturating_sub(n)..]
    } else {
        &in_order[..n.min(in_order.len())]
    };
    let mut part = part.to_vec();
    part.sort_by(f64::total_cmp);
    percentile(&part, 0.5)
}

/// Peer to peer: each packet `said` within `window`, found among the
/// payloads `heard`; latency = arrival − send.
fn match_direct(
    said: &[(Instant, Vec<u8>)],
    heard: &[(Instant, Bytes)],
    window: (Instant, Instant),
) -> Matched {
    let arrivals: HashMap<&[u8], Instant> = heard.iter().map(|(t, p)| (&p[..], *t)).collect();
    let mut out = Matched::default();
    for (at, payload) in said.iter().filter(|(t, _)| *t >= window.0 && *t < window.1) {
        out.sent += 1;
        match arrivals.get(&payload[..]) {
            Some(t) => out.ms.push(ms_between(*at, *t)),
            None => out.unmatched += 1,
        }
    }
    out.ms.sort_by(f64::total_cmp);
    out
}

/// How far apart from 20 ms consecutive sends within `window` were (p99 of
/// the difference, ms): how regular the talker is.
fn send_jitter(said: &[(Instant, Vec<u8>)], window: (Instant, Instant)) -> f64 {
    let sent: Vec<Instant> = said
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t >= window.0 && *t < window.1)
        .collect();
    let mut off: Vec<f64> = sent
        .windows(2)
        .map(|w| (ms_between(w[0], w[1]) - ms(PACKET)).abs())
        .collect();
    off.sort_by(f64::total_cmp);
    percentile(&off, 0.99)
}

// ---------------------------------------------------------------------

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("talk_bench: {e}");
        std::process::exit(1);
    }
}

fn args() -> Res<Duration> {
    let mut secs = 10u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--secs", Some(v)) => {
                secs = v.parse().map_err(|_| format!("bad --secs {v}"))?;
            }
            _ => {
                return Err(format!(
                    "unknown option {flag} (usage: talk_bench [--secs 10])"
                ))
            }
        }
    }
    if secs == 0 {
        return Err("--secs must be at least 1".into());
    }
    Ok(Duration::from_secs(secs))
}

async fn run() -> Res<()> {
    let secs = args()?;
    let home = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let (mic_path, speaker_path) = sound_card(home.path())?;
    let stop = Arc::new(AtomicBool::new(false));
    let mic: Arc<Mutex<MicLog>> = Arc::default();
    let played: Arc<Mutex<SpeakerLog>> = Arc::default();
    {
        let (log, stop) = (mic.clone(), stop.clone());
        std::thread::spawn(move || microphone(mic_path, log, stop));
        let log = played.clone();
        std::thread::spawn(move || speaker(speaker_path, log));
    }

    // ---- the device, a ringing monitor, the call ---------------------
    eprintln!("talk_bench: vto with its microphone and speaker on ALSA's file plugin");
    let mut vto = Vto::start_with_env(
        &[
            "--audio-in",
            "vto_mic",
            "--audio-out",
            "vto_speaker",
            "--log",
            "warn",
        ],
        &[("HOME", home.path())],
    )
    .await;
    let result = talk_through(&vto, secs, &mic, &played, &stop).await;
    stop.store(true, Ordering::Relaxed);
    if result.is_err() {
        let logs = vto.logs();
        if !logs.is_empty() {
            eprintln!("talk_bench: vto's log:\n{logs}");
        }
    }
    vto.stop().await;
    result
}

/// The call and its measurement, with the device running.
async fn talk_through(
    vto: &Vto,
    secs: Duration,
    mic: &Arc<Mutex<MicLog>>,
    played: &Arc<Mutex<SpeakerLog>>,
    stop: &Arc<AtomicBool>,
) -> Res<()> {
    let api = Api::new(&vto.url)?;
    api.sign_in().await?;
    api.call(
        "add_room",
        json!({"room": room(ROOM), "password": PASSWORD}),
    )
    .await?;
    let sip = vto.sip.ok_or("vto printed no SIP address")?;
    let port = ::tests::free_port();
    let reg = Sipp::new("register.xml", sip, MONITOR)
        .password(PASSWORD)
        .port(port)
        .run()
        .await;
    if !reg.passed {
        return Err(format!("the monitor did not register: {}", reg.output));
    }
    let monitor = Sipp::new("callee-ring-elsewhere.xml", sip, MONITOR)
        .port(port)
        .spawn();
    ::tests::wait_bound(port, false).await;
    let pressed = api.call("call", json!({})).await?;
    api.wait_ringing(pressed).await?;

    // ---- the browser answers -----------------------------------------
    let webrtc = webrtc_api()?;
    let mut browser = peer(&webrtc).await?;
    let browser_mic = microphone_track(&browser.pc).await?;
    browser
        .pc
        .add_transceiver_from_kind(
            RTPCodecType::Video,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            }),
        )
        .await
        .map_err(|e| format!("video transceiver: {e}"))?;
    let offer = browser
        .pc
        .create_offer(None)
        .await
        .map_err(|e| format!("offer: {e}"))?;
    let offer = gathered(&browser.pc, offer).await?;
    let answered = api
        .call("answer_call", json!({"sdp": offer, "take_over": false}))
        .await?;
    let answer = answered["sdp"]
        .as_str()
        .ok_or_else(|| format!("answer_call gave no SDP: {answered}"))?;
    let answer = RTCSessionDescription::answer(answer.to_string())
        .map_err(|e| format!("the device's answer: {e}"))?;
    browser
        .pc
        .set_remote_description(answer)
        .await
        .map_err(|e| format!("the device's answer: {e}"))?;
    wait_hearing(&mut browser, "the browser").await?;
    let talk_started = Instant::now();
    let browser_said = talk(browser_mic, 2, stop.clone());
    let rang = tokio::time::timeout(WAIT, monitor)
        .await
        .map_err(|_| "the monitor was not cancelled".to_string())?
        .map_err(|e| format!("the monitor: {e}"))?;
    if !rang.passed {
        return Err(format!(
            "the monitor was not cancelled as answered elsewhere: {}",
            rang.output
        ));
    }
    eprintln!("talk_bench: answered in the browser; the monitor was cancelled");

    // ---- peer to peer ------------------------------------------------
    let sender = peer(&webrtc).await?;
    let mut receiver = peer(&webrtc).await?;
    let direct_mic = microphone_track(&sender.pc).await?;
    let offer = sender
        .pc
        .create_offer(None)
        .await
        .map_err(|e| format!("direct offer: {e}"))?;
    let offer = gathered(&sender.pc, offer).await?;
    receiver
        .pc
        .set_remote_description(
            RTCSessionDescription::offer(offer).map_err(|e| format!("direct offer: {e}"))?,
        )
        .await
        .map_err(|e| format!("direct offer: {e}"))?;
    let answer = receiver
        .pc
        .create_answer(None)
        .await
        .map_err(|e| format!("direct answer: {e}"))?;
    let answer = gathered(&receiver.pc, answer).await?;
    sender
        .pc
        .set_remote_description(
            RTCSessionDescription::answer(answer).map_err(|e| format!("direct answer: {e}"))?,
        )
        .await
        .map_err(|e| format!("direct answer: {e}"))?;
    let direct_said = talk(direct_mic, 3, stop.clone());
    wait_hearing(&mut receiver, "the direct peer").await?;

    // ---- the window --------------------------------------------------
    tokio::time::sleep(SETTLE).await;
    let pid = vto.pid().to_string();
    let (cpu0, host0) = (process_ticks(&pid), host_ticks());
    let start = Instant::now();
    eprintln!(
        "talk_bench: measuring for {} s (all three paths at once)",
        secs.as_secs()
    );
    tokio::time::sleep(secs).await;
    let end = Instant::now();
    let (cpu1, host1) = (process_ticks(&pid), host_ticks());
    tokio::time::sleep(GRACE).await;
    stop.store(true, Ordering::Relaxed);
    // Let the speaker's buffer of the last packets come out.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let window = (start, end);
    let mic_m = match_microphone(&lock(mic), &lock(&browser.heard), window);
    let speaker_m = match_speaker(&lock(&browser_said), &lock(played), window);
    // The speaker's silence between the talker's packets since the talk
    // began: each time, what follows is played 20 ms later.
    let speaker_call = match_speaker(&lock(&browser_said), &lock(played), (talk_started, end));
    let direct_m = match_direct(&lock(&direct_said), &lock(&receiver.heard), window);

    if let Err(e) = api.call("hang_up", json!({})).await {
        eprintln!("talk_bench: hang up: {e}");
    }
    for pc in [&browser.pc, &sender.pc, &receiver.pc] {
        let _ = pc.close().await;
    }

    println!("secs {}", secs.as_secs());
    println!("alsa_buffer_ms {ALSA_BUFFER_MS}");
    mic_m.print("mic");
    println!("mic_misaligned {}", mic_m.misaligned);
    speaker_m.print("speaker");
    // The speaker's latency may creep up within a call (see the module
    // note): its first and last second.
    println!(
        "speaker_first_p50 {}",
        fmt(second_p50(&speaker_m.in_order, false))
    );
    println!(
        "speaker_last_p50 {}",
        fmt(second_p50(&speaker_m.in_order, true))
    );
    for (name, m) in [
        ("speaker_gaps", &speaker_m),
        ("speaker_call_gaps", &speaker_call),
    ] {
        println!("{name} {}", m.gaps);
        println!("{name}_ms {}", fmt(m.gap_samples as f64 * 1000.0 / 8000.0));
    }
    println!(
        "talker_jitter_p99 {}",
        fmt(send_jitter(&lock(&browser_said), window))
    );
    let less_buffer: Vec<f64> = speaker_m.ms.iter().map(|m| m - ALSA_BUFFER_MS).collect();
    println!("speaker_nobuf_p50 {}", fmt(percentile(&less_buffer, 0.50)));
    println!("speaker_nobuf_p99 {}", fmt(percentile(&less_buffer, 0.99)));
    direct_m.print("p2p");
    let wall = (end - start).as_secs_f64();
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        let cpu = (c1 - c0) as f64 / clock_ticks() / wall * 100.0;
        println!("vto_cpu {cpu:.1}");
    }
    if let (Some((b0, t0)), Some((b1, t1))) = (host0, host1) {
        if t1 > t0 {
            let busy = (b1 - b0) as f64 / (t1 - t0) as f64 * 100.0;
            println!("host_busy {busy:.1}");
        }
    }
    eprintln!(
        "talk_bench: microphone → browser p50 {} ms p99 {} ms ({}/{}); browser → speaker p50 {} ms p99 {} ms ({}/{}); peer to peer p50 {} ms p99 {} ms ({}/{})",
        fmt(percentile(&mic_m.ms, 0.5)),
        fmt(percentile(&mic_m.ms, 0.99)),
        mic_m.ms.len(),
        mic_m.sent,
        fmt(percentile(&speaker_m.ms, 0.5)),
        fmt(percentile(&speaker_m.ms, 0.99)),
        speaker_m.ms.len(),
        speaker_m.sent,
        fmt(percentile(&direct_m.ms, 0.5)),
        fmt(percentile(&direct_m.ms, 0.99)),
        direct_m.ms.len(),
        direct_m.sent,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn a_payload_across_two_blocks_dates_from_the_newer() {
        let t = Instant::now();
        let mut noise = Noise::new(7);
        let ulaw: Vec<u8> = (0..3).flat_map(|_| noise.payload()).collect();
        let mic = MicLog {
            ulaw: ulaw.clone(),
            written: vec![at(t, 0), at(t, 20), at(t, 40)],
        };
        let heard = vec![
            (at(t, 5), Bytes::copy_from_slice(&ulaw[..BLOCK])),
            (
                at(t, 47),
                Bytes::copy_from_slice(&ulaw[BLOCK + 80..2 * BLOCK + 80]),
            ),
            (at(t, 50), Bytes::from(vec![0x55u8; BLOCK])),
        ];
        let m = match_microphone(&mic, &heard, (t, at(t, 60)));
        assert_eq!(m.sent, 3);
        assert_eq!(m.ms.len(), 2);
        assert_eq!(m.unmatched, 1);
        assert_eq!(m.misaligned, 1);
        assert!(
            (m.ms[0] - 5.0).abs() < 0.01 && (m.ms[1] - 7.0).abs() < 0.01,
            "{m:?}"
        );
    }

    #[test]
    fn a_packet_played_dates_from_the_read_of_its_last_sample() {
        let t = Instant::now();
        let mut noise = Noise::new(9);
        let (a, b, c) = (noise.payload(), noise.payload(), noise.payload());
        let pcm = |p: &[u8]| -> Vec<u8> {
            p.iter()
                .flat_map(|&c| g711::ulaw_decode(c).to_le_bytes())
                .collect()
        };
        // Silence, packet a split over two reads, 20 samples of silence,
        // b; c never played.
        let mut bytes = vec![0u8; 100];
        bytes.extend(pcm(&a));
        bytes.extend(vec![0u8; 40]);
        bytes.extend(pcm(&b));
        let played = SpeakerLog {
            reads: vec![(300, at(t, 110)), (bytes.len(), at(t, 150))],
            bytes,
        };
        let said = vec![(at(t, 0), a), (at(t, 20), b), (at(t, 40), c)];
        let m = match_speaker(&said, &played, (t, at(t, 60)));
        assert_eq!((m.sent, m.ms.len(), m.unmatched), (3, 2, 1));
        assert!(
            (m.ms[0] - 130.0).abs() < 0.01 && (m.ms[1] - 150.0).abs() < 0.01,
            "{m:?}"
        );
        assert_eq!((m.gaps, m.gap_samples), (1, 20));
    }

    #[test]
    fn noise_is_within_its_level_and_g711_keeps_it_apart() {
        let mut noise = Noise::new(3);
        let block = noise.block();
        assert!(block.iter().all(|s| i64::from(*s).abs() <= LEVEL));
        assert!(block.iter().any(|s| *s > 1000) && block.iter().any(|s| *s < -1000));
        assert_ne!(noise.payload(), noise.payload());
    }
}
