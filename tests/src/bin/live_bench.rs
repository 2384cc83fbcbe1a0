//! Headless WebRTC viewers for `.ci/bench-live`: opens N viewers of one
//! relay (vto over WHEP, or Janus' streaming plugin over its REST API), reads
//! their RTP without decoding it, and measures, level after level:
//! - the relay's CPU (utime + stime of its process from `/proc/PID/stat`)
//!   over a steady window once every viewer receives;
//! - frames per second each viewer receives (RTP timestamp changes);
//! - the latency the relay adds: the same RTSP source is pulled directly
//!   (retina, the reference), and each frame's first slice is recognized
//!   at the reference and at every viewer by its first bytes (relays
//!   rewrite RTP timestamps and sequence numbers and may re-packetize, but
//!   not the slice data). Latency = arrival at the viewer − arrival at the
//!   reference, both on this process' monotonic clock. A second direct
//!   client (the probe), measured the same way, gives the method's floor.
//!
//! The slope of the relay's CPU against the viewer count (over the counts
//! where every viewer got whole frame rate) is its cost per viewer.
//!
//! usage: live_bench vto|janus --base URL --rtsp RTSP_URL --pid RELAY_PID
//!   [--levels 1,10,25,50,100] [--secs 10] [--client-ip 10.77.0.2]
//!   [--source-pid PID] [--udp true|false]
//!   vto:   [--password PW] (initializes the device if needed, sets the door
//!          camera to the RTSP source)
//!   janus: [--mountpoint ID]
//!
//! Results go to stdout as `key value...` lines; progress to stderr.

use std::{
    collections::HashMap,
    net::IpAddr,
    str::FromStr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use ::tests::bench::{
    all_processes, clock_ticks, host_ticks, match_pictures, percentile, picture_key, process_ticks,
    Latency,
};
use futures_util::StreamExt;
use reqwest::{header, StatusCode};
use retina::client::PacketItem;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};
use webrtc::{
    api::{
        interceptor_registry::register_default_interceptors, media_engine::MediaEngine,
        setting_engine::SettingEngine, APIBuilder, API,
    },
    ice::mdns::MulticastDnsMode,
    interceptor::registry::Registry,
    peer_connection::{
        configuration::RTCConfiguration, peer_connection_state::RTCPeerConnectionState,
        sdp::session_description::RTCSessionDescription, RTCPeerConnection,
    },
    rtp_transceiver::{
        rtp_codec::RTPCodecType, rtp_transceiver_direction::RTCRtpTransceiverDirection,
        RTCRtpTransceiverInit,
    },
};

type Res<T> = Result<T, String>;

/// Viewers set up at once.
const CONNECT_PARALLEL: usize = 8;
/// How long a viewer may take from offer to its first frame.
const CONNECT_WAIT: Duration = Duration::from_secs(30);
/// A viewer counts as receiving at this rate or more (of 25 fps).
const FULL_FPS: f64 = 24.0;

// ---------------------------------------------------------------------
// What receivers saw.

/// Pictures seen by one receiver while recording: (key, arrival).
#[derive(Default)]
struct Log(Mutex<Vec<(u64, Instant)>>);

