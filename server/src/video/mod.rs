//! Video. A [`Source`] is one camera stream: the built-in test camera (the
//! embedded default) or an RTSP camera. Each is encoded or ingested once,
//! however many consumers it has ([`hub::Fanout`]), and only while somebody
//! consumes it; snapshots are made from its key frames. What feeds a source
//! ([`Ingest`]) can be replaced while viewers watch: they stay subscribed
//! and go on with the new stream from its first key frame.

pub mod g711;
pub mod hub;
pub mod ipc;
pub mod live;
pub mod onvif;
pub mod picture;
pub mod rtsp;
pub mod service;
pub mod snapshot;
pub mod storage_point;
pub mod testcam;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use app::model::{
    ipc::{Ipc, IpcProtocol, IpcStream},
    live::{SourceState, SourceStatus},
    video::{CameraKind, RtspTransport, VideoSettings},
};
use tokio::{
    sync::{mpsc, watch, Notify},
    task::JoinHandle,
    time::Instant,
};

use crate::system::time::TimeService;
use hub::{Fanout, Frame};

/// How long a snapshot waits for a key frame.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(5);
/// A source nobody watches stops encoding or fetching after this long.
const IDLE_STOP: Duration = Duration::from_secs(5);

/// What feeds a source.
#[derive(Clone, Debug, PartialEq)]
pub enum Ingest {
    TestCamera(testcam::Format),
    Rtsp(rtsp::RtspConfig),
    /// An RTSP camera whose address is asked of it over ONVIF.
    Onvif(onvif::OnvifConfig),
}

