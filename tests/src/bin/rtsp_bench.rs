//! RTSP clients for `.ci/bench-rtsp`: N clients of one RTSP relay (vto's
//! RTSP out, or GStreamer's RTSP server relaying the same camera), over TCP
//! interleaved as ffmpeg's `-rtsp_transport tcp` pulls, reading RTP without
//! decoding it. Level after level it measures:
//! - the relay's CPU (utime + stime from `/proc/PID/stat`) over a steady
//!   window once every client receives, and its resident memory (VmRSS);
//! - frames per second each client receives (RTP timestamp changes);
//! - the latency the relay adds: the camera is also pulled directly, and
//!   each picture's first slice is recognized at the direct client and at
//!   every relay client by a hash of its first bytes (H.264 passes through
//!   both relays unchanged; RTP headers do not). Latency = arrival through
//!   the relay − arrival at the direct client, on this process' clock.
//!
//! usage: rtsp_bench --url RELAY_URL --direct CAMERA_URL --pid RELAY_PID
//!   [--user U --password P] [--levels 1,4,8,16] [--secs 10]
//!
//! Results go to stdout as `key value...` lines; progress to stderr.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use ::tests::bench::{
    clock_ticks, match_pictures, percentile, picture_key, process_ticks, rss_kib,
};
use futures_util::StreamExt;
use retina::client::{Credentials, PacketItem};

type Res<T> = Result<T, String>;

/// A client counts as receiving the whole stream at this rate (of 25).
const FULL_FPS: f64 = 24.0;

/// One receiver's counters and, while recording, its pictures.
#[derive(Default)]
struct Stats {
    frames: AtomicU64,
    log: Mutex<Vec<(u64, Instant)>>,
}

/// A receiver over TCP interleaved: counts frames and logs picture keys while `recording`.
async fn receive(
    url: url::Url,
    creds: Option<Credentials>,
    stats: Arc<Stats>,
    recording: Arc<AtomicBool>,
) -> Res<()> {
    let (mut playing, _) = ::tests::rtsp::retina_play(url, creds, false).await?;
    let mut last_ts = None;
    while let Some(item) = playing.next().await {
        let at = Instant::now();
        let pkt = match item {
            Ok(PacketItem::Rtp(p)) => p,
            Ok(_) => continue,
            Err(e) => return Err(format!("stopped: {e}")),
        };
        let ts = pkt.timestamp().timestamp();
        if last_ts != Some(ts) {
            last_ts = Some(ts);
            stats.frames.fetch_add(1, Ordering::Relaxed);
        }
        if recording.load(Ordering::Relaxed) {
            if let Some(k) = picture_key(pkt.payload()) {
                if let Ok(mut l) = stats.log.lock() {
                    l.push((k, at));
                }
            }
        }
    }
    Err("the stream ended".into())
}

struct Args {
    url: url::Url,
    direct: url::Url,
    pid: String,
    creds: Option<Credentials>,
    levels: Vec<usize>,
    secs: u64,
}

fn args() -> Res<Args> {
    let (mut url, mut direct, mut pid, mut user, mut password) = (None, None, None, None, None);
    let (mut levels, mut secs) = (vec![1, 4, 8, 12, 16], 10);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = Some(url::Url::parse(&v).map_err(|e| format!("--url: {e}"))?),
            "--direct" => direct = Some(url::Url::parse(&v).map_err(|e| format!("--direct: {e}"))?),
            "--pid" => pid = Some(v),
            "--user" => user = Some(v),
            "--password" => password = Some(v),
            "--levels" => {
                levels = v
                    .split(',')
                    .map(|l| l.parse().map_err(|_| format!("bad --levels: {v}")))
                    .collect::<Res<_>>()?
            }
            "--secs" => secs = v.parse().map_err(|_| format!("bad --secs: {v}"))?,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        direct: direct.ok_or("--direct is required")?,
        pid: pid.ok_or("--pid is required")?,
        creds: user.map(|username| Credentials {
            username,
            password: password.unwrap_or_default(),
        }),
        levels,
        secs,
    })
}

/// Starts a receiver; returns once it got its first frame.
async fn start(
    url: &url::Url,
    creds: Option<Credentials>,
    recording: &Arc<AtomicBool>,
) -> Res<Arc<Stats>> {
    let stats = Arc::new(Stats::default());
    let task = tokio::spawn(receive(
        url.clone(),
        creds,
        stats.clone(),
        recording.clone(),
    ));
    let until = Instant::now() + Duration::from_secs(20);
    while stats.frames.load(Ordering::Relaxed) == 0 {
        if task.is_finished() {
            return Err(match task.await {
                Ok(Err(e)) => format!("{url}: {e}"),
                _ => format!("{url}: gone"),
            });
        }
        if Instant::now() > until {
            return Err(format!("{url}: no frame within 20 s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(stats)
}

async fn run(a: Args) -> Res<()> {
    let recording = Arc::new(AtomicBool::new(false));
    let tick = clock_ticks();
    println!("idle_rss_kib {}", rss_kib(&a.pid));
    let mut clients: Vec<Arc<Stats>> = Vec::new();
    // The direct client joins after the relay's first client (a relay may
    // pull the camera only while it is watched).
    let mut direct = None;
    for &n in &a.levels {
        while clients.len() < n {
            clients.push(start(&a.url, a.creds.clone(), &recording).await?);
        }
        if direct.is_none() {
            direct = Some(start(&a.direct, None, &recording).await?);
        }
        let direct = direct.as_ref().ok_or("no direct client")?;
        // Settle, then measure over the window.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for s in clients.iter().chain([direct]) {
            s.log.lock().map(|mut l| l.clear()).ok();
        }
        let frames0: Vec<u64> = clients
            .iter()
            .map(|s| s.frames.load(Ordering::Relaxed))
            .collect();
        let (t0, c0) = (Instant::now(), process_ticks(&a.pid).ok_or("relay gone")?);
        recording.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(a.secs)).await;
        recording.store(false, Ordering::Relaxed);
        let (t1, c1) = (Instant::now(), process_ticks(&a.pid).ok_or("relay gone")?);
        let secs = (t1 - t0).as_secs_f64();
        let cpu = (c1 - c0) as f64 / tick / secs * 100.0;
        let fps: Vec<f64> = clients
            .iter()
            .zip(&frames0)
            .map(|(s, f0)| (s.frames.load(Ordering::Relaxed) - f0) as f64 / secs)
            .collect();
        let fps_min = fps.iter().copied().fold(f64::INFINITY, f64::min);
        let reference = direct.log.lock().map(|l| l.clone()).unwrap_or_default();
        let logs: Vec<Vec<(u64, Instant)>> = clients
            .iter()
            .map(|s| s.log.lock().map(|l| l.clone()).unwrap_or_default())
            .collect();
        let lat = match_pictures(&reference, &logs);
        println!(
            "level {n} cpu_pct {cpu:.2} rss_kib {} fps_min {fps_min:.1} full {} \
             lat_p50_ms {:.2} lat_p99_ms {:.2} matched {} seen {}",
            rss_kib(&a.pid),
            fps.iter().all(|f| *f >= FULL_FPS),
            percentile(&lat.ms, 0.5),
            percentile(&lat.ms, 0.99),
            lat.ms.len(),
            lat.seen,
        );
        eprintln!("rtsp_bench: {n} clients: {cpu:.1}% CPU, min {fps_min:.1} fps");
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
        eprintln!("rtsp_bench: {e}");
        std::process::exit(1);
    }
}