impl Log {
    fn push(&self, key: u64, at: Instant) {
        if let Ok(mut l) = self.0.lock() {
            l.push((key, at));
        }
    }
    fn take(&self) -> Vec<(u64, Instant)> {
        self.0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// One viewer's counters.
#[derive(Default)]
struct Stats {
    packets: AtomicU64,
    frames: AtomicU64,
    log: Log,
}

/// A direct RTSP client of the source: what it received.
#[derive(Default)]
struct Feed {
    frames: AtomicU64,
    bytes: AtomicU64,
    /// Its pictures, the last minute or so.
    log: Mutex<Vec<(u64, Instant)>>,
}

impl Feed {
    fn pictures(&self) -> Vec<(u64, Instant)> {
        self.log.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// What all receivers share.
#[derive(Default)]
struct Shared {
    /// Whether viewers log pictures now.
    recording: AtomicBool,
    /// The source pulled directly: the reference arrival of every picture.
    reference: Feed,
    /// A second direct client: its "latency" against the reference is the
    /// floor of the method (scheduling in this process, the source's
    /// sending order).
    probe: Feed,
}

// ---------------------------------------------------------------------
// The reference: the RTSP source pulled directly.

async fn direct(
    url: url::Url,
    udp: bool,
    shared: Arc<Shared>,
    probe: bool,
    ready: mpsc::Sender<Res<()>>,
) {
    let feed = if probe {
        &shared.probe
    } else {
        &shared.reference
    };
    let run = async {
        ::tests::rtsp::retina_play(url, None, udp)
            .await
            .map(|(playing, _)| playing)
            .map_err(|e| format!("reference {e}"))
    };
    let mut playing = match run.await {
        Ok(p) => {
            let _ = ready.send(Ok(())).await;
            p
        }
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    let mut last_ts = None;
    while let Some(item) = playing.next().await {
        let at = Instant::now();
        let pkt = match item {
            Ok(PacketItem::Rtp(p)) => p,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("live_bench: the reference stopped: {e}");
                return;
            }
        };
        feed.bytes
            .fetch_add(pkt.payload().len() as u64, Ordering::Relaxed);
        let ts = pkt.timestamp().timestamp();
        if last_ts != Some(ts) {
            last_ts = Some(ts);
            feed.frames.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(k) = picture_key(pkt.payload()) {
            if let Ok(mut r) = feed.log.lock() {
                r.push((k, at));
                // Keep the last minute or so (25 pictures a second).
                if r.len() > 3000 {
                    r.drain(..1000);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------
// Viewers.

fn webrtc_api(client_ip: Option<IpAddr>) -> Res<API> {
    let mut media = MediaEngine::default();
    // What a browser offers for H.264 (42e01f, 42001f) and the constrained
    // baseline cameras send (42c01f, which Janus passes on as is).
    ::tests::bench::register_h264(
        &mut media,
        &[(102, "42e01f"), (104, "42001f"), (106, "42c01f")],
    )?;
    let registry = register_default_interceptors(Registry::new(), &mut media)
        .map_err(|e| format!("interceptors: {e}"))?;
    let mut settings = SettingEngine::default();
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    if let Some(ip) = client_ip {
        settings.set_ip_filter(Box::new(move |a| a == ip));
    }
    Ok(APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build())
}

/// A peer connection whose video is counted into `stats`; `connected` hears
/// of the connection's state.
async fn new_viewer(
    api: &API,
    shared: &Arc<Shared>,
) -> Res<(Arc<RTCPeerConnection>, Arc<Stats>, mpsc::Receiver<bool>)> {
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .map_err(|e| format!("peer connection: {e}"))?,
    );
    let stats = Arc::new(Stats::default());
    let (state_tx, state_rx) = mpsc::channel(8);
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
    let (st, sh) = (stats.clone(), shared.clone());
    pc.on_track(Box::new(move |track, receiver, _| {
        let (stats, shared) = (st.clone(), sh.clone());
        tokio::spawn(async move {
            // RTCP is read so the interceptors see the sender reports.
            tokio::spawn(async move { while receiver.read_rtcp().await.is_ok() {} });
            let mut last_ts = None;
            while let Ok((pkt, _)) = track.read_rtp().await {
                let at = Instant::now();
                stats.packets.fetch_add(1, Ordering::Relaxed);
                if last_ts != Some(pkt.header.timestamp) {
                    last_ts = Some(pkt.header.timestamp);
                    stats.frames.fetch_add(1, Ordering::Relaxed);
                }
                if shared.recording.load(Ordering::Relaxed) {
                    if let Some(k) = picture_key(&pkt.payload) {
                        stats.log.push(k, at);
                    }
                }
            }
        });
        Box::pin(async {})
    }));
    Ok((pc, stats, state_rx))
}

/// Waits for the connection and its first frame.
async fn wait_playing(stats: &Stats, mut state: mpsc::Receiver<bool>) -> Res<()> {
    let deadline = tokio::time::Instant::now() + CONNECT_WAIT;
    match tokio::time::timeout_at(deadline, state.recv()).await {
        Ok(Some(true)) => {}
        Ok(_) => return Err("the connection failed".into()),
        Err(_) => return Err("no connection within 30 s".into()),
    }
    while stats.frames.load(Ordering::Relaxed) == 0 {
        if tokio::time::Instant::now() > deadline {
            return Err("connected, but no video within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn gathered_sdp(pc: &RTCPeerConnection, local: RTCSessionDescription) -> Res<String> {
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

/// A relay that viewers can be added to.
enum Relay {
    Vto(VtoRelay),
    Janus(JanusRelay),
}

struct Viewer {
    pc: Arc<RTCPeerConnection>,
    stats: Arc<Stats>,
    /// vto: the WHEP resource; Janus: the handle id.
    end: String,
}

impl Relay {
    async fn add(&self, api: &API, shared: &Arc<Shared>) -> Res<Viewer> {
        let (pc, stats, state) = new_viewer(api, shared).await?;
        let end = match self {
            Relay::Vto(v) => v.connect(&pc).await,
            Relay::Janus(j) => j.connect(&pc).await,
        };
        let end = match end {
            Ok(e) => e,
            Err(e) => {
                let _ = pc.close().await;
                return Err(e);
            }
        };
        let viewer = Viewer { pc, stats, end };
        if let Err(e) = wait_playing(&viewer.stats, state).await {
            self.remove(&viewer).await;
            return Err(e);
        }
        Ok(viewer)
    }

    async fn remove(&self, viewer: &Viewer) {
        match self {
            Relay::Vto(v) => v.end(&viewer.end).await,
            Relay::Janus(j) => j.end(&viewer.end).await,
        }
        let _ = viewer.pc.close().await;
    }
}

// ---------------------------------------------------------------------
// vto: a session cookie, the door camera set to the RTSP source, WHEP.

struct VtoRelay {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl VtoRelay {
    async fn call(
        http: &reqwest::Client,
        base: &str,
        cookie: Option<&str>,
        name: &str,
        body: Value,
    ) -> Res<(StatusCode, Value, Option<String>)> {
        let mut req = http
            .post(format!("{base}/api/{name}"))
            .header(header::ORIGIN, base)
            .json(&body);
        if let Some(c) = cookie {
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
        let text = res.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value, session))
    }

    async fn setup(base: &str, password: &str, rtsp: &str, udp: bool) -> Res<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        // A fresh device is initialized first; an initialized one refuses.
        let _ = Self::call(
            &http,
            base,
            None,
            "initialize",
            json!({"password": password, "email": null}),
        )
        .await?;
        let (status, body, cookie) = Self::call(
            &http,
            base,
            None,
            "login",
            json!({"user": "admin", "password": password}),
        )
        .await?;
        let cookie = match (status, cookie) {
            (StatusCode::OK, Some(c)) => c,
            _ => return Err(format!("vto login: {status} {body}")),
        };
        let (status, page, _) =
            Self::call(&http, base, Some(&cookie), "video_settings", json!({})).await?;
        if status != StatusCode::OK {
            return Err(format!("vto video_settings: {status} {page}"));
        }
        let mut settings = page["settings"].clone();
        settings["camera"]["kind"] = json!("Rtsp");
        settings["camera"]["url"] = json!(rtsp);
        settings["camera"]["user"] = json!("");
        settings["camera"]["transport"] = json!(if udp { "Udp" } else { "Tcp" });
        let (status, page, _) = Self::call(
            &http,
            base,
            Some(&cookie),
            "save_video_settings",
            json!({"settings": settings, "password": "Clear"}),
        )
        .await?;
        if status != StatusCode::OK {
            return Err(format!("vto save_video_settings: {status} {page}"));
        }
        Ok(Self {
            http,
            base: base.to_string(),
            cookie,
        })
    }

    /// WHEP: a receive-only offer in, the answer and the viewer's resource out.
    async fn connect(&self, pc: &RTCPeerConnection) -> Res<String> {
        pc.add_transceiver_from_kind(
            RTPCodecType::Video,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            }),
        )
        .await
        .map_err(|e| format!("transceiver: {e}"))?;
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| format!("offer: {e}"))?;
        let sdp = gathered_sdp(pc, offer).await?;
        let res = self
            .http
            .post(format!("{}/api/whep/door", self.base))
            .header(header::ORIGIN, &self.base)
            .header(header::COOKIE, format!("vto_session={}", self.cookie))
            .header(header::CONTENT_TYPE, "application/sdp")
            .body(sdp)
            .send()
            .await
            .map_err(|e| format!("WHEP: {e}"))?;
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = res.text().await.unwrap_or_default();
        let (StatusCode::CREATED, Some(location)) = (status, location) else {
            return Err(format!("WHEP: {status} {text}"));
        };
        let answer = RTCSessionDescription::answer(text).map_err(|e| format!("answer: {e}"))?;
        pc.set_remote_description(answer)
            .await
            .map_err(|e| format!("answer: {e}"))?;
        Ok(location)
    }

    async fn end(&self, location: &str) {
        let _ = self
            .http
            .delete(format!("{}{location}", self.base))
            .header(header::ORIGIN, &self.base)
            .header(header::COOKIE, format!("vto_session={}", self.cookie))
            .send()
            .await;
    }
}

// ---------------------------------------------------------------------
// Janus: one session, a streaming plugin handle per viewer; Janus offers.

struct JanusRelay {
    http: reqwest::Client,
    /// `{base}/{session}`.
    session: String,
    mountpoint: u64,
    events: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>,
    transaction: AtomicU64,
}

impl JanusRelay {
    async fn post(http: &reqwest::Client, url: &str, body: Value) -> Res<Value> {
        let res = http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("Janus {url}: {e}"))?;
        let v: Value = res.json().await.map_err(|e| format!("Janus {url}: {e}"))?;
        if v["janus"] == "error" {
            return Err(format!("Janus: {}", v["error"]));
        }
        Ok(v)
    }

    async fn setup(base: &str, mountpoint: u64) -> Res<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| e.to_string())?;
        let created =
            Self::post(&http, base, json!({"janus": "create", "transaction": "c"})).await?;
        let id = created["data"]["id"]
            .as_u64()
            .ok_or_else(|| format!("Janus create: {created}"))?;
        let session = format!("{base}/{id}");
        let events: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>> = Arc::default();
        // The long poll: every event of every handle, routed by sender.
        let (poll_http, poll_url, routes) = (http.clone(), session.clone(), events.clone());
        tokio::spawn(async move {
            loop {
                let got = poll_http
                    .get(format!("{poll_url}?maxev=100"))
                    .send()
                    .await
                    .map(|r| r.json::<Value>());
                let batch = match got {
                    Ok(body) => match body.await {
                        Ok(Value::Array(a)) => a,
                        Ok(v) => vec![v],
                        Err(_) => continue,
                    },
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                for event in batch {
                    let Some(sender) = event["sender"].as_u64() else {
                        continue;
                    };
                    if let Ok(r) = routes.lock() {
                        if let Some(tx) = r.get(&sender) {
                            let _ = tx.send(event);
                        }
                    }
                }
            }
        });
        Ok(Self {
            http,
            session,
            mountpoint,
            events,
            transaction: AtomicU64::new(0),
        })
    }

    fn tx(&self) -> String {
        format!("t{}", self.transaction.fetch_add(1, Ordering::Relaxed))
    }

    async fn connect(&self, pc: &RTCPeerConnection) -> Res<String> {
        let attached = Self::post(
            &self.http,
            &self.session,
            json!({"janus": "attach", "plugin": "janus.plugin.streaming", "transaction": self.tx()}),
        )
        .await?;
        let handle_id = attached["data"]["id"]
            .as_u64()
            .ok_or_else(|| format!("Janus attach: {attached}"))?;
        let handle = format!("{}/{handle_id}", self.session);
        let (tx, mut rx) = mpsc::unbounded_channel();
        if let Ok(mut e) = self.events.lock() {
            e.insert(handle_id, tx);
        }
        Self::post(
            &self.http,
            &handle,
            json!({"janus": "message", "transaction": self.tx(),
                   "body": {"request": "watch", "id": self.mountpoint}}),
        )
        .await?;
        let offer = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(ev) = rx.recv().await {
                if let Some(sdp) = ev["jsep"]["sdp"].as_str() {
                    return Ok(sdp.to_string());
                }
                if ev["plugindata"]["data"]["error"].is_string() {
                    return Err(format!("Janus watch: {}", ev["plugindata"]["data"]));
                }
            }
            Err("Janus: no offer".to_string())
        })
        .await
        .map_err(|_| "Janus sent no offer within 10 s".to_string())??;
        let offer = RTCSessionDescription::offer(offer).map_err(|e| format!("offer: {e}"))?;
        pc.set_remote_description(offer)
            .await
            .map_err(|e| format!("Janus offer: {e}"))?;
        let answer = pc
            .create_answer(None)
            .await
            .map_err(|e| format!("answer: {e}"))?;
        let sdp = gathered_sdp(pc, answer).await?;
        Self::post(
            &self.http,
            &handle,
            json!({"janus": "message", "transaction": self.tx(),
                   "body": {"request": "start"},
                   "jsep": {"type": "answer", "sdp": sdp, "trickle": false}}),
        )
        .await?;
        Ok(handle)
    }

    async fn end(&self, handle: &str) {
        let _ = Self::post(
            &self.http,
            handle,
            json!({"janus": "detach", "transaction": self.tx()}),
        )
        .await;
    }

    async fn close(&self) {
        let _ = Self::post(
            &self.http,
            &self.session,
            json!({"janus": "destroy", "transaction": self.tx()}),
        )
        .await;
    }
}

// ---------------------------------------------------------------------
// CPU from /proc.

struct CpuMark {
    at: Instant,
    relay: u64,
    me: u64,
    source: u64,
    host: (u64, u64),
    all: HashMap<u32, (String, u64)>,
}

struct Cpu {
    relay: String,
    source: Option<String>,
    tck: f64,
}

impl Cpu {
    fn mark(&self) -> Res<CpuMark> {
        Ok(CpuMark {
            at: Instant::now(),
            relay: process_ticks(&self.relay).ok_or("the relay process is gone")?,
            me: process_ticks("self").unwrap_or(0),
            source: self.source.as_deref().and_then(process_ticks).unwrap_or(0),
            host: host_ticks().unwrap_or((0, 1)),
            all: all_processes(),
        })
    }

    /// The other processes that used 5% of a core or more, busiest first:
    /// `name:percent,...` (or `-`).
    fn others(&self, a: &CpuMark, b: &CpuMark) -> String {
        let secs = (b.at - a.at).as_secs_f64().max(0.001);
        let mine = [
            Some(self.relay.as_str()),
            self.source.as_deref(),
            Some(&std::process::id().to_string()),
        ];
        let mut busy: Vec<(f64, &str)> = b
            .all
            .iter()
            .filter(|(pid, _)| !mine.contains(&Some(pid.to_string().as_str())))
            .filter_map(|(pid, (name, t1))| {
                let t0 = a.all.get(pid).map_or(0, |(_, t)| *t);
                let pct = t1.saturating_sub(t0) as f64 / self.tck / secs * 100.0;
                (pct >= 5.0).then_some((pct, name.as_str()))
            })
            .collect();
        busy.sort_by(|x, y| y.0.total_cmp(&x.0));
        let list: Vec<String> = busy
            .iter()
            .take(3)
            .map(|(pct, name)| format!("{name}:{pct:.0}"))
            .collect();
        if list.is_empty() {
            "-".into()
        } else {
            list.join(",")
        }
    }

    /// % of one core: (relay, this process, the RTSP source, whole host).
    fn between(&self, a: &CpuMark, b: &CpuMark) -> (f64, f64, f64, f64) {
        let secs = (b.at - a.at).as_secs_f64().max(0.001);
        let pct = |x: u64, y: u64| (y.saturating_sub(x)) as f64 / self.tck / secs * 100.0;
        let (busy, total) = (
            b.host.0.saturating_sub(a.host.0),
            b.host.1.saturating_sub(a.host.1),
        );
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        (
            pct(a.relay, b.relay),
            pct(a.me, b.me),
            pct(a.source, b.source),
            busy as f64 / (total.max(1)) as f64 * 100.0 * cores,
        )
    }
}

// ---------------------------------------------------------------------

struct Args {
    relay: String,
    base: String,
    rtsp: String,
    pid: String,
    source_pid: Option<String>,
    levels: Vec<usize>,
    secs: u64,
    client_ip: Option<IpAddr>,
    password: String,
    mountpoint: u64,
    udp: bool,
}

fn parse<T: FromStr>(name: &str, v: &str) -> Res<T> {
    v.parse().map_err(|_| format!("bad --{name}: {v}"))
}

fn args() -> Res<Args> {
    let mut it = std::env::args().skip(1);
    let relay = it
        .next()
        .ok_or("usage: live_bench vto|janus --base URL ...")?;
    let mut a = Args {
        relay,
        base: String::new(),
        rtsp: String::new(),
        pid: String::new(),
        source_pid: None,
        levels: vec![1, 10, 25, 50, 100],
        secs: 10,
        client_ip: None,
        password: "Door-Bell7x".into(),
        mountpoint: 1,
        udp: true,
    };
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} wants a value"))?;
        match flag.trim_start_matches("--") {
            "base" => a.base = v.trim_end_matches('/').to_string(),
            "rtsp" => a.rtsp = v,
            "pid" => a.pid = v,
            "source-pid" => a.source_pid = Some(v),
            "levels" => {
                a.levels = v
                    .split(',')
                    .map(|n| parse("levels", n.trim()))
                    .collect::<Res<_>>()?;
                a.levels.sort_unstable();
                a.levels.dedup();
                a.levels.retain(|n| *n > 0);
            }
            "secs" => a.secs = parse("secs", &v)?,
            "client-ip" => a.client_ip = Some(parse("client-ip", &v)?),
            "password" => a.password = v,
            "mountpoint" => a.mountpoint = parse("mountpoint", &v)?,
            "udp" => a.udp = parse("udp", &v)?,
            other => return Err(format!("unknown option --{other}")),
        }
    }
    if a.base.is_empty() || a.rtsp.is_empty() || a.pid.is_empty() || a.levels.is_empty() {
        return Err("--base, --rtsp, --pid and --levels are required".into());
    }
    Ok(a)
}

fn fmt(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "-".into()
    }
}

/// Least squares: (slope, intercept).
fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

async fn run(a: Args) -> Res<()> {
    let shared = Arc::new(Shared::default());
    let url = url::Url::parse(&a.rtsp).map_err(|e| format!("--rtsp: {e}"))?;
    let relay = match a.relay.as_str() {
        "vto" => Relay::Vto(VtoRelay::setup(&a.base, &a.password, &a.rtsp, a.udp).await?),
        "janus" => Relay::Janus(JanusRelay::setup(&a.base, a.mountpoint).await?),
        other => return Err(format!("unknown relay {other} (vto or janus)")),
    };
    let api = Arc::new(webrtc_api(a.client_ip)?);
    let relay = Arc::new(relay);
    let cpu = Cpu {
        relay: a.pid.clone(),
        source: a.source_pid.clone(),
        tck: clock_ticks(),
    };
    let window = Duration::from_secs(a.secs);
    println!("relay {}", a.relay);

    // The relay with no viewer (vto pulls a camera only while it is watched;
    // Janus pulls its RTSP mountpoints all the time).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m0 = cpu.mark()?;
    tokio::time::sleep(window.min(Duration::from_secs(5))).await;
    let m1 = cpu.mark()?;
    let (idle, _, source_cpu, _) = cpu.between(&m0, &m1);
    println!("idle_cpu {}", fmt(idle, 1));
    println!("source_cpu {}", fmt(source_cpu, 1));
    eprintln!(
        "live_bench {}: 0 viewers: relay {idle:.1}% of a core",
        a.relay
    );
    let counts = || {
        (
            shared.reference.frames.load(Ordering::Relaxed),
            shared.reference.bytes.load(Ordering::Relaxed),
        )
    };
    let mut direct_started = false;

    let mut viewers: Vec<Viewer> = Vec::new();
    let mut points = Vec::new();
    let mut results: Vec<(usize, Vec<f64>, Latency, Latency)> = Vec::new();
    let mut max_ok = 0;
    let mut failures = 0usize;
    for &n in &a.levels {
        // Add viewers up to n, a few at a time.
        let t0 = Instant::now();
        let gate = Arc::new(Semaphore::new(CONNECT_PARALLEL));
        let mut joins = tokio::task::JoinSet::new();
        for _ in viewers.len()..n {
            let (relay, api, shared, gate) =
                (relay.clone(), api.clone(), shared.clone(), gate.clone());
            joins.spawn(async move {
                let _permit = gate.acquire_owned().await;
                relay.add(&api, &shared).await
            });
        }
        while let Some(j) = joins.join_next().await {
            match j {
                Ok(Ok(v)) => viewers.push(v),
                Ok(Err(e)) => {
                    failures += 1;
                    eprintln!("live_bench {}: a viewer failed: {e}", a.relay);
                }
                Err(e) => {
                    failures += 1;
                    eprintln!("live_bench {}: a viewer task failed: {e}", a.relay);
                }
            }
        }
        if viewers.len() < n {
            eprintln!(
                "live_bench {}: {} of {n} viewers connected; stopping here",
                a.relay,
                viewers.len()
            );
            break;
        }
        eprintln!(
            "live_bench {}: {n} viewers connected in {:.1} s",
            a.relay,
            t0.elapsed().as_secs_f64()
        );
        // The direct clients join the camera after the relay did (vto pulls
        // it from its first viewer on): the camera sends each packet to its
        // newest client first, so both relays get it after them alike.
        if !direct_started {
            direct_started = true;
            for probe in [false, true] {
                let (ready_tx, mut ready_rx) = mpsc::channel(1);
                tokio::spawn(direct(url.clone(), a.udp, shared.clone(), probe, ready_tx));
                ready_rx
                    .recv()
                    .await
                    .ok_or("the direct RTSP client did not start")??;
            }
        }
        // Settle, then the window.
        tokio::time::sleep(Duration::from_secs(3)).await;
        for v in &viewers {
            v.stats.log.take();
        }
        let frames0: Vec<u64> = viewers
            .iter()
            .map(|v| v.stats.frames.load(Ordering::Relaxed))
            .collect();
        let packets0: Vec<u64> = viewers
            .iter()
            .map(|v| v.stats.packets.load(Ordering::Relaxed))
            .collect();
        shared.recording.store(true, Ordering::Relaxed);
        let (m0, (f0, b0)) = (cpu.mark()?, counts());
        tokio::time::sleep(window).await;
        let (m1, (f1, b1)) = (cpu.mark()?, counts());
        shared.recording.store(false, Ordering::Relaxed);
        let secs = (m1.at - m0.at).as_secs_f64();
        let source_fps = (f1 - f0) as f64 / secs;
        let source_kbps = (b1 - b0) as f64 * 8.0 / 1000.0 / secs;
        if results.is_empty() {
            println!("source_fps {}", fmt(source_fps, 1));
            println!("source_kbps {}", fmt(source_kbps, 0));
            if source_fps < FULL_FPS {
                return Err(format!(
                    "the direct RTSP client got {source_fps:.1} fps from the camera"
                ));
            }
        }
        let fps: Vec<f64> = viewers
            .iter()
            .zip(&frames0)
            .map(|(v, f0)| (v.stats.frames.load(Ordering::Relaxed) - f0) as f64 / secs)
            .collect();
        let packets: u64 = viewers
            .iter()
            .zip(&packets0)
            .map(|(v, p0)| v.stats.packets.load(Ordering::Relaxed) - p0)
            .sum();
        let pps = packets as f64 / secs / viewers.len().max(1) as f64;
        // The reference may read a picture after a viewer did.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (relay_cpu, client_cpu, source_cpu, host) = cpu.between(&m0, &m1);
        let logs: Vec<_> = viewers.iter().map(|v| v.stats.log.take()).collect();
        let reference = shared.reference.pictures();
        let lat = match_pictures(&reference, &logs);
        let probe: Vec<_> = shared
            .probe
            .pictures()
            .into_iter()
            .filter(|(_, at)| (m0.at..m1.at).contains(at))
            .collect();
        let floor = match_pictures(&reference, &[probe]);
        let fps_min = fps.iter().copied().fold(f64::INFINITY, f64::min);
        let fps_avg = fps.iter().sum::<f64>() / fps.len().max(1) as f64;
        let full = fps.iter().filter(|f| **f >= FULL_FPS).count();
        if full == n {
            max_ok = n;
        }
        let match_rate = lat.ms.len() as f64 / lat.seen.max(1) as f64;
        println!(
            "level {n} relay_cpu {} client_cpu {} source_cpu {} host_cpu {} others {} source_fps {} fps_min {} fps_avg {} pps_avg {} full {full} lat_n {} lat_p50 {} lat_p99 {} match {} early {} floor_n {} floor_p50 {} floor_p99 {}",
            fmt(relay_cpu, 1),
            fmt(client_cpu, 1),
            fmt(source_cpu, 1),
            fmt(host, 1),
            cpu.others(&m0, &m1),
            fmt(source_fps, 1),
            fmt(fps_min, 1),
            fmt(fps_avg, 1),
            fmt(pps, 0),
            lat.ms.len(),
            fmt(percentile(&lat.ms, 0.50), 2),
            fmt(percentile(&lat.ms, 0.99), 2),
            fmt(match_rate, 3),
            lat.early,
            floor.ms.len(),
            fmt(percentile(&floor.ms, 0.50), 2),
            fmt(percentile(&floor.ms, 0.99), 2),
        );
        eprintln!(
            "live_bench {}: {n} viewers: relay {relay_cpu:.1}%, viewers (this process) {client_cpu:.1}%, host {host:.0}% of {} cores; fps min {fps_min:.1} avg {fps_avg:.1}; latency p50 {:.2} ms p99 {:.2} ms ({} pictures, {:.1}% matched; floor p50 {:.2} ms p99 {:.2} ms)",
            a.relay,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            percentile(&lat.ms, 0.50),
            percentile(&lat.ms, 0.99),
            lat.ms.len(),
            match_rate * 100.0,
            percentile(&floor.ms, 0.50),
            percentile(&floor.ms, 0.99),
        );
        // Only levels every viewer gets whole count for the slope: a relay
        // that falls behind does less work than it should.
        if full == n {
            points.push((n as f64, relay_cpu));
        }
        results.push((n, fps, lat, floor));
    }

    println!(
        "fit_levels {}",
        points
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    if let Some((slope, intercept)) = fit(&points) {
        println!("cpu_per_viewer {}", fmt(slope, 3));
        println!("cpu_fixed {}", fmt(intercept, 1));
        let viewers_2 = if slope > 0.0 {
            (200.0 - intercept.max(0.0)) / slope
        } else {
            f64::NAN
        };
        println!("viewers_2cores {}", fmt(viewers_2, 0));
    }
    if let Some((n, _, lat, floor)) = results.first() {
        println!("low_n {n}");
        println!("low_lat_p50 {}", fmt(percentile(&lat.ms, 0.50), 2));
        println!("low_lat_p99 {}", fmt(percentile(&lat.ms, 0.99), 2));
        println!("low_floor_p50 {}", fmt(percentile(&floor.ms, 0.50), 2));
        println!("low_floor_p99 {}", fmt(percentile(&floor.ms, 0.99), 2));
    }
    if let Some((n, fps, lat, floor)) = results.last() {
        println!("top_n {n}");
        println!(
            "top_fps_min {}",
            fmt(fps.iter().copied().fold(f64::INFINITY, f64::min), 1)
        );
        println!(
            "top_fps_avg {}",
            fmt(fps.iter().sum::<f64>() / fps.len().max(1) as f64, 1)
        );
        println!("top_lat_p50 {}", fmt(percentile(&lat.ms, 0.50), 2));
        println!("top_lat_p99 {}", fmt(percentile(&lat.ms, 0.99), 2));
        println!("top_floor_p50 {}", fmt(percentile(&floor.ms, 0.50), 2));
        println!("top_floor_p99 {}", fmt(percentile(&floor.ms, 0.99), 2));
        println!(
            "top_match {}",
            fmt(lat.ms.len() as f64 / lat.seen.max(1) as f64, 3)
        );
    }
    println!("max_ok_n {max_ok}");
    println!("failures {failures}");

    // Leave cleanly: end every viewer at the relay, then locally.
    let mut ends = tokio::task::JoinSet::new();
    for v in viewers {
        let relay = relay.clone();
        ends.spawn(async move { relay.remove(&v).await });
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), ends.join_all()).await;
    if let Relay::Janus(j) = relay.as_ref() {
        j.close().await;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let result = match args() {
        Ok(a) => run(a).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("live_bench: {e}");
        std::process::exit(1);
    }
}