pub struct Source {
    fanout: Mutex<Fanout>,
    /// G.711 μ-law, 8 kHz mono, 20 ms or so a frame (every frame "key").
    audio: Mutex<Fanout>,
    /// A microphone of the door's own (`--audio-in`) replaces the
    /// camera's audio: its label while attached.
    microphone: Mutex<Option<String>>,
    demand: Notify,
    status: watch::Sender<SourceStatus>,
    ingest: Mutex<Option<(Ingest, JoinHandle<()>)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Source {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            fanout: Mutex::new(Fanout::default()),
            audio: Mutex::new(Fanout::default()),
            microphone: Mutex::new(None),
            demand: Notify::new(),
            status: watch::Sender::new(SourceStatus::default()),
            ingest: Mutex::new(None),
        })
    }

    /// A consumer's queue of `depth` frames; starts the source if idle.
    pub fn subscribe(&self, depth: usize) -> mpsc::Receiver<Frame> {
        let rx = lock(&self.fanout).subscribe(depth);
        self.demand.notify_one();
        rx
    }

    /// A consumer's queue of audio frames (PCMU); the source runs while
    /// anybody consumes its video or its audio.
    pub fn subscribe_audio(&self, depth: usize) -> mpsc::Receiver<Frame> {
        let rx = lock(&self.audio).subscribe(depth);
        self.demand.notify_one();
        rx
    }

    /// The ingest's audio, unless a microphone replaces it.
    fn publish_audio(&self, frame: &Frame) {
        if lock(&self.microphone).is_none() {
            lock(&self.audio).publish(frame);
        }
    }

    /// From now on the door's audio is this microphone's (`label` for the
    /// live view's badge), whatever the camera sends.
    pub fn attach_microphone(&self, label: &str) {
        *lock(&self.microphone) = Some(label.to_string());
        self.set_audio("");
    }

    /// A frame of the attached microphone (G.711 μ-law, 20 ms).
    pub fn publish_microphone(&self, frame: &Frame) {
        lock(&self.audio).publish(frame);
    }

    /// What audio the source relays (see [`SourceStatus::audio`]).
    fn set_audio(&self, audio: &str) {
        let microphone = lock(&self.microphone).clone();
        let audio = microphone.as_deref().unwrap_or(audio);
        self.status.send_if_modified(|s| {
            let changed = s.audio != audio;
            s.audio = audio.to_string();
            changed
        });
    }

    pub fn status(&self) -> SourceStatus {
        self.status.borrow().clone()
    }

    /// Follows the status (tests and the live view's badge).
    pub fn watch_status(&self) -> watch::Receiver<SourceStatus> {
        self.status.subscribe()
    }

    fn set_status(&self, state: SourceState, detail: impl Into<String>) {
        let detail = detail.into();
        self.status.send_if_modified(|s| {
            let changed = s.state != state || s.detail != detail;
            s.state = state;
            s.detail = detail;
            if state == SourceState::Idle {
                (s.width, s.height) = (0, 0);
            }
            changed
        });
    }

    /// Hands a frame to every consumer; returns how many are left.
    fn publish(&self, frame: &Frame) -> usize {
        self.status.send_if_modified(|s| {
            let changed =
                s.state != SourceState::Live || (s.width, s.height) != (frame.width, frame.height);
            if changed {
                *s = SourceStatus {
                    state: SourceState::Live,
                    detail: String::new(),
                    width: frame.width,
                    height: frame.height,
                    audio: std::mem::take(&mut s.audio),
                };
            }
            changed
        });
        lock(&self.fanout).publish(frame)
    }

    fn consumers(&self) -> usize {
        lock(&self.fanout).subscribers() + lock(&self.audio).subscribers()
    }

    /// Returns once somebody consumes this source.
    async fn wait_for_consumers(&self) {
        while self.consumers() == 0 {
            self.demand.notified().await;
        }
    }

    /// The source stopped: a stale key frame must not greet the next
    /// consumer.
    fn stopped(&self) {
        lock(&self.fanout).reset();
        lock(&self.audio).reset();
        self.set_status(SourceState::Idle, "");
        self.set_audio("");
    }

    /// Feeds this source from `ingest` from now on (nothing happens when it
    /// is the current one). The old ingest has stopped before the new one
    /// starts: no frame of the old camera follows the switch.
    pub async fn set_ingest(self: &Arc<Self>, ingest: Ingest, time: Arc<TimeService>) {
        let old = {
            let mut current = lock(&self.ingest);
            if let Some((old, task)) = current.as_ref() {
                if *old == ingest && !task.is_finished() {
                    return;
                }
            }
            current.take()
        };
        if let Some((_, task)) = old {
            task.abort();
            let _ = task.await;
        }
        self.start_ingest(ingest, time);
    }

    /// Starts `ingest` on a source that has none.
    fn start_ingest(self: &Arc<Self>, ingest: Ingest, time: Arc<TimeService>) {
        self.stopped();
        let me = Arc::clone(self);
        let task = match ingest.clone() {
            Ingest::TestCamera(format) => tokio::spawn(testcam::run(me, format, time)),
            Ingest::Rtsp(config) => tokio::spawn(rtsp::run(me, rtsp::Target::Fixed(config))),
            Ingest::Onvif(config) => tokio::spawn(rtsp::run(me, rtsp::Target::Onvif(config))),
        };
        // Two switches at once: the one that came last wins.
        if let Some((_, stray)) = lock(&self.ingest).replace((ingest, task)) {
            stray.abort();
        }
    }

    /// Ends every consumer's queue (the source is gone for good).
    fn close(&self) {
        *lock(&self.fanout) = Fanout::default();
        *lock(&self.audio) = Fanout::default();
        self.set_status(SourceState::Error, "this camera was deleted");
    }

    /// Ends the ingest and waits until it let go of everything it held.
    async fn stop(&self) {
        let task = lock(&self.ingest).take();
        if let Some((_, task)) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// A JPEG of the current picture.
    pub async fn snapshot(&self) -> Result<Vec<u8>, String> {
        let mut rx = self.subscribe(4);
        let key =
            hub::next_key(&mut rx, SNAPSHOT_WAIT)
                .await
                .ok_or_else(|| match self.status() {
                    s if s.detail.is_empty() => "no picture from the camera within 5 s".to_string(),
                    s => format!("no picture from the camera: {}", s.detail),
                })?;
        drop(rx);
        tokio::task::spawn_blocking(move || snapshot::jpeg(&key.data))
            .await
            .map_err(|e| e.to_string())?
    }
}

/// Tells an ingest loop when its source has had no consumer for
/// [`IDLE_STOP`]. Time is a parameter.
#[derive(Default)]
struct IdleTimer {
    since: Option<Instant>,
}

impl IdleTimer {
    fn expired(&mut self, consumers: usize, now: Instant) -> bool {
        if consumers > 0 {
            self.since = None;
            return false;
        }
        now.duration_since(*self.since.get_or_insert(now)) >= IDLE_STOP
    }
}

