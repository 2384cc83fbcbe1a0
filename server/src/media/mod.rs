//! Video. A [`Source`] is one camera: the built-in test camera now (the
//! embedded default), RTSP cameras and IPCs with the live-video issue. Each
//! source is encoded or ingested once, however many consumers it has
//! ([`hub::Fanout`]); snapshots are made from its key frames.

pub mod hub;
pub mod live;
pub mod snapshot;
pub mod testcam;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{mpsc, Notify};

use crate::clock::service::TimeService;
use hub::{Fanout, Frame};

/// How long a snapshot waits for a key frame.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(5);
/// A source nobody watches stops encoding after this long.
const IDLE_STOP: Duration = Duration::from_secs(5);

pub struct Source {
    fanout: Mutex<Fanout>,
    demand: Notify,
}

impl Source {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            fanout: Mutex::new(Fanout::default()),
            demand: Notify::new(),
        })
    }

    fn fanout(&self) -> std::sync::MutexGuard<'_, Fanout> {
        self.fanout.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A consumer's queue of `depth` frames; starts the source if idle.
    pub fn subscribe(&self, depth: usize) -> mpsc::Receiver<Frame> {
        let rx = self.fanout().subscribe(depth);
        self.demand.notify_one();
        rx
    }

    /// A JPEG of the current picture.
    pub async fn snapshot(&self) -> Result<Vec<u8>, String> {
        let mut rx = self.subscribe(4);
        let key = tokio::time::timeout(SNAPSHOT_WAIT, async {
            while let Some(f) = rx.recv().await {
                if f.key {
                    return Some(f);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or("no picture from the camera within 5 s")?;
        drop(rx);
        tokio::task::spawn_blocking(move || snapshot::jpeg(&key.data))
            .await
            .map_err(|e| e.to_string())?
    }
}

/// Every source of the device, by name, and the live viewers.
pub struct Media {
    pub door: Arc<Source>,
    /// Set up with the first viewer: a device nobody watches keeps no
    /// WebRTC stack in memory.
    live: std::sync::OnceLock<Arc<live::Live>>,
    udp_ports: (u16, u16),
}

impl Media {
    /// The door station's own camera is the built-in test camera; it runs
    /// while someone watches. Live viewers get UDP ports from `udp_ports`.
    pub fn start(
        time: Arc<TimeService>,
        udp_ports: (u16, u16),
    ) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let door = Source::new();
        let task = tokio::spawn(run_test_camera(
            door.clone(),
            testcam::Format::default(),
            time,
        ));
        (
            Arc::new(Self {
                door,
                live: std::sync::OnceLock::new(),
                udp_ports,
            }),
            task,
        )
    }

    /// The live viewers, set up on first use.
    pub fn live(&self) -> Result<&Arc<live::Live>, String> {
        if let Some(live) = self.live.get() {
            return Ok(live);
        }
        let live = Arc::new(live::Live::new(self.udp_ports)?);
        Ok(self.live.get_or_init(|| live))
    }

    /// The live viewers if any were ever set up.
    pub fn live_if_started(&self) -> Option<&Arc<live::Live>> {
        self.live.get()
    }

    pub fn source(&self, name: &str) -> Option<&Arc<Source>> {
        match name {
            "door" => Some(&self.door),
            _ => None,
        }
    }
}

async fn run_test_camera(source: Arc<Source>, format: testcam::Format, time: Arc<TimeService>) {
    loop {
        while source.fanout().subscribers() == 0 {
            source.demand.notified().await;
        }
        let camera = tokio::task::spawn_blocking(move || testcam::TestCamera::new(format)).await;
        let mut camera = match camera {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "test camera");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "test camera");
                return;
            }
        };
        tracing::info!(
            width = format.width,
            height = format.height,
            fps = format.fps,
            "test camera on"
        );
        let mut tick = tokio::time::interval(format.frame_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut idle_since: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let now = time.now();
            let text = time.format(now);
            // Encoding takes milliseconds: off the async workers.
            let encoded = tokio::task::spawn_blocking(move || {
                let r = camera.next_frame(&text, now);
                (camera, r)
            })
            .await;
            let Ok((c, result)) = encoded else {
                tracing::error!("test camera encoder panicked");
                break;
            };
            camera = c;
            let left = match result {
                Ok(Some(frame)) => source.fanout().publish(&frame),
                Ok(None) => source.fanout().subscribers(),
                Err(e) => {
                    tracing::warn!(error = %e, "test camera frame");
                    source.fanout().subscribers()
                }
            };
            if left > 0 {
                idle_since = None;
            } else if idle_since
                .get_or_insert_with(tokio::time::Instant::now)
                .elapsed()
                >= IDLE_STOP
            {
                break;
            }
        }
        // A stale key frame must not greet the next viewer.
        source.fanout().reset();
        tracing::info!("test camera off: nobody watches");
    }
}