/// What feeds the door camera's main and sub streams. An RTSP camera feeds
/// both from its one address (its own sub stream is set up on the camera).
pub fn door_ingest(
    settings: &VideoSettings,
    password: Option<&str>,
) -> Result<(Ingest, Ingest), String> {
    match settings.camera.kind {
        CameraKind::BuiltIn => {
            let format = |(width, height), fps, bitrate_kbps| {
                Ingest::TestCamera(testcam::Format {
                    width,
                    height,
                    fps,
                    bitrate_kbps,
                    picture: settings.picture,
                    audio: settings.audio,
                })
            };
            let (main, sub, standard) = (&settings.main, &settings.sub, settings.standard);
            Ok((
                format(main.format.size(standard), main.fps, main.bitrate_kbps),
                format(sub.format.size(standard), sub.fps, sub.bitrate_kbps),
            ))
        }
        CameraKind::Rtsp => {
            let rtsp = Ingest::Rtsp(rtsp::RtspConfig {
                url: rtsp::parse_url(&settings.camera.url)?,
                user: settings.camera.user.clone(),
                password: password.unwrap_or_default().to_string(),
                udp: settings.camera.transport == RtspTransport::Udp,
                audio: settings.audio.enabled,
            });
            Ok((rtsp.clone(), rtsp))
        }
    }
}

/// What feeds an IPC's two sources: its Stream, and Extra1 for tiles.
pub fn ipc_ingest(ipc: &Ipc, password: Option<&str>) -> Result<(Ingest, Ingest), String> {
    let rtsp = |stream| -> Result<Ingest, String> {
        Ok(Ingest::Rtsp(rtsp::RtspConfig {
            url: rtsp::parse_url(&ipc.local_url(stream))?,
            user: ipc.user.clone(),
            password: password.unwrap_or_default().to_string(),
            udp: false,
            audio: true,
        }))
    };
    let onvif = |sub| -> Result<Ingest, String> {
        Ok(Ingest::Onvif(onvif::OnvifConfig {
            ip: ipc
                .ip
                .trim()
                .parse()
                .map_err(|_| format!("{} is not an IP address", ipc.ip))?,
            port: ipc.port,
            user: ipc.user.clone(),
            password: password.unwrap_or_default().to_string(),
            channel: ipc.channel,
            sub,
            audio: true,
        }))
    };
    match ipc.protocol {
        IpcProtocol::Local => Ok((rtsp(ipc.stream)?, rtsp(IpcStream::Extra1)?)),
        IpcProtocol::Onvif => Ok((onvif(ipc.stream == IpcStream::Extra1)?, onvif(true)?)),
    }
}

/// IPC id -> its (stream, sub stream) sources.
type IpcSources = std::collections::BTreeMap<u32, (Arc<Source>, Arc<Source>)>;

/// Every source of the device, by name, and the live viewers.
pub struct Media {
    pub door: Arc<Source>,
    pub door_sub: Arc<Source>,
    ipcs: Mutex<IpcSources>,
    time: Arc<TimeService>,
    /// Set up with the first viewer: a device nobody watches keeps no
    /// WebRTC stack in memory.
    live: std::sync::OnceLock<Arc<live::Live>>,
    live_config: live::LiveConfig,
}

impl Media {
    /// The door camera is fed by `door`; live viewers are set up by
    /// `live_config`.
    pub fn start(
        time: Arc<TimeService>,
        live_config: live::LiveConfig,
        door: (Ingest, Ingest),
    ) -> Arc<Self> {
        let media = Arc::new(Self {
            door: Source::new(),
            door_sub: Source::new(),
            ipcs: Mutex::new(std::collections::BTreeMap::new()),
            time,
            live: std::sync::OnceLock::new(),
            live_config,
        });
        let (main, sub) = door;
        media.door.start_ingest(main, media.time.clone());
        media.door_sub.start_ingest(sub, media.time.clone());
        media
    }

    /// Changes what feeds the door camera (main, sub); its viewers stay.
    pub async fn set_door(&self, (main, sub): (Ingest, Ingest)) {
        self.door.set_ingest(main, self.time.clone()).await;
        self.door_sub.set_ingest(sub, self.time.clone()).await;
    }

    /// Makes the IPC sources those of `ipcs` (id, what feeds its stream
    /// and its sub stream): new ones are added, changed ones fed anew (their
    /// viewers stay), removed ones stopped.
    pub async fn set_ipcs(&self, ipcs: Vec<(u32, (Ingest, Ingest))>) {
        let mut feeds = Vec::new();
        let removed: Vec<(Arc<Source>, Arc<Source>)> = {
            let mut current = lock(&self.ipcs);
            for (id, (main, sub)) in &ipcs {
                let (m, s) = current
                    .entry(*id)
                    .or_insert_with(|| (Source::new(), Source::new()));
                feeds.push((m.clone(), main.clone()));
                feeds.push((s.clone(), sub.clone()));
            }
            let gone: Vec<u32> = current
                .keys()
                .filter(|id| !ipcs.iter().any(|(k, _)| k == *id))
                .copied()
                .collect();
            gone.iter().filter_map(|id| current.remove(id)).collect()
        };
        for (source, ingest) in feeds {
            source.set_ingest(ingest, self.time.clone()).await;
        }
        for (main, sub) in removed {
            main.stop().await;
            sub.stop().await;
            // Its viewers see the end of their stream.
            main.close();
            sub.close();
        }
    }

    /// Stops every ingest (shutdown): once this returns, no task holds
    /// the clock (and through it the database).
    pub async fn stop(&self) {
        self.door.stop().await;
        self.door_sub.stop().await;
        let ipcs: Vec<(Arc<Source>, Arc<Source>)> = lock(&self.ipcs).values().cloned().collect();
        for (main, sub) in ipcs {
            main.stop().await;
            sub.stop().await;
        }
    }

    /// The live viewers, set up on first use.
    pub fn live(&self) -> Result<&Arc<live::Live>, String> {
        if let Some(live) = self.live.get() {
            return Ok(live);
        }
        let live = Arc::new(live::Live::new(self.live_config)?);
        Ok(self.live.get_or_init(|| live))
    }

    /// The live viewers if any were ever set up.
    pub fn live_if_started(&self) -> Option<&Arc<live::Live>> {
        self.live.get()
    }

    /// `door`, `door-sub`, `ipc-<id>`, `ipc-<id>-sub`.
    pub fn source(&self, name: &str) -> Option<Arc<Source>> {
        match name {
            "door" => Some(self.door.clone()),
            "door-sub" => Some(self.door_sub.clone()),
            _ => {
                let rest = name.strip_prefix("ipc-")?;
                let (id, sub) = match rest.strip_suffix("-sub") {
                    Some(id) => (id, true),
                    None => (rest, false),
                };
                // Digits only: "+1" or "01" name nothing.
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.starts_with('0') {
                    return None;
                }
                let id: u32 = id.parse().ok()?;
                let ipcs = lock(&self.ipcs);
                let (main, sub_source) = ipcs.get(&id)?;
                Some(if sub {
                    sub_source.clone()
                } else {
                    main.clone()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_timer_fires_after_a_quiet_spell_only() {
        let t0 = crate::clock::monotonic();
        let mut idle = IdleTimer::default();
        assert!(!idle.expired(0, t0));
        assert!(!idle.expired(0, t0 + Duration::from_secs(4)));
        // A consumer came back: the spell starts again.
        assert!(!idle.expired(1, t0 + Duration::from_secs(4)));
        assert!(!idle.expired(0, t0 + Duration::from_secs(6)));
        assert!(idle.expired(0, t0 + Duration::from_secs(11)));
    }

    /// Switching cameras while someone watches: once the switch returns,
    /// what anyone receives is the new camera's (here: the built-in camera
    /// at 720P, then at QVGA). Several rounds, on two worker threads, where
    /// a frame of the old ingest could otherwise slip in after the reset.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_switch_no_frame_of_the_old_camera_follows() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Arc::new(
            crate::store::Store::open(&dir.path().join("data")).unwrap_or_else(|e| panic!("{e}")),
        );
        let clock = Arc::new(crate::clock::sim::SimClock::at(
            app::model::time::UnixMillis(1_800_000_000_000),
        ));
        let time = Arc::new(TimeService::load(store, clock).unwrap_or_else(|e| panic!("{e}")));
        let big = testcam::Format::default();
        let small = testcam::Format {
            width: 320,
            height: 240,
            ..testcam::Format::default()
        };
        let source = Source::new();
        let _watching = source.subscribe(64);
        for round in 0..4 {
            let format = if round % 2 == 0 { &big } else { &small };
            source
                .set_ingest(Ingest::TestCamera(*format), time.clone())
                .await;
            let mut rx = source.subscribe(64);
            for _ in 0..10 {
                let frame = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                    .await
                    .unwrap_or_else(|_| panic!("no frame in round {round}"))
                    .unwrap_or_else(|| panic!("closed"));
                assert_eq!(
                    (frame.width, frame.height),
                    (format.width, format.height),
                    "round {round}"
                );
            }
        }
        source.stop().await;
    }
}
